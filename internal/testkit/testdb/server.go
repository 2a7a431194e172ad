package testdb

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/example/secret-rotation/internal/testkit/childproc"
	"github.com/go-sql-driver/mysql"
)

const host = "127.0.0.1"

// Server is a running throwaway MariaDB/MySQL server. Its methods are safe
// for concurrent use.
type Server struct {
	opts    options
	bins    binaries
	dir     string // private temp dir: datadir, socket, certs, logs
	dataDir string
	socket  string
	port    int
	certs   certFiles
	tlsConf *tls.Config // nil for WithoutTLS
	tlsName string      // key registered with mysql.RegisterTLSConfig, for DSN
	version string
	rootDB  *sql.DB

	mu      sync.Mutex
	proc    *childproc.Process // nil while halted
	frozen  bool               // SIGSTOPped by Freeze
	stopped bool
	stopErr error
}

// Start initializes a fresh datadir in a temporary directory and starts a
// server on 127.0.0.1 and a free port, with its own unix socket. It returns
// once the server accepts connections. ctx bounds only the startup; the
// server runs until Stop. On failure nothing is left behind.
func Start(ctx context.Context, opts ...Option) (*Server, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.requireSecure && !o.tls {
		return nil, errors.New("testdb: WithRequireSecureTransport needs TLS; it cannot be combined with WithoutTLS")
	}
	bins, err := findBinaries(o)
	if err != nil {
		return nil, fmt.Errorf("testdb: %w", err)
	}
	removeAbandonedDirs()
	dir, err := makeTempDir()
	if err != nil {
		return nil, fmt.Errorf("testdb: %w", err)
	}
	s := &Server{
		opts:    o,
		bins:    bins,
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		socket:  filepath.Join(dir, "mysqld.sock"),
	}
	if err := s.start(ctx); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("testdb: %w", err)
	}
	return s, nil
}

func (s *Server) start(ctx context.Context) error {
	// sun_path holds 108 bytes; a long $TMPDIR would fail obscurely later.
	if len(s.socket) > 100 {
		return fmt.Errorf("socket path %q is too long for a unix socket: set TMPDIR to a shorter directory", s.socket)
	}
	if err := os.Mkdir(filepath.Join(s.dir, "tmp"), 0o700); err != nil {
		return fmt.Errorf("create tmpdir: %w", err)
	}
	if s.opts.tls {
		certs, err := writeCerts(s.dir)
		if err != nil {
			return err
		}
		s.certs = certs
		if s.tlsConf, err = clientTLSConfig(certs.caPEM); err != nil {
			return err
		}
		s.tlsName = filepath.Base(s.dir)
		if err := mysql.RegisterTLSConfig(s.tlsName, s.tlsConf.Clone()); err != nil {
			return fmt.Errorf("register TLS config: %w", err)
		}
	}
	err := s.prepareDataDir(ctx)
	if err != nil {
		return err
	}
	if s.rootDB, err = s.openRootDB(); err != nil {
		return err
	}
	if err := s.launchOnFreePort(ctx); err != nil {
		return err
	}
	if err := s.rootDB.QueryRowContext(ctx, "SELECT VERSION()").Scan(&s.version); err != nil {
		return fmt.Errorf("query server version: %w", err)
	}
	return nil
}

// openRootDB returns a pool of root connections over the unix socket, which
// needs neither TLS nor a password and survives require_secure_transport.
func (s *Server) openRootDB() (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "unix"
	cfg.Addr = s.socket
	cfg.Timeout = 5 * time.Second
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("root connector: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxIdleConns(rootIdleConns)
	return db, nil
}

const rootIdleConns = 4

// launchOnFreePort picks a free loopback port and starts the server on it,
// trying again with another port if someone else grabbed it in between.
func (s *Server) launchOnFreePort(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		s.port, err = freePort()
		if err != nil {
			return err
		}
		err = s.launch(ctx)
		if err == nil || !errors.Is(err, errPortInUse) {
			return err
		}
	}
	return err
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Stop kills the server and removes its temporary directory (datadir,
// socket, certificates, logs). It is idempotent: later calls return the
// first call's result.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return s.stopErr
	}
	s.stopped = true
	if s.rootDB != nil {
		_ = s.rootDB.Close()
	}
	if s.proc != nil {
		// The data is thrown away, so a clean shutdown would only cost time.
		s.proc.Terminate(0)
		s.proc = nil
	}
	if s.tlsName != "" {
		mysql.DeregisterTLSConfig(s.tlsName)
	}
	if err := os.RemoveAll(s.dir); err != nil {
		s.stopErr = fmt.Errorf("testdb: remove %s: %w", s.dir, err)
	}
	return s.stopErr
}

// Host returns the address the server listens on: always "127.0.0.1".
func (s *Server) Host() string { return host }

// Port returns the server's TCP port.
func (s *Server) Port() int { return s.port }

// Addr returns "127.0.0.1:port".
func (s *Server) Addr() string { return net.JoinHostPort(host, strconv.Itoa(s.port)) }

// ServerName returns the DNS name in the server certificate, "localhost".
// The certificate also carries the IP SAN 127.0.0.1.
func (s *Server) ServerName() string { return serverName }

// CAFile returns the path of the throwaway CA certificate (PEM), or "" for
// a server started WithoutTLS.
func (s *Server) CAFile() string { return s.certs.caFile }

// CAPEM returns a copy of the throwaway CA certificate in PEM form, or nil
// for a server started WithoutTLS.
func (s *Server) CAPEM() []byte { return append([]byte(nil), s.certs.caPEM...) }

// TLSConfig returns a new client TLS config that verifies the server
// against the throwaway CA and ServerName, or nil for a server started
// WithoutTLS. Callers may modify it.
func (s *Server) TLSConfig() *tls.Config {
	if s.tlsConf == nil {
		return nil
	}
	return s.tlsConf.Clone()
}

// RootDB returns a pooled root connection over the unix socket (no
// password, no TLS needed). It stays valid across Halt and Resume and is
// closed by Stop; do not close it yourself.
func (s *Server) RootDB() *sql.DB { return s.rootDB }

// Version returns the server's VERSION(), e.g. "10.11.19-MariaDB-0+deb12u1".
func (s *Server) Version() string { return s.version }

// SocketPath returns the server's unix socket.
func (s *Server) SocketPath() string { return s.socket }

// ErrorLogPath returns the server's error log, useful when a test fails.
func (s *Server) ErrorLogPath() string { return filepath.Join(s.dir, "error.log") }
