//go:build unix

package testdb

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// signalGroup sends SIGTERM, or SIGKILL if kill, to the child's process
// group (negative pid), so helpers it forked go too.
func signalGroup(cmd *exec.Cmd, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
		// The group may be gone already; fall back to the process itself.
		_ = cmd.Process.Signal(sig)
	}
}

// processAlive reports whether pid exists (EPERM means it exists but belongs
// to someone else). A zombie counts as dead: an orphan whose init does not
// reap it is still found by kill(pid, 0).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// /proc/<pid>/stat is "pid (comm) state ..."; only Linux has it.
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}
