package rotationcdk_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/rotationcdk"
)

const (
	usersPrefix    = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/prod/orders/"
	importedMaster = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:old/master-AbCdEf"
)

// TestMasterSecretBinding: BindMasterSecret tags a master created in the
// app with exactly the users' prefix; an imported master cannot be
// tagged; a master is bound once. A rotation naming an owned master that
// is not bound is an error at synth (the function would refuse it),
// unless the function allows unbound masters.
func TestMasterSecretBinding(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(synthesized.outdir, "binding"))})
	stack := awscdk.NewStack(app, jsii.String("Binding"), nil)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2)})
	sg := awsec2.NewSecurityGroup(stack, jsii.String("DatabaseGroup"), &awsec2.SecurityGroupProps{Vpc: vpc})
	db := awsec2.NewConnections(&awsec2.ConnectionsProps{SecurityGroups: &[]awsec2.ISecurityGroup{sg}, DefaultPort: awsec2.Port_Tcp(jsii.Number(3306))})
	fn, err := rotationcdk.NewRotationFunction(stack, "Function", &rotationcdk.RotationFunctionProps{Vpc: vpc})
	if err != nil {
		t.Fatal(err)
	}
	master := awssecretsmanager.NewSecret(stack, jsii.String("Master"), nil)
	user := awssecretsmanager.NewSecret(stack, jsii.String("User"), nil)
	imported := awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("Imported"), jsii.String(importedMaster))

	_, err = rotationcdk.NewSecretRotation(stack, "Unbound", &rotationcdk.SecretRotationProps{Function: fn, Secret: user, Database: db, MasterSecret: master})
	if err == nil || !strings.Contains(err.Error(), "rotationcdk.BindMasterSecret") {
		t.Fatalf("unbound master: err = %v", err)
	}
	if err := rotationcdk.BindMasterSecret(imported, usersPrefix); err == nil || !strings.Contains(err.Error(), "MasterSecretBindings") {
		t.Errorf("imported master: err = %v", err)
	}
	for _, bad := range []string{"", "app/prod/orders/", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/*"} {
		if err := rotationcdk.BindMasterSecret(master, bad); err == nil {
			t.Errorf("prefix %q accepted", bad)
		}
	}
	if err := rotationcdk.BindMasterSecret(master, usersPrefix); err != nil {
		t.Fatal(err)
	}
	if err := rotationcdk.BindMasterSecret(master, usersPrefix); err != nil {
		t.Errorf("the same binding again: %v", err)
	}
	if err := rotationcdk.BindMasterSecret(master, usersPrefix+"x/"); err == nil || !strings.Contains(err.Error(), "already bound") {
		t.Errorf("a second prefix: err = %v", err)
	}
	if _, err := rotationcdk.NewSecretRotation(stack, "Bound", &rotationcdk.SecretRotationProps{Function: fn, Secret: user, Database: db, MasterSecret: master}); err != nil {
		t.Fatalf("bound master: %v", err)
	}
	tpl := assertions.Template_FromStack(stack, nil)
	tpl.HasResourceProperties(jsii.String("AWS::SecretsManager::Secret"), map[string]any{
		"Tags": []any{map[string]any{"Key": rotationcdk.MasterBindingTag, "Value": usersPrefix}},
	})
	// The function may describe the master (where the tag is read), and
	// requires bindings: no variable turns them off.
	tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
		"PolicyDocument": map[string]any{"Statement": []any{map[string]any{
			"Sid":    "ReadMasterSecret",
			"Action": []any{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
		}}},
	})
	vars := functionVariables(t, tpl)
	for _, k := range []string{rotation.EnvRequireMasterSecretBinding, rotation.EnvMasterSecretBindings} {
		if _, ok := vars[k]; ok {
			t.Errorf("%s set by default", k)
		}
	}
}

// TestMasterSecretBindingsVariable: MasterSecretBindings become the
// function's MASTER_SECRET_BINDINGS (JSON the function parses);
// AllowUnboundMasterSecrets sets REQUIRE_MASTER_SECRET_BINDING=false and
// lets an unbound owned master through; invalid bindings are errors.
func TestMasterSecretBindingsVariable(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(synthesized.outdir, "bindings"))})
	stack := awscdk.NewStack(app, jsii.String("Bindings"), nil)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2)})
	fn, err := rotationcdk.NewRotationFunction(stack, "Function", &rotationcdk.RotationFunctionProps{Vpc: vpc,
		MasterSecretBindings: map[string]string{importedMaster: usersPrefix}})
	if err != nil {
		t.Fatal(err)
	}
	if fn.MasterSecretBindings[importedMaster] != usersPrefix {
		t.Errorf("RotationFunction.MasterSecretBindings = %v", fn.MasterSecretBindings)
	}
	vars := functionVariables(t, assertions.Template_FromStack(stack, nil))
	v, _ := vars[rotation.EnvMasterSecretBindings].(string)
	got, err := rotation.ParseMasterSecretBindings(v)
	if err != nil || len(got) != 1 || got[importedMaster] != usersPrefix {
		t.Errorf("%s = %q: %v, %v", rotation.EnvMasterSecretBindings, v, got, err)
	}

	app2 := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(synthesized.outdir, "unbound"))})
	open := awscdk.NewStack(app2, jsii.String("Open"), nil)
	vpc2 := awsec2.NewVpc(open, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2)})
	fn2, err := rotationcdk.NewRotationFunction(open, "Function", &rotationcdk.RotationFunctionProps{Vpc: vpc2, AllowUnboundMasterSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	sg := awsec2.NewSecurityGroup(open, jsii.String("DatabaseGroup"), &awsec2.SecurityGroupProps{Vpc: vpc2})
	db := awsec2.NewConnections(&awsec2.ConnectionsProps{SecurityGroups: &[]awsec2.ISecurityGroup{sg}, DefaultPort: awsec2.Port_Tcp(jsii.Number(3306))})
	master := awssecretsmanager.NewSecret(open, jsii.String("Master"), nil)
	user := awssecretsmanager.NewSecret(open, jsii.String("User"), nil)
	if _, err := rotationcdk.NewSecretRotation(open, "Unbound", &rotationcdk.SecretRotationProps{Function: fn2, Secret: user, Database: db, MasterSecret: master}); err != nil {
		t.Errorf("unbound master with AllowUnboundMasterSecrets: %v", err)
	}
	if v := functionVariables(t, assertions.Template_FromStack(open, nil))[rotation.EnvRequireMasterSecretBinding]; v != "false" {
		t.Errorf("%s = %v, want false", rotation.EnvRequireMasterSecretBinding, v)
	}

	app3 := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(synthesized.outdir, "badbindings"))})
	bad := awscdk.NewStack(app3, jsii.String("Bad"), nil)
	vpc = awsec2.NewVpc(bad, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2)})
	for name, props := range map[string]*rotationcdk.RotationFunctionProps{
		"master not an ARN":    {Vpc: vpc, MasterSecretBindings: map[string]string{"old/master": usersPrefix}},
		"master token":         {Vpc: vpc, MasterSecretBindings: map[string]string{*master.SecretArn(): usersPrefix}},
		"users not a prefix":   {Vpc: vpc, MasterSecretBindings: map[string]string{importedMaster: "app/prod/orders/"}},
		"users wildcard":       {Vpc: vpc, MasterSecretBindings: map[string]string{importedMaster: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:*"}},
		"bindings not checked": {Vpc: vpc, MasterSecretBindings: map[string]string{importedMaster: usersPrefix}, AllowUnboundMasterSecrets: true},
	} {
		if _, err := rotationcdk.NewRotationFunction(bad, "Bad"+name, props); err == nil || !strings.Contains(err.Error(), "MasterSecretBindings") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// functionVariables are the environment variables of the template's one
// rotation function.
func functionVariables(t *testing.T, tpl assertions.Template) map[string]any {
	t.Helper()
	fns := tpl.FindResources(jsii.String("AWS::Lambda::Function"), nil)
	if fns == nil || len(*fns) != 1 {
		t.Fatalf("%d functions, want 1", len(*fns))
	}
	for _, fn := range *fns {
		b, _ := json.Marshal(fn)
		var r struct {
			Properties struct {
				Environment struct{ Variables map[string]any }
			}
		}
		json.Unmarshal(b, &r)
		return r.Properties.Environment.Variables
	}
	return nil
}
