package stacks_test

import (
	"slices"
	"strings"
	"testing"
)

// userSecretARN is the ARN Secrets Manager gives a secret of that name in
// the evaluator's account and region (the name, a hyphen, six characters).
func userSecretARN(name string) string {
	return "arn:aws:secretsmanager:" + evalRegion + ":" + evalAccount + ":secret:" + name + "-AbCdEf"
}

// TestUserSecretsWatched (issue 14): in the multi-database environment
// every application user's secret is named <stackPrefix>/<env>/<db>/<user>;
// the failure rule matches the masters by ARN and the users by the
// environment's ARN prefix; the doctor may read, relabel and rotate
// exactly the secrets under that prefix, decrypt them through Secrets
// Manager only, read (not decrypt) the versions of an existing database's
// master it does not watch, and reach every database with users. A secret
// of another environment (multi2, whose prefix extends "multi") matches
// neither the rule nor the policy.
func TestUserSecretsWatched(t *testing.T) {
	const prefix = "SecretRotation/multi/"
	var names []string
	for _, kind := range databaseKinds("multi") {
		db := "default"
		if kind != "Database" {
			db = strings.TrimPrefix(kind, "Database-")
		}
		for id, s := range userSecrets(t, "multi", kind) {
			name, _ := props(s)["Name"].(string)
			user := strings.TrimPrefix(name, prefix+db+"/")
			if !strings.HasPrefix(name, prefix+db+"/") || user == "" || strings.Contains(user, "/") {
				t.Errorf("%s %s: Name = %q, want %s%s/<user>", kind, id, name, prefix, db)
			}
			names = append(names, name)
		}
	}
	if len(names) != 4 {
		t.Fatalf("%d user secrets, want 4 (orders_app, reporting, billing_app, crm_app): %v", len(names), names)
	}
	foreign := []string{
		userSecretARN("SecretRotation/multi2/default/orders_app"),
		userSecretARN("SecretRotation-x/multi/default/orders_app"),
		userSecretARN("SecretRotation-multi-MasterSecret"),
	}

	tpl := templateJSON(t, "multi", "Monitoring")
	_, rule := ruleByDescription(t, tpl, "rotation failures")
	ids := rule["EventPattern"].(map[string]any)["detail"].(map[string]any)["additionalEventData"].(map[string]any)["SecretId"].([]any)
	var masters int
	var prefixes []string
	for _, v := range ids {
		m, _ := v.(map[string]any)
		switch {
		case stackOutputOf(v, stackName("multi", "Database")), stackOutputOf(v, stackName("multi", "Database-billing")):
			masters++
		case m["prefix"] != nil && len(m) == 1:
			prefixes = append(prefixes, resolveString(m["prefix"]))
		default:
			t.Errorf("secret filter value %s: want a master's ARN or one prefix", asJSON(v))
		}
	}
	wantPrefix := "arn:aws:secretsmanager:" + evalRegion + ":" + evalAccount + ":secret:" + prefix
	if masters != 2 || !slices.Equal(prefixes, []string{wantPrefix}) {
		t.Errorf("secret filter = %s: %d masters (want the 2 rotated ones), prefixes %q (want %q)", asJSON(ids), masters, prefixes, wantPrefix)
	}
	eventMatches := func(arn string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(arn, p) {
				return true
			}
		}
		return false
	}
	for _, n := range names {
		if !eventMatches(userSecretARN(n)) {
			t.Errorf("the failure rule does not match user secret %s", n)
		}
	}
	for _, arn := range foreign {
		if eventMatches(arn) {
			t.Errorf("the failure rule matches %s by prefix", arn)
		}
	}

	bySid := map[string]map[string]any{}
	for _, p := range resourcesOfType(tpl, "AWS::IAM::ManagedPolicy") {
		for _, s := range props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			sid, _ := st["Sid"].(string)
			bySid[sid] = st
		}
	}
	byName := bySid["ReadAndRepairSecretsByName"]
	patterns := policyValues(byName["Resource"])
	if !slices.Equal(patterns, []string{wantPrefix + "*"}) ||
		!slices.Equal(sorted(stringList(byName["Action"])), sorted(stringList(bySid["ReadAndRepairWatchedSecrets"]["Action"]))) {
		t.Errorf("statement by name = %s, want the watched-secret actions on %s*", asJSON(byName), wantPrefix)
	}
	for _, n := range names {
		if !anyMatch(patterns, userSecretARN(n), false) {
			t.Errorf("the doctor's policy does not cover user secret %s", n)
		}
	}
	for _, arn := range foreign {
		if anyMatch(patterns, arn, false) {
			t.Errorf("the doctor's policy covers %s by name", arn)
		}
	}
	if n := len(stringList(bySid["ReadAndRepairWatchedSecrets"]["Resource"])); n != 0 {
		t.Errorf("masters statement names %d literal ARNs, want the masters by reference only", n)
	}

	keys := bySid["NamedSecretKeysThroughSecretsManager"]
	cond, _ := keys["Condition"].(map[string]any)
	like, _ := cond["StringLike"].(map[string]any)
	if asJSON(keys["Action"]) != `"kms:Decrypt"` || !strings.Contains(asJSON(cond["StringEquals"]), "kms:ViaService") ||
		!slices.Equal(policyValues(like["kms:EncryptionContext:SecretARN"]), []string{wantPrefix + "*"}) {
		t.Errorf("user secret key statement = %s, want kms:Decrypt via Secrets Manager for secrets under the prefix", asJSON(keys))
	}
	for _, kind := range databaseKinds("multi") {
		found := false
		for _, r := range keys["Resource"].([]any) {
			found = found || stackOutputOf(r, stackName("multi", kind))
		}
		if !found {
			t.Errorf("user secret key statement lacks the key of %s", kind)
		}
	}

	const legacyMaster = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:legacy/crm/master-AbCdEf"
	if m := bySid["ReadMastersOfWatchedSecrets"]; asJSON(m["Resource"]) != `"`+legacyMaster+`"` ||
		!slices.Equal(sorted(stringList(m["Action"])), []string{"secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"}) {
		t.Errorf("master read statement = %s, want DescribeSecret and ListSecretVersionIds on the existing database's master only", asJSON(m))
	}

	// Every database with users admits the doctor: the created ones'
	// groups (outputs of their stacks) and the existing one's group.
	for _, want := range []string{stackName("multi", "Database"), stackName("multi", "Database-billing"), "sg-0123456789abcdef0"} {
		var ingress bool
		for _, r := range resourcesOfType(tpl, "AWS::EC2::SecurityGroupIngress") {
			p := props(r)
			if (stackOutputOf(p["GroupId"], want) || p["GroupId"] == want) && p["FromPort"] == float64(3306) {
				ingress = true
			}
		}
		if !ingress {
			t.Errorf("no rule admits the doctor into %s", want)
		}
	}
}
