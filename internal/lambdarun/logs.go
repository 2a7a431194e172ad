package lambdarun

import (
	"bytes"
	"io"
	"sync"
)

// logBuffer collects the emulator's stdout and stderr (which include the
// function's) and optionally copies them on.
type logBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	copy io.Writer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if l.copy != nil {
		_, _ = l.copy.Write(p) // a failing debug copy must not break the function
	}
	return len(p), nil
}

func (l *logBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.buf.Bytes())
}
