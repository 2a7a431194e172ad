package stacks_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/internal/testkit/checkout"
	"github.com/example/secret-rotation/stacks"
)

// functionS3Key returns the asset key of the rotation function in a template.
func functionS3Key(t *testing.T, tpl map[string]any) string {
	t.Helper()
	for _, fn := range resourcesOfType(tpl, "AWS::Lambda::Function") {
		return asJSON(props(fn)["Code"].(map[string]any)["S3Key"])
	}
	t.Fatal("no function")
	return ""
}

// TestAssetHashIndependentOfCheckoutPath synthesizes dev again from a copy of
// the repository in another directory, in a second App created after many
// more jsii objects, and expects the same function asset hash.
func TestAssetHashIndependentOfCheckoutPath(t *testing.T) {
	if testing.Short() {
		t.Skip("copies the repository and bundles again")
	}
	copyRoot := checkout.Copy(t, synthesized.moduleRoot)
	outdir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir), Context: &synthesized.context})
	env := config.DefaultEnvironment()
	env.Name = "dev"
	s, err := stacks.NewEnvironmentStacks(app, env, stacks.WithModuleRoot(copyRoot))
	if err != nil {
		t.Fatal(err)
	}
	app.Synth(nil)
	_ = s
	tpl := readTemplate(t, filepath.Join(outdir, stackName("dev", "Rotation")+".template.json"))
	if got, want := functionS3Key(t, tpl), functionS3Key(t, templateJSON(t, "dev", "Rotation")); got != want {
		t.Errorf("asset key from %s = %s, from %s = %s", copyRoot, got, synthesized.moduleRoot, want)
	}
}

// TestBundlingFailureIsLoud builds a package that does not compile: the
// error names the compiler's complaint and nothing falls back to Docker.
func TestBundlingFailureIsLoud(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	env := config.DefaultEnvironment()
	env.Name = "broken"
	_, err := stacks.NewEnvironmentStacks(app, env,
		stacks.WithModuleRoot(synthesized.moduleRoot),
		stacks.WithFunctionPackage("./internal/gobundle/testdata/broken"))
	if err == nil || !strings.Contains(err.Error(), "undefinedOnPurpose") || !strings.Contains(err.Error(), "no Docker fallback") {
		t.Fatalf("err = %v, want the compiler error and no Docker fallback", err)
	}
}

// TestInvalidEnvironmentRejectedBeforeConstructs passes an invalid
// environment directly (bypassing config.Load).
func TestInvalidEnvironmentRejectedBeforeConstructs(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	env := config.DefaultEnvironment()
	env.Name = "bad"
	env.NatGateways = 5
	_, err := stacks.NewEnvironmentStacks(app, env, stacks.WithModuleRoot(synthesized.moduleRoot))
	if err == nil || !strings.Contains(err.Error(), "environments.bad.natGateways") {
		t.Fatalf("err = %v, want the natGateways problem", err)
	}
	if n := len(*app.Node().Children()); n != 0 {
		t.Errorf("%d constructs created before validation failed", n)
	}
}
