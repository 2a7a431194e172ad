package dbsecret

import (
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DefaultConnectTimeout bounds dialing plus the TLS and login handshake.
const DefaultConnectTimeout = 5 * time.Second

// Option configures a [Dialer].
type Option func(*Dialer) error

// WithCABundleFile adds the certificates of a PEM file (for example the
// Amazon RDS global bundle) to the trusted roots. An empty path is a no-op.
func WithCABundleFile(path string) Option {
	return func(d *Dialer) error {
		if path == "" {
			return nil
		}
		pem, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read CA bundle: %w", err)
		}
		return WithCABundlePEM(pem)(d)
	}
}

// WithCABundlePEM adds PEM-encoded CA certificates to the trusted roots.
func WithCABundlePEM(pem []byte) Option {
	return func(d *Dialer) error {
		if d.roots == nil {
			d.roots = systemRoots()
		}
		if !d.roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("CA bundle contains no PEM certificate")
		}
		return nil
	}
}

// WithRootCAs replaces the trusted roots (system roots plus bundles) by
// pool. Meant for tests that must not trust the system roots.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(d *Dialer) error {
		d.roots = pool
		return nil
	}
}

// WithConnectTimeout changes the connect timeout (default 5 s).
func WithConnectTimeout(t time.Duration) Option {
	return func(d *Dialer) error {
		if t <= 0 {
			return fmt.Errorf("connect timeout must be positive")
		}
		d.connectTimeout = t
		return nil
	}
}

// WithDriverLogger sets the go-sql-driver logger (it logs connection-level
// problems such as unexpected EOF, never credentials). Default: discard.
func WithDriverLogger(l mysql.Logger) Option {
	return func(d *Dialer) error {
		d.logger = l
		return nil
	}
}

// systemRoots returns a copy of the system pool, or an empty pool when the
// platform has none (the CA bundle then is the only trust anchor).
func systemRoots() *x509.CertPool {
	if p, err := x509.SystemCertPool(); err == nil && p != nil {
		return p
	}
	return x509.NewCertPool()
}
