package rotationcdk_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/rotationcdk"
)

// The constructs add nothing that cdk-nag's AwsSolutions and NIST 800-53
// R5 packs report (the rest of the minimal app, a default VPC and RDS
// instance, is not theirs to fix), and the packs did run.
func TestMinimalAppCompliance(t *testing.T) {
	if len(synthesized.findings) == 0 {
		t.Fatal("no cdk-nag finding at all in the minimal app: did the rule packs run?")
	}
	for _, f := range synthesized.findings {
		if strings.HasPrefix(f.Path, "/Minimal/RotationFunction/") || strings.HasPrefix(f.Path, "/Minimal/MasterRotation/") {
			t.Errorf("%s", f)
		}
	}
}

func TestMinimalAppTemplate(t *testing.T) {
	tpl := template(t, synthesized.minimal, "Minimal")
	fns := resources(tpl, "AWS::Lambda::Function")
	var fnID string
	for id, fn := range fns {
		p := fn["Properties"].(map[string]any)
		if p["Runtime"] == "provided.al2023" {
			fnID = id
			if p["Handler"] != "bootstrap" || asJSON(p["Architectures"]) != `["arm64"]` {
				t.Errorf("function %s: handler %v, architectures %v", id, p["Handler"], p["Architectures"])
			}
			vars := asJSON(p["Environment"])
			if !strings.Contains(vars, `"PASSWORD_LENGTH":"32"`) || strings.Contains(vars, "DB_CA_BUNDLE") {
				t.Errorf("function environment = %s, want the default password length and no CA bundle", vars)
			}
			if _, ok := p["ReservedConcurrentExecutions"]; ok {
				t.Error("reserved concurrency set by default")
			}
		}
	}
	if !strings.HasPrefix(fnID, "RotationFunction") {
		t.Fatalf("rotation function logical id = %q, want the construct's id (RotationFunction...)", fnID)
	}

	schedules := resources(tpl, "AWS::SecretsManager::RotationSchedule")
	sched, ok := schedules["MasterRotation"]
	if len(schedules) != 1 || !ok {
		t.Fatalf("rotation schedules = %s, want one with the construct's id MasterRotation", asJSON(schedules))
	}
	if got := asJSON(sched["Properties"].(map[string]any)["RotationRules"]); got != `{"AutomaticallyAfterDays":30}` {
		t.Errorf("rotation rules = %s", got)
	}
	deps := asJSON(sched["DependsOn"])
	for _, want := range []string{"MasterRotationPolicy", "MasterRotationInvokePermission", "DatabaseSecurityGroup", "Database"} {
		if !strings.Contains(deps, `"`+want) {
			t.Errorf("schedule DependsOn = %s, want %s...", deps, want)
		}
	}

	perms := resources(tpl, "AWS::Lambda::Permission")
	if len(perms) != 1 {
		t.Fatalf("permissions = %s", asJSON(perms))
	}
	for _, p := range perms {
		props := p["Properties"].(map[string]any)
		if props["Principal"] != "secretsmanager.amazonaws.com" || !strings.Contains(asJSON(props["SourceArn"]), "DatabaseSecretAttachment") {
			t.Errorf("permission = %s, want Secrets Manager for the attached secret only", asJSON(props))
		}
	}

	ingress := asJSON(resources(tpl, "AWS::EC2::SecurityGroupIngress"))
	if !strings.Contains(ingress, `"FromPort":{"Fn::GetAtt":["DatabaseB269D8BB","Endpoint.Port"]}`) &&
		!regexp.MustCompile(`"SourceSecurityGroupId":\{"Fn::GetAtt":\["RotationFunctionSecurityGroup`).MatchString(ingress) {
		t.Errorf("no ingress from the function's group to the database port: %s", ingress)
	}

	policies := asJSON(resources(tpl, "AWS::IAM::ManagedPolicy"))
	for _, action := range []string{"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage", "secretsmanager:GetRandomPassword", "ec2:CreateNetworkInterface"} {
		if !strings.Contains(policies, action) {
			t.Errorf("managed policies lack %s", action)
		}
	}
	if strings.Contains(policies, "kms:") {
		t.Error("a KMS statement without an EncryptionKey")
	}
}

