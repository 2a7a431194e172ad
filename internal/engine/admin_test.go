package engine_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/grant"
)

func mustGrants(t *testing.T, gs ...string) []grant.Grant {
	t.Helper()
	out, err := grant.ParseAll(gs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func strs(gs []grant.Grant) []string {
	out := []string{}
	for _, g := range gs {
		out = append(out, g.String())
	}
	return out
}

func TestDiffGrants(t *testing.T) {
	tests := []struct {
		name           string
		have, want     []string
		missing, extra []string
	}{
		{"equal", []string{"SELECT ON a.*"}, []string{"SELECT ON a.*"}, nil, nil},
		{"from nothing", nil, []string{"SELECT, INSERT ON a.*", "SELECT ON b.t"}, []string{"INSERT, SELECT ON `a`.*", "SELECT ON `b`.`t`"}, nil},
		{"to nothing", []string{"SELECT ON a.*"}, nil, nil, []string{"SELECT ON `a`.*"}},
		{"privilege added and removed", []string{"SELECT, DROP ON a.*"}, []string{"SELECT, INSERT ON a.*"}, []string{"INSERT ON `a`.*"}, []string{"DROP ON `a`.*"}},
		{"table vs schema are different objects", []string{"SELECT ON a.t"}, []string{"SELECT ON a.*"}, []string{"SELECT ON `a`.*"}, []string{"SELECT ON `a`.`t`"}},
		{"names are case-sensitive", []string{"SELECT ON A.*"}, []string{"SELECT ON a.*"}, []string{"SELECT ON `a`.*"}, []string{"SELECT ON `A`.*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, x := engine.DiffGrants(mustGrants(t, tt.have...), mustGrants(t, tt.want...))
			if !slices.Equal(strs(m), append([]string{}, tt.missing...)) || !slices.Equal(strs(x), append([]string{}, tt.extra...)) {
				t.Errorf("missing %v extra %v; want %v and %v", strs(m), strs(x), tt.missing, tt.extra)
			}
		})
	}
	// Global, column and routine privileges as read from a server are
	// always extra, each its own object.
	have := []grant.Grant{
		{Privileges: []string{"SELECT"}, Global: true},
		{Privileges: []string{"SELECT"}, Schema: "a", Table: "t", Column: "c"},
		{Privileges: []string{"SELECT"}, Schema: "a", Table: "t"},
		{Privileges: []string{"EXECUTE"}, Schema: "a", Table: "t", Routine: "PROCEDURE"},
	}
	if _, x := engine.DiffGrants(have, mustGrants(t, "SELECT ON a.t")); !slices.Equal(strs(x), []string{"SELECT ON *.*", "SELECT (`c`) ON `a`.`t`", "EXECUTE ON PROCEDURE `a`.`t`"}) {
		t.Errorf("other levels: extra %v", strs(x))
	}
	// GRANT OPTION as read from a server is extra.
	have = []grant.Grant{{Privileges: []string{"GRANT OPTION", "SELECT"}, Schema: "a"}}
	if _, x := engine.DiffGrants(have, mustGrants(t, "SELECT ON a.*")); !slices.Equal(strs(x), []string{"GRANT OPTION ON `a`.*"}) {
		t.Errorf("grant option: extra %v", strs(x))
	}
}

func TestValidateGrant(t *testing.T) {
	tests := []struct {
		g  grant.Grant
		ok bool
	}{
		{grant.Grant{Privileges: []string{"SELECT", "INSERT"}, Schema: "a"}, true},
		{grant.Grant{Privileges: []string{"SELECT"}, Schema: "a", Table: "t"}, true},
		{grant.Grant{Privileges: []string{"select"}, Schema: "a"}, false},
		{grant.Grant{Privileges: []string{"SELECT, DROP"}, Schema: "a"}, false},
		{grant.Grant{Privileges: []string{"SELECT", "SELECT"}, Schema: "a"}, false},
		{grant.Grant{Privileges: []string{"GRANT OPTION"}, Schema: "a"}, false},
		{grant.Grant{Privileges: []string{"EXECUTE"}, Schema: "a", Table: "t"}, false},
		{grant.Grant{Privileges: []string{"SELECT"}, Schema: "a`b"}, false},
		{grant.Grant{Privileges: []string{"SELECT"}, Schema: "*"}, false},
		{grant.Grant{Privileges: nil, Schema: "a"}, false},
		{grant.Grant{Privileges: []string{"SELECT"}, Global: true}, false},
		{grant.Grant{Privileges: []string{"SELECT"}, Schema: "a", Table: "t", Column: "c"}, false},
		{grant.Grant{Privileges: []string{"EXECUTE"}, Schema: "a", Table: "p", Routine: "PROCEDURE"}, false},
	}
	for _, tt := range tests {
		if err := engine.ValidateGrant(tt.g); (err == nil) != tt.ok {
			t.Errorf("ValidateGrant(%q) = %v, want ok %v", tt.g, err, tt.ok)
		}
	}
}

// recordingAdmin is an in-memory engine.Admin that records calls.
type recordingAdmin struct {
	engine.Admin
	have     []grant.Grant
	routines []grant.Grant
	calls    []string
	fail     error
}

func (r *recordingAdmin) Grants(context.Context, engine.Account) ([]grant.Grant, error) {
	r.calls = append(r.calls, "read")
	return r.have, nil
}

func (r *recordingAdmin) RoutineGrants(context.Context, engine.Account) ([]grant.Grant, error) {
	r.calls = append(r.calls, "read routines")
	return r.routines, nil
}

func (r *recordingAdmin) Grant(_ context.Context, _ engine.Account, g grant.Grant) error {
	r.calls = append(r.calls, "grant "+g.String())
	return r.fail
}

func (r *recordingAdmin) Revoke(_ context.Context, _ engine.Account, g grant.Grant) error {
	r.calls = append(r.calls, "revoke "+g.String())
	return nil
}

func TestReconcileOrderAndValidation(t *testing.T) {
	ctx := context.Background()
	a := engine.Account{User: "app", Host: "%"}
	adm := &recordingAdmin{have: mustGrants(t, "SELECT, DROP ON a.*")}
	granted, revoked, err := engine.Reconcile(ctx, adm, a, mustGrants(t, "SELECT, INSERT ON a.*"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"read", "read routines", "revoke DROP ON `a`.*", "grant INSERT ON `a`.*"}
	if !slices.Equal(adm.calls, want) || len(granted) != 1 || len(revoked) != 1 {
		t.Errorf("calls %v, want %v", adm.calls, want)
	}
	// A routine privilege is read with the rest and revoked.
	adm = &recordingAdmin{routines: []grant.Grant{{Privileges: []string{"EXECUTE"}, Schema: "a", Table: "p", Routine: "FUNCTION"}}}
	if _, revoked, err := engine.Reconcile(ctx, adm, a, nil); err != nil || !slices.Equal(strs(revoked), []string{"EXECUTE ON FUNCTION `a`.`p`"}) {
		t.Errorf("routine: revoked %v, err %v", strs(revoked), err)
	}
	// An invalid wanted grant: nothing is read or sent.
	adm = &recordingAdmin{}
	if _, _, err := engine.Reconcile(ctx, adm, a, []grant.Grant{{Privileges: []string{"SUPER"}, Schema: "a"}}); !errors.Is(err, grant.ErrInvalid) || len(adm.calls) != 0 {
		t.Errorf("invalid grant: err %v, calls %v", err, adm.calls)
	}
	// A failed GRANT stops and reports what was done.
	adm = &recordingAdmin{fail: errors.New("boom")}
	_, revoked, err = engine.Reconcile(ctx, adm, a, mustGrants(t, "SELECT ON a.*", "SELECT ON b.*"))
	if err == nil || len(adm.calls) != 3 || len(revoked) != 0 {
		t.Errorf("failed grant: err %v, calls %v", err, adm.calls)
	}
}

func TestAccountValidate(t *testing.T) {
	for _, tt := range []struct {
		a  engine.Account
		ok bool
	}{
		{engine.Account{User: "app", Host: "%"}, true},
		{engine.Account{User: "app_clone", Host: "10.0.%"}, true},
		{engine.Account{User: "abcdefghijklmnopqrstuvwxyz_clone", Host: "%"}, true},
		{engine.Account{User: "abcdefghijklmnopqrstuvwxyz1_clone", Host: "%"}, false},
		{engine.Account{User: "app'", Host: "%"}, false},
		{engine.Account{User: "app", Host: "%'"}, false},
	} {
		if err := tt.a.Validate(); (err == nil) != tt.ok {
			t.Errorf("%q: %v, want ok %v", tt.a, err, tt.ok)
		}
	}
}
