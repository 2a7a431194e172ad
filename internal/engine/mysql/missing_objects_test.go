package mysql_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/secret"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// secretWithDB is secretFor with "dbname".
func secretWithDB(t *testing.T, user, password, db string) *secret.Secret {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"engine": "mariadb", "host": srv.Host(), "port": srv.Port(), "username": user, "password": password, "dbname": db})
	s, err := secret.Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGrantsOnMissingObjects verifies on MariaDB what the alternating
// users strategy relies on for a freshly created database: a schema-level
// grant is accepted before the schema exists and read back as declared; a
// table-level grant on a missing table (in an existing or a missing
// schema) fails with an UnknownTableError matching ErrUnknownObject and
// naming the table and the remedy; the account's own probes skip what
// does not exist, and run once it does.
func TestGrantsOnMissingObjects(t *testing.T) {
	r := newAdminRig(t)
	a := r.appAccount()
	const pw = "App-Pa55word"
	if _, err := r.adm.EnsureAccount(r.ctx, a, pw); err != nil {
		t.Fatal(err)
	}
	fresh := "f" + testdb.UniqueName(t)[1:]
	t.Cleanup(func() { srv.DropDatabase(context.Background(), fresh) })
	schemaGrant := r.grants("SELECT, INSERT, UPDATE, DELETE ON " + fresh + ".*")[0]
	if err := r.adm.Grant(r.ctx, a, schemaGrant); err != nil {
		t.Fatalf("GRANT ON %s.* before CREATE DATABASE: %v", fresh, err)
	}
	if got, err := r.adm.Grants(r.ctx, a); err != nil || len(got) != 1 || got[0].String() != schemaGrant.String() {
		t.Errorf("grants read back = %v, %v; want [%s]", got, err, schemaGrant)
	}
	for _, tc := range []struct{ schema, table string }{{r.schema, "items"}, {fresh, "items"}} {
		g := r.grants("SELECT ON " + tc.schema + ".items")[0]
		ok, err := r.adm.TableExists(r.ctx, tc.schema, tc.table)
		if err != nil || ok {
			t.Errorf("TableExists(%s.%s) = %v, %v; want false", tc.schema, tc.table, ok, err)
		}
		err = r.adm.Grant(r.ctx, a, g)
		want := "table " + tc.schema + ".items does not exist yet: grant on the schema (" + tc.schema + ".*) or create the table before the rotation"
		if !errors.Is(err, engine.ErrUnknownObject) || !strings.Contains(err.Error(), want) {
			t.Errorf("GRANT %s = %v; want ErrUnknownObject saying %q", g, err, want)
		}
		var ute *engine.UnknownTableError
		if !errors.As(err, &ute) || ute.Err == nil {
			t.Errorf("GRANT %s: no UnknownTableError with the server's error: %v", g, err)
		}
	}
	if ok, err := r.adm.TableExists(r.ctx, r.schema, "orders"); err != nil || !ok {
		t.Errorf("TableExists(%s.orders) = %v, %v; want true", r.schema, ok, err)
	}

	sess, err := r.eng.Login(r.ctx, secretFor(t, srv, a.User, pw, true))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	p := sess.(engine.GrantProber)
	probe := func(g string) string {
		t.Helper()
		skipped, err := p.ProbeGrant(r.ctx, r.grants(g)[0])
		if err != nil {
			t.Fatalf("ProbeGrant(%s): %v", g, err)
		}
		return skipped
	}
	if s := probe(schemaGrant.String()); s != "schema "+fresh+" does not exist yet" {
		t.Errorf("probe before CREATE DATABASE: skipped %q", s)
	}
	if err := srv.CreateDatabase(r.ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if s := probe(schemaGrant.String()); s != "schema "+fresh+" has no table yet" {
		t.Errorf("probe of an empty schema: skipped %q", s)
	}
	if _, err := srv.RootDB().ExecContext(r.ctx, "CREATE TABLE `"+fresh+"`.items (id INT PRIMARY KEY, n INT)"); err != nil {
		t.Fatal(err)
	}
	if s := probe(schemaGrant.String()); s != "" {
		t.Errorf("probe with a table: skipped %q", s)
	}
	// A table-level grant whose table was dropped after the grant.
	tableGrant := r.grants("SELECT ON " + fresh + ".items")[0]
	if err := r.adm.Grant(r.ctx, a, tableGrant); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.RootDB().ExecContext(r.ctx, "DROP TABLE `"+fresh+"`.items"); err != nil {
		t.Fatal(err)
	}
	if s := probe(tableGrant.String()); s != "table "+fresh+".items does not exist" {
		t.Errorf("probe of a dropped table: skipped %q", s)
	}
}

// TestLoginSchemaErrors: a login whose credentials are accepted but whose
// default schema does not exist (1049) or is not granted or does not exist
// for an account without privileges on it (1044) matches
// its own error, not ErrAuth, and is not retried in plain text; the same
// secret without the schema (engine.WithoutSchema) logs in.
func TestLoginSchemaErrors(t *testing.T) {
	r := newAdminRig(t)
	user, pw := newUser(t, srv) // USAGE only
	d, err := mysql.NewDialer(mysql.WithCABundlePEM(srv.CAPEM()))
	if err != nil {
		t.Fatal(err)
	}
	eng := mysql.NewEngine(d)
	// MariaDB answers 1049 only to an account holding a privilege on the
	// missing schema (the alternating accounts' schema.* grant); to
	// others it answers 1044, which does not tell whether it exists.
	fresh, other := "f"+testdb.UniqueName(t)[1:], "g"+testdb.UniqueName(t)[1:]
	if err := r.adm.Grant(r.ctx, engine.Account{User: user, Host: "%"}, r.grants("SELECT ON " + fresh + ".*")[0]); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		db   string
		want error
	}{
		{fresh, engine.ErrUnknownDatabase},
		{other, engine.ErrDatabaseAccess},
		{r.schema, engine.ErrDatabaseAccess},
	} {
		s := secretWithDB(t, user, pw, tc.db)
		_, err := eng.Login(r.ctx, s)
		if !errors.Is(err, tc.want) || errors.Is(err, engine.ErrAuth) {
			t.Errorf("login with dbname %s = %v; want %v and not ErrAuth", tc.db, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "plain-text fallback") {
			t.Errorf("schema error retried in plain text: %v", err)
		}
		sess, err := eng.Login(r.ctx, engine.WithoutSchema(s))
		if err != nil {
			t.Errorf("login without the schema: %v", err)
			continue
		}
		sess.Close()
	}
}
