package connect

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/example/secret-rotation/internal/engine/mysql"
)

// Default tuning; see the package documentation for what each bounds.
const (
	DefaultCacheTTL           = time.Hour
	DefaultRetryAttempts      = 4
	DefaultRetryBackoff       = 50 * time.Millisecond
	DefaultMinRefreshInterval = 100 * time.Millisecond
)

// Option configures a [Connector].
type Option func(*config) error

type config struct {
	client     SecretsClient
	cacheTTL   time.Duration
	logger     *slog.Logger
	dialerOpts []mysql.Option
	attempts   int
	backoff    time.Duration
	minRefresh time.Duration
}

func defaultConfig() config {
	return config{
		cacheTTL:   DefaultCacheTTL,
		logger:     slog.New(slog.DiscardHandler),
		attempts:   DefaultRetryAttempts,
		backoff:    DefaultRetryBackoff,
		minRefresh: DefaultMinRefreshInterval,
	}
}

// WithClient sets the Secrets Manager client (for example an
// *secretsmanager.Client with a BaseEndpoint). Without it, [NewConnector]
// loads the default AWS configuration (environment, profile, IMDS).
func WithClient(c SecretsClient) Option {
	return func(cfg *config) error {
		if c == nil {
			return fmt.Errorf("nil Secrets Manager client")
		}
		cfg.client = c
		return nil
	}
}

// WithCacheTTL sets how long a secret read is reused before the caching
// client checks Secrets Manager again (default one hour; the library
// jitters it between half and all of it). A rotation is noticed earlier
// anyway, on the first refused login.
func WithCacheTTL(d time.Duration) Option {
	return func(cfg *config) error {
		if d <= 0 {
			return fmt.Errorf("cache TTL must be positive")
		}
		cfg.cacheTTL = d
		return nil
	}
}

// WithLogger logs secret refreshes (secret id, generation, reason; never a
// value). Default: no logging.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) error {
		if l == nil {
			return fmt.Errorf("nil logger")
		}
		cfg.logger = l
		return nil
	}
}

// WithCABundleFile trusts the PEM certificates in path (a private CA, or an
// RDS bundle newer than the one built in) in addition to the system roots
// and the built-in Amazon RDS CAs (package rdsca).
func WithCABundleFile(path string) Option {
	return withDialerOptions(mysql.WithCABundleFile(path))
}

// WithCABundlePEM trusts the given PEM certificates in addition to the
// system roots and the built-in Amazon RDS CAs.
func WithCABundlePEM(pem []byte) Option {
	return withDialerOptions(mysql.WithCABundlePEM(pem))
}

// withDialerOptions passes options to the dialer that makes the
// connections.
func withDialerOptions(opts ...mysql.Option) Option {
	return func(cfg *config) error {
		cfg.dialerOpts = append(cfg.dialerOpts, opts...)
		return nil
	}
}

// WithRetry bounds the refused-login handling: attempts rounds of
// refresh-and-retry, sleeping backoff, 2*backoff, ... between them.
func WithRetry(attempts int, backoff time.Duration) Option {
	return func(cfg *config) error {
		if attempts < 1 || backoff < 0 {
			return fmt.Errorf("retry: need attempts >= 1 and backoff >= 0")
		}
		cfg.attempts, cfg.backoff = attempts, backoff
		return nil
	}
}

// WithMinRefreshInterval sets the shortest time between two refreshes of
// the secret (default 100 ms), which bounds Secrets Manager calls when
// the database refuses every stored password.
func WithMinRefreshInterval(d time.Duration) Option {
	return func(cfg *config) error {
		if d < 0 {
			return fmt.Errorf("minimum refresh interval must not be negative")
		}
		cfg.minRefresh = d
		return nil
	}
}
