package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/internal/config"
)

// TestSynthFailsOnViolation runs the app's own finish step (synthChecked)
// on an App set up like app.go's (project context, compliance.Apply) with a
// fixture stack that violates the rule packs: an open security group and an
// unencrypted bucket. It must return 1 and name the rules and resources.
func TestSynthFailsOnViolation(t *testing.T) {
	defer jsii.Close()
	ctx, err := config.StandaloneContext(".", nil)
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &ctx})
	compliance.Apply(app)
	stack := awscdk.NewStack(app, jsii.String("Fixture"), nil)
	awss3.NewCfnBucket(stack, jsii.String("OpenBucket"), &awss3.CfnBucketProps{})
	awsec2.NewCfnSecurityGroup(stack, jsii.String("WorldSG"), &awsec2.CfnSecurityGroupProps{
		GroupDescription: jsii.String("fixture"),
		SecurityGroupIngress: &[]any{&awsec2.CfnSecurityGroup_IngressProperty{
			IpProtocol: jsii.String("tcp"), FromPort: jsii.Number(3306), ToPort: jsii.Number(3306), CidrIp: jsii.String("0.0.0.0/0"),
		}},
	})
	var stderr bytes.Buffer
	if code := synthChecked(app, &stderr); code != 1 {
		t.Fatalf("exit status %d, want 1; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{
		"error AwsSolutions-EC23 at /Fixture/WorldSG",
		"error AwsSolutions-S1 at /Fixture/OpenBucket",
		"error NIST.800.53.R5-S3DefaultEncryptionKMS at /Fixture/OpenBucket",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestEveryEnvironmentCompliant runs the app binary for every environment
// of cdk.json: exit 0 with no finding printed and the cdk-nag reports written.
func TestEveryEnvironmentCompliant(t *testing.T) {
	bin := buildApp(t)
	outdir := t.TempDir()
	stderr, code := runApp(t, bin, []string{"CDK_OUTDIR=" + outdir}, "-c", "env=dev,prod")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "AwsSolutions-") || strings.Contains(stderr, "NIST.800.53.R5-") {
		t.Errorf("findings printed:\n%s", stderr)
	}
	for _, env := range []string{"dev", "prod"} {
		for _, pack := range compliance.Packs {
			m, _ := filepath.Glob(filepath.Join(outdir, pack+"-*SecretRotation-"+env+"-Database-NagReport.csv"))
			if len(m) != 1 {
				t.Errorf("no %s report for %s in %s", pack, env, outdir)
			}
		}
	}
	// aws-cdk-lib's built-in validation: its report lists no violation at all.
	findings, err := compliance.ReadValidationReport(filepath.Join(outdir, compliance.ValidationReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Errorf("validation report: %s", f)
	}
}
