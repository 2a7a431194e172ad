// Package goldenfile compares test output with a golden file in testdata/,
// the one way the command and wire-format tests check their output.
// Each test package declares its own -update flag (flags belong to the
// test binary) and passes its value in.
package goldenfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Check reports a test error if got differs from the file at path. With
// update it first (re)writes the file, creating its directory, so the
// comparison then checks the write.
func Check(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
