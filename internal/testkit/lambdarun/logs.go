package lambdarun

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// logPipe collects everything the emulator and the function write.
//
// The emulator hands its own stdout file descriptor to the function, so
// both write straight into this pipe. Reading it only from a background
// goroutine would leave a race: a line the function wrote before answering
// an invocation could still sit in the kernel's pipe buffer when the test
// reads the logs. So the read end is non-blocking and Logs drains it
// synchronously: whatever was written before the invocation returned is
// in the pipe by then and so in Logs. The background goroutine keeps the
// pipe from filling up between calls.
type logPipe struct {
	r    *os.File
	conn syscall.RawConn
	done chan struct{} // closed at EOF: every writer has exited

	mu   sync.Mutex
	buf  bytes.Buffer
	copy io.Writer
	eof  bool
}

// newLogPipe returns the collector and the write end to give the emulator
// as stdout and stderr; the caller closes its copy after starting it.
func newLogPipe(copyTo io.Writer) (*logPipe, *os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("log pipe: %w", err)
	}
	conn, err := r.SyscallConn()
	if err != nil {
		r.Close()
		w.Close()
		return nil, nil, fmt.Errorf("log pipe: %w", err)
	}
	l := &logPipe{r: r, conn: conn, done: make(chan struct{}), copy: copyTo}
	go l.run()
	return l, w, nil
}

// run reads until EOF, sleeping in the poller while the pipe is empty.
func (l *logPipe) run() {
	defer close(l.done)
	defer l.r.Close()
	_ = l.conn.Read(func(fd uintptr) bool {
		// false: wait until readable, then call again; true: EOF or error.
		return l.drain(fd)
	})
}

// drain reads everything available without blocking and reports whether
// the pipe is finished (EOF or error).
func (l *logPipe) drain(fd uintptr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.eof {
		return true
	}
	var chunk [32 << 10]byte
	for {
		n, err := syscall.Read(int(fd), chunk[:])
		if n > 0 {
			l.buf.Write(chunk[:n])
			if l.copy != nil {
				_, _ = l.copy.Write(chunk[:n]) // a failing debug copy must not break the function
			}
			continue
		}
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			return false
		default: // n == 0: EOF; or a read error
			l.eof = true
			return true
		}
	}
}

// Bytes drains what is in the pipe now and returns a copy of all output.
func (l *logPipe) Bytes() []byte {
	// Control runs alongside the background Read (it takes no read lock);
	// l.mu serializes the two drains. After EOF the fd is closed and
	// Control fails, which is fine: everything is in buf.
	_ = l.conn.Control(func(fd uintptr) { l.drain(fd) })
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.buf.Bytes())
}

// wait waits until every writer has closed the pipe, at most timeout.
func (l *logPipe) wait(timeout time.Duration) bool {
	select {
	case <-l.done:
		return true
	case <-time.After(timeout):
		return false
	}
}
