package testdb

import "time"

// startTimeout bounds how long Start and Resume wait for the server to
// accept connections, in addition to the context deadline.
const startTimeout = 60 * time.Second

// Option configures Start.
type Option func(*options)

type options struct {
	tls           bool
	requireSecure bool
	freshDatadir  bool
	// searchPath lists the directories searched for server binaries; nil means
	// $PATH followed by defaultSearchDirs. Tests replace it to simulate a
	// machine without a server.
	searchPath []string
}

func defaultOptions() options {
	return options{tls: true}
}

// WithRequireSecureTransport starts the server with
// require_secure_transport=ON: logins over plain TCP are refused, TLS (or the
// unix socket) is required. It implies TLS and cannot be combined with
// WithoutTLS.
func WithRequireSecureTransport() Option {
	return func(o *options) { o.requireSecure = true }
}

// WithoutTLS starts a server that offers no TLS at all (have_ssl=DISABLED),
// for tests of clients that fall back to plain connections. CAFile, CAPEM
// and TLSConfig return zero values for such a server.
func WithoutTLS() Option {
	return func(o *options) { o.tls = false }
}

// withSearchPath replaces $PATH and the default directories in the binary
// lookup; tests use it to simulate a machine without a server binary.
func withSearchPath(dirs ...string) Option {
	return func(o *options) { o.searchPath = append([]string{}, dirs...) }
}

// WithFreshDatadir runs mariadb-install-db for this server instead of
// copying the machine-wide template datadir that Start otherwise keeps in
// $TMPDIR (see prepareDataDir). Slower; for tests of the harness itself.
func WithFreshDatadir() Option {
	return func(o *options) { o.freshDatadir = true }
}
