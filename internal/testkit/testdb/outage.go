package testdb

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Halt shuts the server down cleanly but keeps its data, to simulate a
// database outage: connections are refused until Resume. Halting a halted
// server does nothing.
func (s *Server) Halt() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("testdb: Halt after Stop")
	}
	if s.proc == nil {
		return nil
	}
	s.thawLocked()
	// Close the pool's idle connections while the server still answers, so
	// neither the driver (logging broken pipes) nor the first query after
	// Resume has to discover they are dead.
	s.rootDB.SetMaxIdleConns(0)
	s.proc.Terminate(30 * time.Second)
	s.proc = nil
	s.rootDB.SetMaxIdleConns(rootIdleConns)
	return nil
}

// Resume starts a halted server again on the same port with the same data
// and waits until it accepts connections. Resuming a running server does
// nothing.
func (s *Server) Resume(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("testdb: Resume after Stop")
	}
	if s.proc != nil && !s.proc.Exited() {
		return nil
	}
	if err := s.launch(ctx); err != nil {
		return fmt.Errorf("testdb: resume: %w", err)
	}
	return nil
}

// Freeze suspends the server process (SIGSTOP) without closing anything:
// the kernel still accepts TCP connections, but nothing answers, as with a
// hung server or a network black hole. Clients see timeouts, not refusals,
// which is what their dial and read timeouts are for. Thaw, Halt and Stop
// end it.
func (s *Server) Freeze() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.proc == nil {
		return errors.New("testdb: Freeze needs a running server")
	}
	if err := s.proc.Suspend(); err != nil {
		return fmt.Errorf("testdb: freeze: %w", err)
	}
	s.frozen = true
	return nil
}

// Thaw resumes a frozen server (SIGCONT). Thawing a server that is not
// frozen does nothing.
func (s *Server) Thaw() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.thawLocked()
}

func (s *Server) thawLocked() error {
	if !s.frozen || s.proc == nil {
		return nil
	}
	s.frozen = false
	if err := s.proc.Continue(); err != nil {
		return fmt.Errorf("testdb: thaw: %w", err)
	}
	return nil
}
