package rotation_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/grant"
	"github.com/example/secret-rotation/internal/secret"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// freshSchemaRig is an alternating-users rig whose user secret names a
// schema ("dbname" and the declared grants) that does not exist, as on a
// freshly created RDS instance when the stacks start the first rotation.
// The rig's own schema (with its orders table) exists but is not used.
func freshSchemaRig(t *testing.T, declare func(schema string) []string) (*altRig, string) {
	t.Helper()
	fresh := "f" + testdb.UniqueName(t)[1:]
	declared := declare(fresh)
	r := newAltRig(t, func(m map[string]any) {
		m["dbname"] = fresh
		m["grants"] = declared
	})
	r.declared = declared
	t.Cleanup(func() { srv.DropDatabase(context.Background(), fresh) })
	var n int
	if err := srv.RootDB().QueryRowContext(r.ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", fresh).Scan(&n); err != nil || n != 0 {
		t.Fatalf("schema %s exists (%d) or cannot be looked up: %v", fresh, n, err)
	}
	return r, fresh
}

// failedLogins sums the server's refused logins of the accounts.
func failedLogins(t *testing.T, users ...string) int {
	t.Helper()
	sum := 0
	for _, u := range users {
		n, err := srv.FailedLogins(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	return sum
}

// TestAlternatingFirstRotationWithoutSchema: the first rotation on a
// database where the secret's schema does not exist yet creates both
// accounts with exactly the declared schema-level grants (GRANT ON s.*
// before CREATE DATABASE s), with no failed login, and logs the probes it
// skipped; once the application has created the schema and a table, the
// next rotation's testSecret probes them.
func TestAlternatingFirstRotationWithoutSchema(t *testing.T) {
	r, fresh := freshSchemaRig(t, func(s string) []string { return []string{"SELECT, INSERT, UPDATE, DELETE ON " + s + ".*"} })
	clone := grant.Clone(r.user)
	if err := r.rotate(); err != nil {
		t.Fatalf("first rotation without the schema: %v\nlogs:\n%s", err, r.log.String())
	}
	r.assertExact(r.user)
	r.assertExact(clone)
	r.assertBothLogIn()
	if n := failedLogins(t, r.masterUsr, r.user, clone); n != 0 {
		t.Errorf("%d failed logins, want 0", n)
	}
	logs := r.log.String()
	if !strings.Contains(logs, "grants not probed") || !strings.Contains(logs, "schema "+fresh+" does not exist yet") {
		t.Errorf("the skipped probe is not logged:\n%s", logs)
	}

	// The application creates its schema and a table.
	if err := srv.CreateDatabase(r.ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.RootDB().ExecContext(r.ctx, "CREATE TABLE `"+fresh+"`.items (id INT PRIMARY KEY, n INT)"); err != nil {
		t.Fatal(err)
	}
	before := strings.Count(r.log.String(), "grants not probed")
	if err := r.rotate(); err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	logs = r.log.String()
	if after := strings.Count(logs, "grants not probed"); after != before {
		t.Errorf("the second rotation skipped probes although the schema and a table exist:\n%s", logs)
	}
	if !strings.Contains(logs, `"probed":1`) {
		t.Errorf("the second rotation did not probe the grant:\n%s", logs)
	}
	r.assertExact(r.user)
	r.assertExact(clone)
	r.assertBothLogIn()
	if n := failedLogins(t, r.masterUsr, r.user, clone); n != 0 {
		t.Errorf("%d failed logins, want 0", n)
	}

	r.assertLogsClean()
}

// TestAlternatingTableGrantWithoutTable: a declared table-level grant on a
// table that does not exist stops the first rotation before any change,
// with an error naming the table and the remedy (ErrUnknownObject); no
// account is created, AWSCURRENT does not move, no login is refused. Once
// the table exists, the same rotation, retried, succeeds.
func TestAlternatingTableGrantWithoutTable(t *testing.T) {
	r, fresh := freshSchemaRig(t, func(s string) []string {
		return []string{"SELECT ON " + s + ".*", "INSERT ON " + s + ".items"}
	})
	clone := grant.Clone(r.user)
	err := r.rotate()
	want := "table " + fresh + ".items does not exist yet: grant on the schema (" + fresh + ".*) or create the table before the rotation"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("rotation error = %v, want it to say %q", err, want)
	}
	if !strings.Contains(r.log.String(), want) {
		t.Errorf("the function's log does not say %q:\n%s", want, r.log.String())
	}
	for _, u := range []string{r.user, clone} {
		var n int
		if err := srv.RootDB().QueryRowContext(r.ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", u).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("account %s was created by the failed rotation", u)
		}
	}
	if cur := r.value(r.secretID, secret.StageCurrent); cur.Username != r.user {
		t.Errorf("AWSCURRENT moved to %s", cur.Username)
	}
	if n := failedLogins(t, r.masterUsr); n != 0 {
		t.Errorf("%d failed master logins, want 0", n)
	}

	if err := srv.CreateDatabase(r.ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.RootDB().ExecContext(r.ctx, "CREATE TABLE `"+fresh+"`.items (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if err := r.retry(); err != nil {
		t.Fatalf("retried rotation once the table exists: %v", err)
	}
	r.assertExact(r.user)
	r.assertExact(clone)
	r.assertBothLogIn()
	if n := failedLogins(t, r.masterUsr, r.user, clone); n != 0 {
		t.Errorf("%d failed logins, want 0", n)
	}
}

// TestSingleUserWithoutSchema: a single-user secret whose "dbname" does
// not exist rotates (before, every login of the function selected it and
// the server answered 1049, so setSecret failed).
func TestSingleUserWithoutSchema(t *testing.T) {
	fresh := "f" + testdb.UniqueName(t)[1:]
	r := newRig(t, func(c *rigConfig) { c.extra = map[string]any{"dbname": fresh} })
	if err := r.rotate(); err != nil {
		t.Fatalf("single-user rotation with a dbname that does not exist: %v", err)
	}
	if n := failedLogins(t, r.user); n != 0 { // before assertRotated tries the old password
		t.Errorf("%d failed logins, want 0", n)
	}
	r.assertRotated(r.initial)
}

// TestAlternatingLoginsSelectNoSchema: every login of a rotation (master,
// ownership checks, testSecret) selects no default schema, whatever
// "dbname" the secret names.
func TestAlternatingLoginsSelectNoSchema(t *testing.T) {
	e := newAltEnv(t, userJSON())
	e.db.users["app"] = oldPassword
	e.db.grants = map[string][]grant.Grant{}
	for i := 0; i < 2; i++ {
		if err := e.rotate(); err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
	}
	if len(e.db.schemas) == 0 {
		t.Fatal("no login recorded")
	}
	for i, s := range e.db.schemas {
		if s != "" {
			t.Errorf("login %d selected the default schema %q", i+1, s)
		}
	}
}

// TestAlternatingMissingTableChangesNothing: with the fake database, a
// declared table-level grant on a missing table is refused with an error
// matching engine.ErrUnknownObject after look-ups only: no account is
// created or changed, no grant sent.
func TestAlternatingMissingTableChangesNothing(t *testing.T) {
	e := newAltEnv(t, userJSON())
	e.db.grants = map[string][]grant.Grant{}
	e.db.missingTables = []string{"shop.orders"}
	err := e.rotate()
	if !errors.Is(err, engine.ErrUnknownObject) {
		t.Fatalf("error = %v, want ErrUnknownObject", err)
	}
	if want := "table shop.orders does not exist yet: grant on the schema (shop.*) or create the table before the rotation"; !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want it to say %q", err, want)
	}
	for _, st := range e.db.stmts {
		if !strings.HasPrefix(st, "exists ") && !strings.HasPrefix(st, "table ") {
			t.Errorf("%q reached the database before the refusal", st)
		}
	}
	if len(e.db.users) != 1 {
		t.Errorf("accounts %v, want only the master", e.db.users)
	}
}
