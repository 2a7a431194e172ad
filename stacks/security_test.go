package stacks_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/rotationcdk"
)

// The tests of this file assert the security properties of issue 5 on the
// synthesized templates of every test environment, independently of the
// goldens.

// strs returns a string or a list of strings as a list.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// statements returns the statements of a policy document.
func statements(doc any) []map[string]any {
	d, _ := doc.(map[string]any)
	list, _ := d["Statement"].([]any)
	var out []map[string]any
	for _, s := range list {
		if m, ok := s.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// onlyResource returns the single resource of the type, failing otherwise.
func onlyResource(t *testing.T, tpl map[string]any, typ string) (string, map[string]any) {
	t.Helper()
	rs := resourcesOfType(tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

// getAttArn reports whether v is {"Fn::GetAtt": [logicalID, "Arn"]}.
func getAttArn(v any, logicalID string) bool {
	return asJSON(v) == asJSON(map[string]any{"Fn::GetAtt": []any{logicalID, "Arn"}})
}

// checkCMK asserts that v is the ARN of a customer-managed key of tpl with
// automatic rotation.
func checkCMK(t *testing.T, tpl map[string]any, v any, what string) {
	t.Helper()
	for id, key := range resourcesOfType(tpl, "AWS::KMS::Key") {
		if getAttArn(v, id) || asJSON(v) == asJSON(map[string]any{"Ref": id}) {
			if props(key)["EnableKeyRotation"] != true {
				t.Errorf("%s: key %s has no automatic rotation", what, id)
			}
			return
		}
	}
	t.Errorf("%s: encrypted with %s, want a customer-managed key of the same stack", what, asJSON(v))
}

// checkImportedKey asserts that v refers to a key of another stack (the
// environment's logs key), not to an AWS managed key or nothing.
func checkImportedKey(t *testing.T, v any, what string) {
	t.Helper()
	if v == nil || !strings.Contains(asJSON(v), "LogsKey") {
		t.Errorf("%s: KmsKeyId = %s, want the network stack's LogsKey", what, asJSON(v))
	}
}

func TestSecretIsProtected(t *testing.T) {
	for _, env := range singleDatabaseEnvironments {
		t.Run(env, func(t *testing.T) {
			tpl := templateJSON(t, env, "Database")
			secretID, secret := onlyResource(t, tpl, "AWS::SecretsManager::Secret")
			checkCMK(t, tpl, props(secret)["KmsKeyId"], "secret")

			_, policy := onlyResource(t, tpl, "AWS::SecretsManager::ResourcePolicy")
			if asJSON(props(policy)["SecretId"]) != asJSON(map[string]any{"Ref": secretID}) {
				t.Errorf("resource policy on %s, want the master secret", asJSON(props(policy)["SecretId"]))
			}
			denied := false
			for _, st := range statements(props(policy)["ResourcePolicy"]) {
				if st["Effect"] == "Deny" && slices.Contains(strs(st["Action"]), "secretsmanager:DeleteSecret") &&
					asJSON(st["Principal"]) == `{"AWS":"*"}` &&
					regexp.MustCompile(`"ArnNotEquals":\{"aws:PrincipalArn":\{"Fn::Sub":"arn:\$\{AWS::Partition\}:iam::\$\{AWS::AccountId\}:role/cdk-[a-z0-9]+-cfn-exec-role-`).MatchString(asJSON(st["Condition"])) {
					denied = true
				}
			}
			if !denied {
				t.Errorf("no statement denying DeleteSecret to all but the deployment role: %s", asJSON(props(policy)))
			}

			// The key: the account administers it; anyone else only decrypts
			// through Secrets Manager, from this account.
			_, key := onlyResource(t, tpl, "AWS::KMS::Key")
			for _, st := range statements(props(key)["KeyPolicy"]) {
				if strings.Contains(asJSON(st["Principal"]), ":root") {
					continue
				}
				c := asJSON(st["Condition"])
				if !strings.Contains(c, `"kms:ViaService":{"Fn::Sub":"secretsmanager.${AWS::Region}.amazonaws.com"}`) ||
					!strings.Contains(c, `"kms:CallerAccount":{"Ref":"AWS::AccountId"}`) || asJSON(st["Action"]) != `["kms:Decrypt","kms:DescribeKey"]` {
					t.Errorf("key policy statement %s, want decrypt only through Secrets Manager from this account", asJSON(st))
				}
			}

			_, schedule := onlyResource(t, tpl, "AWS::SecretsManager::RotationSchedule")
			if !strings.Contains(asJSON(props(schedule)["SecretId"]), "MasterSecret") {
				t.Errorf("rotation schedule of %s, want the master secret of this stack", asJSON(props(schedule)["SecretId"]))
			}
		})
	}
}

func TestDatabaseHardening(t *testing.T) {
	tests := []struct {
		env       string
		port      string
		protected bool
	}{
		{env: "dev", port: "3306"},
		{env: "prod", port: "3306", protected: true},
		{env: "full", port: "3307"},
		{env: "isolated", port: "3306"},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			tpl := templateJSON(t, tc.env, "Database")
			_, db := onlyResource(t, tpl, "AWS::RDS::DBInstance")
			p := props(db)
			checkCMK(t, tpl, p["KmsKeyId"], "storage")
			if p["StorageEncrypted"] != true || p["PubliclyAccessible"] != false || p["AutoMinorVersionUpgrade"] != true {
				t.Errorf("StorageEncrypted %v, PubliclyAccessible %v, AutoMinorVersionUpgrade %v; want true, false, true",
					p["StorageEncrypted"], p["PubliclyAccessible"], p["AutoMinorVersionUpgrade"])
			}
			if n, _ := p["BackupRetentionPeriod"].(float64); n < 7 {
				t.Errorf("BackupRetentionPeriod = %v, want 7 or more", p["BackupRetentionPeriod"])
			}
			if asJSON(p["Port"]) != `"`+tc.port+`"` {
				t.Errorf("Port = %v, want %s", p["Port"], tc.port)
			}
			if tc.protected {
				if p["DeletionProtection"] != true || !slices.Contains([]any{"Snapshot", "Retain"}, db["DeletionPolicy"]) || !slices.Contains([]any{"Snapshot", "Retain"}, db["UpdateReplacePolicy"]) {
					t.Errorf("protected: DeletionProtection %v, DeletionPolicy %v, UpdateReplacePolicy %v", p["DeletionProtection"], db["DeletionPolicy"], db["UpdateReplacePolicy"])
				}
			}

			// Private subnets: the subnet group takes the network stack's private subnets.
			_, group := onlyResource(t, tpl, "AWS::RDS::DBSubnetGroup")
			if ids := asJSON(props(group)["SubnetIds"]); !strings.Contains(ids, "PrivateSubnet") || strings.Contains(ids, "PublicSubnet") {
				t.Errorf("subnet group subnets %s, want the private subnets only", ids)
			}

			// TLS required by the instance's parameter group.
			pgID, pg := onlyResource(t, tpl, "AWS::RDS::DBParameterGroup")
			if asJSON(p["DBParameterGroupName"]) != asJSON(map[string]any{"Ref": pgID}) {
				t.Errorf("DBParameterGroupName = %s, want the stack's parameter group", asJSON(p["DBParameterGroupName"]))
			}
			params, _ := props(pg)["Parameters"].(map[string]any)
			// RDS for MySQL instance parameter groups take 1 for ON.
			if params["require_secure_transport"] != "1" {
				t.Errorf("require_secure_transport = %v, want 1 (ON)", params["require_secure_transport"])
			}

			// Log exports, each to an encrypted log group with retention made before the instance.
			exports := strs(p["EnableCloudwatchLogsExports"])
			for _, want := range []string{"error", "slowquery"} {
				if !slices.Contains(exports, want) {
					t.Errorf("log exports %v lack %s", exports, want)
				}
			}
			if !slices.Contains(exports, "general") && !slices.Contains(exports, "audit") {
				t.Errorf("log exports %v lack general or audit", exports)
			}
			if slices.Contains(exports, "audit") {
				_, og := onlyResource(t, tpl, "AWS::RDS::OptionGroup")
				if !strings.Contains(asJSON(props(og)["OptionConfigurations"]), "MARIADB_AUDIT_PLUGIN") {
					t.Errorf("audit log exported without the audit plugin: %s", asJSON(props(og)))
				}
			}
			groups := map[string]map[string]any{}
			for id, g := range resourcesOfType(tpl, "AWS::Logs::LogGroup") {
				name, _ := props(g)["LogGroupName"].(string)
				groups[name] = g
				if !slices.Contains(strs(db["DependsOn"]), id) {
					t.Errorf("instance does not depend on log group %s", id)
				}
			}
			for _, e := range exports {
				name := "/aws/rds/instance/" + asString(p["DBInstanceIdentifier"]) + "/" + e
				g, ok := groups[name]
				if !ok {
					t.Errorf("no log group %s for export %s", name, e)
					continue
				}
				if props(g)["RetentionInDays"] == nil {
					t.Errorf("log group %s has no retention", name)
				}
				checkImportedKey(t, props(g)["KmsKeyId"], name)
			}
		})
	}
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

func TestRotationFunctionLeastPrivilege(t *testing.T) {
	for _, env := range testEnvironments {
		t.Run(env, func(t *testing.T) {
			rot := templateJSON(t, env, "Rotation")
			roleID, role := onlyResource(t, rot, "AWS::IAM::Role")
			_, fn := onlyResource(t, rot, "AWS::Lambda::Function")
			if !getAttArn(props(fn)["Role"], roleID) {
				t.Errorf("function role %s, want its own role %s", asJSON(props(fn)["Role"]), roleID)
			}
			if arns := props(role)["ManagedPolicyArns"]; arns != nil {
				t.Errorf("function role has managed policies %s, want none (customer-managed policies attach themselves)", asJSON(arns))
			}
			if n := len(resourcesOfType(rot, "AWS::IAM::Policy")); n != 0 {
				t.Errorf("%d inline AWS::IAM::Policy resources, want customer-managed policies only", n)
			}
			// Reserved concurrency only when configured (full reserves 2).
			if got, want := props(fn)["ReservedConcurrentExecutions"], map[string]any{"full": 2.0}[env]; got != want {
				t.Errorf("ReservedConcurrentExecutions = %v, want %v", got, want)
			}

			// Own log group: encrypted, with retention.
			lgID, lg := onlyResource(t, rot, "AWS::Logs::LogGroup")
			if props(lg)["RetentionInDays"] == nil {
				t.Error("function log group has no retention")
			}
			checkImportedKey(t, props(lg)["KmsKeyId"], "function log group")

			// Base policy (rotation stack): own log group, ENI actions.
			_, base := onlyResource(t, rot, "AWS::IAM::ManagedPolicy")
			if !strings.Contains(asJSON(props(base)["Roles"]), roleID) {
				t.Errorf("base policy attached to %s, want %s", asJSON(props(base)["Roles"]), roleID)
			}
			for _, st := range statements(props(base)["PolicyDocument"]) {
				acts := strs(st["Action"])
				switch {
				case allPrefixed(acts, "logs:"):
					if !getAttArn(st["Resource"], lgID) {
						t.Errorf("logs actions on %s, want only the function's log group", asJSON(st["Resource"]))
					}
				case allPrefixed(acts, "ec2:"):
					for _, a := range acts {
						if !strings.Contains(a, "NetworkInterface") && a != "ec2:DescribeSubnets" && !strings.HasSuffix(a, "PrivateIpAddresses") {
							t.Errorf("EC2 action %s beyond what a function in a VPC needs", a)
						}
					}
				case asJSON(acts) == `["secretsmanager:GetRandomPassword"]`:
					// No resource-level permissions; reads no secret.
				default:
					t.Errorf("unexpected statement in the base policy: %s", asJSON(st))
				}
			}
			if !slices.Contains(singleDatabaseEnvironments, env) {
				return // users and more databases: TestUserRotationPrivileges
			}
			db := templateJSON(t, env, "Database")
			if n := len(resourcesOfType(db, "AWS::IAM::Policy")); n != 0 {
				t.Errorf("%d inline AWS::IAM::Policy resources without application users, want none", n)
			}

			// Secret policy (database stack): this secret, its key via Secrets
			// Manager. The secret is named through its attachment to the
			// instance, whose Ref is the secret's ARN (the rotation is of the
			// attached secret, rotationcdk.SecretRotationProps.Secret).
			secretID, _ := onlyResource(t, db, "AWS::SecretsManager::SecretTargetAttachment")
			_, rp := onlyResource(t, db, "AWS::IAM::ManagedPolicy")
			for _, st := range statements(props(rp)["PolicyDocument"]) {
				acts := strs(st["Action"])
				switch {
				case asJSON(acts) == `["secretsmanager:GetRandomPassword"]`:
					// No resource-level permissions (suppressed with its reason).
				case allPrefixed(acts, "secretsmanager:"):
					if asJSON(st["Resource"]) != asJSON(map[string]any{"Ref": secretID}) && !strings.Contains(asJSON(st["Condition"]), "AllowRotationLambdaArn") {
						t.Errorf("Secrets Manager actions %v on %s, want the master secret's ARN", acts, asJSON(st["Resource"]))
					}
				case allPrefixed(acts, "kms:"):
					checkCMK(t, db, st["Resource"], "kms actions")
					if !strings.Contains(asJSON(st["Condition"]), `"kms:ViaService":{"Fn::Sub":"secretsmanager.${AWS::Region}.amazonaws.com"}`) {
						t.Errorf("kms actions without kms:ViaService secretsmanager: %s", asJSON(st))
					}
				default:
					t.Errorf("unexpected statement in the rotation policy: %s", asJSON(st))
				}
			}

			// Only Secrets Manager, for this secret in this account, may invoke it.
			_, perm := onlyResource(t, db, "AWS::Lambda::Permission")
			pp := props(perm)
			if pp["Principal"] != "secretsmanager.amazonaws.com" || asJSON(pp["SourceAccount"]) != `{"Ref":"AWS::AccountId"}` ||
				asJSON(pp["SourceArn"]) != asJSON(map[string]any{"Ref": secretID}) {
				t.Errorf("invoke permission %s, want secretsmanager.amazonaws.com with SourceAccount and SourceArn of the secret", asJSON(pp))
			}
		})
	}
}

func allPrefixed(list []string, prefix string) bool {
	for _, s := range list {
		if !strings.HasPrefix(s, prefix) {
			return false
		}
	}
	return len(list) > 0
}

func TestNetworkBoundaries(t *testing.T) {
	tests := []struct {
		env      string
		port     float64
		sources  int // ingress rules on the DB group: function (+ operator host)
		endpoint bool
	}{
		{env: "dev", port: 3306, sources: 1},
		{env: "prod", port: 3306, sources: 1, endpoint: true},
		{env: "full", port: 3307, sources: 2},
		{env: "isolated", port: 3306, sources: 1, endpoint: true},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			db := templateJSON(t, tc.env, "Database")
			rot := templateJSON(t, tc.env, "Rotation")
			net := templateJSON(t, tc.env, "Network")

			// DB group: only security-group sources, on the DB port.
			ingress := resourcesOfType(db, "AWS::EC2::SecurityGroupIngress")
			if len(ingress) != tc.sources {
				t.Errorf("%d ingress rules on the database, want %d", len(ingress), tc.sources)
			}
			for id, r := range ingress {
				p := props(r)
				if p["SourceSecurityGroupId"] == nil || p["CidrIp"] != nil || p["CidrIpv6"] != nil || p["FromPort"] != tc.port || p["ToPort"] != tc.port {
					t.Errorf("ingress %s = %s, want a security group source on port %v", id, asJSON(p), tc.port)
				}
			}
			functionSource := false
			for _, r := range ingress {
				if strings.Contains(asJSON(props(r)["SourceSecurityGroupId"]), "FunctionSecurityGroup") {
					functionSource = true
				}
			}
			if !functionSource {
				t.Error("the rotation function's group is not admitted to the database")
			}

			// Function egress: the DB port to the DB group, and 443.
			_, fsg := onlyResource(t, rot, "AWS::EC2::SecurityGroup")
			for _, e := range props(fsg)["SecurityGroupEgress"].([]any) {
				rule := e.(map[string]any)
				if rule["FromPort"] != float64(443) || rule["ToPort"] != float64(443) {
					t.Errorf("function egress %s, want 443 only (the DB port is added by the database stack)", asJSON(rule))
				}
				if tc.endpoint && rule["CidrIp"] != "10.0.0.0/16" {
					t.Errorf("with the endpoint, function egress 443 to %v, want the VPC CIDR", rule["CidrIp"])
				}
			}
			// Egress added by the database stack: to the DB group on its port only
			// (from the function, and from the operator host when enabled).
			egress := resourcesOfType(db, "AWS::EC2::SecurityGroupEgress")
			if len(egress) != tc.sources {
				t.Errorf("%d egress rules to the database, want %d", len(egress), tc.sources)
			}
			functionEgress := false
			for _, r := range egress {
				p := props(r)
				if p["DestinationSecurityGroupId"] == nil || p["FromPort"] != tc.port || p["ToPort"] != tc.port {
					t.Errorf("egress to the database = %s, want the DB group on port %v", asJSON(p), tc.port)
				}
				if strings.Contains(asJSON(p["GroupId"]), "FunctionSecurityGroup") {
					functionEgress = true
				}
			}
			if !functionEgress {
				t.Error("no egress from the rotation function's group to the database port")
			}

			// Flow logs to an encrypted log group with retention.
			_, fl := onlyResource(t, net, "AWS::EC2::FlowLog")
			if props(fl)["ResourceType"] != "VPC" || props(fl)["TrafficType"] != "ALL" {
				t.Errorf("flow log %s, want all traffic of the VPC", asJSON(props(fl)))
			}
			for id, lg := range resourcesOfType(net, "AWS::Logs::LogGroup") {
				checkCMK(t, net, props(lg)["KmsKeyId"], id)
				if props(lg)["RetentionInDays"] == nil {
					t.Errorf("log group %s has no retention", id)
				}
			}

			// Endpoint policy: this account only.
			endpoints := resourcesOfType(net, "AWS::EC2::VPCEndpoint")
			if tc.endpoint != (len(endpoints) == 1) {
				t.Fatalf("%d endpoints, want endpoint=%v", len(endpoints), tc.endpoint)
			}
			for _, ep := range endpoints {
				sts := statements(props(ep)["PolicyDocument"])
				if len(sts) == 0 {
					t.Error("endpoint without a policy (the default allows any account)")
				}
				for _, st := range sts {
					c := asJSON(st["Condition"])
					if st["Effect"] != "Allow" || !strings.Contains(c, `"aws:PrincipalAccount":{"Ref":"AWS::AccountId"}`) {
						t.Errorf("endpoint statement %s, want allow for aws:PrincipalAccount = this account", asJSON(st))
					}
				}
			}
		})
	}
}

// TestCABundleEnvironment: with caBundlePath the function gets DB_CA_BUNDLE
// naming the bundled file; without it, none (the function trusts the
// Amazon RDS CAs built into it, and the system roots).
func TestCABundleEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want any
	}{{"dev", nil}, {"prod", nil}, {"full", rotationcdk.CABundleFileName}, {"isolated", nil}} {
		t.Run(tc.env, func(t *testing.T) {
			_, fn := onlyResource(t, templateJSON(t, tc.env, "Rotation"), "AWS::Lambda::Function")
			vars, _ := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
			if got := vars[rotation.EnvCABundle]; got != tc.want {
				t.Errorf("%s = %v, want %v", rotation.EnvCABundle, got, tc.want)
			}
		})
	}
}
