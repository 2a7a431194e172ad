package rotationcdk_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/rotationcdk"
)

// usersApp rotates, through one function in another stack, three
// application users: two of a database created here (master under a
// customer-managed key) and one of an imported database whose master
// secret is imported; every user rotation uses ResourcePolicies and
// SharedInvokePermission, as a stack with many users does.
func usersApp(outdir string) (cxapi.CloudAssembly, error) {
	ctx := map[string]any{"@aws-cdk/core:defaultCrossStackReferences": "weak"}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir), Context: &ctx})
	compliance.Apply(app)
	fnStack := awscdk.NewStack(app, jsii.String("Functions"), nil)
	vpc := awsec2.NewVpc(fnStack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(1)})
	fn, err := rotationcdk.NewRotationFunction(fnStack, "RotationFunction", &rotationcdk.RotationFunctionProps{Vpc: vpc})
	if err != nil {
		return nil, err
	}
	stack := awscdk.NewStack(app, jsii.String("Users"), nil)
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	db := awsrds.NewDatabaseInstance(stack, jsii.String("Database"), &awsrds.DatabaseInstanceProps{
		Engine:           awsrds.DatabaseInstanceEngine_Mysql(&awsrds.MySqlInstanceEngineProps{Version: awsrds.MysqlEngineVersion_VER_8_4_7()}),
		InstanceType:     awsec2.NewInstanceType(jsii.String("t4g.micro")),
		Vpc:              vpc,
		StorageEncrypted: jsii.Bool(true),
		Credentials:      awsrds.Credentials_FromGeneratedSecret(jsii.String("admin"), &awsrds.CredentialsBaseOptions{EncryptionKey: key}),
	})
	suppressTestDatabase(db)
	oldMaster := awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("OldMaster"), jsii.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:old/master-AbCdEf"))
	oldKey := awskms.Key_FromKeyArn(stack, jsii.String("OldKey"), jsii.String("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"))
	oldGroup := awsec2.SecurityGroup_FromSecurityGroupId(stack, jsii.String("OldGroup"), jsii.String("sg-0123456789abcdef0"), nil)
	old := awsec2.NewConnections(&awsec2.ConnectionsProps{SecurityGroups: &[]awsec2.ISecurityGroup{oldGroup}, DefaultPort: awsec2.Port_Tcp(jsii.Number(3306))})

	users := []struct {
		name     string
		master   awssecretsmanager.ISecret
		key      awskms.IKey
		database awsec2.IConnectable
	}{
		{"app1", db.Secret(), key, db},
		{"app2", db.Secret(), key, db},
		{"app3", oldMaster, oldKey, old},
	}
	for _, u := range users {
		secret := awssecretsmanager.NewSecret(stack, jsii.String(u.name), &awssecretsmanager.SecretProps{
			EncryptionKey: key,
			GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
				SecretStringTemplate: jsii.String(`{"username":"` + u.name + `"}`),
				GenerateStringKey:    jsii.String("password"),
			},
		})
		_, err := rotationcdk.NewSecretRotation(stack, u.name+"Rotation", &rotationcdk.SecretRotationProps{
			Function: fn, Secret: secret, EncryptionKey: key, Database: u.database,
			MasterSecret: u.master, MasterEncryptionKey: u.key,
			ResourcePolicies: true, SharedInvokePermission: true,
			DependsOn: []constructs.IDependable{db},
		})
		if err != nil {
			return nil, err
		}
	}

	// A function limited to two ARN prefixes, one built from pseudo
	// parameters, rotating one user under the first.
	limited, err := rotationcdk.NewRotationFunction(fnStack, "LimitedFunction", &rotationcdk.RotationFunctionProps{
		Vpc:                            vpc,
		AlternatingUsersSecretPrefixes: []string{limitedPrefix(), legacyPrefix},
	})
	if err != nil {
		return nil, err
	}
	lstack := awscdk.NewStack(app, jsii.String("LimitedUsers"), nil)
	lkey := awskms.NewKey(lstack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	lsecret := awssecretsmanager.NewSecret(lstack, jsii.String("app4"), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String("app/prod/shop/app4"),
		EncryptionKey: lkey,
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(`{"username":"app4"}`),
			GenerateStringKey:    jsii.String("password"),
		},
	})
	lmaster := awssecretsmanager.Secret_FromSecretCompleteArn(lstack, jsii.String("OldMaster"), jsii.String("arn:aws:secretsmanager:eu-west-1:123456789012:secret:old/master-AbCdEf"))
	lgroup := awsec2.SecurityGroup_FromSecurityGroupId(lstack, jsii.String("OldGroup"), jsii.String("sg-0123456789abcdef0"), nil)
	if _, err := rotationcdk.NewSecretRotation(lstack, "app4Rotation", &rotationcdk.SecretRotationProps{
		Function: limited, Secret: lsecret, EncryptionKey: lkey,
		Database:     awsec2.NewConnections(&awsec2.ConnectionsProps{SecurityGroups: &[]awsec2.ISecurityGroup{lgroup}, DefaultPort: awsec2.Port_Tcp(jsii.Number(3306))}),
		MasterSecret: lmaster, ResourcePolicies: true, SharedInvokePermission: true,
	}); err != nil {
		return nil, err
	}
	return app.Synth(nil), nil
}

