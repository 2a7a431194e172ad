// Package engine is the seam between the rotation steps (and the tools)
// and a database dialect. It defines what the steps need from a database,
// [Engine] and [Session], and the errors every dialect's classification
// wraps, so code above it tells a refused password from an unreachable
// server without importing a driver. A dialect is a subpackage:
// internal/engine/mysql for MySQL, Aurora MySQL and MariaDB. Adding an
// engine means adding such a package (dialer, error classification,
// password statement) and a test harness; the steps do not change.
//
// The alternating-users strategy needs more from a session logged in as
// the master user: [Admin] (create an account or set its password, read,
// grant schema- and table-level grants, read and revoke every privilege:
// global, schema, table, column and routine level), and from a session of
// the application account, [GrantReader] and [GrantProber]. A dialect's
// Session implements them when it supports the strategy; callers
// type-assert, so Session itself stays small. [Reconcile] makes an
// account's grants exactly the declared ones with [DiffGrants]; the tools
// reuse both to report drift.
package engine

import (
	"context"
	"errors"

	"github.com/example/secret-rotation/internal/secret"
)

// ErrCertificate is matched (errors.Is) by connection errors caused by the
// server certificate: unknown authority, wrong host name, expired.
var ErrCertificate = errors.New("database TLS certificate verification failed")

// ErrAuth is matched (errors.Is) by connection errors where the server
// refused the user name and password (MySQL error 1045).
var ErrAuth = errors.New("database refused the credentials")

// ErrBlocked is matched (errors.Is) by connection errors where the server
// refuses every login of the account, the right password included,
// because of too many failed logins: MariaDB's max_password_errors
// (error 4150, ER_USER_IS_BLOCKED) or MySQL's FAILED_LOGIN_ATTEMPTS
// (error 3955, ER_USER_ACCESS_DENIED_FOR_USER_ACCOUNT_BLOCKED_BY_PASSWORD_LOCK).
// It says nothing about the password, so it does not match [ErrAuth].
var ErrBlocked = errors.New("database account is blocked after too many failed logins")

// ErrUnknownDatabase is matched (errors.Is) by connection errors where the
// server accepted the credentials but the default schema the secret names
// ("dbname") does not exist (MySQL error 1049, ER_BAD_DB_ERROR): the
// database is reachable and the password right. MariaDB answers 1049 only
// to an account holding a privilege on that schema (as the
// alternating-users accounts hold schema.*); to others it answers 1044
// ([ErrDatabaseAccess]), which does not tell whether the schema exists.
// The rotation function and
// the tools log in without a default schema, so only a client that selects
// one (package connect) meets it.
var ErrUnknownDatabase = errors.New("the secret's default schema (\"dbname\") does not exist")

// ErrDatabaseAccess is matched (errors.Is) by connection errors where the
// server accepted the credentials but the account has no privilege on the
// default schema the secret names (MySQL error 1044,
// ER_DBACCESS_DENIED_ERROR). It says nothing against the password, so it
// does not match [ErrAuth].
var ErrDatabaseAccess = errors.New("the account has no privilege on the secret's default schema (\"dbname\")")

// ErrUnknownObject is matched (errors.Is) by an [Admin.Grant] error, and by
// the alternating-users rotation's check before any change, when a
// table-level grant names a table (or a schema) that does not exist yet
// (MySQL error 1146 or 1049): unlike a schema-level grant (schema.*), which
// the server accepts before the schema is created, a table-level grant
// needs the table at rotation time.
var ErrUnknownObject = errors.New("a table-level grant names a table that does not exist")

// Engine logs in to the server a secret describes. Login returns an
// error matching [ErrAuth] when the server refuses the credentials.
type Engine interface {
	Login(ctx context.Context, s *secret.Secret) (Session, error)
}

// Session is one logged-in connection.
type Session interface {
	// ChangePassword sets the password of the logged-in account. Its
	// error never contains the password.
	ChangePassword(ctx context.Context, newPassword string) error
	// Check runs a trivial query to prove the session works.
	Check(ctx context.Context) error
	// Close releases the connection.
	Close() error
}

// WithoutSchema returns a copy of s that selects no default schema: the
// rotation function's and the tools' own logins (the master user, the
// ownership checks, testSecret, rotatectl's login checks) use it, so they
// work before the application has created the schema its secret names
// ("dbname": a freshly created database has none) and whatever grants
// the account holds on it. Setting a password, creating an account,
// granting (schema.* is accepted before CREATE DATABASE) and reading
// grants need no default schema; the application's own clients still
// select it.
func WithoutSchema(s *secret.Secret) *secret.Secret {
	c := *s
	c.DBName = ""
	return &c
}
