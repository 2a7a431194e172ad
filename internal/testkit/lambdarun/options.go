package lambdarun

import (
	"io"
	"time"
)

// startTimeout bounds how long Start waits for the emulator to accept
// connections, in addition to the context deadline.
const startTimeout = 30 * time.Second

// Option configures Start.
type Option func(*options)

type options struct {
	emulator  string
	logOutput io.Writer
}

// WithEmulator uses an already built emulator binary instead of calling
// BuildEmulator.
func WithEmulator(path string) Option {
	return func(o *options) { o.emulator = path }
}

// WithLogOutput copies everything the emulator and the function write to w
// as well (for example os.Stderr while debugging a test), in addition to
// collecting it for Logs.
func WithLogOutput(w io.Writer) Option {
	return func(o *options) { o.logOutput = w }
}
