package mysql_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/engine"
)

// TestGrantsReadEveryLevel: global, column and routine privileges added by
// hand (by root, as an operator would) are read, shown as differences from
// any declared grant, and revoked by Reconcile with the RDS master's
// privileges; afterwards the server itself (SHOW GRANTS, read here, not
// through the code under test) lists only the declared grants.
func TestGrantsReadEveryLevel(t *testing.T) {
	r := newAdminRig(t)
	a := r.appAccount()
	if _, err := r.adm.EnsureAccount(r.ctx, a, "App-Pa55word"); err != nil {
		t.Fatal(err)
	}
	acct := "'" + a.User + "'@'%'"
	for _, q := range []string{
		"CREATE PROCEDURE `" + r.schema + "`.cleanup() SELECT 1",
		"CREATE FUNCTION `" + r.schema + "`.answer() RETURNS INT DETERMINISTIC RETURN 42",
		"GRANT SELECT, CREATE USER ON *.* TO " + acct,
		"GRANT UPDATE (total), SELECT (id, total) ON `" + r.schema + "`.orders TO " + acct + " WITH GRANT OPTION",
		"GRANT EXECUTE, ALTER ROUTINE ON PROCEDURE `" + r.schema + "`.cleanup TO " + acct,
		"GRANT EXECUTE ON FUNCTION `" + r.schema + "`.answer TO " + acct,
		"GRANT SELECT ON `" + r.schema + "`.* TO " + acct,
	} {
		if _, err := srv.RootDB().ExecContext(r.ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	got, err := engine.AllGrants(r.ctx, r.adm, a)
	if err != nil {
		t.Fatal(err)
	}
	s := "`" + r.schema + "`"
	wantStr := []string{
		"CREATE USER, SELECT ON *.*",
		"SELECT ON " + s + ".*",
		"FUNCTION: EXECUTE ON FUNCTION " + s + ".`answer`",
		"PROCEDURE: ALTER ROUTINE, EXECUTE ON PROCEDURE " + s + ".`cleanup`",
		"GRANT OPTION ON " + s + ".`orders`",
		"SELECT (`id`) ON " + s + ".`orders`",
		"SELECT (`total`), UPDATE (`total`) ON " + s + ".`orders`",
	}
	var gotStr []string
	for _, g := range got {
		p := g.String()
		if g.Routine != "" {
			p = g.Routine + ": " + p
		}
		gotStr = append(gotStr, p)
	}
	slices.Sort(gotStr)
	slices.Sort(wantStr)
	if !slices.Equal(gotStr, wantStr) {
		t.Errorf("AllGrants =\n%s\nwant\n%s", strings.Join(gotStr, "\n"), strings.Join(wantStr, "\n"))
	}

	// The account sees its own global and column privileges (testSecret's
	// view); routine privileges only the master can read.
	sess, err := r.eng.Login(r.ctx, secretFor(t, srv, a.User, "App-Pa55word", true))
	if err != nil {
		t.Fatal(err)
	}
	own, err := sess.(engine.GrantReader).Grants(r.ctx, a)
	sess.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, extra := engine.DiffGrants(own, r.grants("SELECT ON SCHEMA.*")); len(extra) != 4 {
		t.Errorf("the account's own view shows extra %s, want the global grant, the grant option and two column grants", engine.FormatGrants(extra))
	}

	want := r.grants("SELECT, INSERT ON SCHEMA.*")
	granted, revoked, err := engine.Reconcile(r.ctx, r.adm, a, want)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("granted %s, revoked %s", engine.FormatGrants(granted), engine.FormatGrants(revoked))
	shownAcct := "`" + a.User + "`@`%`"
	if shown := showGrants(t, r, a); !slices.Equal(shown, []string{
		"GRANT SELECT, INSERT ON " + s + ".* TO " + shownAcct,
		"GRANT USAGE ON *.* TO " + shownAcct + " IDENTIFIED BY PASSWORD '*'",
	}) {
		t.Errorf("SHOW GRANTS after Reconcile:\n%s", strings.Join(shown, "\n"))
	}
	if granted, revoked, err := engine.Reconcile(r.ctx, r.adm, a, want); err != nil || len(granted)+len(revoked) != 0 {
		t.Errorf("second Reconcile changed %d grants, err %v", len(granted)+len(revoked), err)
	}
}

// TestReconcileGlobalGrantOption: a global GRANT OPTION (even on USAGE
// alone) is read and revoked.
func TestReconcileGlobalGrantOption(t *testing.T) {
	r := newAdminRig(t)
	a := r.appAccount()
	if _, err := r.adm.EnsureAccount(r.ctx, a, "App-Pa55word"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.RootDB().ExecContext(r.ctx, "GRANT USAGE ON *.* TO '"+a.User+"'@'%' WITH GRANT OPTION"); err != nil {
		t.Fatal(err)
	}
	got, err := r.adm.Grants(r.ctx, a)
	if err != nil || len(got) != 1 || got[0].String() != "GRANT OPTION ON *.*" {
		t.Fatalf("Grants = %v, %v", got, err)
	}
	if _, _, err := engine.Reconcile(r.ctx, r.adm, a, nil); err != nil {
		t.Fatal(err)
	}
	for _, l := range showGrants(t, r, a) {
		if strings.Contains(l, "GRANT OPTION") {
			t.Errorf("still: %s", l)
		}
	}
}

// TestReconcilePrivilegeTheMasterLacks: SUPER, which the RDS master user
// does not hold, cannot be revoked by it: Reconcile fails naming it.
func TestReconcilePrivilegeTheMasterLacks(t *testing.T) {
	r := newAdminRig(t)
	a := r.appAccount()
	if _, err := r.adm.EnsureAccount(r.ctx, a, "App-Pa55word"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.RootDB().ExecContext(r.ctx, "GRANT SUPER ON *.* TO '"+a.User+"'@'%'"); err != nil {
		t.Fatal(err)
	}
	_, _, err := engine.Reconcile(r.ctx, r.adm, a, nil)
	if err == nil || !strings.Contains(err.Error(), "revoke SUPER ON *.*") {
		t.Errorf("Reconcile = %v, want the refused revoke of SUPER", err)
	}
}

// showGrants is SHOW GRANTS FOR the account as root, password hashes
// masked.
func showGrants(t *testing.T, r *adminRig, a engine.Account) []string {
	t.Helper()
	rows, err := srv.RootDB().QueryContext(r.ctx, "SHOW GRANTS FOR '"+a.User+"'@'%'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		if i := strings.Index(l, "PASSWORD '"); i >= 0 {
			l = l[:i] + "PASSWORD '*'"
		}
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}