// The limited function's prefixes: one of the deploying account and
// region, from pseudo parameters, and a literal one.
func limitedPrefix() string {
	return "arn:" + *awscdk.Aws_PARTITION() + ":secretsmanager:" + *awscdk.Aws_REGION() + ":" + *awscdk.Aws_ACCOUNT_ID() + ":secret:app/prod/"
}

const legacyPrefix = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:legacy/"

// TestAlternatingUsersPrefixes: a function with
// AlternatingUsersSecretPrefixes gets them as its variable, and the
// shared invoke permission of its users' stack admits Secrets Manager only
// for secrets under them (one permission per prefix, SourceArn
// "<prefix>*", pseudo parameters resolved in the users' stack); a function
// without them keeps neither (TestAlternatingUsersWiring).
func TestAlternatingUsersPrefixes(t *testing.T) {
	if synthesized.usersErr != nil {
		t.Fatal(synthesized.usersErr)
	}
	fns := template(t, synthesized.users, "Functions")
	limitedVars, defaultVars := "", ""
	for id, fn := range resources(fns, "AWS::Lambda::Function") {
		vars := asJSON(fn["Properties"].(map[string]any)["Environment"])
		switch {
		case strings.HasPrefix(id, "LimitedFunction"):
			limitedVars = vars
		case strings.HasPrefix(id, "RotationFunction"):
			defaultVars = vars
		}
	}
	want := `"ALTERNATING_USERS_SECRET_PREFIXES":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":secretsmanager:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":secret:app/prod/,` + legacyPrefix + `"]]}`
	if !strings.Contains(limitedVars, want) {
		t.Errorf("limited function environment = %s, want %s", limitedVars, want)
	}
	if defaultVars == "" || strings.Contains(defaultVars, "ALTERNATING_USERS_SECRET_PREFIXES") {
		t.Errorf("default function environment = %q, want no ALTERNATING_USERS_SECRET_PREFIXES", defaultVars)
	}

	tpl := template(t, synthesized.users, "LimitedUsers")
	perms := resources(tpl, "AWS::Lambda::Permission")
	got := map[string]string{}
	for id, p := range perms {
		props := p["Properties"].(map[string]any)
		if props["SourceAccount"] == nil || props["Principal"] != "secretsmanager.amazonaws.com" {
			t.Errorf("%s = %s, want SourceAccount and Secrets Manager", id, asJSON(props))
		}
		got[asJSON(props["SourceArn"])] = id
	}
	for _, arn := range []string{
		`{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":secretsmanager:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":secret:app/prod/*"]]}`,
		`"` + legacyPrefix + `*"`,
	} {
		if _, ok := got[arn]; !ok {
			t.Errorf("no invoke permission with SourceArn %s: %v", arn, got)
		}
	}
	if len(perms) != 2 {
		t.Errorf("%d invoke permissions, want one per prefix (2)", len(perms))
	}
	for id, s := range resources(tpl, "AWS::SecretsManager::RotationSchedule") {
		deps := asJSON(s["DependsOn"])
		for _, pid := range got {
			if !strings.Contains(deps, `"`+pid+`"`) {
				t.Errorf("%s depends on %s, want %s", id, deps, pid)
			}
		}
	}
}

// suppressTestDatabase accepts the findings of a bare test instance, which
// are about the database, not the rotation wiring under test.
func suppressTestDatabase(db awsrds.DatabaseInstance) {
	for _, rule := range []string{"AwsSolutions-RDS2", "AwsSolutions-RDS3", "AwsSolutions-RDS10", "AwsSolutions-RDS11", "AwsSolutions-RDS13",
		"NIST.800.53.R5-RDSEnhancedMonitoringEnabled", "NIST.800.53.R5-RDSInBackupPlan", "NIST.800.53.R5-RDSInstanceBackupEnabled",
		"NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled", "NIST.800.53.R5-RDSLoggingEnabled", "NIST.800.53.R5-RDSMultiAZSupport",
		"NIST.800.53.R5-RDSStorageEncrypted", "NIST.800.53.R5-RDSInstancePublicAccess"} {
		compliance.MustSuppress(db, compliance.Suppression{Rule: rule, Reason: "test database of the rotation wiring test"})
	}
}

