package mysql

import (
	"crypto/x509"
	"fmt"
	"os"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/example/secret-rotation/internal/rdsca"
)

// DefaultConnectTimeout bounds dialing plus the TLS and login handshake.
const DefaultConnectTimeout = 5 * time.Second

// Option configures a [Dialer].
type Option func(*Dialer) error

// WithCABundleFile adds the certificates of a PEM file to the trusted roots
// (the system roots and the shipped Amazon RDS CAs), for example a newer
// RDS bundle or a private CA. An empty path is a no-op.
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
			d.roots = defaultRoots()
		}
		if !d.roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("CA bundle contains no PEM certificate")
		}
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
func WithDriverLogger(l gomysql.Logger) Option {
	return func(d *Dialer) error {
		d.logger = l
		return nil
	}
}

// shippedCAs returns the Amazon RDS CAs built into the binary; tests swap
// it (export_test.go) for a throwaway CA that signs the test server.
var shippedCAs = rdsca.Certificates

// defaultRoots is what a Dialer trusts without options: a copy of the
// system pool (empty when the platform has none) plus the Amazon RDS CAs
// shipped with this module (package rdsca), which RDS server certificates
// chain to and which are not system roots (RDS User Guide, "Using SSL/TLS
// to encrypt a connection to a DB instance or cluster":
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html).
func defaultRoots() *x509.CertPool {
	p, err := x509.SystemCertPool()
	if err != nil || p == nil {
		p = x509.NewCertPool()
	}
	for _, c := range shippedCAs() {
		p.AddCert(c)
	}
	return p
}
