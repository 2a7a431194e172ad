package testdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/example/secret-rotation/internal/testkit/childproc"
)

// errPortInUse marks a launch that failed because the port was taken.
var errPortInUse = errors.New("port already in use")

// tuningArgs make a throwaway server start fast and stay small. They are
// passed to the installer too: InnoDB refuses some of them changing between
// initialization and start. "loose-" makes a server that lacks an option
// (MySQL vs MariaDB) ignore it instead of refusing to start.
var tuningArgs = []string{
	"--skip-log-bin",
	"--loose-innodb-buffer-pool-size=32M",
	"--loose-innodb-log-file-size=8M",
	"--loose-innodb-doublewrite=0",
	"--loose-innodb-flush-log-at-trx-commit=2",
	"--loose-performance-schema=OFF",
	"--loose-mysqlx=OFF", // MySQL 8 would also listen on a fixed port 33060
}

// userArgs returns --user=root when running as root: mariadbd refuses to
// run as root unless told to, and only root may pass --user.
func userArgs() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

// initDataDir creates the system tables in a fresh datadir. Root gets no
// password (normal authentication), reachable only on loopback and the
// private socket; no test database is created.
func (s *Server) initDataDir(ctx context.Context, dataDir string) error {
	var cmd *exec.Cmd
	if s.bins.installer != "" {
		args := []string{"--no-defaults", "--datadir=" + dataDir,
			"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"}
		args = append(append(args, userArgs()...), tuningArgs...)
		cmd = exec.CommandContext(ctx, s.bins.installer, args...)
	} else {
		args := []string{"--no-defaults", "--initialize-insecure", "--datadir=" + dataDir,
			"--tmpdir=" + filepath.Join(s.dir, "tmp")}
		args = append(append(args, userArgs()...), tuningArgs...)
		cmd = exec.CommandContext(ctx, s.bins.server, args...)
	}
	cmd.Dir = filepath.Dir(dataDir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { childproc.SignalGroup(cmd, true); return nil }
	childproc.SetAttrs(cmd)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initialize datadir with %s: %w\n%s", filepath.Base(cmd.Path), err, tail(out.Bytes(), 20))
	}
	return nil
}

// serverArgs is the server command line for the current port.
func (s *Server) serverArgs() []string {
	args := []string{
		"--no-defaults", // must come first
		"--datadir=" + s.dataDir,
		"--socket=" + s.socket,
		"--port=" + strconv.Itoa(s.port),
		"--bind-address=" + host,
		"--skip-name-resolve",
		"--pid-file=" + filepath.Join(s.dir, "mariadbd.pid"),
		"--log-error=" + s.ErrorLogPath(),
		"--tmpdir=" + filepath.Join(s.dir, "tmp"),
		"--character-set-server=utf8mb4",
	}
	args = append(append(args, userArgs()...), tuningArgs...)
	// Per-account statistics, for FailedLogins (MariaDB; MySQL ignores it).
	args = append(args, "--loose-userstat=ON")
	if s.opts.tls {
		args = append(args, "--ssl-ca="+s.certs.caFile, "--ssl-cert="+s.certs.cert, "--ssl-key="+s.certs.key)
	} else {
		args = append(args, "--loose-skip-ssl")
	}
	if s.opts.requireSecure {
		args = append(args, "--require-secure-transport=ON")
	}
	return args
}

// launch starts the server process and waits until it accepts connections
// on its socket. On failure the process is gone and the error carries the
// end of the server's error log.
func (s *Server) launch(ctx context.Context) error {
	logStart := fileSize(s.ErrorLogPath())
	cmd := exec.Command(s.bins.server, s.serverArgs()...)
	cmd.Dir = s.dir
	p, err := childproc.Start(cmd)
	if err != nil {
		return fmt.Errorf("start %s: %w", s.bins.server, err)
	}
	if err := s.waitReady(ctx, p); err != nil {
		p.Terminate(0)
		log := readFrom(s.ErrorLogPath(), logStart)
		if bytes.Contains(log, []byte("Address already in use")) {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return fmt.Errorf("%w\nserver error log:\n%s", err, tail(log, 20))
	}
	s.proc = p
	return nil
}

// waitReady polls the socket until a root ping succeeds, the process exits,
// or the context or start timeout ends.
func (s *Server) waitReady(ctx context.Context, p *childproc.Process) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		pingCtx, pingCancel := context.WithTimeout(ctx, 2*time.Second)
		err := s.rootDB.PingContext(pingCtx)
		pingCancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("server exited during startup (%v)", p.Err())
		case <-ctx.Done():
			return fmt.Errorf("server not ready: %w (last error: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns the file's content from offset on (this launch's part of
// an error log that Resume appends to).
func readFrom(path string, offset int64) []byte {
	b, err := os.ReadFile(path)
	if err != nil || offset > int64(len(b)) {
		return b
	}
	return b[offset:]
}

// tail returns the last n lines of b, for error messages.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
