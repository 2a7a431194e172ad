package stacks_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/stacks"
)

// renderTemplate turns a SecretStringTemplate (a string, or Fn::Join of
// strings and intrinsics) into JSON text, each intrinsic replaced by a
// placeholder naming what it refers to.
func renderTemplate(t *testing.T, v any) string {
	t.Helper()
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		join, ok := x["Fn::Join"].([]any)
		if !ok || len(join) != 2 {
			t.Fatalf("SecretStringTemplate %s: want a string or Fn::Join", asJSON(v))
		}
		var b strings.Builder
		for _, part := range join[1].([]any) {
			if s, ok := part.(string); ok {
				b.WriteString(s)
			} else {
				b.WriteString("<" + strings.ReplaceAll(asJSON(part), `"`, "'") + ">")
			}
		}
		return b.String()
	}
	t.Fatalf("SecretStringTemplate %s: want a string or Fn::Join", asJSON(v))
	return ""
}

// userSecrets returns the user secrets (not the master) of a database stack.
func userSecrets(t *testing.T, env, kind string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, s := range resourcesOfType(templateJSON(t, env, kind), "AWS::SecretsManager::Secret") {
		if strings.HasPrefix(id, "Users") {
			out[id] = s
		}
	}
	return out
}

// TestUserSecretContract: each user's secret holds exactly the keys the
// function reads (the password generated), with the declared grants.
func TestUserSecretContract(t *testing.T) {
	want := map[string]struct {
		kind, engine, dbname, userhost, host, masterarn string
		grants                                          []string
	}{
		"orders_app":  {"Database", "mysql", "orders", "%", "DatabaseB269D8BB", "MasterSecretAttachment", []string{"SELECT, INSERT, UPDATE, DELETE ON orders.*"}},
		"reporting":   {"Database", "mysql", "", "10.0.%", "DatabaseB269D8BB", "MasterSecretAttachment", []string{"SELECT ON orders.*", "SELECT ON billing.invoices"}},
		"billing_app": {"Database-billing", "mysql", "billing", "%", "DatabaseB269D8BB", "MasterSecretAttachment", []string{"SELECT, INSERT ON billing.*"}},
		"crm_app":     {"Database-legacy", "mysql", "", "%", "legacy-crm.abcdefghijkl.eu-west-1.rds.amazonaws.com", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:legacy/crm/master-AbCdEf", []string{"SELECT, INSERT, UPDATE ON crm.*"}},
	}
	seen := 0
	for _, kind := range databaseKinds("multi") {
		for id, s := range userSecrets(t, "multi", kind) {
			gen, _ := props(s)["GenerateSecretString"].(map[string]any)
			if gen["GenerateStringKey"] != "password" {
				t.Errorf("%s: GenerateStringKey %v, want password", id, gen["GenerateStringKey"])
			}
			if gen["ExcludeCharacters"] != `/@"'\` || gen["PasswordLength"] != 32.0 {
				t.Errorf("%s: password rules %v/%v, want the environment's (as the master's)", id, gen["ExcludeCharacters"], gen["PasswordLength"])
			}
			text := renderTemplate(t, gen["SecretStringTemplate"])
			var got map[string]any
			if err := json.Unmarshal([]byte(text), &got); err != nil {
				t.Fatalf("%s: template is not JSON: %v\n%s", id, err, text)
			}
			keys := []string{"password"}
			for k := range got {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if strings.Join(keys, ",") != strings.Join(stacks.UserSecretKeys, ",") {
				t.Errorf("%s: keys %v + generated password, want exactly %v", id, keys, stacks.UserSecretKeys)
			}
			name, _ := got["username"].(string)
			w, ok := want[name]
			if !ok {
				t.Errorf("%s: unexpected user %q", id, name)
				continue
			}
			seen++
			if kind != w.kind {
				t.Errorf("%s: in stack %s, want %s", name, kind, w.kind)
			}
			if got["ssl"] != "true" || got["engine"] != w.engine || got["dbname"] != w.dbname || got["userhost"] != w.userhost || got["port"] != 3306.0 {
				t.Errorf("%s: template %s", name, text)
			}
			if !strings.Contains(fmt.Sprint(got["host"]), w.host) || !strings.Contains(fmt.Sprint(got["masterarn"]), w.masterarn) {
				t.Errorf("%s: host %v, masterarn %v, want %s and %s", name, got["host"], got["masterarn"], w.host, w.masterarn)
			}
			if asJSON(got["grants"]) != asJSON(w.grants) {
				t.Errorf("%s: grants %s, want %s", name, asJSON(got["grants"]), asJSON(w.grants))
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%d user secrets, want %d", seen, len(want))
	}
}

// TestMasterReadableOnlyWhereUsers: the function may read a database's
// master secret only through the policy of a stack whose database has
// users, one per such database, and that policy is read-only.
func TestMasterReadableOnlyWhereUsers(t *testing.T) {
	for _, env := range testEnvironments {
		for i, kind := range databaseKinds(env) {
			db := synthesized.envs[env].Databases[i]
			tpl := templateJSON(t, env, kind)
			var readers []string
			for id, p := range resourcesOfType(tpl, "AWS::IAM::Policy") {
				doc := asJSON(props(p)["PolicyDocument"])
				if strings.Contains(doc, "secretsmanager:GetSecretValue") {
					readers = append(readers, id)
				}
				if strings.Contains(doc, "PutSecretValue") || strings.Contains(doc, "UpdateSecretVersionStage") || strings.Contains(doc, "GenerateDataKey") {
					t.Errorf("%s/%s %s: master access beyond reading", env, kind, id)
				}
			}
			for id, p := range resourcesOfType(tpl, "AWS::IAM::ManagedPolicy") {
				if doc := asJSON(props(p)["PolicyDocument"]); strings.Contains(doc, "secretsmanager:GetSecretValue") && !strings.Contains(doc, "RotateThisSecret") {
					t.Errorf("%s/%s %s: a managed policy reading a secret it does not rotate", env, kind, id)
				}
			}
			if want := min(len(db.Users), 1); len(readers) != want {
				t.Errorf("%s/%s: %d master read policies %v with %d users, want %d", env, kind, len(readers), readers, len(db.Users), want)
			}
		}
	}
}

// TestReadersOnly: a user's secret is readable by its declared readers
// (secret and key policies) and by nobody else the app names.
func TestReadersOnly(t *testing.T) {
	want := map[string][]string{
		"UsersordersappSecret":  {"arn:aws:iam::123456789012:role/orders-service"},
		"UsersreportingSecret":  nil,
		"UsersbillingappSecret": {"arn:aws:iam::123456789012:role/billing-service", "arn:aws:iam::210987654321:role/billing-audit"},
		"UserscrmappSecret":     nil,
	}
	checked := 0
	for _, kind := range databaseKinds("multi") {
		tpl := templateJSON(t, "multi", kind)
		for _, p := range resourcesOfType(tpl, "AWS::SecretsManager::ResourcePolicy") {
			target := asJSON(props(p)["SecretId"])
			for prefix, roles := range want {
				if !strings.Contains(target, prefix) {
					continue
				}
				checked++
				var got []string
				for _, st := range statements(props(p)["ResourcePolicy"]) {
					principal := asJSON(st["Principal"])
					if st["Effect"] != "Allow" || strings.Contains(principal, "GetStackOutput") {
						continue // the deny, the function
					}
					if asJSON(st["Action"]) != `["secretsmanager:DescribeSecret","secretsmanager:GetSecretValue"]` {
						t.Errorf("%s: reader actions %s, want read only", prefix, asJSON(st["Action"]))
					}
					got = append(got, strs(st["Principal"].(map[string]any)["AWS"])...)
				}
				sort.Strings(got)
				if !slices.Equal(got, roles) {
					t.Errorf("%s: readers %v, want %v", prefix, got, roles)
				}
			}
		}
	}
	if checked != len(want) {
		t.Errorf("checked %d user secret policies, want %d", checked, len(want))
	}
}

// TestExistingDatabaseCreatesNoInstance: an existing database's stack
// only attaches: a rule in the database's own group, the users, no
// instance, group, master secret or master rotation.
func TestExistingDatabaseCreatesNoInstance(t *testing.T) {
	tpl := templateJSON(t, "multi", "Database-legacy")
	for _, typ := range []string{"AWS::RDS::DBInstance", "AWS::RDS::DBSubnetGroup", "AWS::EC2::SecurityGroup", "AWS::SecretsManager::SecretTargetAttachment", "AWS::IAM::ManagedPolicy", "AWS::Logs::LogGroup"} {
		if n := len(resourcesOfType(tpl, typ)); n != 0 {
			t.Errorf("%d %s in an existing database's stack, want none", n, typ)
		}
	}
	_, ingress := onlyResource(t, tpl, "AWS::EC2::SecurityGroupIngress")
	if props(ingress)["GroupId"] != "sg-0123456789abcdef0" || props(ingress)["FromPort"] != 3306.0 {
		t.Errorf("ingress %s, want port 3306 into the existing group", asJSON(props(ingress)))
	}
	_, schedule := onlyResource(t, tpl, "AWS::SecretsManager::RotationSchedule")
	if strings.Contains(asJSON(props(schedule)["SecretId"]), "legacy/crm/master") {
		t.Error("the existing master secret is rotated without rotateMaster")
	}
	_, access := onlyResource(t, tpl, "AWS::IAM::Policy")
	doc := asJSON(props(access)["PolicyDocument"])
	if !strings.Contains(doc, "secret:legacy/crm/master-AbCdEf") || !strings.Contains(doc, "key/1234abcd-12ab-34cd-56ef-1234567890ab") {
		t.Errorf("master access %s, want the configured master secret and its key", doc)
	}
}

// TestDefaultDatabaseKeepsIDs: adding users to the default database adds
// resources to its stack and changes none of the single-database ids.
func TestDefaultDatabaseKeepsIDs(t *testing.T) {
	dev := resourceIDs(templateJSON(t, "dev", "Database"))
	multi := resourceIDs(templateJSON(t, "multi", "Database"))
	for id, typ := range dev {
		if strings.Contains(id, "RotationdevRotationFunction") {
			continue // names the environment
		}
		if multi[id] != typ {
			t.Errorf("%s (%s) of the single database is %q with users", id, typ, multi[id])
		}
	}
	// Database-billing is a copy of the layout: same ids in its own stack.
	billing := resourceIDs(templateJSON(t, "multi", "Database-billing"))
	for _, id := range []string{"DatabaseB269D8BB", "DatabaseKey7576F140", "MasterSecretA11BF785", "MasterSecretAttachment88D1C60C", "RotationSchedule"} {
		if billing[id] == "" {
			t.Errorf("Database-billing lacks %s", id)
		}
	}
}

func resourceIDs(tpl map[string]any) map[string]string {
	out := map[string]string{}
	res, _ := tpl["Resources"].(map[string]any)
	for id, r := range res {
		out[id], _ = r.(map[string]any)["Type"].(string)
	}
	return out
}

// TestAlternatingUsersLimitedToEnvironmentPrefix: in an environment with
// application users the function rotates with alternating users only the
// secrets under the environment's name prefix (its variable, built from
// pseudo parameters: no reference to a database stack), and Secrets
// Manager may invoke it through a database stack's shared permission only
// for those secrets; every user secret is under the prefix. Without users
// the function has no such variable (the template is as before).
func TestAlternatingUsersLimitedToEnvironmentPrefix(t *testing.T) {
	for _, env := range testEnvironments {
		users, prefix := 0, ""
		for _, db := range synthesized.envs[env].Databases {
			users += len(db.Users)
			prefix = db.UserSecretNamePrefix
		}
		want := "arn:<{'Ref':'AWS::Partition'}>:secretsmanager:<{'Ref':'AWS::Region'}>:<{'Ref':'AWS::AccountId'}>:secret:" + prefix
		for id, fn := range resourcesOfType(templateJSON(t, env, "Rotation"), "AWS::Lambda::Function") {
			vars, _ := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
			v, ok := vars[rotation.EnvAlternatingUsersSecretPrefixes]
			switch {
			case users == 0 && ok:
				t.Errorf("%s %s: %s set without users", env, id, rotation.EnvAlternatingUsersSecretPrefixes)
			case users > 0 && (!ok || renderTemplate(t, v) != want):
				t.Errorf("%s %s: %s = %s, want %s", env, id, rotation.EnvAlternatingUsersSecretPrefixes, asJSON(v), want)
			}
		}
		for i, kind := range databaseKinds(env) {
			db := synthesized.envs[env].Databases[i]
			tpl := templateJSON(t, env, kind)
			shared := 0
			for id, p := range resourcesOfType(tpl, "AWS::Lambda::Permission") {
				arn, ok := props(p)["SourceArn"]
				if !ok {
					t.Errorf("%s/%s %s: invoke permission without SourceArn", env, kind, id)
					continue
				}
				if m, isMap := arn.(map[string]any); isMap && m["Fn::Join"] != nil && renderTemplate(t, arn) == want+"*" {
					shared++
				}
			}
			if w := min(len(db.Users), 1); shared != w {
				t.Errorf("%s/%s: %d invoke permissions for %s*, want %d", env, kind, shared, prefix, w)
			}
			for id, s := range userSecrets(t, env, kind) {
				if name, _ := props(s)["Name"].(string); !strings.HasPrefix(name, prefix) {
					t.Errorf("%s/%s %s: name %q outside %s", env, kind, id, name, prefix)
				}
			}
		}
	}
}

// TestMasterBoundToItsDatabaseUsers: the function reads a master, and
// acts as its user, only for that database's user secrets. Each master
// secret a database stack creates for a database with users carries the
// tag secret-rotation:users = exactly the ARN prefix of that database's
// user secrets ("<stackPrefix>/<env>/<database>/", as their names); a
// master without users carries none (its template is unchanged). Each
// existing database with users is bound instead by the function's
// MASTER_SECRET_BINDINGS, which holds exactly those (the stacks cannot
// tag a secret they do not own). The function may describe each master
// it may read (the binding is read with DescribeSecret).
func TestMasterBoundToItsDatabaseUsers(t *testing.T) {
	const base = "arn:<{'Ref':'AWS::Partition'}>:secretsmanager:<{'Ref':'AWS::Region'}>:<{'Ref':'AWS::AccountId'}>:secret:"
	for _, env := range testEnvironments {
		wantBindings := map[string]string{}
		for i, kind := range databaseKinds(env) {
			db := synthesized.envs[env].Databases[i]
			tpl := templateJSON(t, env, kind)
			prefixes := map[string]bool{}
			for _, s := range userSecrets(t, env, kind) {
				name, _ := props(s)["Name"].(string)
				prefixes[name[:strings.LastIndex(name, "/")+1]] = true
			}
			if len(db.Users) > 0 && len(prefixes) != 1 {
				t.Fatalf("%s/%s: user secret name prefixes %v, want one", env, kind, prefixes)
			}
			want := ""
			for p := range prefixes {
				want = base + p
				if !strings.HasPrefix(p, db.UserSecretNamePrefix) || strings.Count(strings.TrimPrefix(p, db.UserSecretNamePrefix), "/") != 1 {
					t.Errorf("%s/%s: users prefix %q is not <stackPrefix>/<env>/<database>/", env, kind, p)
				}
			}
			masters := 0
			for id, s := range resourcesOfType(tpl, "AWS::SecretsManager::Secret") {
				if strings.HasPrefix(id, "Users") {
					continue
				}
				masters++
				var got []string
				tags, _ := props(s)["Tags"].([]any)
				for _, tag := range tags {
					if m, _ := tag.(map[string]any); m["Key"] == rotation.MasterBindingTag {
						got = append(got, renderTemplate(t, m["Value"]))
					}
				}
				switch {
				case len(db.Users) == 0 && len(got) > 0:
					t.Errorf("%s/%s %s: master without users tagged %v", env, kind, id, got)
				case len(db.Users) > 0 && (len(got) != 1 || got[0] != want):
					t.Errorf("%s/%s %s: %s = %v, want exactly %s", env, kind, id, rotation.MasterBindingTag, got, want)
				}
			}
			if db.Instance == nil {
				if masters != 0 {
					t.Errorf("%s/%s: an existing database's stack creates %d master secrets", env, kind, masters)
				}
				if len(db.Users) > 0 {
					wantBindings[*db.Secret.SecretArn()] = want
				}
			} else if masters != 1 {
				t.Errorf("%s/%s: %d master secrets, want 1", env, kind, masters)
			}
			// The master read policy allows DescribeSecret on the master too.
			for id, p := range resourcesOfType(tpl, "AWS::IAM::Policy") {
				for _, st := range statements(props(p)["PolicyDocument"]) {
					actions := strs(st["Action"])
					if slices.Contains(actions, "secretsmanager:GetSecretValue") && !slices.Contains(actions, "secretsmanager:DescribeSecret") {
						t.Errorf("%s/%s %s: reads a master without DescribeSecret: %v", env, kind, id, actions)
					}
				}
			}
		}
		for id, fn := range resourcesOfType(templateJSON(t, env, "Rotation"), "AWS::Lambda::Function") {
			vars, _ := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
			if _, ok := vars[rotation.EnvRequireMasterSecretBinding]; ok {
				t.Errorf("%s %s: %s set (bindings must stay required)", env, id, rotation.EnvRequireMasterSecretBinding)
			}
			v, ok := vars[rotation.EnvMasterSecretBindings]
			if len(wantBindings) == 0 {
				if ok {
					t.Errorf("%s %s: %s = %s without existing databases with users", env, id, rotation.EnvMasterSecretBindings, asJSON(v))
				}
				continue
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(renderTemplate(t, v)), &got); err != nil || fmt.Sprint(got) != fmt.Sprint(wantBindings) {
				t.Errorf("%s %s: %s = %s (%v), want %v", env, id, rotation.EnvMasterSecretBindings, renderTemplate(t, v), err, wantBindings)
			}
		}
	}
}
