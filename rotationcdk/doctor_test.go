package rotationcdk_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/doctor"
	"github.com/example/secret-rotation/rotationcdk"
)

// doctorFixture is a stack with what a doctor needs: a VPC, a topic, a
// rotation function and two secrets, one with its own key and database.
type doctorFixture struct {
	stack          awscdk.Stack
	vpc            awsec2.IVpc
	topic          awssns.ITopic
	fn             *rotationcdk.RotationFunction
	plain, keyed   awssecretsmanager.ISecret
	key            awskms.IKey
	db, dbWithPort awsec2.IConnectable
}

func newDoctorFixture(t *testing.T, name string) *doctorFixture {
	t.Helper()
	// The same outdir as TestInvalidProps: the rotation function's asset is
	// staged once per process.
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(synthesized.outdir, "invalid"))})
	stack := awscdk.NewStack(app, jsii.String(name), nil)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2)})
	fn, err := rotationcdk.NewRotationFunction(stack, "Function", &rotationcdk.RotationFunctionProps{Vpc: vpc})
	if err != nil {
		t.Fatal(err)
	}
	key := awskms.NewKey(stack, jsii.String("Key"), nil)
	sg := awsec2.NewSecurityGroup(stack, jsii.String("DatabaseGroup"), &awsec2.SecurityGroupProps{Vpc: vpc, AllowAllOutbound: jsii.Bool(false)})
	return &doctorFixture{
		stack: stack, vpc: vpc, fn: fn, key: key,
		topic: awssns.NewTopic(stack, jsii.String("Topic"), nil),
		plain: awssecretsmanager.NewSecret(stack, jsii.String("Plain"), nil),
		keyed: awssecretsmanager.NewSecret(stack, jsii.String("Keyed"), &awssecretsmanager.SecretProps{EncryptionKey: key}),
		db:    awsec2.NewConnections(&awsec2.ConnectionsProps{SecurityGroups: &[]awsec2.ISecurityGroup{sg}}),
		dbWithPort: awsec2.NewConnections(&awsec2.ConnectionsProps{
			SecurityGroups: &[]awsec2.ISecurityGroup{sg}, DefaultPort: awsec2.Port_Tcp(jsii.Number(3306)),
		}),
	}
}

func TestInvalidDoctorProps(t *testing.T) {
	f := newDoctorFixture(t, "InvalidDoctor")
	ok := func(p rotationcdk.DoctorFunctionProps) *rotationcdk.DoctorFunctionProps {
		p.Vpc, p.Topic, p.RotationFunction = f.vpc, f.topic, f.fn
		return &p
	}
	tests := []struct {
		name  string
		props *rotationcdk.DoctorFunctionProps
		want  string
	}{
		{"no props", nil, "props are required"},
		{"nothing", &rotationcdk.DoctorFunctionProps{}, "Vpc is required\nTopic is required\nRotationFunction is required"},
		{"stuck too soon", ok(rotationcdk.DoctorFunctionProps{StuckAfter: 30 * time.Minute}), "StuckAfter 30m0s"},
		{"stuck seconds", ok(rotationcdk.DoctorFunctionProps{StuckAfter: time.Hour + time.Second}), "whole minutes"},
		{"timeout", ok(rotationcdk.DoctorFunctionProps{Timeout: 16 * time.Minute}), "Timeout 16m0s"},
		{"memory", ok(rotationcdk.DoctorFunctionProps{MemorySizeMiB: 64}), "MemorySizeMiB 64"},
		{"secret missing", ok(rotationcdk.DoctorFunctionProps{Secrets: []rotationcdk.WatchedSecret{{}}}), "Secrets[0]: exactly one of Secret and NamePrefix is required"},
		{"secret and prefix", ok(rotationcdk.DoctorFunctionProps{Secrets: []rotationcdk.WatchedSecret{{Secret: f.plain, NamePrefix: "app/dev/"}}}), "exactly one of Secret and NamePrefix"},
		{"prefix without slash", ok(rotationcdk.DoctorFunctionProps{Secrets: []rotationcdk.WatchedSecret{{NamePrefix: "app/dev"}}}), `NamePrefix "app/dev": want`},
		{"prefix with a wildcard", ok(rotationcdk.DoctorFunctionProps{Secrets: []rotationcdk.WatchedSecret{{NamePrefix: "app/*/"}}}), `NamePrefix "app/*/": want`},
		{"port missing", ok(rotationcdk.DoctorFunctionProps{Secrets: []rotationcdk.WatchedSecret{{Secret: f.plain, Database: f.db}}}), "Port is required"},
		{"missing package", ok(rotationcdk.DoctorFunctionProps{Package: "./does/not/exist"}), "go list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(*f.stack.Node().Children())
			_, err := rotationcdk.NewDoctorFunction(f.stack, "Bad"+tc.name, tc.props)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if after := len(*f.stack.Node().Children()); after != before {
				t.Errorf("%d constructs added before the error", after-before)
			}
		})
	}
}

