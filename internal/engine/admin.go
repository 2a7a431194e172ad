package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/example/secret-rotation/internal/grant"
)

// Account is a database account, 'User'@'Host'. Host is the account's
// host pattern ("%" for any host), not the server's address.
type Account struct {
	User string
	Host string
}

// String formats the account as user@host for messages (not for SQL).
func (a Account) String() string { return a.User + "@" + a.Host }

// Validate checks the account against the grammar of package grant: the
// user name fits the server's 32-character limit and holds only letters,
// digits and "_"; the host is "%", a name or an address. Every dialect
// validates an account this way before building a statement with it.
func (a Account) Validate() error {
	if err := grant.ValidateAccount(a.User); err != nil {
		return err
	}
	return grant.ValidateHost(a.Host)
}

// GrantReader reads an account's global, schema-, table- and column-level
// privileges, one [grant.Grant] per object (per column for column
// privileges) with its privileges sorted. A privilege held WITH GRANT
// OPTION adds "GRANT OPTION" to that object's privileges (for a column
// privilege, to its table's), so it shows up as a difference from any
// declared grant (which never has it); global privileges and column
// privileges can never be declared, so any of them is a difference too.
// Global USAGE (no privilege) is not reported. Routine-level privileges
// are not read here (see [Admin]). Implemented by a Session logged in as
// the master user (any account) or as the account itself (its own grants).
type GrantReader interface {
	Grants(ctx context.Context, a Account) ([]grant.Grant, error)
}

// Admin is what the alternating-users strategy needs from a Session
// logged in as the master user. A dialect's Session implements it when
// the dialect supports that strategy; callers type-assert. Every method
// validates the account and grant before building any statement, and no
// error ever contains a password.
type Admin interface {
	GrantReader
	// RoutineGrants reads the account's routine-level privileges (EXECUTE,
	// ALTER ROUTINE on one procedure or function), which only the master
	// can read (an account cannot read its own). [AllGrants] reads both.
	RoutineGrants(ctx context.Context, a Account) ([]grant.Grant, error)
	// AccountExists reports whether the account exists.
	AccountExists(ctx context.Context, a Account) (bool, error)
	// EnsureAccount creates the account with password if it does not
	// exist, or sets its password if it does; created reports which.
	EnsureAccount(ctx context.Context, a Account, password string) (created bool, err error)
	// TableExists reports whether the table (or view) schema.table exists.
	// A table-level grant needs it (see [UnknownTableError]); a
	// schema-level one does not.
	TableExists(ctx context.Context, schema, table string) (bool, error)
	// Grant grants g's privileges on g's object to the account. g must be
	// valid in the grammar of package grant. A table-level grant on a
	// table that does not exist fails with an [UnknownTableError].
	Grant(ctx context.Context, a Account, g grant.Grant) error
	// Revoke revokes g's privileges on g's object from the account. g may
	// hold what [GrantReader] read and the grammar does not allow (GRANT
	// OPTION, another server's privilege keyword, a wildcard schema), so
	// that such drift can be removed; it is still checked to be keywords
	// and identifiers only.
	Revoke(ctx context.Context, a Account, g grant.Grant) error
}

// GrantProber is implemented by a Session logged in as an account with
// declared grants: ProbeGrant runs, per privilege class of g it can probe
// without side effects, one statement that needs the privilege and
// changes nothing, so a refusal shows the account cannot use the grant.
// When g's object does not exist yet as the account sees it (a schema the
// application has not created, a table dropped since it was granted) or
// a schema has no table to probe, nothing is run: skipped says why, and
// err is nil. That is not a failure: the account's own view of its grants
// still proves what it holds.
type GrantProber interface {
	ProbeGrant(ctx context.Context, g grant.Grant) (skipped string, err error)
}

// UnknownTableError is the error of a table-level grant whose table does
// not exist (yet). It matches [ErrUnknownObject].
type UnknownTableError struct {
	Schema, Table string
	// Err is the server's error, nil when the table was found missing
	// before any statement was sent.
	Err error
}

