package testdb

import "github.com/example/secret-rotation/internal/testkit/childproc"

// WithSearchPath exposes the binary lookup override to the external tests.
var WithSearchPath = withSearchPath

// ProcessAlive exposes the liveness check (zombies count as dead).
var ProcessAlive = childproc.Alive

// RemoveAbandonedDirs exposes the crash cleanup that Start runs.
var RemoveAbandonedDirs = removeAbandonedDirs

// ServerPID returns the server process id, or 0 while halted.
func ServerPID(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.Pid()
}

// ServerDir returns the server's private temporary directory.
func ServerDir(s *Server) string { return s.dir }
