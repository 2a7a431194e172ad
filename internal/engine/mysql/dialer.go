package mysql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/secret"
)

// Server error numbers of a blocked account; see [engine.ErrBlocked].
const (
	erUserIsBlocked       = 4150 // MariaDB ER_USER_IS_BLOCKED
	erAccountPasswordLock = 3955 // MySQL ER_USER_ACCESS_DENIED_FOR_USER_ACCOUNT_BLOCKED_BY_PASSWORD_LOCK
)

// Server error numbers of a login whose credentials were accepted but
// whose default schema cannot be selected; see [engine.ErrUnknownDatabase]
// and [engine.ErrDatabaseAccess]. erNoSuchTable is a statement's table
// (or a GRANT's) that does not exist.
const (
	erDBAccessDenied = 1044 // ER_DBACCESS_DENIED_ERROR
	erBadDB          = 1049 // ER_BAD_DB_ERROR
	erNoSuchTable    = 1146 // ER_NO_SUCH_TABLE
)

// Opener opens a database handle for a secret. [*Dialer] implements it;
// tests plug in fakes.
type Opener interface {
	Open(ctx context.Context, s *secret.Secret) (*sql.DB, error)
}

// Dialer connects to the database a [secret.Secret] describes. The zero value is
// not usable; create one with [NewDialer]. A Dialer is safe for concurrent
// use.
type Dialer struct {
	roots          *x509.CertPool
	connectTimeout time.Duration
	logger         gomysql.Logger
}

var _ Opener = (*Dialer)(nil)

// NewDialer returns a Dialer trusting the system roots, the Amazon RDS CAs
// shipped with this module (package rdsca) and any CA bundle given in opts,
// with a 5 s connect timeout.
func NewDialer(opts ...Option) (*Dialer, error) {
	d := &Dialer{connectTimeout: DefaultConnectTimeout, logger: nopLogger{}}
	for _, o := range opts {
		if err := o(d); err != nil {
			return nil, err
		}
	}
	if d.roots == nil {
		d.roots = defaultRoots()
	}
	return d, nil
}

type nopLogger struct{}

func (nopLogger) Print(...any) {}

// TLSConfig returns the verified TLS configuration for host: trusted roots,
// server name = host, TLS 1.2 or later.
func (d *Dialer) TLSConfig(host string) *tls.Config {
	return &tls.Config{
		RootCAs:    d.roots,
		ServerName: host,
		MinVersion: tls.VersionTLS12,
	}
}

// MySQLConfig returns the driver configuration for s, with verified TLS
// when useTLS is true and plain text otherwise. It never enables the
// driver's own silent plaintext fallback; [Dialer.Connector] implements the
// secret's policy instead.
func (d *Dialer) MySQLConfig(s *secret.Secret, useTLS bool) *gomysql.Config {
	cfg := gomysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = s.Addr()
	cfg.User = s.Username
	cfg.Passwd = s.Password
	cfg.DBName = s.DBName
	cfg.Timeout = d.connectTimeout
	cfg.Logger = d.logger
	// Prepared statements carry values out of band; never splice them
	// into SQL text on the client.
	cfg.InterpolateParams = false
	if useTLS {
		cfg.TLS = d.TLSConfig(s.Host)
	}
	return cfg
}

// Connector returns a driver.Connector that opens connections for s
// following its SSL policy. Every new connection re-applies the policy
// (nothing is cached), and the whole connect phase, including the TLS and
// authentication handshake, is bounded by the connect timeout.
func (d *Dialer) Connector(s *secret.Secret) (driver.Connector, error) {
	c := &connector{timeout: d.connectTimeout, mode: s.SSL, addr: s.Addr()}
	var err error
	if s.SSL != secret.SSLDisabled {
		if c.tls, err = gomysql.NewConnector(d.MySQLConfig(s, true)); err != nil {
			return nil, fmt.Errorf("configure TLS connection: %w", err)
		}
	}
	if s.SSL != secret.SSLRequired {
		if c.plain, err = gomysql.NewConnector(d.MySQLConfig(s, false)); err != nil {
			return nil, fmt.Errorf("configure connection: %w", err)
		}
	}
	return c, nil
}

