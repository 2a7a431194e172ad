package testdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// errNeedsMariaDB is returned by the helpers below on a MySQL server,
// which has neither USER_STATISTICS nor max_password_errors.
var errNeedsMariaDB = errors.New("testdb: needs a MariaDB server")

// FailedLogins returns how many logins of user (any host) the server has
// refused for a wrong password since it started (logins refused because
// the account is blocked are not counted). It reads MariaDB's per-account
// information_schema.USER_STATISTICS (DENIED_CONNECTIONS), which Start
// enables with userstat=ON, so tests count failed logins on the real
// server, per account, whatever else the server is doing. The server
// counts only for accounts that logged in successfully before, which
// [Server.CreateUser] does once.
func (s *Server) FailedLogins(ctx context.Context, user string) (int, error) {
	if s.bins.installer == "" {
		return 0, errNeedsMariaDB
	}
	var n int
	err := s.rootDB.QueryRowContext(ctx, "SELECT DENIED_CONNECTIONS FROM information_schema.USER_STATISTICS WHERE USER = ?", user).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // no login attempt yet
	}
	if err != nil {
		return 0, fmt.Errorf("testdb: failed logins of %s: %w", user, err)
	}
	return n, nil
}

// BlockAfterFailedLogins sets MariaDB's global max_password_errors to n:
// once an account has n failed logins in a row (a successful login resets
// the count), the server refuses every further login of it, the right
// password included, with error 4150 (ER_USER_IS_BLOCKED) until FLUSH
// PRIVILEGES or ALTER USER. Measured on MariaDB 10.11 with a USAGE-only
// account over TCP: with n=1 the login after a single failed one is
// already blocked. The returned restore sets the previous value again
// (which also unblocks accounts below it); call it when the test ends, as
// the setting is server-wide.
func (s *Server) BlockAfterFailedLogins(ctx context.Context, n int) (restore func(context.Context) error, err error) {
	if s.bins.installer == "" {
		return nil, errNeedsMariaDB
	}
	var old int64
	if err := s.rootDB.QueryRowContext(ctx, "SELECT @@GLOBAL.max_password_errors").Scan(&old); err != nil {
		return nil, fmt.Errorf("testdb: read max_password_errors: %w", err)
	}
	set := func(ctx context.Context, v int64) error {
		if _, err := s.rootDB.ExecContext(ctx, fmt.Sprintf("SET GLOBAL max_password_errors = %d", v)); err != nil {
			return fmt.Errorf("testdb: set max_password_errors: %w", err)
		}
		return nil
	}
	if err := set(ctx, int64(n)); err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return set(ctx, old) }, nil
}
