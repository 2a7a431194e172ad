package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/secret"
)

// Engine is the [engine.Engine] for MySQL, Aurora MySQL and MariaDB,
// connecting through a [Dialer] (TLS policy, CA bundle, connect timeout).
type Engine struct {
	dialer *Dialer
}

var _ engine.Engine = (*Engine)(nil)

// NewEngine returns an engine.Engine that connects with d.
func NewEngine(d *Dialer) *Engine { return &Engine{dialer: d} }

// Login opens one connection as s.
func (m *Engine) Login(ctx context.Context, s *secret.Secret) (engine.Session, error) {
	c, err := m.dialer.Connector(s)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("log in as %s: %w", s.Username, err)
	}
	return &mysqlSession{db: db, conn: conn}, nil
}

type mysqlSession struct {
	db   *sql.DB
	conn *sql.Conn
}

func (s *mysqlSession) Close() error {
	err := s.conn.Close()
	return errors.Join(err, s.db.Close())
}

func (s *mysqlSession) Check(ctx context.Context) error {
	var one int
	if err := s.conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("test query: %w", err)
	}
	return nil
}

// ChangePassword reads the server version and sql_mode on this very
// connection, then sends the flavour's statement with the password as an
// escaped literal. A server error is reduced to its number and SQLSTATE,
// because MySQL syntax errors quote the statement text, which contains the
// password.
func (s *mysqlSession) ChangePassword(ctx context.Context, newPassword string) error {
	var version, mode string
	err := s.conn.QueryRowContext(ctx, "SELECT VERSION(), @@SESSION.sql_mode").Scan(&version, &mode)
	if err != nil {
		return fmt.Errorf("read server version: %w", err)
	}
	sv, err := ParseServerVersion(version)
	if err != nil {
		return err
	}
	lit, err := QuoteString(newPassword, hasMode(mode, "NO_BACKSLASH_ESCAPES"))
	if err != nil {
		return err
	}
	if _, err := s.conn.ExecContext(ctx, sv.PasswordSQL(lit)); err != nil {
		return fmt.Errorf("change password on %s: %w", sv, redact(err))
	}
	return nil
}

func hasMode(modes, want string) bool {
	for _, m := range strings.Split(modes, ",") {
		if strings.EqualFold(strings.TrimSpace(m), want) {
			return true
		}
	}
	return false
}

// redact keeps a server error's number and state but drops its message.
func redact(err error) error {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return fmt.Errorf("server error %d (SQLSTATE %s); message withheld because it may quote the password", me.Number, string(me.SQLState[:]))
	}
	// Client-side errors (network, context) never contain statement text.
	return err
}
