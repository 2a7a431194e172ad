package stacks_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/stacks"
)

// scaleEnvironment is an environment of databases databases (the default
// and databases-1 more, all created) with users users spread over them.
func scaleEnvironment(databases, users int) map[string]any {
	entries := map[string]any{}
	for i := 0; i < databases; i++ {
		name := config.DefaultDatabaseName
		if i > 0 {
			name = fmt.Sprintf("db%02d", i)
		}
		var list []any
		for u := i; u < users; u += databases {
			list = append(list, map[string]any{
				"name":    fmt.Sprintf("app%02d", u),
				"grants":  []any{fmt.Sprintf("SELECT, INSERT, UPDATE, DELETE ON schema%02d.*", u)},
				"readers": []any{fmt.Sprintf("arn:aws:iam::123456789012:role/app%02d", u)},
			})
		}
		entries[name] = map[string]any{"users": list}
	}
	if users == 0 && databases == 1 {
		return map[string]any{} // today's environment: no databases key at all
	}
	return map[string]any{"databases": entries}
}

// BenchmarkSynthScale synthesizes one environment (network, rotation and
// database stacks, with the cdk-nag packs as the app applies them) per
// iteration, into one output directory per case so the function is compiled
// once, as repeated `go run .` runs do. Compare the cases' ns/op; the
// measured figures and the method are in docs/deploy.md:
//
//	go test ./stacks -run '^$' -bench SynthScale -benchtime 5x
func BenchmarkSynthScale(b *testing.B) {
	for _, tc := range []struct {
		name             string
		databases, users int
	}{
		{"single-database", 1, 0},
		{"10-databases-50-users", 10, 50},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := map[string]any{}
			for k, v := range synthesized.context {
				ctx[k] = v
			}
			ctx[config.ContextEnvironments] = map[string]any{"scale": scaleEnvironment(tc.databases, tc.users)}
			ctx[config.ContextEnv] = "scale"
			cfg, err := config.Load(config.ContextMap(ctx), nil)
			if err != nil {
				b.Fatal(err)
			}
			outdir, err := os.MkdirTemp("", "stacks-bench-")
			if err != nil {
				b.Fatal(err)
			}
			defer os.RemoveAll(outdir)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir), Context: &ctx})
				compliance.Apply(app)
				s, err := stacks.NewEnvironmentStacks(app, cfg.Environments["scale"], stacks.WithModuleRoot(synthesized.moduleRoot))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := compliance.Synth(app); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(s.Stacks())), "stacks")
			}
		})
	}
}