func (e *UnknownTableError) Error() string {
	msg := fmt.Sprintf("table %s.%s does not exist yet: grant on the schema (%s.*) or create the table before the rotation", e.Schema, e.Table, e.Schema)
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

// Is makes errors.Is(err, ErrUnknownObject) true.
func (e *UnknownTableError) Is(target error) bool { return target == ErrUnknownObject }

// Unwrap returns the server's error, if any.
func (e *UnknownTableError) Unwrap() error { return e.Err }

// CheckTables returns an [UnknownTableError] for the first table-level
// grant of gs whose table does not exist, before any change: the
// alternating-users strategy calls it with every grant it is about to
// send, so a missing table stops the rotation with nothing changed.
func CheckTables(ctx context.Context, adm Admin, gs []grant.Grant) error {
	for _, g := range gs {
		if g.Global || g.Table == "" || g.Routine != "" {
			continue
		}
		ok, err := adm.TableExists(ctx, g.Schema, g.Table)
		if err != nil {
			return err
		}
		if !ok {
			return &UnknownTableError{Schema: g.Schema, Table: g.Table}
		}
	}
	return nil
}

// AllGrants reads every privilege of the account that adm can read:
// [GrantReader.Grants] and [Admin.RoutineGrants].
func AllGrants(ctx context.Context, adm Admin, a Account) ([]grant.Grant, error) {
	gs, err := adm.Grants(ctx, a)
	if err != nil {
		return nil, err
	}
	rs, err := adm.RoutineGrants(ctx, a)
	if err != nil {
		return nil, err
	}
	return append(gs, rs...), nil
}

// DiffGrants compares the grants an account has with the ones it should
// have: missing holds, per object, the privileges to grant; extra the
// privileges to revoke (objects that are not wanted at all included).
// Both are in a stable order (want's order, then have's), so the
// statements a reconciliation sends are reproducible.
func DiffGrants(have, want []grant.Grant) (missing, extra []grant.Grant) {
	haveBy := byObject(have)
	wantBy := byObject(want)
	for _, w := range want {
		if d := subtract(w.Privileges, haveBy[key(w)]); len(d) > 0 {
			w.Privileges = d
			missing = append(missing, w)
		}
	}
	for _, h := range have {
		if d := subtract(h.Privileges, wantBy[key(h)]); len(d) > 0 {
			h.Privileges = d
			extra = append(extra, h)
		}
	}
	return missing, extra
}

// Reconcile makes the account's privileges exactly want: it reads them all
// ([AllGrants]: global, schema, table, column and routine level), grants
// what is missing and revokes what is extra (a global, column or routine
// privilege is always extra, as want is declared grants).
// It returns the changes it made, for the log. Nothing is sent unless
// every wanted grant is valid.
func Reconcile(ctx context.Context, adm Admin, a Account, want []grant.Grant) (granted, revoked []grant.Grant, err error) {
	if err := validateGrants(want); err != nil {
		return nil, nil, err
	}
	have, err := AllGrants(ctx, adm, a)
	if err != nil {
		return nil, nil, err
	}
	return apply(ctx, adm, a, have, want)
}

// ReconcileFrom is [Reconcile] for a caller that has just read the
// account's privileges with [AllGrants] on the same session (have), so
// they are not read a second time.
func ReconcileFrom(ctx context.Context, adm Admin, a Account, have, want []grant.Grant) (granted, revoked []grant.Grant, err error) {
	if err := validateGrants(want); err != nil {
		return nil, nil, err
	}
	return apply(ctx, adm, a, have, want)
}

func validateGrants(gs []grant.Grant) error {
	for _, g := range gs {
		if err := ValidateGrant(g); err != nil {
			return err
		}
	}
	return nil
}

// apply revokes what have holds beyond want and grants what it lacks.
func apply(ctx context.Context, adm Admin, a Account, have, want []grant.Grant) (granted, revoked []grant.Grant, err error) {
	missing, extra := DiffGrants(have, want)
	// Revoke first: a privilege that moved between objects is never held
	// twice longer than needed.
	for _, g := range extra {
		if err := adm.Revoke(ctx, a, g); err != nil {
			return granted, revoked, err
		}
		revoked = append(revoked, g)
	}
	for _, g := range missing {
		if err := adm.Grant(ctx, a, g); err != nil {
			return granted, revoked, err
		}
		granted = append(granted, g)
	}
	return granted, revoked, nil
}

// ValidateGrant checks that g is a grant the grammar of package grant
// accepts, exactly as it stands: reading its canonical form back gives g.
func ValidateGrant(g grant.Grant) error {
	if !g.Declared() {
		return &grant.Error{Input: g.String(), Reason: "global, column and routine privileges cannot be declared"}
	}
	parsed, err := grant.Parse(g.String())
	if err != nil {
		return err
	}
	want := slices.Clone(g.Privileges)
	slices.Sort(want)
	if !slices.Equal(parsed.Privileges, want) || parsed.Schema != g.Schema || parsed.Table != g.Table {
		return &grant.Error{Input: g.String(), Reason: "not in canonical form"}
	}
	return nil
}

// FormatGrants lists grants for a log line or an error message.
func FormatGrants(gs []grant.Grant) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = g.String()
	}
	return fmt.Sprintf("[%s]", strings.Join(parts, "; "))
}

type objectKey struct {
	global                         bool
	schema, table, column, routine string
}

func key(g grant.Grant) objectKey {
	return objectKey{g.Global, g.Schema, g.Table, g.Column, g.Routine}
}

func byObject(gs []grant.Grant) map[objectKey][]string {
	m := make(map[objectKey][]string, len(gs))
	for _, g := range gs {
		m[key(g)] = append(m[key(g)], g.Privileges...)
	}
	return m
}

// subtract returns the privileges of a not in b, in a's order, once each.
func subtract(a, b []string) []string {
	var out []string
	for _, p := range a {
		if !slices.Contains(b, p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
