package gobundle_test

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/gobundle"
	"github.com/example/secret-rotation/internal/testkit/checkout"
)

const rotationPkg = "./lambda/rotation"

// moduleRoot is the repository under test.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := gobundle.FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func sourceHash(t *testing.T, root string, extra map[string]string) string {
	t.Helper()
	h, err := (&gobundle.Bundler{ModuleRoot: root, Package: rotationPkg, ExtraFiles: extra}).SourceHash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// firstGoFile returns a non-test Go file of the rotation package.
func firstGoFile(t *testing.T, root string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(root, "lambda", "rotation", "*.go"))
	for _, m := range matches {
		if !strings.HasSuffix(m, "_test.go") {
			return m
		}
	}
	t.Fatal("no Go file in lambda/rotation")
	return ""
}

func TestSourceHashIndependentOfCheckoutPath(t *testing.T) {
	root := moduleRoot(t)
	if a, b := sourceHash(t, root, nil), sourceHash(t, checkout.Copy(t, root), nil); a != b {
		t.Fatalf("hash differs between %s and a copy: %s != %s", root, a, b)
	}
}

// TestSourceHashTracksInputs mutates one input at a time in a copy of the
// module (the mutations accumulate) and checks whether the hash moved.
func TestSourceHashTracksInputs(t *testing.T) {
	root := checkout.Copy(t, moduleRoot(t))
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withCA := map[string]string{"ca.pem": ca}

	tests := []struct {
		name    string
		mutate  func(t *testing.T)
		extra   map[string]string
		changed bool
	}{
		{"unrelated file", func(t *testing.T) { appendTo(t, filepath.Join(root, "README.md"), "\nmore\n") }, nil, false},
		{"test file of the function", func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(root, "lambda", "rotation", "zz_extra_test.go"), []byte("package main\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, nil, false},
		{"package outside the dependency graph", func(t *testing.T) {
			appendTo(t, filepath.Join(root, "internal", "gobundle", "gobundle.go"), "\n// changed\n")
		}, nil, false},
		{"go.sum line of a module the function does not use", func(t *testing.T) {
			appendTo(t, filepath.Join(root, "go.sum"), "example.com/x v1.0.0 h1:AAAA=\n")
		}, nil, false},
		{"version of a module the function does not use", func(t *testing.T) {
			replaceModule(t, root, "github.com/cdklabs/cdk-nag-go/cdknag/v2")
		}, nil, false},
		{"CA bundle content", func(t *testing.T) { appendTo(t, ca, "changed\n") }, withCA, true},
		{"function source", func(t *testing.T) { appendTo(t, firstGoFile(t, root), "\n// changed\n") }, nil, true},
		{"go directive", func(t *testing.T) { setGoDirective(t, root, "1.26.7") }, nil, true},
		{"version of a module the function uses", func(t *testing.T) {
			replaceModule(t, root, "github.com/aws/aws-lambda-go")
		}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := sourceHash(t, root, tc.extra)
			tc.mutate(t)
			if changed := sourceHash(t, root, tc.extra) != before; changed != tc.changed {
				t.Fatalf("hash changed = %v after changing the %s, want %v", changed, tc.name, tc.changed)
			}
		})
	}
}

// replaceModule points module at a local copy of itself with one more
// file (a new "version" without the network): for a module the function
// imports, its sources then enter the hash; for any other, nothing the
// function is built from changes.
func replaceModule(t *testing.T, root, module string) {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", module, err)
	}
	src := strings.TrimSpace(string(out))
	dst := filepath.Join(t.TempDir(), "replaced")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err == nil {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	for _, f := range []string{"doc.go", "lambda/entry.go"} {
		if p := filepath.Join(dst, f); fileExists(p) {
			appendTo(t, p, "\n// locally changed\n")
		}
	}
	appendTo(t, filepath.Join(root, "go.mod"), "\nreplace "+module+" => "+dst+"\n")
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// setGoDirective rewrites the go line of root/go.mod.
func setGoDirective(t *testing.T, root, version string) {
	t.Helper()
	path := filepath.Join(root, "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^go [0-9.]+$`)
	if !re.Match(data) {
		t.Fatal("go.mod has no go directive")
	}
	if err := os.WriteFile(path, re.ReplaceAll(data, []byte("go "+version)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSourceHashFailsForMissingPackage(t *testing.T) {
	_, err := (&gobundle.Bundler{ModuleRoot: moduleRoot(t), Package: "./does/not/exist"}).SourceHash()
	if err == nil || !strings.Contains(err.Error(), "go list") {
		t.Fatalf("err = %v, want a go list error", err)
	}
}

// TestBuildIsReproducibleArm64 proves the flags make the binary independent
// of the checkout path (so an OUTPUT hash would also be stable) and that it is
// a linux/arm64 executable named bootstrap, with the extra files next to it.
func TestBuildIsReproducibleArm64(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function twice")
	}
	root := moduleRoot(t)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	build := func(moduleRoot string) (bin []byte, dir string) {
		out := t.TempDir()
		b := &gobundle.Bundler{ModuleRoot: moduleRoot, Package: rotationPkg, ExtraFiles: map[string]string{"ca.pem": ca}, Stderr: &bytes.Buffer{}}
		if err := b.Build(out); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(out, gobundle.BinaryName))
		if err != nil {
			t.Fatal(err)
		}
		return data, out
	}
	first, out := build(root)
	second, _ := build(checkout.Copy(t, root))
	if !bytes.Equal(first, second) {
		t.Errorf("binaries built from two checkout paths differ (%d vs %d bytes)", len(first), len(second))
	}
	f, err := elf.NewFile(bytes.NewReader(first))
	if err != nil {
		t.Fatalf("bootstrap is not ELF: %v", err)
	}
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap machine = %v, want EM_AARCH64", f.Machine)
	}
	if got, err := os.ReadFile(filepath.Join(out, "ca.pem")); err != nil || string(got) != "pem" {
		t.Errorf("extra file ca.pem = %q, %v", got, err)
	}
}

func TestBuildFailureNamesPackage(t *testing.T) {
	b := &gobundle.Bundler{ModuleRoot: moduleRoot(t), Package: "./internal/gobundle/testdata/broken", Stderr: &bytes.Buffer{}}
	err := b.Build(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "undefinedOnPurpose") {
		t.Fatalf("err = %v, want the compiler error", err)
	}
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(error).Error(), "no Docker fallback") {
			t.Fatalf("TryBundle recovered %v, want a loud bundling failure", r)
		}
	}()
	out := t.TempDir()
	b.LocalBundling().TryBundle(&out, nil)
}