// TestDoctorWatch: secrets given in props and added later share one
// statement, keys another (through Secrets Manager only); a database
// admits the doctor; ReportOnly turns repairs off.
func TestDoctorWatch(t *testing.T) {
	f := newDoctorFixture(t, "Doctor")
	d, err := rotationcdk.NewDoctorFunction(f.stack, "Doctor", &rotationcdk.DoctorFunctionProps{
		Vpc: f.vpc, Topic: f.topic, RotationFunction: f.fn, ReportOnly: true,
		Secrets: []rotationcdk.WatchedSecret{{Secret: f.plain}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A database without a default port needs Port; then the same secret
	// with its key and a database.
	if err := d.Watch(rotationcdk.WatchedSecret{Secret: f.keyed, Database: f.db}); err == nil || !strings.Contains(err.Error(), "Port is required") {
		t.Errorf("Watch without a port: err = %v", err)
	}
	if err := d.Watch(rotationcdk.WatchedSecret{Secret: f.keyed, EncryptionKey: f.key, Database: f.dbWithPort}); err != nil {
		t.Fatal(err)
	}
	tpl := assertions.Template_FromStack(f.stack, nil)
	check := func(what string, fn func()) {
		t.Helper()
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s: %v", what, r)
			}
		}()
		fn()
	}
	check("secrets statement", func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Sid": "ReadAndRepairWatchedSecrets", "Resource": []any{
					map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Plain"))},
					map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Keyed"))},
				}}),
				assertions.Match_ObjectLike(&map[string]any{"Sid": "SecretKeysThroughSecretsManager", "Action": "kms:Decrypt",
					"Resource":  map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^Key")), "Arn"}},
					"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": assertions.Match_AnyValue()}}}),
			})},
		})
	})
	// RotateSecret only in its own statement, on the same secrets, with
	// conditions that keep the secret's rotation function and rules.
	check("retry statement", func() {
		fnArn := map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^Function")), "Arn"}}
		tpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectEquals(&map[string]any{"Sid": "RetryRotationUnchanged", "Effect": "Allow", "Action": "secretsmanager:RotateSecret",
					"Resource": []any{
						map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Plain"))},
						map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Keyed"))},
					},
					"Condition": map[string]any{
						"ArnEqualsIfExists": map[string]any{"secretsmanager:RotationLambdaARN": fnArn},
						"BoolIfExists":      map[string]any{"secretsmanager:ModifyRotationRules": "false"},
					}}),
			})},
		})
	})
	policies := asJSON(tpl.FindResources(jsii.String("AWS::IAM::ManagedPolicy"), nil))
	if n := strings.Count(policies, `"secretsmanager:RotateSecret"`); n != 1 {
		t.Errorf("secretsmanager:RotateSecret granted in %d places, want 1 (the conditioned statement): %s", n, policies)
	}
	check("report only", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{doctor.EnvRepair: "false", doctor.EnvStuckAfter: "1h0m0s"}},
		})
	})
	check("database admits the doctor", func() {
		tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), map[string]any{
			"FromPort": 3306, "Description": "Rotation doctor",
		})
	})
}

// TestDoctorWatchNamePrefix: secrets watched by name prefix share one
// statement on the prefix's ARN pattern (suppressed for IAM5 on exactly
// that finding), their keys one statement usable through Secrets Manager
// for secrets under the prefix only; the same prefix watched twice (two
// databases) is listed once, and so is one database's rule; a master the
// doctor does not watch is readable without its value.
func TestDoctorWatchNamePrefix(t *testing.T) {
	f := newDoctorFixture(t, "DoctorPrefix")
	d, err := rotationcdk.NewDoctorFunction(f.stack, "Doctor", &rotationcdk.DoctorFunctionProps{
		Vpc: f.vpc, Topic: f.topic, RotationFunction: f.fn,
		Secrets: []rotationcdk.WatchedSecret{{NamePrefix: "app/dev/", EncryptionKey: f.key, Database: f.dbWithPort, MasterSecret: f.plain}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Watch(rotationcdk.WatchedSecret{NamePrefix: "app/dev/", Database: f.dbWithPort, Port: awsec2.Port_Tcp(jsii.Number(3306))}); err != nil {
		t.Fatal(err)
	}
	tpl := assertions.Template_FromStack(f.stack, nil)
	pattern := map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":secretsmanager:",
		map[string]any{"Ref": "AWS::Region"}, ":", map[string]any{"Ref": "AWS::AccountId"}, ":secret:app/dev/*"}}}
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("policy: %v", r)
			}
		}()
		tpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Sid": "ReadAndRepairSecretsByName", "Resource": pattern}),
				assertions.Match_ObjectLike(&map[string]any{"Sid": "NamedSecretKeysThroughSecretsManager", "Action": "kms:Decrypt",
					"Condition": map[string]any{
						"StringEquals": map[string]any{"kms:ViaService": assertions.Match_AnyValue()},
						"StringLike":   map[string]any{"kms:EncryptionContext:SecretARN": []any{pattern}},
					}}),
				assertions.Match_ObjectLike(&map[string]any{"Sid": "ReadMastersOfWatchedSecrets",
					"Action": []any{"secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"}}),
			})},
		})
	}()
	policy := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace(asJSON(tpl.FindResources(jsii.String("AWS::IAM::ManagedPolicy"), nil)))
	if !strings.Contains(policy, `"Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:app/dev/*"`) {
		t.Errorf("no IAM5 suppression on exactly the prefix's pattern: %s", policy)
	}
	if n := strings.Count(policy, ":secret:app/dev/*"); n != 4 {
		t.Errorf("the prefix's pattern appears %d times, want 4 (statement, retry statement, key condition, suppression)", n)
	}
	if n := len(*tpl.FindResources(jsii.String("AWS::EC2::SecurityGroupIngress"), nil)); n != 1 {
		t.Errorf("%d ingress rules for one database watched twice, want 1", n)
	}
}