// crossStackApp puts the function in one stack and the database with its
// rotation in another.
func crossStackApp(outdir string) (cxapi.CloudAssembly, error) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	fnStack := awscdk.NewStack(app, jsii.String("Functions"), nil)
	vpc := awsec2.NewVpc(fnStack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(1)})
	fn, err := rotationcdk.NewRotationFunction(fnStack, "RotationFunction", &rotationcdk.RotationFunctionProps{Vpc: vpc, ReservedConcurrency: 2})
	if err != nil {
		return nil, err
	}
	dataStack := awscdk.NewStack(app, jsii.String("Data"), nil)
	db := awsrds.NewDatabaseInstance(dataStack, jsii.String("Database"), &awsrds.DatabaseInstanceProps{
		Engine:       awsrds.DatabaseInstanceEngine_Mysql(&awsrds.MySqlInstanceEngineProps{Version: awsrds.MysqlEngineVersion_VER_8_4_7()}),
		InstanceType: awsec2.NewInstanceType(jsii.String("t4g.micro")),
		Vpc:          vpc,
		Credentials:  awsrds.Credentials_FromGeneratedSecret(jsii.String("admin"), nil),
	})
	_, err = rotationcdk.NewSecretRotation(dataStack, "MasterRotation", &rotationcdk.SecretRotationProps{
		Function: fn, Secret: db.Secret(), Database: db,
		Schedule: rotationcdk.RotateOn("rate(10 hours)"), Window: 2 * time.Hour,
		DependsOn: []constructs.IDependable{db},
	})
	if err != nil {
		return nil, err
	}
	return app.Synth(nil), nil
}

// In two stacks, every reference points from the secret's stack to the
// function's: it synthesizes (no cycle) and only Data depends on Functions.
func TestCrossStack(t *testing.T) {
	if synthesized.crossErr != nil {
		t.Fatal(synthesized.crossErr)
	}
	deps := func(stack string) []string {
		var out []string
		for _, d := range *synthesized.cross.GetStackByName(jsii.String(stack)).Dependencies() {
			if !strings.HasSuffix(*d.Id(), ".assets") { // the stack's own asset publishing
				out = append(out, *d.Id())
			}
		}
		return out
	}
	if got := deps("Data"); len(got) != 1 || got[0] != "Functions" {
		t.Errorf("Data depends on %v, want [Functions]", got)
	}
	if got := deps("Functions"); len(got) != 0 {
		t.Errorf("Functions depends on %v, want nothing", got)
	}
	data := template(t, synthesized.cross, "Data")
	if n := len(resources(data, "AWS::SecretsManager::RotationSchedule")); n != 1 {
		t.Errorf("%d rotation schedules in Data", n)
	}
	if got := asJSON(resources(data, "AWS::SecretsManager::RotationSchedule")["MasterRotation"]["Properties"].(map[string]any)["RotationRules"]); got != `{"Duration":"2h","ScheduleExpression":"rate(10 hours)"}` {
		t.Errorf("rotation rules = %s", got)
	}
	for _, fn := range resources(template(t, synthesized.cross, "Functions"), "AWS::Lambda::Function") {
		if c := fn["Properties"].(map[string]any)["ReservedConcurrentExecutions"]; c != nil && asJSON(c) != "2" {
			t.Errorf("reserved concurrency = %v, want 2", c)
		}
	}
}

