//go:build unix && !linux

package testdb

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the child in its own process group. Only Linux has a
// parent-death signal; elsewhere a crashed test binary can leave the server
// running until the next Start removes its directory.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
