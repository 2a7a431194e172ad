package stacks_test

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
)

func TestDatabase(t *testing.T) {
	tests := []struct {
		env            string
		port           int
		multiAz        bool
		protected      bool
		deletionPolicy string
		rules          map[string]any
		ingressSources int
	}{
		{env: "dev", port: 3306, deletionPolicy: "Delete", ingressSources: 1,
			rules: map[string]any{"AutomaticallyAfterDays": 30, "ScheduleExpression": assertions.Match_Absent(), "Duration": assertions.Match_Absent()}},
		{env: "prod", port: 3306, multiAz: true, protected: true, deletionPolicy: "Snapshot", ingressSources: 1,
			rules: map[string]any{"AutomaticallyAfterDays": 30, "ScheduleExpression": assertions.Match_Absent()}},
		{env: "isolated", port: 3306, deletionPolicy: "Delete", ingressSources: 1,
			rules: map[string]any{"AutomaticallyAfterDays": 30, "ScheduleExpression": assertions.Match_Absent(), "Duration": assertions.Match_Absent()}},
		{env: "full", port: 3307, deletionPolicy: "Delete", ingressSources: 2,
			rules: map[string]any{"ScheduleExpression": "cron(0 4 ? * SUN *)", "Duration": "3h", "AutomaticallyAfterDays": assertions.Match_Absent()}},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			tpl := templateOf(t, tc.env, "Database")
			assert(t, "instance", func() {
				tpl.HasResource(jsii.String("AWS::RDS::DBInstance"), map[string]any{
					"DeletionPolicy": tc.deletionPolicy,
					"Properties": map[string]any{
						"Engine":             "mysql",
						"EngineVersion":      assertions.Match_StringLikeRegexp(jsii.String(`^8\.[04]\.[0-9]+$`)),
						"PubliclyAccessible": false,
						"StorageEncrypted":   true,
						"MultiAZ":            tc.multiAz,
						"DeletionProtection": tc.protected,
						"Port":               assertions.Match_AnyValue(),
						"MasterUsername":     assertions.Match_AnyValue(),
					},
				})
			})
			assert(t, "CA certificate", func() {
				ca := "rds-ca-rsa2048-g1" // the default
				if tc.env == "full" {
					ca = "rds-ca-ecc384-g1"
				}
				tpl.HasResourceProperties(jsii.String("AWS::RDS::DBInstance"), map[string]any{"CACertificateIdentifier": ca})
			})
			assert(t, "secret", func() {
				tpl.HasResourceProperties(jsii.String("AWS::SecretsManager::Secret"), map[string]any{
					"GenerateSecretString": map[string]any{
						"GenerateStringKey": "password", "PasswordLength": 32, "ExcludeCharacters": `/@"'\`,
						"SecretStringTemplate": `{"ssl":"true","username":"admin"}`,
					},
				})
			})
			assert(t, "secret attached", func() {
				tpl.ResourceCountIs(jsii.String("AWS::SecretsManager::SecretTargetAttachment"), jsii.Number(1))
				tpl.HasResourceProperties(jsii.String("AWS::SecretsManager::SecretTargetAttachment"), map[string]any{"TargetType": "AWS::RDS::DBInstance"})
			})
			assert(t, "rotation schedule", func() {
				tpl.ResourceCountIs(jsii.String("AWS::SecretsManager::RotationSchedule"), jsii.Number(1))
				tpl.HasResourceProperties(jsii.String("AWS::SecretsManager::RotationSchedule"), map[string]any{
					"RotationRules": assertions.Match_ObjectEquals(&tc.rules),
				})
			})
			assert(t, "invoke permission", func() {
				tpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
					"Action": "lambda:InvokeFunction", "Principal": "secretsmanager.amazonaws.com",
					"SourceAccount": map[string]any{"Ref": "AWS::AccountId"},
					"SourceArn":     map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^MasterSecret"))},
				})
			})
			for _, out := range []string{"DatabaseEndpoint", "DatabasePort", "SecretArn", "SecretName"} {
				assert(t, "output "+out, func() { tpl.HasOutput(jsii.String(out), map[string]any{"Value": assertions.Match_AnyValue()}) })
			}

			raw := templateJSON(t, tc.env, "Database")
			checkDatabaseWiring(t, tc.env, raw, tc.port, tc.ingressSources)
		})
	}
}

// checkDatabaseWiring verifies the references between the stacks: private
// subnets, the function's ARN and role, and the security-group rules.
func checkDatabaseWiring(t *testing.T, env string, raw map[string]any, port, ingressSources int) {
	t.Helper()
	rotationStack := stackName(env, "Rotation")
	for _, g := range resourcesOfType(raw, "AWS::RDS::DBSubnetGroup") {
		ids := asJSON(props(g)["SubnetIds"])
		if !strings.Contains(ids, "PrivateSubnet") || strings.Contains(ids, "PublicSubnet") {
			t.Errorf("DB subnet group %s, want private subnets only", ids)
		}
	}
	for _, s := range resourcesOfType(raw, "AWS::SecretsManager::RotationSchedule") {
		arn := asJSON(props(s)["RotationLambdaARN"])
		if !strings.Contains(arn, rotationStack) || !strings.Contains(arn, "RotationFunction") {
			t.Errorf("RotationLambdaARN = %s, want the rotation stack's function", arn)
		}
		if !strings.Contains(asJSON(props(s)["SecretId"]), "MasterSecret") {
			t.Errorf("SecretId = %s, want the master secret", asJSON(props(s)["SecretId"]))
		}
		deps := asJSON(s["DependsOn"])
		for _, want := range []string{"RotationFunctionPolicy", "AllowSecretsManagerInvoke", "Database"} {
			if !strings.Contains(deps, want) {
				t.Errorf("rotation schedule DependsOn %s, missing %s", deps, want)
			}
		}
	}
	for _, p := range resourcesOfType(raw, "AWS::IAM::Policy") {
		if roles := asJSON(props(p)["Roles"]); !strings.Contains(roles, rotationStack) {
			t.Errorf("policy roles %s, want the rotation function's role", roles)
		}
		doc := asJSON(props(p)["PolicyDocument"])
		if !strings.Contains(doc, `"Resource":{"Ref":"MasterSecret`) {
			t.Errorf("policy %s, want secret actions scoped to the master secret", doc)
		}
	}
	// Only the function (and the operator host) reach the database port.
	dbSGs := resourcesOfType(raw, "AWS::EC2::SecurityGroup")
	for id, sg := range dbSGs {
		if _, ok := props(sg)["SecurityGroupIngress"]; ok {
			t.Errorf("%s has inline ingress %s", id, asJSON(props(sg)["SecurityGroupIngress"]))
		}
	}
	ingress := resourcesOfType(raw, "AWS::EC2::SecurityGroupIngress")
	if len(ingress) != ingressSources {
		t.Errorf("%d ingress rules, want %d", len(ingress), ingressSources)
	}
	fromFunction := 0
	for id, r := range ingress {
		p := props(r)
		if p["CidrIp"] != nil || p["CidrIpv6"] != nil || p["SourceSecurityGroupId"] == nil {
			t.Errorf("%s: ingress %s, want a security-group source only", id, asJSON(p))
		}
		if asJSON(p["FromPort"]) != asJSON(port) || asJSON(p["ToPort"]) != asJSON(port) || p["IpProtocol"] != "tcp" {
			t.Errorf("%s: ingress ports %s, want tcp/%d", id, asJSON(p), port)
		}
		if strings.Contains(asJSON(p["SourceSecurityGroupId"]), rotationStack) {
			fromFunction++
		}
	}
	if fromFunction != 1 {
		t.Errorf("%d ingress rules from the rotation function's group, want 1", fromFunction)
	}
	egressToDB := 0
	for _, r := range resourcesOfType(raw, "AWS::EC2::SecurityGroupEgress") {
		if strings.Contains(asJSON(props(r)["GroupId"]), rotationStack) && asJSON(props(r)["FromPort"]) == asJSON(port) {
			egressToDB++
		}
	}
	if egressToDB != 1 {
		t.Errorf("%d egress rules from the function's group to the DB port, want 1 (in this stack)", egressToDB)
	}
}

func TestOperatorHost(t *testing.T) {
	assert(t, "off by default", func() {
		templateOf(t, "dev", "Database").ResourceCountIs(jsii.String("AWS::EC2::Instance"), jsii.Number(0))
	})
	tpl := templateOf(t, "full", "Database")
	assert(t, "host", func() {
		tpl.HasResourceProperties(jsii.String("AWS::EC2::Instance"), map[string]any{
			"KeyName":      assertions.Match_Absent(),
			"InstanceType": "t4g.nano",
			// No public IP: the private subnets never map one, and there is
			// no network interface block that could ask for one.
			"NetworkInterfaces": assertions.Match_Absent(),
			"SubnetId":          assertions.Match_AnyValue(),
			"Monitoring":        true,
		})
	})
	assert(t, "IMDSv2", func() {
		tpl.HasResourceProperties(jsii.String("AWS::EC2::LaunchTemplate"), map[string]any{
			"LaunchTemplateData": map[string]any{"MetadataOptions": map[string]any{"HttpTokens": "required"}},
		})
	})
	raw := templateJSON(t, "full", "Database")
	for _, inst := range resourcesOfType(raw, "AWS::EC2::Instance") {
		p := props(inst)
		if ud := asJSON(p["UserData"]); !strings.Contains(ud, "mariadb105") {
			t.Errorf("user data %s, want the MySQL client installed", ud)
		}
		if subnet := asJSON(p["SubnetId"]); !strings.Contains(subnet, "PrivateSubnet") {
			t.Errorf("host subnet %s, want a private subnet", subnet)
		}
	}
	hostRoles := 0
	for id, role := range resourcesOfType(raw, "AWS::IAM::Role") {
		if !strings.HasPrefix(id, "OperatorHost") {
			continue
		}
		hostRoles++
		if !strings.Contains(asJSON(props(role)["ManagedPolicyArns"]), "AmazonSSMManagedInstanceCore") {
			t.Errorf("host role %s, want SSM managed", asJSON(props(role)))
		}
	}
	if hostRoles != 1 {
		t.Errorf("%d operator host roles, want 1", hostRoles)
	}
}

// TestDefaultEngineVersionIsNewest84: a default environment runs the newest
// MySQL 8.4 minor version that the aws-cdk-lib of go.mod lists in
// rds.MysqlEngineVersion (a version is listed once RDS offers it). When an
// aws-cdk-go upgrade lists a newer one, this fails until the default moves
// (README, Configuration: engineVersion).
func TestDefaultEngineVersionIsNewest84(t *testing.T) {
	dts := cdkLibFile(t, "package/aws-rds/lib/instance-engine.d.ts")
	newest := -1
	for _, m := range regexp.MustCompile(`static readonly VER_8_4_([0-9]+): MysqlEngineVersion;`).FindAllStringSubmatch(dts, -1) {
		n, _ := strconv.Atoi(m[1])
		newest = max(newest, n)
	}
	if newest < 0 {
		t.Fatal("aws-cdk-lib lists no MySQL 8.4 version (MysqlEngineVersion.VER_8_4_N): the pattern no longer matches its declarations")
	}
	want := fmt.Sprintf("8.4.%d", newest)
	if got := config.DefaultEnvironment().EngineVersion; got != want {
		t.Errorf("default engineVersion = %s, want %s, the newest 8.4 version aws-cdk-lib lists: move DefaultEnvironment's EngineVersion, then make golden", got, want)
	}
	// The synthesized default environments use it.
	for _, env := range []string{"dev", "prod"} {
		_, db := onlyResource(t, templateJSON(t, env, "Database"), "AWS::RDS::DBInstance")
		if got := props(db)["EngineVersion"]; got != want {
			t.Errorf("%s EngineVersion = %v, want %s", env, got, want)
		}
	}
}

// cdkLibFile returns a file of the aws-cdk-lib package that aws-cdk-go
// embeds (the jsii tarball in the module cache of go.mod's version).
func cdkLibFile(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-cdk-go/awscdk/v2").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/aws/aws-cdk-go/awscdk/v2: %v", err)
	}
	tarballs, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "jsii", "aws-cdk-lib-*.tgz"))
	if len(tarballs) != 1 {
		t.Fatalf("aws-cdk-lib tarballs in the aws-cdk-go module: %v, want one", tarballs)
	}
	f, err := os.Open(tarballs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s in %s: %v", name, tarballs[0], err)
		}
		if h.Name == name {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return string(data)
		}
	}
}
