package connect

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	gomysql "github.com/go-sql-driver/mysql"
	"golang.org/x/sync/singleflight"

	"github.com/example/secret-rotation/internal/ctxsleep"
	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/engine/mysql"
)

// Connection errors, matched with errors.Is; the same values the rotation
// function and the tools classify with.
var (
	// ErrAuth: the server refused the user name and password (MySQL error
	// 1045) with every value the connector tried.
	ErrAuth = engine.ErrAuth
	// ErrBlocked: the server refuses every login of the account after too
	// many failed logins (MariaDB max_password_errors, MySQL
	// FAILED_LOGIN_ATTEMPTS).
	ErrBlocked = engine.ErrBlocked
	// ErrCertificate: the server certificate did not verify (unknown
	// authority, wrong host name, expired).
	ErrCertificate = engine.ErrCertificate
)

// ErrSecret is matched (errors.Is) by errors where the secret could not be
// read from Secrets Manager or is not a valid database secret.
var ErrSecret = errors.New("cannot read database secret")

// Connector is a driver.Connector that takes credentials for every new
// connection from a Secrets Manager secret and survives its rotation (see
// the package documentation). It is safe for concurrent use; create it
// with [NewConnector] and pass it to sql.OpenDB, or use [Open].
type Connector struct {
	id     string
	cfg    config
	dialer *mysql.Dialer
	sf     singleflight.Group

	mu          sync.Mutex
	gen         *generation
	good        *credential // the credentials that last logged in
	lastRefresh time.Time

	connections, refreshes, refused, pendingLogins atomic.Uint64
}

var _ driver.Connector = (*Connector)(nil)

// Stats counts what a Connector did since it was created.
type Stats struct {
	// Connections is the number of connections opened successfully.
	Connections uint64
	// Refreshes is the number of times the secret was re-read because
	// the database refused a password.
	Refreshes uint64
	// RefusedLogins is the number of login attempts refused with MySQL
	// error 1045.
	RefusedLogins uint64
	// PendingLogins is the number of connections that fell back to the
	// AWSPENDING value because AWSCURRENT was refused (the rotation window
	// between setSecret and finishSecret). Later connections reuse those
	// credentials without counting here.
	PendingLogins uint64
}

// NewConnector returns a Connector for secretID (a name or ARN). Without
// [WithClient] it loads the default AWS configuration with ctx. Nothing is
// read from Secrets Manager until the first connection.
func NewConnector(ctx context.Context, secretID string, opts ...Option) (*Connector, error) {
	if secretID == "" {
		return nil, fmt.Errorf("connect: empty secret id")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("connect: %w", err)
		}
	}
	if cfg.client == nil {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("connect: load AWS configuration: %w", err)
		}
		cfg.client = secretsmanager.NewFromConfig(awsCfg)
	}
	dialer, err := mysql.NewDialer(cfg.dialerOpts...)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	c := &Connector{id: secretID, cfg: cfg, dialer: dialer}
	c.gen, err = c.newGeneration(1)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Open returns a *sql.DB whose connections come from a [Connector] for
// secretID, after checking that one connection can be opened.
func Open(ctx context.Context, secretID string, opts ...Option) (*sql.DB, error) {
	c, err := NewConnector(ctx, secretID, opts...)
	if err != nil {
		return nil, err
	}
	return mysql.OpenChecked(ctx, c)
}

// SecretID returns the secret the connector reads.
func (c *Connector) SecretID() string { return c.id }

// Driver implements driver.Connector.
func (c *Connector) Driver() driver.Driver { return gomysql.MySQLDriver{} }

// Stats returns the connector's counters.
func (c *Connector) Stats() Stats {
	return Stats{
		Connections:   c.connections.Load(),
		Refreshes:     c.refreshes.Load(),
		RefusedLogins: c.refused.Load(),
		PendingLogins: c.pendingLogins.Load(),
	}
}

// Connect implements driver.Connector: it opens one connection with the
// credentials most likely to work, refreshing the secret when the
// database refuses them.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	var lastErr error
	backoff := c.cfg.backoff
	for round := 0; round < c.cfg.attempts; round++ {
		if round > 1 {
			// The first refresh is immediate; later ones wait, because
			// the rotation may be between two of its steps.
			if err := ctxsleep.Sleep(ctx, backoff); err != nil {
				return nil, c.errorf("%w (last refusal: %w)", err, lastErr)
			}
			backoff *= 2
		}
		gen := c.generation()
		conn, err := c.tryGeneration(ctx, gen)
		if err == nil {
			return conn, nil
		}
		if !errors.Is(err, engine.ErrAuth) {
			return nil, err
		}
		lastErr = err
		if round+1 < c.cfg.attempts {
			if err := c.refresh(ctx, gen); err != nil {
				return nil, err
			}
		}
	}
	return nil, c.errorf("no stored password was accepted after %d refreshes: %w", c.cfg.attempts-1, lastErr)
}