// Open returns a *sql.DB for s after checking that one connection can be
// established (the error says why not). The caller closes it.
func (d *Dialer) Open(ctx context.Context, s *secret.Secret) (*sql.DB, error) {
	c, err := d.Connector(s)
	if err != nil {
		return nil, err
	}
	return OpenChecked(ctx, c)
}

// OpenChecked returns sql.OpenDB(c) after checking that one connection
// can be established (the error says why not); the caller closes it.
func OpenChecked(ctx context.Context, c driver.Connector) (*sql.DB, error) {
	db := sql.OpenDB(c)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Connect is NewDialer(opts...) followed by Open: a pinged *sql.DB for s
// that applies the secret's TLS policy to every connection.
func Connect(ctx context.Context, s *secret.Secret, opts ...Option) (*sql.DB, error) {
	d, err := NewDialer(opts...)
	if err != nil {
		return nil, err
	}
	return d.Open(ctx, s)
}

type connector struct {
	tls, plain driver.Connector
	mode       secret.SSLMode
	addr       string
	timeout    time.Duration
}

func (c *connector) Driver() driver.Driver { return gomysql.MySQLDriver{} }

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	if c.tls != nil {
		conn, err := c.connect(ctx, c.tls, true)
		if err == nil || c.plain == nil || ctx.Err() != nil || answered(err) {
			return conn, err
		}
		conn, perr := c.connect(ctx, c.plain, false)
		if perr != nil {
			return nil, fmt.Errorf("%w; plain-text fallback: %w", err, perr)
		}
		return conn, nil
	}
	return c.connect(ctx, c.plain, false)
}

// answered reports a login error the server gave after the handshake,
// which a plain-text attempt would only repeat (and count again): the
// credentials refused, the account blocked, or the default schema unknown
// or denied.
func answered(err error) bool {
	for _, e := range []error{engine.ErrAuth, engine.ErrBlocked, engine.ErrUnknownDatabase, engine.ErrDatabaseAccess} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (c *connector) connect(ctx context.Context, dc driver.Connector, useTLS bool) (driver.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	conn, err := dc.Connect(ctx)
	if err != nil {
		return nil, classify(err, c.addr, useTLS)
	}
	return conn, nil
}

// classify wraps a driver error with what it means for the operator.
func classify(err error, addr string, useTLS bool) error {
	how := "plain text"
	if useTLS {
		how = "TLS"
	}
	var (
		hostErr x509.HostnameError
		uaErr   x509.UnknownAuthorityError
		ciErr   x509.CertificateInvalidError
		cvErr   *tls.CertificateVerificationError
		myErr   *gomysql.MySQLError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &hostErr):
		return fmt.Errorf("connect to %s over TLS: %w: certificate is not valid for this host name: %w", addr, engine.ErrCertificate, err)
	case errors.As(err, &uaErr), errors.As(err, &ciErr), errors.As(err, &cvErr):
		return fmt.Errorf("connect to %s over TLS: %w: %w", addr, engine.ErrCertificate, err)
	case errors.As(err, &myErr) && myErr.Number == 1045:
		return fmt.Errorf("connect to %s over %s: %w: %w", addr, how, engine.ErrAuth, err)
	case errors.As(err, &myErr) && (myErr.Number == erUserIsBlocked || myErr.Number == erAccountPasswordLock):
		return fmt.Errorf("connect to %s over %s: %w: %w", addr, how, engine.ErrBlocked, err)
	case errors.As(err, &myErr) && myErr.Number == erBadDB:
		return fmt.Errorf("connect to %s over %s: %w (the credentials were accepted): %w", addr, how, engine.ErrUnknownDatabase, err)
	case errors.As(err, &myErr) && myErr.Number == erDBAccessDenied:
		return fmt.Errorf("connect to %s over %s: %w (the credentials were accepted): %w", addr, how, engine.ErrDatabaseAccess, err)
	case errors.Is(err, gomysql.ErrNoTLS):
		return fmt.Errorf("connect to %s: server does not offer TLS: %w", addr, err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("connect to %s over %s: timed out: %w", addr, how, err)
	}
	return fmt.Errorf("connect to %s over %s: %w", addr, how, err)
}
