//go:build !unix

package childproc

import (
	"errors"
	"os/exec"
)

var errUnsupported = errors.New("childproc: not supported on this platform")

// SetAttrs does nothing: there are no process groups here.
func SetAttrs(cmd *exec.Cmd) {}

// SignalGroup kills the process; there are no process groups here.
func SignalGroup(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }

// KillGroup is not supported here.
func KillGroup(int) {}

// Alive is unknown here; claiming "alive" keeps callers from deleting
// anything that might still be in use.
func Alive(int) bool { return true }

// Exists is unknown here; see Alive.
func Exists(int) bool { return true }

// Children is not supported here.
func Children(int) []int { return nil }

// Suspend is not supported here.
func (p *Process) Suspend() error { return errUnsupported }

// Continue is not supported here.
func (p *Process) Continue() error { return errUnsupported }
