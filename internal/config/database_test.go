package config_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/config"
)

// withDatabases returns a context with one environment "dev" whose
// "databases" key is dbs.
func withDatabases(dbs map[string]any) config.ContextMap {
	return ctxWith(map[string]any{"databases": dbs})
}

// user returns a valid user entry overlaid with kv.
func user(name string, kv map[string]any) map[string]any {
	u := map[string]any{"name": name, "grants": []any{"SELECT, INSERT ON orders.*"}}
	for k, v := range kv {
		u[k] = v
	}
	return u
}

// existing returns a valid existing-database block overlaid with kv.
func existing(kv map[string]any) map[string]any {
	x := map[string]any{
		"instanceIdentifier": "legacy-orders",
		"endpoint":           "legacy-orders.abcdefghijkl.eu-west-1.rds.amazonaws.com",
		"securityGroupId":    "sg-0123456789abcdef0",
		"masterSecretArn":    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:legacy/master-AbCdEf",
	}
	for k, v := range kv {
		x[k] = v
	}
	return x
}

func TestDatabasesDefaultOnly(t *testing.T) {
	cfg, err := config.Load(config.ContextMap{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dev := cfg.Environments["dev"]
	dbs := dev.DatabaseList()
	if len(dbs) != 1 || !dbs[0].IsDefault() || dbs[0].Existing != nil || len(dbs[0].Users) != 0 {
		t.Fatalf("databases = %+v, want the default one alone", dbs)
	}
	if dbs[0].DatabaseSettings != dev.DatabaseSettings {
		t.Errorf("default database settings %+v, want the environment's %+v", dbs[0].DatabaseSettings, dev.DatabaseSettings)
	}
	if dbs[0].StackIDSuffix() != "Database" {
		t.Errorf("default stack suffix %q, want Database (today's stack)", dbs[0].StackIDSuffix())
	}
}

func TestDatabasesOverlay(t *testing.T) {
	cfg, err := config.Load(ctxWith(map[string]any{
		"instanceClass": "db.t4g.small", "rotationDays": 7,
		"databases": map[string]any{
			"default": map[string]any{"users": []any{user("orders_app", map[string]any{"host": "10.0.%", "dbname": "orders", "readers": []any{"arn:aws:iam::123456789012:role/orders"}})}},
			"billing": map[string]any{"instanceClass": "db.r7g.large", "users": []any{user("billing_app", nil), user("billing_ro", map[string]any{"grants": []any{"SELECT ON billing.*"}})}},
			"legacy":  map[string]any{"existing": existing(map[string]any{"port": 3307, "engine": "mariadb"}), "rotationDays": 14, "masterUsername": "root_admin"},
		},
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	dbs := cfg.Environments["dev"].DatabaseList()
	var names []string
	for _, d := range dbs {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, ","); got != "default,billing,legacy" {
		t.Fatalf("databases %s, want default first, then by name", got)
	}
	def, billing, legacy := dbs[0], dbs[1], dbs[2]
	if def.InstanceClass != "db.t4g.small" || len(def.Users) != 1 || def.Users[0].UserHost() != "10.0.%" || def.Users[0].DBName != "orders" {
		t.Errorf("default = %+v", def)
	}
	if billing.InstanceClass != "db.r7g.large" || billing.RotationDays != 7 || billing.EngineVersion != config.DefaultEnvironment().EngineVersion {
		t.Errorf("billing settings %+v, want its own class, the environment's rotation and defaults", billing.DatabaseSettings)
	}
	if billing.Users[0].UserHost() != "%" || billing.StackIDSuffix() != "Database-billing" {
		t.Errorf("billing user host %q, stack %q", billing.Users[0].UserHost(), billing.StackIDSuffix())
	}
	if legacy.Existing == nil || legacy.Port() != 3307 || legacy.Engine() != "mariadb" || legacy.RotatesMaster() || legacy.RotationDays != 14 {
		t.Errorf("legacy = %+v %+v", legacy, legacy.Existing)
	}
	if cfg.Environments["dev"].UserCount() != 3 {
		t.Errorf("UserCount = %d, want 3", cfg.Environments["dev"].UserCount())
	}
}

// TestDatabaseValidation: hostile names and grants, and every other
// mistake, stop synth with the key and what is allowed.
func TestDatabaseValidation(t *testing.T) {
	users := func(u ...any) map[string]any { return map[string]any{"orders": map[string]any{"users": u}} }
	tests := []struct {
		name string
		dbs  map[string]any
		want []string
	}{
		{"bad database name", map[string]any{"Orders-1": map[string]any{}}, []string{"databases.Orders-1", "lowercase letters and digits"}},
		{"database name with a quote", map[string]any{"o'; DROP": map[string]any{}}, []string{"lowercase letters and digits"}},
		{"unknown database key", map[string]any{"orders": map[string]any{"instanceType": "x"}}, []string{"databases.orders.instanceType", "(unknown key)", "users"}},
		{"unknown user key", users(user("app", map[string]any{"grant": "x"})), []string{"databases.orders.users[0].grant", "(unknown key)", "dbname, grants, host, name, readers"}},
		{"two existing databases, one master", map[string]any{"olda": map[string]any{"existing": existing(nil)}, "oldb": map[string]any{"existing": existing(map[string]any{"instanceIdentifier": "legacy-b"})}}, []string{"databases.oldb.existing.masterSecretArn", "database olda names it"}},
		{"unknown existing key", map[string]any{"old": map[string]any{"existing": existing(map[string]any{"secretArn": "x"})}}, []string{"databases.old.existing.secretArn", "masterSecretArn"}},
		{"user of the wrong type", users(user("app", map[string]any{"grants": "SELECT ON orders.*"})), []string{"databases.orders.users[0].grants", "list of strings"}},
		{"entry not an object", map[string]any{"orders": "big"}, []string{"databases.orders", "an object"}},
		{"default with settings", map[string]any{"default": map[string]any{"instanceClass": "db.t4g.small"}}, []string{"databases.default.instanceClass", "environment level (environments.dev.instanceClass)"}},
		{"entry's own bad setting", map[string]any{"orders": map[string]any{"instanceClass": "huge"}}, []string{"databases.orders.instanceClass", `"huge"`, "db.t4g.micro"}},
		{"entry's bad schedule", map[string]any{"orders": map[string]any{"rotationSchedule": "rate(1 hours)"}}, []string{"databases.orders.rotationSchedule", "4..23"}},
		{"unknown privilege", users(user("app", map[string]any{"grants": []any{"SELECT, FLY ON orders.*"}})), []string{"users[0].grants", "FLY", "privileges ALTER"}},
		{"global grant", users(user("app", map[string]any{"grants": []any{"SELECT ON *.*"}})), []string{"users[0].grants"}},
		{"all privileges", users(user("app", map[string]any{"grants": []any{"ALL PRIVILEGES ON orders.*"}})), []string{"users[0].grants"}},
		{"grant option", users(user("app", map[string]any{"grants": []any{"SELECT ON orders.* WITH GRANT OPTION"}})), []string{"users[0].grants"}},
		{"injection in schema", users(user("app", map[string]any{"grants": []any{"SELECT ON orders`; DROP TABLE x; --.*"}})), []string{"users[0].grants"}},
		{"injection in grant", users(user("app", map[string]any{"grants": []any{"SELECT ON orders.*; GRANT SUPER ON *.* TO app"}})), []string{"users[0].grants"}},
		{"two grants on one object", users(user("app", map[string]any{"grants": []any{"SELECT ON orders.*", "INSERT ON orders.*"}})), []string{"users[0].grants", "second grant"}},
		{"no grants", users(user("app", map[string]any{"grants": []any{}})), []string{"users[0].grants", "at least one grant"}},
		{"injection in name", users(user("app'@'%", nil)), []string{"users[0].name", `"app'@'%"`}},
		{"name with space", users(user("app user", nil)), []string{"users[0].name"}},
		{"empty name", users(user("", nil)), []string{"users[0].name", "1 to 26"}},
		{"name too long for _clone", users(user(strings.Repeat("a", 27), nil)), []string{"users[0].name", "1 to 26", "32"}},
		{"clone name", users(user("app_clone", nil)), []string{"users[0].name", "_clone"}},
		{"master name", users(user("Admin", nil)), []string{"users[0].name", "other than the master user's (admin)"}},
		{"entry's master name", map[string]any{"orders": map[string]any{"masterUsername": "boss", "users": []any{user("boss", nil)}}}, []string{"users[0].name", "(boss)"}},
		{"reserved name", users(user("rdsadmin", nil)), []string{"users[0].name", "reserve"}},
		{"duplicate user", users(user("app", nil), user("APP", nil)), []string{"users[1].name", "users[0] has it"}},
		{"bad host", users(user("app", map[string]any{"host": "evil'host"})), []string{"users[0].host", `"evil'host"`}},
		{"bad dbname", users(user("app", map[string]any{"dbname": "orders;drop"})), []string{"users[0].dbname", "letters, digits"}},
		{"reader not a role", users(user("app", map[string]any{"readers": []any{"arn:aws:iam::123456789012:user/bob"}})), []string{"users[0].readers[0]", "IAM role ARN"}},
		{"reader wildcard", users(user("app", map[string]any{"readers": []any{"arn:aws:iam::123456789012:role/*"}})), []string{"users[0].readers[0]", "no wildcards"}},
		{"reader twice", users(user("app", map[string]any{"readers": []any{"arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/a"}})), []string{"users[0].readers[1]", "each role once"}},
		{"too many users", map[string]any{"orders": map[string]any{"users": manyUsers(config.MaxUsersPerDatabase + 1)}}, []string{"databases.orders.users", "at most 100"}},
		{"existing with creation settings", map[string]any{"old": map[string]any{"existing": existing(nil), "instanceClass": "db.t4g.small"}}, []string{"databases.old.instanceClass", "existing database"}},
		{"existing bad identifier", map[string]any{"old": map[string]any{"existing": existing(map[string]any{"instanceIdentifier": "1db--x"})}}, []string{"existing.instanceIdentifier", "DB instance identifier"}},
		{"existing bad endpoint", map[string]any{"old": map[string]any{"existing": existing(map[string]any{"endpoint": "http://db"})}}, []string{"existing.endpoint", "endpoint address"}},
		{"existing bad group", map[string]any{"old": map[string]any{"existing": existing(map[string]any{"securityGroupId": "default"})}}, []string{"existing.securityGroupId", "sg-"}},
		{"existing partial secret ARN", map[string]any{"old": map[string]any{"existing": existing(map[string]any{"masterSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:legacy/master"})}}, []string{"existing.masterSecretArn", "six-character suffix"}},
		{"existing key alias", map[string]any{"old": map[string]any{"existing": existing(map[string]any{"masterKeyArn": "arn:aws:kms:eu-west-1:123456789012:alias/db"})}}, []string{"existing.masterKeyArn", "not an alias"}},
		{"existing engine", map[string]any{"old": map[string]any{"existing": existing(map[string]any{"engine": "postgres"})}}, []string{"existing.engine", "mysql or mariadb"}},
		{"existing port", map[string]any{"old": map[string]any{"existing": existing(map[string]any{"port": 22})}}, []string{"existing.port", "1150..65535"}},
		{"too many databases", manyDatabases(config.MaxDatabases), []string{"environments.dev.databases", "at most 15"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(withDatabases(tc.dbs), nil)
			wantLoadError(t, err, tc.want)
		})
	}

	// Valid counterparts: the boundaries are allowed.
	valid := []map[string]any{
		{"orders": map[string]any{"users": []any{user(strings.Repeat("a", 26), map[string]any{"grants": []any{"SELECT ON `orders`.`items`", "select, insert on orders2.*"}})}}},
		{"orders": map[string]any{"users": manyUsers(config.MaxUsersPerDatabase)}},
		{"old": map[string]any{"existing": existing(map[string]any{"masterKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "rotateMaster": true}), "users": []any{user("app", nil)}}},
		{"default": map[string]any{"existing": existing(nil)}},
		manyDatabases(config.MaxDatabases - 1),
	}
	for i, dbs := range valid {
		if _, err := config.Load(withDatabases(dbs), nil); err != nil {
			t.Errorf("valid[%d]: %v", i, err)
		}
	}
}

// TestProtectedDatabaseEntry: an entry of a protected environment that
// turns deletion protection off is refused, under the entry's key.
func TestProtectedDatabaseEntry(t *testing.T) {
	_, err := config.Load(ctxWith(map[string]any{
		"protected": true, "deletionProtection": true, "removalPolicy": "snapshot",
		"databases": map[string]any{"orders": map[string]any{"deletionProtection": false}},
	}), nil)
	if err == nil || !strings.Contains(err.Error(), "databases.orders.deletionProtection") {
		t.Fatalf("err = %v, want databases.orders.deletionProtection", err)
	}
	if strings.Count(err.Error(), "allowed:") != 1 {
		t.Errorf("want exactly one problem (inherited values are reported once):\n%v", err)
	}
}

func manyUsers(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = user("app"+strings.Repeat("x", i%20)+string(rune('a'+i/20))+string(rune('a'+i%20)), nil)
	}
	return out
}

// manyDatabases returns n databases besides the default.
func manyDatabases(n int) map[string]any {
	out := map[string]any{}
	for i := 0; i < n; i++ {
		out["db"+string(rune('a'+i))] = map[string]any{}
	}
	return out
}

// TestUserSecretNames: user secrets are named "<stackPrefix>/<env>/<db>/<user>"
// with only the characters Secrets Manager allows, within its 512, never
// ending in "-" and six characters (the ARN's suffix), and one
// environment's prefix never starts another's name (dev vs dev2, and a
// stack prefix that extends another).
func TestUserSecretNames(t *testing.T) {
	allowed := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+=.@-", r)
	}
	env := config.DefaultEnvironment()
	env.Name = "dev"
	longest := config.DefaultEnvironment()
	longest.Name = "e" + strings.Repeat("-", 19)
	longest.StackPrefix = "S" + strings.Repeat("x", 39)
	db := config.Database{Name: "d" + strings.Repeat("9", 19)}
	u := config.User{Name: "u" + strings.Repeat("_", 25)}
	if got, want := env.UserSecretName(config.Database{Name: "default"}, config.User{Name: "orders_app"}), "SecretRotation/dev/default/orders_app"; got != want {
		t.Errorf("name = %q, want %q", got, want)
	}
	name := longest.UserSecretName(db, u)
	if len(name) > 512 || strings.IndexFunc(name, func(r rune) bool { return !allowed(r) }) >= 0 {
		t.Errorf("name %q: %d characters or a character Secrets Manager refuses", name, len(name))
	}
	if i := strings.LastIndex(name, "-"); i >= 0 && len(name)-i-1 == 6 {
		t.Errorf("name %q ends in a hyphen and six characters", name)
	}
	if !strings.HasSuffix(env.SecretNamePrefix(), "/") {
		t.Errorf("prefix %q does not end with /", env.SecretNamePrefix())
	}
	for _, other := range []struct{ prefix, name string }{{"SecretRotation", "dev2"}, {"SecretRotation-x", "dev"}, {"SecretRotation", "de"}} {
		o := config.DefaultEnvironment()
		o.StackPrefix, o.Name = other.prefix, other.name
		n := o.UserSecretName(config.Database{Name: "default"}, config.User{Name: "app"})
		if strings.HasPrefix(n, env.SecretNamePrefix()) {
			t.Errorf("%s's user secret %q starts with dev's prefix %q", other.name, n, env.SecretNamePrefix())
		}
	}
}

// TestMasterBindingsFitLambdaEnvironment: existing databases whose master
// ARNs and prefixes would not fit the function's 4 KB environment stop
// synth; the test configuration's one existing database fits.
func TestMasterBindingsFitLambdaEnvironment(t *testing.T) {
	dbs := map[string]any{}
	for i := 0; i < 10; i++ {
		name := fmt.Sprintf("old%d", i)
		dbs[name] = map[string]any{
			"existing": existing(map[string]any{
				"instanceIdentifier": "legacy-" + name,
				"masterSecretArn":    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + strings.Repeat("n", 300) + name + "-AbCdEf",
			}),
			"users": []any{user("app", nil)},
		}
	}
	_, err := config.Load(withDatabases(dbs), nil)
	wantLoadError(t, err, []string{"databases", "MASTER_SECRET_BINDINGS"})
	one := map[string]any{"old": map[string]any{"existing": existing(nil), "users": []any{user("app", nil)}}}
	if _, err := config.Load(withDatabases(one), nil); err != nil {
		t.Fatalf("one existing database: %v", err)
	}
}
