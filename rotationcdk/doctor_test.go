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
		{"secret missing", ok(rotationcdk.DoctorFunctionProps{Secrets: []rotationcdk.WatchedSecret{{}}}), "Secrets[0]: Secret is required"},
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
