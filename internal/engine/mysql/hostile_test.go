package mysql_test

import (
	"context"
	"testing"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/grant"
)

// adminStatements sums the server's counters of the statements the admin
// methods send (global, so no other test of the package may run at once:
// none calls t.Parallel).
func adminStatements(t *testing.T, ctx context.Context) int {
	t.Helper()
	rows, err := srv.RootDB().QueryContext(ctx, `SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
WHERE VARIABLE_NAME IN ('COM_GRANT', 'COM_REVOKE', 'COM_CREATE_USER', 'COM_ALTER_USER', 'COM_SELECT', 'COM_STMT_EXECUTE', 'COM_STMT_PREPARE')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n, sum := 0, 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		sum += v
		n++
	}
	if n != 7 {
		t.Fatalf("found %d of 7 status counters", n)
	}
	return sum
}

// TestAdminRefusesHostileInput: names and grants that would change a
// statement's meaning are refused before anything reaches the server
// (the counters of every statement kind the methods send, SELECTs and
// prepared statements included, do not move).
func TestAdminRefusesHostileInput(t *testing.T) {
	r := newAdminRig(t)
	good := engine.Account{User: "app", Host: "%"}
	ok := grant.Grant{Privileges: []string{"SELECT"}, Schema: "app"}
	accounts := []engine.Account{
		{User: "app'@'%' IDENTIFIED BY 'x", Host: "%"},
		{User: "app", Host: "%' IDENTIFIED BY 'x"},
		{User: "root`", Host: "%"},
		{User: "a_name_that_is_longer_than_32_chars", Host: "%"},
		{User: "", Host: "%"},
		{User: "app", Host: ""},
		{User: "app\\", Host: "%"},
	}
	grants := []grant.Grant{
		{Privileges: []string{"SELECT"}, Schema: "x`.* TO app; DROP DATABASE mysql; -- "},
		{Privileges: []string{"SELECT"}, Schema: "app", Table: "t` TO `root"},
		{Privileges: []string{"SELECT ON *.* TO app; --"}, Schema: "app"},
		{Privileges: []string{"ALL PRIVILEGES"}, Schema: "app"},
		{Privileges: []string{"SUPER"}, Schema: "app"},
		{Privileges: []string{"SELECT"}, Schema: "*"},
		{Privileges: nil, Schema: "app"},
		{Privileges: []string{"SELECT, DROP"}, Schema: "app"},
	}
	before := adminStatements(t, r.ctx)
	for _, a := range accounts {
		if _, err := r.adm.EnsureAccount(r.ctx, a, "pw"); err == nil {
			t.Errorf("EnsureAccount(%q) accepted", a)
		}
		if _, err := r.adm.AccountExists(r.ctx, a); err == nil {
			t.Errorf("AccountExists(%q) accepted", a)
		}
		if _, err := r.adm.Grants(r.ctx, a); err == nil {
			t.Errorf("Grants(%q) accepted", a)
		}
		if err := r.adm.Grant(r.ctx, a, ok); err == nil {
			t.Errorf("Grant to %q accepted", a)
		}
		if err := r.adm.Revoke(r.ctx, a, ok); err == nil {
			t.Errorf("Revoke from %q accepted", a)
		}
	}
	for _, g := range grants {
		if err := r.adm.Grant(r.ctx, good, g); err == nil {
			t.Errorf("Grant(%q) accepted", g)
		}
		if _, _, err := engine.Reconcile(r.ctx, r.adm, good, []grant.Grant{ok, g}); err == nil {
			t.Errorf("Reconcile with %q accepted", g)
		}
	}
	// What Grants and RoutineGrants could report from a hostile server
	// row: still nothing that ends the statement reaches the server.
	revokes := append(grants[:3:3],
		grant.Grant{Privileges: []string{"SELECT"}, Global: true, Schema: "app"},
		grant.Grant{Privileges: []string{"SELECT"}, Schema: "app", Table: "t", Column: "c`) ON *.* FROM app; --"},
		grant.Grant{Privileges: []string{"SELECT"}, Schema: "app", Column: "c"},
		grant.Grant{Privileges: []string{"EXECUTE"}, Schema: "app", Table: "p", Routine: "PROCEDURE `app`.`p` FROM app; --"},
		grant.Grant{Privileges: []string{"EXECUTE"}, Schema: "app", Table: "p", Routine: "TABLE"},
		grant.Grant{Privileges: []string{"EXECUTE"}, Schema: "app", Routine: "PROCEDURE"},
		grant.Grant{Privileges: []string{"SELECT"}, Schema: "app", Table: "t\x00", Column: "c"},
	)
	for _, g := range revokes {
		if err := r.adm.Revoke(r.ctx, good, g); err == nil {
			t.Errorf("Revoke(%q) accepted", g)
		}
	}
	for _, g := range revokes[3:] { // never granted, never declared
		if err := r.adm.Grant(r.ctx, good, g); err == nil {
			t.Errorf("Grant(%q) accepted", g)
		}
	}
	for _, a := range accounts {
		if _, err := r.adm.RoutineGrants(r.ctx, a); err == nil {
			t.Errorf("RoutineGrants(%q) accepted", a)
		}
	}
	if after := adminStatements(t, r.ctx); after != before+1 { // +1: the status query itself
		t.Errorf("%d statements reached the server", after-before-1)
	}
}
