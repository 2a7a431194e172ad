package main_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// rdsMasterGrants: the RDS for MariaDB master user's privileges (no SUPER).
const rdsMasterGrants = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, " +
	"SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, BINLOG MONITOR, " +
	"CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER ON *.* WITH GRANT OPTION"

// altSetup creates a master user with its secret and a schema with one
// table, and returns the schema and the master secret's ARN.
func (e *e2e) altSetup() (schema, masterID string) {
	schema, masterID, _ = e.altSetupUser()
	return schema, masterID
}

// smARNBase starts the ARN of every secret of smlocal's default account
// and region.
const smARNBase = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"

// masterBindingTag is the tag binding a master to its users' secrets
// (rotation.MasterBindingTag).
const masterBindingTag = "secret-rotation:users"

// altSetupUser is altSetup that also returns the master user's name. The
// master secret serves the secrets named "t_..." (testdb.UniqueName), as
// the stacks tag a database's master with its users' prefix.
func (e *e2e) altSetupUser() (schema, masterID, user string) {
	return e.altSetupBound(smARNBase + "t_")
}

// altSetupBound is altSetupUser with the master's binding tag set to
// users, the ARN prefix of the secrets it serves.
func (e *e2e) altSetupBound(users string) (schema, masterID, user string) {
	e.t.Helper()
	user, pw := testdb.UniqueName(e.t), "Master-"+testdb.UniqueName(e.t)
	schema = testdb.UniqueName(e.t)
	if err := srv.CreateUser(e.ctx, user, pw, rdsMasterGrants); err != nil {
		e.t.Fatal(err)
	}
	if err := srv.CreateDatabase(e.ctx, schema); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { srv.DropUser(context.Background(), user); srv.DropDatabase(context.Background(), schema) })
	if _, err := srv.RootDB().ExecContext(e.ctx, "CREATE TABLE `"+schema+"`.orders (id INT PRIMARY KEY)"); err != nil {
		e.t.Fatal(err)
	}
	masterID = e.createNamed(testdb.UniqueName(e.t), fmt.Sprintf(`{"engine":"mariadb","host":%q,"port":%d,"username":%q,"password":%q,"ssl":"true"}`, srv.Host(), srv.Port(), user, pw),
		masterBindingTag, users)
	return schema, masterID, user
}

// loginCounters are the server's counts of logins: the master user's
// successful and refused ones (MariaDB's per-account USER_STATISTICS,
// which testdb enables) and every refused login of any account
// (Access_denied_errors, Aborted_connects; global, and no test of the
// package runs in parallel).
type loginCounters struct {
	masterTotal, masterDenied, accessDenied, abortedConnects int
}

