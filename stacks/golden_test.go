package stacks_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoldenTemplates compares every synthesized template with
// testdata/<stack name>.json. The templates include the rotation function's
// asset hash, so any change to lambda/rotation (or go.sum) changes them too:
// regenerate with `go test ./stacks -update` and review the diff.
func TestGoldenTemplates(t *testing.T) {
	for _, env := range testEnvironments {
		for _, kind := range []string{"Network", "Rotation", "Database"} {
			name := stackName(env, kind)
			t.Run(name, func(t *testing.T) {
				got, err := canonical(filepath.Join(synthesized.outdir, name+".template.json"))
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", name+".json"), got,
					"e.g. lambda/rotation changed, which changes the asset hash")
			})
		}
	}
}

// canonical re-indents a template so goldens diff line by line.
func canonical(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// checkGolden compares a canonical template with the golden file at path,
// or rewrites the file under -update. intended says which change would
// make a difference expected, for the failure message.
func checkGolden(t *testing.T, path string, got []byte, intended string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; create the golden files with: go test ./stacks -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("template differs from %s (first difference %s).\n"+
			"If the change is intended (%s), regenerate with: go test ./stacks -update",
			path, firstDifference(want, got), intended)
	}
}

func firstDifference(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("at line %d: golden %q, synthesized %q", i+1, strings.TrimSpace(wl), strings.TrimSpace(gl))
		}
	}
	return "none"
}