// TestAlternatingUsersWiring: the function may read a master only where
// it has users, through one policy per master; user secrets are granted
// through their own resource policies (nothing added to the role, so any
// number fit) and one invoke permission serves the stack.
func TestAlternatingUsersWiring(t *testing.T) {
	if synthesized.usersErr != nil {
		t.Fatal(synthesized.usersErr)
	}
	for _, f := range synthesized.usersFindings {
		if !strings.Contains(f.String(), "Users/Database") && !strings.Contains(f.String(), "Functions/Vpc") {
			t.Errorf("finding on the rotation wiring: %s", f)
		}
	}
	tpl := template(t, synthesized.users, "Users")

	inline := resources(tpl, "AWS::IAM::Policy")
	if len(inline) != 2 {
		t.Fatalf("%d AWS::IAM::Policy, want one per master secret (2): %s", len(inline), asJSON(inline))
	}
	masters := map[string]bool{}
	for id, p := range inline {
		doc := asJSON(p["Properties"].(map[string]any)["PolicyDocument"])
		if !strings.Contains(doc, "secretsmanager:GetSecretValue") || strings.Contains(doc, "PutSecretValue") {
			t.Errorf("%s = %s, want read-only access to a master", id, doc)
		}
		switch {
		case strings.Contains(doc, "old/master-AbCdEf") && strings.Contains(doc, "key/1234abcd"):
			masters["old"] = true
		case strings.Contains(doc, "DatabaseSecretAttachment"):
			masters["created"] = true
		}
	}
	if !masters["old"] || !masters["created"] {
		t.Errorf("master policies cover %v, want the imported master with its key and the created one", masters)
	}
	if n := len(resources(tpl, "AWS::IAM::ManagedPolicy")); n != 0 {
		t.Errorf("%d managed policies for users, want 0 (the role's quota is 10)", n)
	}
	if n := len(resources(tpl, "AWS::Lambda::Permission")); n != 1 {
		t.Errorf("%d invoke permissions, want 1 for the stack", n)
	}
	for id, p := range resources(tpl, "AWS::Lambda::Permission") {
		if props := p["Properties"].(map[string]any); props["SourceArn"] != nil || props["SourceAccount"] == nil {
			t.Errorf("%s = %s, want SourceAccount only", id, asJSON(props))
		}
	}

	// Each user secret's resource policy lets the function's role rotate it.
	policies := resources(tpl, "AWS::SecretsManager::ResourcePolicy")
	rotated := 0
	for _, p := range policies {
		doc := asJSON(p["Properties"].(map[string]any)["ResourcePolicy"])
		if strings.Contains(doc, "secretsmanager:PutSecretValue") && strings.Contains(doc, "RotationFunctionRole") {
			rotated++
		}
	}
	if rotated != 3 {
		t.Errorf("%d secret resource policies let the function rotate, want 3: %s", rotated, asJSON(policies))
	}
	// The key policy names the function once, only through Secrets Manager.
	for _, k := range resources(tpl, "AWS::KMS::Key") {
		doc := asJSON(k["Properties"].(map[string]any)["KeyPolicy"])
		if n := strings.Count(doc, "RotationFunctionThroughSecretsManager"); n != 1 {
			t.Errorf("key policy has %d function statements, want 1: %s", n, doc)
		}
		if !strings.Contains(doc, "kms:ViaService") {
			t.Error("key policy statement for the function without kms:ViaService")
		}
	}
	// The schedules wait for the master access, the permission, and the
	// secret's resource policy and key (the function's access to the
	// secret with ResourcePolicies).
	keys := resources(tpl, "AWS::KMS::Key")
	for id, s := range resources(tpl, "AWS::SecretsManager::RotationSchedule") {
		var deps []string
		raw, _ := json.Marshal(s["DependsOn"])
		_ = json.Unmarshal(raw, &deps)
		joined := strings.Join(deps, ",")
		if !strings.Contains(joined, "RotationMasterAccess") || !strings.Contains(joined, "RotationInvokePermission") {
			t.Errorf("%s depends on %v, want the master access policy and the invoke permission", id, deps)
		}
		secret := asJSON(s["Properties"].(map[string]any)["SecretId"])
		waits := false
		for pid, p := range policies {
			if asJSON(p["Properties"].(map[string]any)["SecretId"]) == secret {
				waits = slices.Contains(deps, pid)
			}
		}
		if !waits {
			t.Errorf("%s depends on %v, want its secret's resource policy", id, deps)
		}
		for kid := range keys {
			if !slices.Contains(deps, kid) {
				t.Errorf("%s depends on %v, want the key %s (its key policy)", id, deps, kid)
			}
		}
	}
}
