package mysql_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/grant"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// rdsMasterGrants is what the master user of RDS for MariaDB holds
// (RDS for MySQL's is alike): data and DDL privileges and CREATE USER on
// *.* WITH GRANT OPTION, but not SUPER. The admin statements must work
// with exactly that.
const rdsMasterGrants = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, " +
	"SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, BINLOG MONITOR, " +
	"CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER ON *.* WITH GRANT OPTION"

// adminRig is a master session on the package's server plus a schema with
// one table for the application accounts of a test.
type adminRig struct {
	t      *testing.T
	ctx    context.Context
	eng    *mysql.Engine
	master engine.Session
	adm    engine.Admin
	schema string
}

func newAdminRig(t *testing.T) *adminRig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	user, pw := testdb.UniqueName(t), "Master-"+testdb.UniqueName(t)
	if err := srv.CreateUser(ctx, user, pw, rdsMasterGrants); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.DropUser(context.Background(), user) })
	schema := testdb.UniqueName(t)
	if err := srv.CreateDatabase(ctx, schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.DropDatabase(context.Background(), schema) })
	if _, err := srv.RootDB().ExecContext(ctx, "CREATE TABLE `"+schema+"`.orders (id INT PRIMARY KEY, total INT NOT NULL, doubled INT AS (total * 2))"); err != nil {
		t.Fatal(err)
	}
	d, err := mysql.NewDialer(mysql.WithCABundlePEM(srv.CAPEM()))
	if err != nil {
		t.Fatal(err)
	}
	eng := mysql.NewEngine(d)
	sess, err := eng.Login(ctx, secretFor(t, srv, user, pw, true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	adm, ok := sess.(engine.Admin)
	if !ok {
		t.Fatal("mysql session does not implement engine.Admin")
	}
	return &adminRig{t: t, ctx: ctx, eng: eng, master: sess, adm: adm, schema: schema}
}

// appAccount returns a fresh account name short enough for its clone
// (UniqueName can use all 32 characters), dropped with its clone at the end.
func (r *adminRig) appAccount() engine.Account {
	r.t.Helper()
	name := testdb.UniqueName(r.t)
	if len(name) > grant.MaxUserLen-len(grant.CloneSuffix) {
		name = "a" + name[len(name)-(grant.MaxUserLen-len(grant.CloneSuffix)-1):]
	}
	r.t.Cleanup(func() {
		srv.DropUser(context.Background(), name)
		srv.DropUser(context.Background(), grant.Clone(name))
	})
	return engine.Account{User: name, Host: "%"}
}

func (r *adminRig) grants(gs ...string) []grant.Grant {
	r.t.Helper()
	for i := range gs {
		gs[i] = strings.ReplaceAll(gs[i], "SCHEMA", r.schema)
	}
	out, err := grant.ParseAll(gs)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *adminRig) canLogin(a engine.Account, pw string) bool {
	r.t.Helper()
	ok, err := srv.CanLogin(r.ctx, a.User, pw)
	if err != nil {
		r.t.Fatal(err)
	}
	return ok
}

func TestEnsureAccount(t *testing.T) {
	r := newAdminRig(t)
	a := r.appAccount()
	for i, pw := range []string{`First-'Pa55\word"`, "Second-Pa55word-Ñ"} {
		created, err := r.adm.EnsureAccount(r.ctx, a, pw)
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if created != (i == 0) {
			t.Errorf("round %d: created = %v", i, created)
		}
		if !r.canLogin(a, pw) {
			t.Errorf("round %d: the password does not log in", i)
		}
	}
	if r.canLogin(a, `First-'Pa55\word"`) {
		t.Error("the first password still logs in")
	}
	if ok, err := r.adm.AccountExists(r.ctx, engine.Account{User: a.User, Host: "10.0.0.%"}); err != nil || ok {
		t.Errorf("AccountExists of another host = %v, %v", ok, err)
	}
}

// TestEnsureAccountServerErrorRedacted: CREATE USER and ALTER USER carry
// the password, so their server errors are reduced to the number.
func TestEnsureAccountServerErrorRedacted(t *testing.T) {
	r := newAdminRig(t)
	a := r.appAccount()
	const pw = "Secret-Never-In-Errors-77"
	if _, err := srv.RootDB().ExecContext(r.ctx, "SET GLOBAL read_only = 1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.RootDB().Exec("SET GLOBAL read_only = 0") })
	_, err := r.adm.EnsureAccount(r.ctx, a, pw)
	if err == nil {
		t.Fatal("EnsureAccount succeeded on a read-only server")
	}
	if strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), "withheld") {
		t.Errorf("error = %v, want the server error number with the message withheld", err)
	}
}

