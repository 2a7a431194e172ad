//go:build unix

package childproc

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// SignalGroup sends SIGTERM, or SIGKILL if kill, to cmd's process group
// (negative pid), so helpers it forked in the group go too.
func SignalGroup(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
		// The group may be gone already; fall back to the process itself.
		_ = cmd.Process.Signal(sig)
	}
}

// Suspend stops the process (SIGSTOP); Continue resumes it (SIGCONT).
func (p *Process) Suspend() error { return syscall.Kill(p.Pid(), syscall.SIGSTOP) }

// Continue resumes a process stopped by Suspend (SIGCONT).
func (p *Process) Continue() error { return syscall.Kill(p.Pid(), syscall.SIGCONT) }

// KillGroup sends SIGKILL to pid's process group and to pid itself (for
// processes that are not group leaders). Errors are ignored: the target may
// be gone.
func KillGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// Alive reports whether pid exists (EPERM means it exists but belongs to
// someone else). A zombie counts as dead: an orphan whose init does not
// reap it is still found by kill(pid, 0).
func Alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	state, ok := procState(pid)
	return !ok || state != 'Z'
}

// Exists reports whether pid is still in the process table, zombies
// included (a zombie has exited but not been reaped by its parent).
func Exists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Children returns the pids of pid's direct children, found by scanning
// /proc (Linux only; nil elsewhere).
func Children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kids []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		fields := statFields(b)
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(string(fields[1])); err == nil && ppid == pid {
			if kid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
				kids = append(kids, kid)
			}
		}
	}
	return kids
}

// procState returns the state letter of /proc/<pid>/stat.
func procState(pid int) (byte, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	fields := statFields(b)
	if len(fields) < 1 || len(fields[0]) != 1 {
		return 0, false
	}
	return fields[0][0], true
}

// statFields returns the fields of a /proc stat line after "pid (comm)":
// state, ppid, ... The command name may contain spaces and parentheses, so
// it is skipped up to the last ')'.
func statFields(b []byte) [][]byte {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return bytes.Fields(b[i+1:])
}
