package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/config"
)

// contextJSON returns cdk.json's context with the given pipeline value, as
// the CDK CLI hands it to the app in CDK_CONTEXT_JSON.
func contextJSON(t *testing.T, pipeline any) string {
	t.Helper()
	ctx, err := config.StandaloneContext(".", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx[config.ContextPipeline] = pipeline
	data, err := json.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return "CDK_CONTEXT_JSON=" + string(data)
}

// TestAppPipeline checks the pipeline wiring of the app: a bad pipeline
// block fails before anything is synthesized, naming the key; a block in
// cdk.json makes the synth step run plain `npx cdk synth`, while
// `-c pipeline=true` is carried into the synth step so the pipeline keeps
// synthesizing itself.
func TestAppPipeline(t *testing.T) {
	bin := buildApp(t)

	bad := []struct {
		name     string
		pipeline map[string]any
		want     []string
	}{
		{"unknown environment", map[string]any{"environments": []any{"dev", "qa"}},
			[]string{`pipeline.environments[1] = "qa"`, "one of the environments defined in cdk.json: dev, prod"}},
		{"connection without ARN", map[string]any{"source": "connection", "repository": "example/secret-rotation"},
			[]string{`pipeline.connectionArn = ""`, `required when source is "connection"`}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			outdir := t.TempDir()
			stderr, code := runApp(t, bin, []string{"CDK_OUTDIR=" + outdir, contextJSON(t, tc.pipeline)})
			if code != 2 {
				t.Errorf("exit %d, want 2 (invalid configuration); stderr:\n%s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if entries, _ := os.ReadDir(outdir); len(entries) != 0 {
				t.Errorf("output written despite bad configuration: %d entries", len(entries))
			}
		})
	}

	for _, tc := range []struct {
		name  string
		env   func(t *testing.T) []string
		args  []string
		synth string
	}{
		{"block in cdk.json", func(t *testing.T) []string {
			return []string{contextJSON(t, map[string]any{"branch": "main"})}
		}, nil, `"npx cdk synth"`},
		{"-c pipeline=true", func(*testing.T) []string { return nil }, []string{"-c", "pipeline=true"}, `"npx cdk synth -c pipeline=true"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outdir := t.TempDir()
			stderr, code := runApp(t, bin, append(tc.env(t), "CDK_OUTDIR="+outdir), tc.args...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			tpl, err := os.ReadFile(filepath.Join(outdir, config.DefaultPipelineStackName+".template.json"))
			if err != nil {
				t.Fatal(err)
			}
			// The build spec is a JSON string inside the template.
			if want := strings.ReplaceAll(tc.synth, `"`, `\"`); !strings.Contains(string(tpl), want) {
				t.Errorf("synth step does not run %s", tc.synth)
			}
		})
	}
}
