package testdb

import (
	"os/exec"
	"runtime"
	"time"
)

// process is a started child whose exit is observed by a goroutine.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result; valid after done is closed
}

// spawn starts cmd in its own process group with a parent-death signal.
//
// Pdeathsig fires when the OS thread that forked the child exits, not when
// the process does, and Go may retire threads. The child is therefore
// started from a goroutine locked to its thread that stays blocked in Wait
// for the child's whole life, so the thread cannot go away first.
func spawn(cmd *exec.Cmd) (*process, error) {
	setProcAttr(cmd)
	p := &process{cmd: cmd, done: make(chan struct{})}
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

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// terminate asks the process group to shut down (SIGTERM) and escalates to
// SIGKILL after grace. A zero grace kills immediately.
func (p *process) terminate(grace time.Duration) {
	if p.exited() {
		return
	}
	if grace > 0 {
		signalGroup(p.cmd, false)
		select {
		case <-p.done:
			return
		case <-time.After(grace):
		}
	}
	signalGroup(p.cmd, true)
	<-p.done
}