// Invalid props are errors from the constructor, before any construct is
// added to the scope.
func TestInvalidProps(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(synthesized.outdir, "invalid"))})
	stack := awscdk.NewStack(app, jsii.String("Invalid"), nil)
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2)})
	secret := awssecretsmanager.NewSecret(stack, jsii.String("Secret"), nil)
	sg := awsec2.NewSecurityGroup(stack, jsii.String("DatabaseGroup"), &awsec2.SecurityGroupProps{Vpc: vpc})
	fn, err := rotationcdk.NewRotationFunction(stack, "Function", &rotationcdk.RotationFunctionProps{Vpc: vpc})
	if err != nil {
		t.Fatal(err)
	}
	db := awsec2.NewConnections(&awsec2.ConnectionsProps{SecurityGroups: &[]awsec2.ISecurityGroup{sg}, DefaultPort: awsec2.Port_Tcp(jsii.Number(3306))})
	importedSecret := awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("Imported"), jsii.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf"))
	importedKey := awskms.Key_FromKeyArn(stack, jsii.String("ImportedKey"), jsii.String("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"))
	noPort := awsec2.NewConnections(&awsec2.ConnectionsProps{SecurityGroups: &[]awsec2.ISecurityGroup{sg}})

	functions := []struct {
		name  string
		props *rotationcdk.RotationFunctionProps
		want  string
	}{
		{"no props", nil, "Vpc is required"},
		{"no VPC", &rotationcdk.RotationFunctionProps{}, "Vpc is required"},
		{"short timeout", &rotationcdk.RotationFunctionProps{Vpc: vpc, Timeout: 10 * time.Second}, "Timeout 10s"},
		{"fractional timeout", &rotationcdk.RotationFunctionProps{Vpc: vpc, Timeout: 30500 * time.Millisecond}, "whole seconds"},
		{"password length", &rotationcdk.RotationFunctionProps{Vpc: vpc, PasswordLength: -1}, "PasswordLength -1"},
		{"memory", &rotationcdk.RotationFunctionProps{Vpc: vpc, MemorySizeMiB: 64}, "MemorySizeMiB 64"},
		{"concurrency", &rotationcdk.RotationFunctionProps{Vpc: vpc, ReservedConcurrency: 1001}, "ReservedConcurrency 1001"},
		{"missing CA bundle", &rotationcdk.RotationFunctionProps{Vpc: vpc, CABundlePath: "/does/not/exist.pem"}, "CA bundle"},
		{"missing package", &rotationcdk.RotationFunctionProps{Vpc: vpc, Package: "./does/not/exist"}, "go list"},
		{"prefix not an ARN", &rotationcdk.RotationFunctionProps{Vpc: vpc, AlternatingUsersSecretPrefixes: []string{"app/prod/"}}, "AlternatingUsersSecretPrefixes \"app/prod/\""},
		{"prefix wildcard", &rotationcdk.RotationFunctionProps{Vpc: vpc, AlternatingUsersSecretPrefixes: []string{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/*"}}, "wildcard"},
		{"two prefixes in one", &rotationcdk.RotationFunctionProps{Vpc: vpc, AlternatingUsersSecretPrefixes: []string{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:a/,arn:aws:secretsmanager:eu-west-1:123456789012:secret:b/"}}, "one prefix per element"},
		{"empty prefix", &rotationcdk.RotationFunctionProps{Vpc: vpc, AlternatingUsersSecretPrefixes: []string{""}}, "empty"},
	}
	for _, tc := range functions {
		t.Run("function/"+tc.name, func(t *testing.T) {
			before := len(*stack.Node().Children())
			_, err := rotationcdk.NewRotationFunction(stack, "Bad"+tc.name, tc.props)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if after := len(*stack.Node().Children()); after != before {
				t.Errorf("%d constructs added before the error", after-before)
			}
		})
	}

	rotations := []struct {
		name  string
		props *rotationcdk.SecretRotationProps
		want  string
	}{
		{"no props", nil, "props are required"},
		{"nothing", &rotationcdk.SecretRotationProps{}, "Function is required\nSecret is required\nDatabase is required"},
		{"no port", &rotationcdk.SecretRotationProps{Function: fn, Secret: secret, Database: noPort}, "Port is required"},
		{"days", &rotationcdk.SecretRotationProps{Function: fn, Secret: secret, Database: db, Schedule: rotationcdk.RotateEvery(1001)}, "want 1..1000 days"},
		{"hours", &rotationcdk.SecretRotationProps{Function: fn, Secret: secret, Database: db, Schedule: rotationcdk.RotateOn("rate(2 hours)")}, "rate(N hours) with N 4..23"},
		{"window", &rotationcdk.SecretRotationProps{Function: fn, Secret: secret, Database: db, Schedule: rotationcdk.RotateOn("rate(4 hours)"), Window: 4 * time.Hour}, "shorter than the rotation interval"},
		{"window minutes", &rotationcdk.SecretRotationProps{Function: fn, Secret: secret, Database: db, Window: 90 * time.Minute}, "whole hours"},
		{"cron", &rotationcdk.SecretRotationProps{Function: fn, Secret: secret, Database: db, Schedule: rotationcdk.RotateOn("cron(0 4 * * ?)")}, "cron(min hour"},
		{"master key alone", &rotationcdk.SecretRotationProps{Function: fn, Secret: secret, Database: db, MasterEncryptionKey: importedKey}, "MasterEncryptionKey needs MasterSecret"},
		{"resource policy of an imported secret", &rotationcdk.SecretRotationProps{Function: fn, Secret: importedSecret, Database: db, ResourcePolicies: true}, "needs a Secret created in this app"},
		{"key policy of an imported key", &rotationcdk.SecretRotationProps{Function: fn, Secret: secret, EncryptionKey: importedKey, Database: db, ResourcePolicies: true}, "needs an EncryptionKey created in this app"},
	}
	for _, tc := range rotations {
		t.Run("rotation/"+tc.name, func(t *testing.T) {
			before := len(*stack.Node().Children())
			_, err := rotationcdk.NewSecretRotation(stack, "Bad"+tc.name, tc.props)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if after := len(*stack.Node().Children()); after != before {
				t.Errorf("%d constructs added before the error", after-before)
			}
		})
	}
	if _, err := rotationcdk.NewSecretRotation(stack, "Good", &rotationcdk.SecretRotationProps{
		Function: fn, Secret: secret, Database: db, Schedule: rotationcdk.RotateOn("cron(0 4 ? * SUN *)"), Window: 3 * time.Hour,
	}); err != nil {
		t.Errorf("valid props: %v", err)
	}
}

// The README shows minimalStack exactly as tested, and it stays under 40 lines.
func TestReadmeSnippet(t *testing.T) {
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)func minimalStack.*?\n}\n`).Find(src)
	if m == nil {
		t.Fatal("no minimalStack in example_test.go")
	}
	if n := strings.Count(string(m), "\n"); n >= 40 {
		t.Errorf("minimalStack is %d lines, want under 40", n)
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), string(m)) {
		t.Errorf("README.md does not show minimalStack as in rotationcdk/example_test.go:\n%s", m)
	}
}