// tryGeneration tries the last good credentials, then AWSCURRENT, then
// AWSPENDING of gen (single user), or AWSCURRENT, then the last good
// credentials (alternating users). It returns the first connection, the first error that
// is not a refused login, or the last refusal.
func (c *Connector) tryGeneration(ctx context.Context, gen *generation) (driver.Conn, error) {
	cur, err := gen.current(ctx)
	if err != nil {
		return nil, c.errorf("%w: %w", ErrSecret, err)
	}
	tried := make(map[*credential]bool, 3)
	var lastErr error
	try := func(cr *credential, fallback bool) (driver.Conn, error, bool) {
		if cr == nil || tried[cr] {
			return nil, nil, false
		}
		tried[cr] = true
		conn, err := cr.conn.Connect(ctx)
		if err == nil {
			c.setGood(cr)
			c.connections.Add(1)
			if fallback {
				c.pendingLogins.Add(1)
			}
			return conn, nil, true
		}
		if !errors.Is(err, engine.ErrAuth) {
			return nil, c.errorf("%w", err), true
		}
		c.refused.Add(1)
		c.clearGood(cr)
		lastErr = err
		return nil, nil, false
	}
	if cur.alternating {
		// Alternating users: AWSCURRENT always logs in (the previous
		// user keeps its password until the next rotation), so it comes
		// first and AWSPENDING never: it names the other user, whose
		// password is not valid before setSecret, and a login with it
		// would be a refused one that lockout policies count. The last
		// good credentials come second only, because they may be the
		// previous user, whose password the rotation after next changes.
		if conn, err, done := try(cur, false); done {
			return conn, err
		}
		if conn, err, done := try(c.goodCredential(), false); done {
			return conn, err
		}
		return nil, lastErr
	}
	if conn, err, done := try(c.goodCredential(), false); done {
		return conn, err
	}
	if conn, err, done := try(cur, false); done {
		return conn, err
	}
	if conn, err, done := try(gen.pending(ctx), true); done {
		return conn, err
	}
	return nil, lastErr // not prefixed: Connect wraps it once
}

// refresh replaces seen by a new generation that has read AWSCURRENT again,
// unless another caller already did (single flight). It waits out the
// minimum refresh interval first.
func (c *Connector) refresh(ctx context.Context, seen *generation) error {
	_, err, _ := c.sf.Do("refresh", func() (any, error) {
		c.mu.Lock()
		cur, last := c.gen, c.lastRefresh
		c.mu.Unlock()
		if cur != seen {
			return nil, nil // someone refreshed since this caller read
		}
		if wait := c.cfg.minRefresh - time.Since(last); wait > 0 {
			if err := ctxsleep.Sleep(ctx, wait); err != nil {
				return nil, err
			}
		}
		g, err := c.newGeneration(cur.n + 1)
		if err != nil {
			return nil, err
		}
		// Read eagerly so a Secrets Manager outage keeps the old
		// generation instead of installing an empty one.
		if _, err := g.current(ctx); err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.gen, c.lastRefresh = g, time.Now()
		c.mu.Unlock()
		c.refreshes.Add(1)
		c.cfg.logger.Info("database secret refreshed after a refused login", "secret_id", c.id, "generation", g.n)
		return nil, nil
	})
	if err != nil {
		return c.errorf("refresh: %w: %w", ErrSecret, err)
	}
	return nil
}

func (c *Connector) generation() *generation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *Connector) goodCredential() *credential {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.good
}

func (c *Connector) setGood(cr *credential) {
	c.mu.Lock()
	c.good = cr
	c.mu.Unlock()
}

func (c *Connector) clearGood(cr *credential) {
	c.mu.Lock()
	if c.good == cr {
		c.good = nil
	}
	c.mu.Unlock()
}

// errorf prefixes an error with the secret id; the wrapped engine errors
// name the host. Neither ever contains a password.
func (c *Connector) errorf(format string, args ...any) error {
	return fmt.Errorf("secret %s: "+format, append([]any{c.id}, args...)...)
}
