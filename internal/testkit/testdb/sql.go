package testdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// erAccessDenied is ER_ACCESS_DENIED_ERROR: wrong user or password.
const erAccessDenied = 1045

// Config returns a go-sql-driver configuration for user over TCP to
// Addr, using verified TLS against the throwaway CA unless the server was
// started WithoutTLS. database may be empty. Each call returns a new Config
// the caller may modify.
func (s *Server) Config(user, password, database string) *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.User = user
	cfg.Passwd = password
	cfg.DBName = database
	cfg.Net = "tcp"
	cfg.Addr = s.Addr()
	cfg.Timeout = 5 * time.Second
	if s.tlsConf != nil {
		cfg.TLS = s.TLSConfig()
		cfg.TLSConfig = s.tlsName // so FormatDSN keeps the TLS setting
	}
	return cfg
}

// DSN is Config formatted as a data source name for sql.Open("mysql", ...).
// The TLS setting refers to a config registered with the driver until Stop.
func (s *Server) DSN(user, password, database string) string {
	return s.Config(user, password, database).FormatDSN()
}

// CreateDatabase creates database name (utf8mb4).
func (s *Server) CreateDatabase(ctx context.Context, name string) error {
	if _, err := s.rootDB.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(name)+" CHARACTER SET utf8mb4"); err != nil {
		return fmt.Errorf("testdb: create database %s: %w", name, err)
	}
	return nil
}

// DropDatabase drops database name if it exists.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	if _, err := s.rootDB.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)); err != nil {
		return fmt.Errorf("testdb: drop database %s: %w", name, err)
	}
	return nil
}

// CreateUser creates user@'%' identified by password and grants it each of
// grants, written as in a GRANT statement without the TO clause:
// "ALL ON db.*", "SELECT, INSERT ON db.t", "ALL ON *.* WITH GRANT OPTION".
// Without grants the user gets USAGE only, which is enough to log in and
// to change its own password with SET PASSWORD = PASSWORD('...') (the
// single-user rotation strategy). ALTER USER additionally needs
// "CREATE USER ON *.*" on MariaDB and must name the account: MariaDB 10.11
// accepts "ALTER USER CURRENT_USER() IDENTIFIED BY ..." but changes nothing. The user must not exist yet. If a
// grant fails the user is dropped again.
//
// CreateUser then logs in as the user once. That proves the account works
// and starts its row in MariaDB's per-account statistics, which counts
// refused logins only for accounts that have logged in before; so
// [Server.FailedLogins] counts from the account's very first failed login.
func (s *Server) CreateUser(ctx context.Context, user, password string, grants ...string) error {
	account := quoteAccount(user)
	if _, err := s.rootDB.ExecContext(ctx, "CREATE USER "+account+" IDENTIFIED BY "+quoteString(password)); err != nil {
		// The statement contains the password; the driver's error does not.
		return fmt.Errorf("testdb: create user %s: %w", user, err)
	}
	if len(grants) == 0 {
		grants = []string{"USAGE ON *.*"}
	}
	for _, g := range grants {
		if _, err := s.rootDB.ExecContext(ctx, grantStatement(g, account)); err != nil {
			_ = s.DropUser(ctx, user)
			return fmt.Errorf("testdb: grant %s to %s: %w", g, user, err)
		}
	}
	ok, err := s.CanLogin(ctx, user, password)
	if err == nil && !ok {
		err = errors.New("password refused")
	}
	if err != nil {
		_ = s.DropUser(ctx, user)
		return fmt.Errorf("testdb: first login of %s: %w", user, err)
	}
	return nil
}

// grantStatement builds GRANT <privs ON obj> TO account [WITH GRANT OPTION]:
// callers write the grant option where it reads naturally, but SQL wants it
// after TO.
func grantStatement(grant, account string) string {
	const opt = "WITH GRANT OPTION"
	g := strings.TrimSpace(grant)
	suffix := ""
	if len(g) >= len(opt) && strings.EqualFold(g[len(g)-len(opt):], opt) {
		g = strings.TrimSpace(g[:len(g)-len(opt)])
		suffix = " " + opt
	}
	return "GRANT " + g + " TO " + account + suffix
}

// DropUser drops user@'%' if it exists.
func (s *Server) DropUser(ctx context.Context, user string) error {
	if _, err := s.rootDB.ExecContext(ctx, "DROP USER IF EXISTS "+quoteAccount(user)); err != nil {
		return fmt.Errorf("testdb: drop user %s: %w", user, err)
	}
	return nil
}

// CanLogin reports whether user can log in with password over TCP (with
// verified TLS unless the server was started WithoutTLS). A refused login
// (error 1045, access denied) is false with a nil error; any other failure,
// such as the server being down, is an error.
func (s *Server) CanLogin(ctx context.Context, user, password string) (bool, error) {
	connector, err := mysql.NewConnector(s.Config(user, password, ""))
	if err != nil {
		return false, fmt.Errorf("testdb: connector for %s: %w", user, err)
	}
	conn, err := connector.Connect(ctx)
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == erAccessDenied {
			return false, nil
		}
		return false, fmt.Errorf("testdb: log in as %s: %w", user, err)
	}
	if err := conn.Close(); err != nil {
		return true, fmt.Errorf("testdb: close connection of %s: %w", user, err)
	}
	return true, nil
}

// quoteAccount quotes user as the account user@'%'.
func quoteAccount(user string) string { return quoteString(user) + "@'%'" }

// quoteIdent quotes a schema identifier with backticks.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// quoteString makes s a single-quoted SQL string literal under the default
// sql_mode (backslash is an escape character). Passwords from Secrets
// Manager can contain any punctuation, quotes and backslashes included.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 0x1a:
			b.WriteString(`\Z`)
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