func TestGrantsReadWhatWasGranted(t *testing.T) {
	r := newAdminRig(t)
	a := r.appAccount()
	if _, err := r.adm.EnsureAccount(r.ctx, a, "App-Pa55word"); err != nil {
		t.Fatal(err)
	}
	want := r.grants("SELECT, INSERT ON SCHEMA.orders", "SELECT, DELETE, CREATE TEMPORARY TABLES ON SCHEMA.*", "SELECT ON nosuchschema.*")
	for _, g := range want {
		if err := r.adm.Grant(r.ctx, a, g); err != nil {
			t.Fatal(err)
		}
	}
	// Drift a hand could add: the grant option, a wildcard schema.
	if _, err := srv.RootDB().ExecContext(r.ctx, "GRANT UPDATE ON `"+r.schema+"`.* TO '"+a.User+"'@'%' WITH GRANT OPTION"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.RootDB().ExecContext(r.ctx, "GRANT SELECT ON `wild%`.* TO '"+a.User+"'@'%'"); err != nil {
		t.Fatal(err)
	}
	got, err := r.adm.Grants(r.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	wantStr := []string{
		"SELECT ON `nosuchschema`.*",
		"CREATE TEMPORARY TABLES, DELETE, GRANT OPTION, SELECT, UPDATE ON `" + r.schema + "`.*",
		"INSERT, SELECT ON `" + r.schema + "`.`orders`",
		"SELECT ON `wild%`.*",
	}
	var gotStr []string
	for _, g := range got {
		gotStr = append(gotStr, g.String())
	}
	if !slices.Equal(gotStr, wantStr) {
		t.Errorf("Grants =\n%s\nwant\n%s", strings.Join(gotStr, "\n"), strings.Join(wantStr, "\n"))
	}
	// The account reads its own grants the same way.
	sess, err := r.eng.Login(r.ctx, secretFor(t, srv, a.User, "App-Pa55word", true))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	own, err := sess.(engine.GrantReader).Grants(r.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(own) != len(got) {
		t.Errorf("own view has %d grants, master view %d", len(own), len(got))
	}
}

func TestReconcile(t *testing.T) {
	r := newAdminRig(t)
	a := r.appAccount()
	if _, err := r.adm.EnsureAccount(r.ctx, a, "App-Pa55word"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"GRANT SELECT, DROP ON `" + r.schema + "`.* TO '" + a.User + "'@'%' WITH GRANT OPTION", // DROP and the option are extra
		"GRANT ALTER ON `" + r.schema + "`.`orders` TO '" + a.User + "'@'%'",                   // a whole extra object
		"GRANT SELECT ON `other_%`.* TO '" + a.User + "'@'%'",                                  // outside the grammar
	} {
		if _, err := srv.RootDB().ExecContext(r.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	want := r.grants("SELECT, INSERT, UPDATE, DELETE ON SCHEMA.*", "SELECT ON SCHEMA.orders")
	granted, revoked, err := engine.Reconcile(r.ctx, r.adm, a, want)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("granted %s, revoked %s", engine.FormatGrants(granted), engine.FormatGrants(revoked))
	if len(granted) != 2 || len(revoked) != 3 {
		t.Errorf("granted %d, revoked %d; want 2 and 3", len(granted), len(revoked))
	}
	got, err := r.adm.Grants(r.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if m, x := engine.DiffGrants(got, want); len(m)+len(x) != 0 {
		t.Errorf("after Reconcile: missing %s, extra %s", engine.FormatGrants(m), engine.FormatGrants(x))
	}
	granted, revoked, err = engine.Reconcile(r.ctx, r.adm, a, want)
	if err != nil || len(granted)+len(revoked) != 0 {
		t.Errorf("second Reconcile changed %d grants, err %v", len(granted)+len(revoked), err)
	}
	// A table that does not exist cannot be granted on (MariaDB 1146).
	_, _, err = engine.Reconcile(r.ctx, r.adm, a, r.grants("SELECT ON SCHEMA.nosuchtable"))
	if err == nil || !strings.Contains(err.Error(), "nosuchtable") {
		t.Errorf("grant on a missing table: %v", err)
	}
}

func TestProbeGrant(t *testing.T) {
	r := newAdminRig(t)
	a := r.appAccount()
	const pw = "App-Pa55word"
	if _, err := r.adm.EnsureAccount(r.ctx, a, pw); err != nil {
		t.Fatal(err)
	}
	held := r.grants("SELECT, INSERT, UPDATE, DELETE ON SCHEMA.*", "SELECT ON emptyschema.*")
	for _, g := range held {
		if err := r.adm.Grant(r.ctx, a, g); err != nil {
			t.Fatal(err)
		}
	}
	sess, err := r.eng.Login(r.ctx, secretFor(t, srv, a.User, pw, true))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	p := sess.(engine.GrantProber)
	tests := []struct {
		grant string
		ok    bool
	}{
		{"SELECT, INSERT, UPDATE, DELETE ON SCHEMA.*", true},
		{"SELECT, UPDATE ON SCHEMA.orders", true},
		{"SELECT ON emptyschema.*", true},  // no table: nothing to probe
		{"CREATE, DROP ON SCHEMA.*", true}, // not probed
		{"SELECT ON SCHEMA.orders", true},
	}
	for _, tt := range tests {
		if _, err := p.ProbeGrant(r.ctx, r.grants(tt.grant)[0]); (err == nil) != tt.ok {
			t.Errorf("ProbeGrant(%s) = %v, want ok %v", tt.grant, err, tt.ok)
		}
	}
	// Take each data privilege away: its probe must fail.
	for _, priv := range []string{"SELECT", "INSERT", "UPDATE", "DELETE"} {
		t.Run("without "+priv, func(t *testing.T) {
			revoke := r.grants(priv + " ON SCHEMA.*")[0]
			if err := r.adm.Revoke(r.ctx, a, revoke); err != nil {
				t.Fatal(err)
			}
			defer r.adm.Grant(r.ctx, a, revoke)
			_, err := p.ProbeGrant(r.ctx, r.grants("SELECT, INSERT, UPDATE, DELETE ON SCHEMA.*")[0])
			if err == nil {
				t.Errorf("probe passed without %s", priv)
			}
		})
	}
}
