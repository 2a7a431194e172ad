package compliance_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/internal/gobundle"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// projectContext is the repository's cdk.json context (feature flags
// included), so fixtures synthesize under the same rules as the app.
func projectContext(t *testing.T) map[string]any {
	t.Helper()
	root, err := gobundle.FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := config.StandaloneContext(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// fixture synthesizes with compliance.Synth an app whose stacks (under the
// App or inside a Stage) are built by build; Apply is called on the App and
// on the Stage as the app and the pipeline do. With the project's feature
// flags aws-cdk-lib itself fails synthesis on error annotations; without
// them the assembly is produced and Check finds the errors.
func fixture(t *testing.T, ctx map[string]any, build func(app awscdk.App, stage awscdk.Stage)) (cxapi.CloudAssembly, error) {
	t.Helper()
	props := &awscdk.AppProps{Outdir: jsii.String(t.TempDir())}
	if ctx != nil {
		props.Context = &ctx
	}
	app := awscdk.NewApp(props)
	compliance.Apply(app)
	stage := awscdk.NewStage(app, jsii.String("Beta"), nil)
	compliance.Apply(stage)
	build(app, stage)
	return compliance.Synth(app)
}

// openBucket is a violation of both packs: an unencrypted-by-CMK bucket
// without logging, versioning or TLS enforcement.
func openBucket(stack awscdk.Stack) {
	awss3.NewCfnBucket(stack, jsii.String("OpenBucket"), &awss3.CfnBucketProps{})
}

// worldSG admits 0.0.0.0/0 on port 22.
func worldSG(stack awscdk.Stack) {
	awsec2.NewCfnSecurityGroup(stack, jsii.String("WorldSG"), &awsec2.CfnSecurityGroupProps{
		GroupDescription: jsii.String("fixture"),
		SecurityGroupIngress: &[]any{&awsec2.CfnSecurityGroup_IngressProperty{
			IpProtocol: jsii.String("tcp"), FromPort: jsii.Number(22), ToPort: jsii.Number(22), CidrIp: jsii.String("0.0.0.0/0"),
		}},
	})
}

func TestCheckNamesRuleAndResource(t *testing.T) {
	tests := []struct {
		name      string
		inStage   bool
		build     func(awscdk.Stack)
		wantRules []string
		wantPath  string
	}{
		{name: "bucket under app", build: openBucket, wantRules: []string{"AwsSolutions-S1", "AwsSolutions-S10", "NIST.800.53.R5-S3BucketLoggingEnabled"}, wantPath: "/Fixture/OpenBucket"},
		{name: "bucket in stage", inStage: true, build: openBucket, wantRules: []string{"AwsSolutions-S1", "NIST.800.53.R5-S3BucketLoggingEnabled"}, wantPath: "/Beta/Fixture/OpenBucket"},
		{name: "open security group", build: worldSG, wantRules: []string{"AwsSolutions-EC23"}, wantPath: "/Fixture/WorldSG"},
	}
	flags := projectContext(t)
	for _, tc := range tests {
		for _, mode := range []struct {
			name string
			ctx  map[string]any
		}{{"cdk.json flags", flags}, {"no flags", nil}} {
			t.Run(tc.name+"/"+mode.name, func(t *testing.T) {
				_, err := fixture(t, mode.ctx, func(app awscdk.App, stage awscdk.Stage) {
					var scope awscdk.Stage = app
					if tc.inStage {
						scope = stage
					}
					tc.build(awscdk.NewStack(scope, jsii.String("Fixture"), nil))
				})
				if !errors.Is(err, compliance.ErrFindings) {
					t.Fatalf("Synth error = %v, want ErrFindings", err)
				}
				for _, rule := range tc.wantRules {
					if !strings.Contains(err.Error(), "error "+rule+" at "+tc.wantPath) {
						t.Errorf("error does not name %s at %s:\n%v", rule, tc.wantPath, err)
					}
				}
			})
		}
	}
}
