package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/config"
)

// buildApp compiles this command once per test.
func buildApp(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "app")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runApp runs the app in the repository root the way `go run .` does, with
// no CDK CLI context and the given extra environment.
func runApp(t *testing.T, bin string, env []string, args ...string) (stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(filteredEnv(), env...)
	var buf bytes.Buffer
	cmd.Stderr = &buf
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return buf.String(), code
}

// filteredEnv drops variables that would change the app's behaviour.
func filteredEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "CDK_CONTEXT_JSON", "CONTEXT_OVERFLOW_LOCATION_ENV", "CDK_OUTDIR", "CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func TestApp(t *testing.T) {
	bin := buildApp(t)

	t.Run("synthesizes without CLI or credentials", func(t *testing.T) {
		outdir := t.TempDir()
		stderr, code := runApp(t, bin, []string{"CDK_OUTDIR=" + outdir})
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		for _, kind := range []string{"Network", "Rotation", "Database", "Monitoring"} {
			if _, err := os.Stat(filepath.Join(outdir, "SecretRotation-dev-"+kind+".template.json")); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("two databases and three users synthesize clean", func(t *testing.T) {
		outdir := t.TempDir()
		stderr, code := runApp(t, bin, []string{"CDK_OUTDIR=" + outdir, databasesContext(t)})
		if code != 0 {
			t.Fatalf("exit %d (cdk-nag findings or an error):\n%s", code, stderr)
		}
		for _, kind := range []string{"Network", "Rotation", "Database", "Database-billing", "Database-legacy"} {
			if _, err := os.Stat(filepath.Join(outdir, "SecretRotation-multi-"+kind+".template.json")); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("pipeline enabled synthesizes only the pipeline stack", func(t *testing.T) {
		outdir := t.TempDir()
		stderr, code := runApp(t, bin, []string{"CDK_OUTDIR=" + outdir}, "-c", "pipeline=true")
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		templates, _ := filepath.Glob(filepath.Join(outdir, "*.template.json"))
		if len(templates) != 1 || !strings.Contains(templates[0], "Pipeline") {
			t.Errorf("top-level templates %v, want only the pipeline stack", templates)
		}
	})

	bad := []struct {
		name string
		args []string
		want string
	}{
		{"unknown environment", []string{"-c", "env=qa"}, `env = "qa": allowed: one of dev, prod`},
		{"bad argument", []string{"synth"}, "usage: go run . [-c key=value ...]"},
		{"bad pipeline value", []string{"-c", "pipeline=maybe"}, `pipeline = maybe: allowed: true, false or a pipeline object`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			outdir := t.TempDir()
			stderr, code := runApp(t, bin, []string{"CDK_OUTDIR=" + outdir}, tc.args...)
			if code == 0 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant non-zero exit and %q", code, stderr, tc.want)
			}
			if entries, _ := os.ReadDir(outdir); len(entries) != 0 {
				t.Errorf("output written despite bad configuration: %d entries", len(entries))
			}
		})
	}
}

// databasesContext is cdk.json's context with the environments of
// stacks/testdata/databases.cdk.json (two created databases with three
// users, one existing database with one), as the CLI hands it over.
func databasesContext(t *testing.T) string {
	t.Helper()
	ctx, err := config.StandaloneContext(".", nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("stacks", "testdata", "databases.cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var project struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &project); err != nil {
		t.Fatal(err)
	}
	for k, v := range project.Context {
		ctx[k] = v
	}
	out, err := json.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return "CDK_CONTEXT_JSON=" + string(out)
}
