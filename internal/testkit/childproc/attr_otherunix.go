//go:build unix && !linux

package childproc

import (
	"os/exec"
	"syscall"
)

// SetAttrs puts cmd's process in its own process group. Only Linux has a
// parent-death signal; elsewhere a crashed test binary can leave the child
// running.
func SetAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
