package compliance_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
)

// wildcardPolicies creates two identical policies with a Resource::* finding
// (AwsSolutions-IAM5) on one role.
func wildcardPolicies(stack awscdk.Stack) (awsiam.ManagedPolicy, awsiam.ManagedPolicy) {
	role := awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
	mk := func(id string) awsiam.ManagedPolicy {
		return awsiam.NewManagedPolicy(stack, jsii.String(id), &awsiam.ManagedPolicyProps{
			Roles: &[]awsiam.IRole{role},
			Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("secretsmanager:GetRandomPassword"), Resources: jsii.Strings("*"),
			})},
		})
	}
	return mk("PolicyA"), mk("PolicyB")
}

const reason = "GetRandomPassword has no resource-level permissions"

func TestSuppressIsScopedToOneResourceAndFinding(t *testing.T) {
	tests := []struct {
		name        string
		suppression compliance.Suppression
		wantA       bool // a finding remains on PolicyA
	}{
		{name: "exact finding", suppression: compliance.Suppression{Rule: "AwsSolutions-IAM5", Reason: reason, AppliesTo: []string{"Resource::*"}}},
		{name: "other finding", suppression: compliance.Suppression{Rule: "AwsSolutions-IAM5", Reason: reason, AppliesTo: []string{"Action::s3:*"}}, wantA: true},
		{name: "other rule", suppression: compliance.Suppression{Rule: "AwsSolutions-IAM4", Reason: reason}, wantA: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fixture(t, nil, func(app awscdk.App, _ awscdk.Stage) {
				a, _ := wildcardPolicies(awscdk.NewStack(app, jsii.String("Fixture"), nil))
				if err := compliance.Suppress(a, tc.suppression); err != nil {
					t.Fatal(err)
				}
			})
			if !errors.Is(err, compliance.ErrFindings) {
				t.Fatalf("Synth error = %v, want the finding on PolicyB", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "AwsSolutions-IAM5[Resource::*] at /Fixture/PolicyB/Resource") {
				t.Errorf("suppression on PolicyA hid PolicyB's finding:\n%s", msg)
			}
			if got := strings.Contains(msg, "AwsSolutions-IAM5[Resource::*] at /Fixture/PolicyA/Resource"); got != tc.wantA {
				t.Errorf("PolicyA finding reported = %v, want %v:\n%s", got, tc.wantA, msg)
			}
		})
	}
}

func TestSuppressRejectsIncompleteSuppressions(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("Fixture"), nil)
	a, _ := wildcardPolicies(stack)
	tests := []struct {
		name     string
		target   any
		s        compliance.Suppression
		contains string
	}{
		{name: "short reason", target: a, s: compliance.Suppression{Rule: "AwsSolutions-IAM5", Reason: "n/a"}, contains: "reviewer-grade reason"},
		{name: "bad rule id", target: a, s: compliance.Suppression{Rule: "IAM5", Reason: reason}, contains: "want <pack>-<rule>"},
		{name: "not a resource", target: stack, s: compliance.Suppression{Rule: "AwsSolutions-IAM5", Reason: reason}, contains: "not a CloudFormation resource"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			switch v := tc.target.(type) {
			case awsiam.ManagedPolicy:
				err = compliance.Suppress(v, tc.s)
			case awscdk.Stack:
				err = compliance.Suppress(v, tc.s)
			}
			if err == nil || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("Suppress = %v, want an error containing %q", err, tc.contains)
			}
		})
	}
}

// TestApplyMustBeCalledOnEachStage proves why the pipeline calls Apply on
// every Stage: the App's aspects do not reach into a Stage.
func TestApplyMustBeCalledOnEachStage(t *testing.T) {
	for _, applyStage := range []bool{false, true} {
		t.Run(map[bool]string{false: "app only", true: "app and stage"}[applyStage], func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
			compliance.Apply(app)
			stage := awscdk.NewStage(app, jsii.String("Beta"), nil)
			if applyStage {
				compliance.Apply(stage)
			}
			openBucket(awscdk.NewStack(stage, jsii.String("Fixture"), nil))
			_, err := compliance.Synth(app)
			if got := errors.Is(err, compliance.ErrFindings); got != applyStage {
				t.Errorf("findings reported = %v (%v), want %v", got, err, applyStage)
			}
		})
	}
}

// TestApplyTwiceChecksOnce: a second Apply on the App or on a stack below it
// adds no second set of packs (the pipeline calls Apply on its own stack).
func TestApplyTwiceChecksOnce(t *testing.T) {
	outdir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	compliance.Apply(app)
	stack := awscdk.NewStack(app, jsii.String("Fixture"), nil)
	compliance.Apply(app)
	compliance.Apply(stack)
	a, _ := wildcardPolicies(stack)
	_ = a
	if n := len(*awscdk.Aspects_Of(stack).All()); n != 0 {
		t.Errorf("stack has %d aspects of its own, want 0 (the App's cover it)", n)
	}
	if n := len(*awscdk.Aspects_Of(app).All()); n != len(compliance.Packs) {
		t.Errorf("app has %d aspects, want %d", n, len(compliance.Packs))
	}
	if _, err := compliance.Synth(app); !errors.Is(err, compliance.ErrFindings) {
		t.Fatalf("Synth error = %v, want findings", err)
	}
	// Reports land in the assembly directory, one per pack and stack.
	for _, pack := range compliance.Packs {
		matches, err := filepath.Glob(filepath.Join(outdir, pack+"-*Fixture-NagReport.csv"))
		if err != nil || len(matches) != 1 {
			t.Errorf("report of %s: %v %v", pack, matches, err)
			continue
		}
		data, err := os.ReadFile(matches[0])
		if err != nil || !strings.Contains(string(data), "AwsSolutions-IAM5") && pack == "AwsSolutions" {
			t.Errorf("report %s: %v, does not list AwsSolutions-IAM5", matches[0], err)
		}
	}
}
