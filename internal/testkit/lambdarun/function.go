package lambdarun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/example/secret-rotation/internal/testkit/childproc"
)

// invokePath is the emulator's invoke endpoint.
const invokePath = "/2015-03-31/functions/function/invocations"

// Function is a compiled function running under the Runtime Interface
// Emulator. Its methods are safe for concurrent use.
type Function struct {
	addr   string // emulator HTTP address 127.0.0.1:port
	proc   *childproc.Process
	logs   *logPipe
	client *http.Client

	invokeMu sync.Mutex // the emulator serves one invocation at a time

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Start runs bootstrap under the emulator with env (over Lambda-like
// defaults, see the package documentation) and returns once the emulator
// accepts invocations. The emulator listens on 127.0.0.1 and a free port
// and serves the Runtime API to the function on another free loopback port.
// ctx bounds only the startup; the function runs until Close.
func Start(ctx context.Context, bootstrap string, env map[string]string, opts ...Option) (*Function, error) {
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	bootstrap, err := filepath.Abs(bootstrap)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: %w", err)
	}
	if !isExecutable(bootstrap) {
		return nil, fmt.Errorf("lambdarun: %s is not an executable (build it with BuildFunction)", bootstrap)
	}
	environ, err := buildEnv(env)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: %w", err)
	}
	emulator := o.emulator
	if emulator == "" {
		if emulator, err = BuildEmulator(ctx, filepath.Dir(bootstrap)); err != nil {
			return nil, err
		}
	}
	for attempt := 1; ; attempt++ {
		f, err := launch(ctx, o, emulator, bootstrap, environ)
		// Another process may take a port between freePorts and the
		// emulator binding it; try other ports then.
		if err != nil && errors.Is(err, errPortInUse) && attempt < 3 {
			continue
		}
		return f, err
	}
}

// errPortInUse marks a start that failed because a port was taken.
var errPortInUse = errors.New("port already in use")

// launch starts the emulator on two fresh free ports and waits until it
// listens.
func launch(ctx context.Context, o options, emulator, bootstrap string, environ []string) (*Function, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	runtimeAPI := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))

	cmd := exec.Command(emulator,
		"--runtime-interface-emulator-address="+addr,
		"--runtime-api-address="+runtimeAPI,
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap) // like /var/task
	cmd.Env = environ
	logs, logWriter, err := newLogPipe(o.logOutput)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: %w", err)
	}
	// An *os.File is handed to the child as is: no copying goroutine in
	// between, see logPipe.
	cmd.Stdout, cmd.Stderr = logWriter, logWriter
	proc, err := childproc.Start(cmd)
	logWriter.Close() // the emulator has its copy; EOF comes when it and the function exit
	if err != nil {
		return nil, fmt.Errorf("lambdarun: start emulator: %w", err)
	}
	f := &Function{
		addr:   addr,
		proc:   proc,
		logs:   logs,
		client: &http.Client{Transport: &http.Transport{}},
	}
	if err := f.waitListening(ctx, startTimeout); err != nil {
		_ = f.Close()
		out := f.Logs()
		if bytes.Contains(out, []byte("address already in use")) {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return nil, fmt.Errorf("lambdarun: %w\nemulator output:\n%s", err, out)
	}
	return f, nil
}

// freePorts returns n distinct free loopback ports, holding them all open
// until every one is chosen so they cannot coincide.
func freePorts(n int) ([]int, error) {
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitListening polls until the emulator accepts TCP connections.
func (f *Function) waitListening(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var dialer net.Dialer
	for {
		conn, err := dialer.DialContext(ctx, "tcp", f.addr)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-f.proc.Done():
			return fmt.Errorf("emulator exited during startup (%v)", f.proc.Err())
		case <-ctx.Done():
			return fmt.Errorf("emulator not listening on %s: %w", f.addr, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// InvokeURL returns the emulator's invoke endpoint,
// http://127.0.0.1:port/2015-03-31/functions/function/invocations.
func (f *Function) InvokeURL() string { return "http://" + f.addr + invokePath }

// Logs returns a copy of everything the emulator and the function have
// written to stdout and stderr so far. It reads the output pipe itself
// before answering, so whatever the function wrote before an invocation
// returned is included; output of work the function does after answering
// may still be on its way until Close. Logs stays available after Close.
func (f *Function) Logs() []byte { return f.logs.Bytes() }

// Close kills the function and the emulator and waits for the emulator to
// exit. It is idempotent.
func (f *Function) Close() error {
	f.closeOnce.Do(func() {
		f.closed.Store(true)
		f.client.CloseIdleConnections()
		// The emulator put the function in a process group of its own:
		// kill it first, while it is still the emulator's child and can be
		// found, and give the emulator a moment to reap it; killed first,
		// the emulator would leave it a zombie for init to collect.
		kids := childproc.Children(f.proc.Pid())
		for _, pid := range kids {
			childproc.KillGroup(pid)
		}
		waitReaped(kids, 2*time.Second)
		f.proc.Terminate(0)
		// Collect the last output: EOF arrives once no process holds the
		// pipe any more.
		f.logs.wait(5 * time.Second)
		if err := waitGone(kids, 10*time.Second); err != nil {
			f.closeErr = fmt.Errorf("lambdarun: close: %w", err)
		}
	})
	return f.closeErr
}

// waitReaped waits until the emulator has reaped pids, at most timeout.
func waitReaped(pids []int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for _, pid := range pids {
		for childproc.Exists(pid) && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// waitGone waits until none of pids is alive.
func waitGone(pids []int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, pid := range pids {
		for childproc.Alive(pid) {
			if time.Now().After(deadline) {
				return fmt.Errorf("function process %d still running", pid)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

// ErrClosed is returned by Invoke after Close.
var ErrClosed = errors.New("lambdarun: function is closed")

// gone returns why the emulator can no longer serve invocations, or nil.
func (f *Function) gone() error {
	if f.closed.Load() {
		return ErrClosed
	}
	if f.proc.Exited() {
		return fmt.Errorf("lambdarun: emulator exited unexpectedly (%v)\n%s", f.proc.Err(), f.Logs())
	}
	return nil
}