func readLoginCounters(t *testing.T, master string) loginCounters {
	t.Helper()
	var c loginCounters
	if err := srv.RootDB().QueryRow("SELECT TOTAL_CONNECTIONS, DENIED_CONNECTIONS FROM information_schema.USER_STATISTICS WHERE USER = ?", master).Scan(&c.masterTotal, &c.masterDenied); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]*int{"Access_denied_errors": &c.accessDenied, "Aborted_connects": &c.abortedConnects} {
		var n string
		if err := srv.RootDB().QueryRow("SHOW GLOBAL STATUS LIKE '"+name+"'").Scan(&n, v); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// appUser is a unique application user name short enough for its clone.
func appUser(t *testing.T) string {
	n := testdb.UniqueName(t)
	if len(n) > 26 {
		n = "a" + n[len(n)-25:]
	}
	t.Cleanup(func() { srv.DropUser(context.Background(), n); srv.DropUser(context.Background(), n+"_clone") })
	return n
}

// privileges lists an account's global (but USAGE), schema, table and
// column privileges as root sees them.
func privileges(t *testing.T, user string) []string {
	t.Helper()
	g := "'" + user + "'@'%'"
	rows, err := srv.RootDB().Query(`SELECT CONCAT('*.*:', PRIVILEGE_TYPE) FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ? AND PRIVILEGE_TYPE <> 'USAGE'
UNION ALL SELECT CONCAT(TABLE_SCHEMA, '.*:', PRIVILEGE_TYPE) FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ?
UNION ALL SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME, ':', PRIVILEGE_TYPE) FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ?
UNION ALL SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME, '.', COLUMN_NAME, ':', PRIVILEGE_TYPE) FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE = ?`,
		g, g, g, g)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestEndToEndAlternatingUsers: the compiled function under the emulator
// rotates an application user's secret (as the stacks create it: the
// account does not exist yet) three times: user and clone are created with
// exactly the declared grants, AWSCURRENT and AWSPREVIOUS log in after
// each rotation, grants added by hand (schema, global and column level)
// are gone at the account's next rotation, and nothing secret reaches the
// logs.
func TestEndToEndAlternatingUsers(t *testing.T) {
	e := start(t, nil)
	schema, masterID := e.altSetup()
	user := appUser(t)
	value := fmt.Sprintf(`{"engine":"mariadb","host":%q,"port":%d,"dbname":%q,"username":%q,"password":"First-Pa55word-E2E","masterarn":%q,"ssl":"true","grants":["SELECT, INSERT ON %s.*","UPDATE ON %s.orders"]}`,
		srv.Host(), srv.Port(), schema, user, masterID, schema, schema)
	id := e.createSecret(value)
	want := []string{schema + ".*:INSERT", schema + ".*:SELECT", schema + ".orders:UPDATE"}
	for round := 1; round <= 3; round++ {
		if round == 2 { // user is the next pending account: drift it
			for _, q := range []string{
				"GRANT DELETE ON `" + schema + "`.* TO '" + user + "'@'%'",
				"GRANT PROCESS, CREATE USER ON *.* TO '" + user + "'@'%'",
				"GRANT INSERT (id) ON `" + schema + "`.orders TO '" + user + "'@'%'",
			} {
				if _, err := srv.RootDB().Exec(q); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := e.rotate(id); err != nil {
			t.Fatalf("rotation %d: %v\nfunction logs:\n%s", round, err, e.fn.Logs())
		}
		_, cur := e.get(id, "AWSCURRENT")
		_, prev := e.get(id, "AWSPREVIOUS")
		if !canLogin(t, cur.Username, cur.Password) || !canLogin(t, prev.Username, prev.Password) || cur.Username == prev.Username {
			t.Errorf("rotation %d: AWSCURRENT (%s) and AWSPREVIOUS (%s) must both log in as the two accounts", round, cur.Username, prev.Username)
		}
		for _, u := range []string{user, user + "_clone"} {
			if got := privileges(t, u); !slices.Equal(got, want) {
				t.Errorf("rotation %d: %s holds %v, want %v", round, u, got, want)
			}
		}
	}
	e.assertLogsClean(append(append(e.secretValues(id), e.secretValues(masterID)...), value)...)
}

// TestEndToEndAlternatingHostileSecret: grant strings and names that would
// inject SQL are refused before the function logs in anywhere: the
// server counts no login of the master user, accepted or refused, and no
// refused login of any account.
func TestEndToEndAlternatingHostileSecret(t *testing.T) {
	e := start(t, nil)
	schema, masterID, master := e.altSetupUser()
	before := readLoginCounters(t, master)
	for _, tc := range []struct{ user, grants, want string }{
		{"app_e2e", `["SELECT ON ` + schema + `.* TO root; DROP USER root; --"]`, `"grants"`},
		{"app_e2e", `["SELECT ON ` + schema + `.*","SUPER ON *.*"]`, `"grants"`},
		{"x' IDENTIFIED BY 'p", `["SELECT ON ` + schema + `.*"]`, "user name"},
		{"abcdefghijklmnopqrstuvwxyz1", `["SELECT ON ` + schema + `.*"]`, "32-character limit"},
	} {
		value := fmt.Sprintf(`{"engine":"mariadb","host":%q,"port":%d,"username":%q,"password":"Hostile-Pa55word","masterarn":%q,"ssl":"true","grants":%s}`,
			srv.Host(), srv.Port(), tc.user, masterID, tc.grants)
		id := e.createSecret(value)
		err := e.rotate(id)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: error = %v, want %q", tc.user, tc.grants, err, tc.want)
		}
		if n := e.sm.Calls("PutSecretValue"); n != 0 {
			t.Errorf("%d PutSecretValue calls", n)
		}
	}
	var n int
	if err := srv.RootDB().QueryRow("SELECT COUNT(*) FROM mysql.user WHERE User IN ('app_e2e', 'app_e2e_clone', 'abcdefghijklmnopqrstuvwxyz1')").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d accounts created (%v)", n, err)
	}
	if strings.Contains(string(e.fn.Logs()), "Hostile-Pa55word") {
		t.Error("a password reached the logs")
	}
	if after := readLoginCounters(t, master); after != before {
		t.Errorf("login counters moved: before %+v, after %+v", before, after)
	}
}

// TestEndToEndAlternatingOutsidePrefixRefused: with
// ALTERNATING_USERS_SECRET_PREFIXES set, the compiled function refuses a
// secret that names the master but is outside the prefix (as anyone able
// to create a secret in the account could make one) with an error naming
// the variable, having read nothing but that secret's AWSCURRENT: the
// master is never read, no password generated, no login, no account. The
// same secret under the prefix rotates.
func TestEndToEndAlternatingOutsidePrefixRefused(t *testing.T) {
	const prefix = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/e2e/"
	e := start(t, map[string]string{"ALTERNATING_USERS_SECRET_PREFIXES": prefix})
	schema, masterID, _ := e.altSetupBound(prefix)
	user := appUser(t)
	value := fmt.Sprintf(`{"engine":"mariadb","host":%q,"port":%d,"dbname":%q,"username":%q,"password":"First-Pa55word-E2E","masterarn":%q,"ssl":"true","grants":["SELECT ON %s.*"]}`,
		srv.Host(), srv.Port(), schema, user, masterID, schema)
	outside := e.createSecret(value)
	gets := e.sm.Calls("GetSecretValue")
	err := e.rotate(outside)
	if err == nil || !strings.Contains(err.Error(), "ALTERNATING_USERS_SECRET_PREFIXES") || !strings.Contains(err.Error(), "master secret was not read") {
		t.Fatalf("error = %v, want the refusal naming ALTERNATING_USERS_SECRET_PREFIXES\nfunction logs:\n%s", err, e.fn.Logs())
	}
	if n := e.sm.Calls("GetSecretValue") - gets; n != 1 {
		t.Errorf("%d GetSecretValue calls, want 1 (the secret's own AWSCURRENT)", n)
	}
	md, err := e.client.DescribeSecret(e.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(masterID)})
	if err != nil {
		t.Fatal(err)
	}
	if md.LastAccessedDate != nil {
		t.Errorf("the master secret was read (LastAccessedDate %v)", md.LastAccessedDate)
	}
	for _, op := range []string{"GetRandomPassword", "PutSecretValue"} {
		if n := e.sm.Calls(op); n != 0 {
			t.Errorf("%d %s calls", n, op)
		}
	}
	var n int
	if err := srv.RootDB().QueryRow("SELECT COUNT(*) FROM mysql.user WHERE User IN (?, ?)", user, user+"_clone").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d accounts created (%v)", n, err)
	}
	if logs := string(e.fn.Logs()); !strings.Contains(logs, `"outcome":"refused"`) {
		t.Errorf("the refusal is not logged with outcome refused:\n%s", logs)
	}

	out, err := e.client.CreateSecret(e.ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/e2e/" + user), SecretString: aws.String(value)})
	if err != nil {
		t.Fatal(err)
	}
	inside := aws.ToString(out.ARN)
	if err := e.rotate(inside); err != nil {
		t.Fatalf("rotation under the prefix: %v\nfunction logs:\n%s", err, e.fn.Logs())
	}
	if _, cur := e.get(inside, "AWSCURRENT"); !canLogin(t, cur.Username, cur.Password) {
		t.Errorf("AWSCURRENT (%s) does not log in after the rotation under the prefix", cur.Username)
	}
	e.assertLogsClean(append(append(e.secretValues(inside), e.secretValues(masterID)...), value)...)
}

// TestEndToEndAlternatingFreshDatabase: the compiled function under the
// emulator rotates a user secret whose schema ("dbname" and the declared
// schema-level grants) does not exist, as on a freshly created RDS
// instance when the stacks start the first rotation: both accounts are
// created with exactly the declared grants and no login is refused; once
// the application has created the schema and a table, the next rotation's
// testSecret probes them.
func TestEndToEndAlternatingFreshDatabase(t *testing.T) {
	e := start(t, nil)
	_, masterID, master := e.altSetupUser()
	fresh := "f" + testdb.UniqueName(t)[1:]
	t.Cleanup(func() { srv.DropDatabase(context.Background(), fresh) })
	user := appUser(t)
	value := fmt.Sprintf(`{"engine":"mariadb","host":%q,"port":%d,"dbname":%q,"username":%q,"password":"First-Pa55word-E2E","masterarn":%q,"ssl":"true","grants":["SELECT, INSERT ON %s.*"]}`,
		srv.Host(), srv.Port(), fresh, user, masterID, fresh)
	id := e.createSecret(value)
	want := []string{fresh + ".*:INSERT", fresh + ".*:SELECT"}
	before := readLoginCounters(t, master)
	if err := e.rotate(id); err != nil {
		t.Fatalf("first rotation without the schema: %v\nfunction logs:\n%s", err, e.fn.Logs())
	}
	after := readLoginCounters(t, master)
	if after.masterDenied != before.masterDenied || after.accessDenied != before.accessDenied || after.abortedConnects != before.abortedConnects {
		t.Errorf("refused logins during the first rotation: before %+v, after %+v", before, after)
	}
	for _, u := range []string{user, user + "_clone"} {
		if got := privileges(t, u); !slices.Equal(got, want) {
			t.Errorf("%s holds %v, want %v", u, got, want)
		}
	}
	if logs := string(e.fn.Logs()); !strings.Contains(logs, "schema "+fresh+" does not exist yet") {
		t.Errorf("the skipped probe is not logged:\n%s", logs)
	}
	if err := srv.CreateDatabase(e.ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.RootDB().ExecContext(e.ctx, "CREATE TABLE `"+fresh+"`.items (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	skippedBefore := strings.Count(string(e.fn.Logs()), "grants not probed")
	before = readLoginCounters(t, master)
	if err := e.rotate(id); err != nil {
		t.Fatalf("second rotation: %v\nfunction logs:\n%s", err, e.fn.Logs())
	}
	after = readLoginCounters(t, master)
	if after.masterDenied != before.masterDenied || after.accessDenied != before.accessDenied || after.abortedConnects != before.abortedConnects {
		t.Errorf("refused logins during the second rotation: before %+v, after %+v", before, after)
	}
	logs := string(e.fn.Logs())
	if strings.Count(logs, "grants not probed") != skippedBefore || !strings.Contains(logs, `"probed":1`) {
		t.Errorf("the second rotation did not probe the new schema's table:\n%s", logs)
	}
	_, cur := e.get(id, "AWSCURRENT")
	_, prev := e.get(id, "AWSPREVIOUS")
	if !canLogin(t, cur.Username, cur.Password) || !canLogin(t, prev.Username, prev.Password) || cur.Username == prev.Username {
		t.Errorf("AWSCURRENT (%s) and AWSPREVIOUS (%s) must both log in as the two accounts", cur.Username, prev.Username)
	}
	for _, u := range []string{user, user + "_clone"} {
		if got := privileges(t, u); !slices.Equal(got, want) {
			t.Errorf("%s holds %v, want %v", u, got, want)
		}
	}
	e.assertLogsClean(append(append(e.secretValues(id), e.secretValues(masterID)...), value)...)
}

// TestEndToEndMasterOfAnotherDatabaseRefused: the compiled function, with
// the stacks' binding: database A's user secret ("dbA/...") names the
// master secret of database B, tagged secret-rotation:users = B's prefix
// ("dbB/"), on the same server (so every check of host and port passes).
// The rotation is refused at setSecret, naming both secrets and the tag:
// B's master secret is never read, nothing logs in, no account is
// created. A secret under B's prefix naming the same master rotates.
func TestEndToEndMasterOfAnotherDatabaseRefused(t *testing.T) {
	e := start(t, nil)
	schema, _, masterUser := e.altSetupBound(smARNBase + "dbA/")
	var pw string
	if _, err := srv.RootDB().ExecContext(e.ctx, "SET PASSWORD FOR '"+masterUser+"'@'%' = PASSWORD('Master-B-Pa55word')"); err != nil {
		t.Fatal(err)
	}
	pw = "Master-B-Pa55word"
	usersOfB := smARNBase + "dbB/"
	masterB := e.createNamed(testdb.UniqueName(t), fmt.Sprintf(`{"engine":"mariadb","host":%q,"port":%d,"username":%q,"password":%q,"ssl":"true"}`, srv.Host(), srv.Port(), masterUser, pw),
		masterBindingTag, usersOfB)
	before := readLoginCounters(t, masterUser)
	user := appUser(t)
	value := fmt.Sprintf(`{"engine":"mariadb","host":%q,"port":%d,"dbname":%q,"username":%q,"password":"First-Pa55word-E2E","masterarn":%q,"ssl":"true","grants":["SELECT, INSERT, UPDATE, DELETE ON %s.*"]}`,
		srv.Host(), srv.Port(), schema, user, masterB, schema)
	ofA := e.createNamed("dbA/"+user, value)
	err := e.rotate(ofA)
	if err == nil {
		t.Fatalf("rotation of A's secret with B's master succeeded\nfunction logs:\n%s", e.fn.Logs())
	}
	for _, want := range []string{"failed at setSecret", ofA, masterB, masterBindingTag, usersOfB, "before reading the master's value or any login"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	md, err := e.client.DescribeSecret(e.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(masterB)})
	if err != nil {
		t.Fatal(err)
	}
	if md.LastAccessedDate != nil {
		t.Errorf("B's master secret was read (LastAccessedDate %v)", md.LastAccessedDate)
	}
	if after := readLoginCounters(t, masterUser); after.masterTotal != before.masterTotal {
		t.Errorf("the master user logged in %d times", after.masterTotal-before.masterTotal)
	}
	var n int
	if err := srv.RootDB().QueryRow("SELECT COUNT(*) FROM mysql.user WHERE User IN (?, ?)", user, user+"_clone").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d accounts created (%v)", n, err)
	}
	if logs := string(e.fn.Logs()); !strings.Contains(logs, `"outcome":"refused"`) {
		t.Errorf("the refusal is not logged with outcome refused:\n%s", logs)
	}

	ofB := e.createNamed("dbB/"+user, value)
	if err := e.rotate(ofB); err != nil {
		t.Fatalf("rotation of B's secret: %v\nfunction logs:\n%s", err, e.fn.Logs())
	}
	if _, cur := e.get(ofB, "AWSCURRENT"); !canLogin(t, cur.Username, cur.Password) {
		t.Errorf("AWSCURRENT (%s) does not log in after the rotation of B's secret", cur.Username)
	}
	e.assertLogsClean(append(append(e.secretValues(ofB), e.secretValues(masterB)...), value, pw)...)
}
