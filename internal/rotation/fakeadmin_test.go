package rotation_test

import (
	"context"
	"errors"
	"slices"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/grant"
)

// The fake session is also an engine.Admin, GrantReader and GrantProber
// over fakeDB.users and fakeDB.grants; every call is recorded in
// fakeDB.stmts so tests can prove that nothing reached the database.

var (
	_ engine.Admin       = (*fakeSession)(nil)
	_ engine.GrantProber = (*fakeSession)(nil)
)

func (s *fakeSession) admin(op string, a engine.Account) error {
	s.db.stmts = append(s.db.stmts, op+" "+a.String())
	return s.db.adminErr
}

func (s *fakeSession) AccountExists(_ context.Context, a engine.Account) (bool, error) {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	if err := s.admin("exists", a); err != nil {
		return false, err
	}
	_, ok := s.db.users[a.User]
	return ok, nil
}

func (s *fakeSession) EnsureAccount(_ context.Context, a engine.Account, pw string) (bool, error) {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	if err := s.admin("ensure", a); err != nil {
		return false, err
	}
	_, ok := s.db.users[a.User]
	s.db.users[a.User] = pw
	return !ok, nil
}

func (s *fakeSession) Grants(_ context.Context, a engine.Account) ([]grant.Grant, error) {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	if err := s.admin("grants", a); err != nil {
		return nil, err
	}
	return slices.Clone(s.db.grants[a.User]), nil
}

func (s *fakeSession) Grant(_ context.Context, a engine.Account, g grant.Grant) error {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	if err := s.admin("grant "+g.String()+" to", a); err != nil {
		return err
	}
	if g.Table != "" && slices.Contains(s.db.missingTables, g.Schema+"."+g.Table) {
		return &engine.UnknownTableError{Schema: g.Schema, Table: g.Table, Err: errors.New("Error 1146: table doesn't exist")}
	}
	if s.db.grants == nil {
		s.db.grants = map[string][]grant.Grant{}
	}
	have := s.db.grants[a.User]
	for i := range have {
		if have[i].Schema == g.Schema && have[i].Table == g.Table {
			have[i].Privileges = append(slices.Clone(have[i].Privileges), g.Privileges...)
			slices.Sort(have[i].Privileges)
			return nil
		}
	}
	s.db.grants[a.User] = append(have, grant.Grant{Privileges: slices.Clone(g.Privileges), Schema: g.Schema, Table: g.Table})
	return nil
}

func (s *fakeSession) Revoke(_ context.Context, a engine.Account, g grant.Grant) error {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	if err := s.admin("revoke "+g.String()+" from", a); err != nil {
		return err
	}
	have := s.db.grants[a.User]
	for i := range have {
		if have[i].Schema == g.Schema && have[i].Table == g.Table {
			have[i].Privileges = slices.DeleteFunc(slices.Clone(have[i].Privileges), func(p string) bool { return slices.Contains(g.Privileges, p) })
		}
	}
	s.db.grants[a.User] = slices.DeleteFunc(have, func(h grant.Grant) bool { return len(h.Privileges) == 0 })
	return nil
}

func (s *fakeSession) ProbeGrant(context.Context, grant.Grant) (string, error) {
	return "", s.db.probeErr
}

func (s *fakeSession) TableExists(_ context.Context, schema, table string) (bool, error) {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	s.db.stmts = append(s.db.stmts, "table "+schema+"."+table)
	return !slices.Contains(s.db.missingTables, schema+"."+table), s.db.adminErr
}

// RoutineGrants: the fake holds no routine-level privileges.
func (s *fakeSession) RoutineGrants(_ context.Context, a engine.Account) ([]grant.Grant, error) {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	return nil, s.admin("routines", a)
}
