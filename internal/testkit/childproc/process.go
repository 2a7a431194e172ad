// Package childproc runs helper servers (mariadbd, the Lambda Runtime
// Interface Emulator) as children that cannot outlive the test binary.
//
// Each child gets its own process group, so the whole group can be
// signalled, and on Linux a parent-death signal (SIGKILL), so the kernel
// kills it when the test binary dies, even by SIGKILL, a panic or go test's
// -timeout, when no deferred Stop or Close runs. It is shared by testdb and
// lambdarun.
package childproc

import (
	"os/exec"
	"runtime"
	"time"
)

// Process is a started child whose exit is observed by a goroutine.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result; valid after done is closed
}

// Start starts cmd in its own process group with a parent-death signal.
// cmd.SysProcAttr is replaced.
//
// Pdeathsig fires when the OS thread that forked the child exits, not when
// the process does, and Go may retire threads. The child is therefore
// started from a goroutine locked to its thread that stays blocked in Wait
// for the child's whole life, so the thread cannot go away first.
func Start(cmd *exec.Cmd) (*Process, error) {
	SetAttrs(cmd)
	p := &Process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// Pid returns the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err returns cmd.Wait's result once Done is closed, nil before.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Terminate asks the process group to shut down (SIGTERM) and escalates to
// SIGKILL after grace; a zero grace kills at once. It returns when the
// child has exited.
func (p *Process) Terminate(grace time.Duration) {
	if p.Exited() {
		return
	}
	if grace > 0 {
		SignalGroup(p.cmd, false)
		select {
		case <-p.done:
			return
		case <-time.After(grace):
		}
	}
	SignalGroup(p.cmd, true)
	<-p.done
}
