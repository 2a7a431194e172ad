package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goldenAssembly copies the stacks package's golden templates of env into a
// directory laid out like cdk.out.
func goldenAssembly(t *testing.T, env string) string {
	t.Helper()
	dir := t.TempDir()
	for _, kind := range stackOrder {
		name := "SecretRotation-" + env + "-" + kind
		data, err := os.ReadFile(filepath.Join("..", "..", "stacks", "testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".template.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// nodeOf returns the Mermaid id of the first node with the label prefix.
func nodeOf(t *testing.T, diagram, label string) string {
	t.Helper()
	m := regexp.MustCompile(`(n[0-9]+)\["` + regexp.QuoteMeta(label)).FindStringSubmatch(diagram)
	if m == nil {
		t.Fatalf("no node %q in\n%s", label, diagram)
	}
	return m[1]
}

func TestRender(t *testing.T) {
	tests := []struct {
		env      string
		port     string
		operator bool
	}{
		{"dev", "3306", false},
		{"full", "3307", true},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			stacks, err := loadTemplates(goldenAssembly(t, tc.env))
			if err != nil {
				t.Fatal(err)
			}
			d := render(stacks)
			if again := render(stacks); again != d {
				t.Fatal("render is not deterministic")
			}
			if i, j := strings.Index(d, "-Network\"]"), strings.Index(d, "-Database\"]"); i < 0 || j < i {
				t.Errorf("stacks not in deployment order:\n%s", d)
			}
			fn := nodeOf(t, d, "Rotation function")
			fnSG := nodeOf(t, d, "Security group<br/>Rotation function")
			dbSG := nodeOf(t, d, "Security group<br/>RDS for MySQL")
			schedule := nodeOf(t, d, "Rotation schedule")
			want := []string{
				schedule + " --> " + fn,
				schedule + " --> " + nodeOf(t, d, "Master secret"),
				fnSG + ` -- "tcp/` + tc.port + `" --> ` + dbSG,
				fn + " --> " + nodeOf(t, d, "Private subnets x"),
				nodeOf(t, d, "RDS for MySQL") + " --> " + nodeOf(t, d, "Private subnets x"),
			}
			if tc.operator {
				want = append(want, nodeOf(t, d, "Security group<br/>Operator access host")+` -- "tcp/`+tc.port+`" --> `+dbSG)
			}
			for _, w := range want {
				if !strings.Contains(d, w+"\n") {
					t.Errorf("missing edge %q in\n%s", w, d)
				}
			}
		})
	}
}

func TestLoadTemplatesEmptyDir(t *testing.T) {
	if _, err := loadTemplates(t.TempDir()); err == nil || !strings.Contains(err.Error(), "go run .") {
		t.Fatalf("err = %v, want a hint to synthesize first", err)
	}
}

// TestCommittedDiagramIsCurrent renders the dev golden templates of the
// stacks package (the same templates `make diagram` synthesizes) and
// compares the result with docs/architecture.md.
func TestCommittedDiagramIsCurrent(t *testing.T) {
	stacks, err := loadTemplates(goldenAssembly(t, "dev"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(committed) != document(stacks) {
		t.Errorf("docs/architecture.md is stale: regenerate it with `make diagram` (after `go test ./stacks -update` if the goldens changed too)")
	}
}
