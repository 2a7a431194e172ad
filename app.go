// Command secret-rotation is the CDK app: it synthesizes the network,
// rotation and database stacks of the environments selected with
// `-c env=NAME[,NAME...]` (default dev) from the named environments in
// cdk.json, or, when the pipeline is enabled (`-c pipeline=true` or a
// "pipeline" object in cdk.json), only the self-mutating pipeline stack that
// deploys every environment through its stages.
//
// `go run . [-c key=value ...]` synthesizes to ./cdk.out (or $CDK_OUTDIR)
// without the CDK CLI or AWS credentials, reading cdk.json's context itself;
// under the CLI (`npx cdk synth|deploy`) the context and the output directory
// come from the CLI. This is the only place that reads CDK context and the CDK_*
// environment variables; invalid configuration is reported on stderr with a
// non-zero exit status before any stack is built.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/stacks"
)

func main() {
	os.Exit(run())
}

// run synthesizes the app and returns the process exit status. Failures
// inside jsii (such as a failed local bundling) arrive as panics; they are
// reported like any other error instead of a Go stack trace.
func run() (status int) {
	defer jsii.Close()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "synth failed: %v\n", r)
			status = 1
		}
	}()

	props := &awscdk.AppProps{}
	// The CLI hands the app its context in CDK_CONTEXT_JSON (or a file named
	// by CONTEXT_OVERFLOW_LOCATION_ENV). Without the CLI, read cdk.json's
	// context and -c arguments the same way, so `go run .` and `cdk synth`
	// produce the same templates.
	if os.Getenv("CDK_CONTEXT_JSON") == "" && os.Getenv("CONTEXT_OVERFLOW_LOCATION_ENV") == "" {
		ctx, err := config.StandaloneContext(".", os.Args[1:])
		if err != nil {
			fmt.Fprintf(os.Stderr, "usage: go run . [-c key=value ...]: %v\n", err)
			return 2
		}
		props.Context = &ctx
	}
	if os.Getenv("CDK_OUTDIR") == "" {
		// Write where the CLI would instead of a temporary directory.
		props.Outdir = jsii.String("cdk.out")
	}
	app := awscdk.NewApp(props)
	// cdk-nag rule packs on every stack under the App (the pipeline adds
	// them to each of its Stages); synthChecked fails on their errors.
	compliance.Apply(app)

	procEnv := map[string]string{
		config.EnvDefaultAccount: os.Getenv(config.EnvDefaultAccount),
		config.EnvDefaultRegion:  os.Getenv(config.EnvDefaultRegion),
	}
	cfg, err := config.Load(config.ContextFunc(func(key string) any {
		return app.Node().TryGetContext(jsii.String(key))
	}), procEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "invalid configuration (cdk.json context or -c):\n%v\n", err)
		return 2
	}

	if cfg.Pipeline.Enabled {
		// The pipeline deploys every environment through its stages (stacks
		// named like the plain ones), so only the pipeline stack is synthesized.
		settings, err := config.DecodePipelineSettings(cfg.Pipeline.Raw, cfg.Environments, procEnv)
		if err != nil {
			fmt.Fprintf(os.Stderr, "invalid configuration (cdk.json context or -c):\n%v\n", err)
			return 2
		}
		// CheckCompliance: the App's rule packs do not reach into Stages, and
		// a Stage needs them before BuildPipeline synthesizes it (inside
		// NewPipelineStack), so the pipeline adds them to each Stage itself.
		pipelineProps := &stacks.PipelineStackProps{Settings: settings, Environments: cfg.Environments, CheckCompliance: true}
		if cfg.Pipeline.Raw == nil {
			// Enabled by a plain true (possibly only on the command line):
			// the pipeline's own synth must enable itself too.
			pipelineProps.SynthArgs = "-c pipeline=true"
		}
		if _, err := stacks.NewPipelineStack(app, pipelineProps); err != nil {
			fmt.Fprintf(os.Stderr, "build pipeline: %v\n", err)
			return 1
		}
	} else {
		for _, env := range cfg.SelectedEnvironments() {
			if _, err := stacks.NewEnvironmentStacks(app, env); err != nil {
				fmt.Fprintf(os.Stderr, "build environment %s: %v\n", env.Name, err)
				return 1
			}
		}
	}

	return synthChecked(app, os.Stderr)
}
