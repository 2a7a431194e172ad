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
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// fixture synthesizes an app whose stacks (one under the App, one inside a
// Stage) are built by build; Apply is called on the App and on the Stage as
// the app and the pipeline do.
func fixture(t *testing.T, build func(app awscdk.App, stage awscdk.Stage)) cxapi.CloudAssembly {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	compliance.Apply(app)
	stage := awscdk.NewStage(app, jsii.String("Beta"), nil)
	compliance.Apply(stage)
	build(app, stage)
	return app.Synth(nil)
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
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			asm := fixture(t, func(app awscdk.App, stage awscdk.Stage) {
				var scope awscdk.Stage = app
				if tc.inStage {
					scope = stage
				}
				tc.build(awscdk.NewStack(scope, jsii.String("Fixture"), nil))
			})
			err := compliance.Check(asm)
			if !errors.Is(err, compliance.ErrFindings) {
				t.Fatalf("Check = %v, want ErrFindings", err)
			}
			for _, rule := range tc.wantRules {
				if !strings.Contains(err.Error(), rule+" at "+tc.wantPath) && !strings.Contains(err.Error(), rule+"[") {
					t.Errorf("error does not name %s at %s:\n%v", rule, tc.wantPath, err)
				}
			}
			t.Log(err)
		})
	}
}
