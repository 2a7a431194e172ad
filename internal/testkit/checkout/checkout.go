// Package checkout gives tests a second checkout of the repository: a copy
// of the Go module in a fresh temporary directory. Tests of the function
// asset use it to show that the asset and its hash do not depend on where
// the repository lives.
package checkout

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Copy copies the module at root (sources, go.mod, go.sum and the rest, but
// not .git, node_modules or cdk.out) to a new directory under t.TempDir and
// returns its path. It fails the test if the copy fails.
func Copy(t testing.TB, root string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "another", "checkout")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "cdk.out":
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		// Symlinks and other special files are not part of the module.
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy module %s: %v", root, err)
	}
	return dst
}
