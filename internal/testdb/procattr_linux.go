package testdb

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the child in its own process group (so the whole group
// can be signalled) and has the kernel SIGKILL it when the test binary dies,
// even by SIGKILL or a panic that skips every deferred Stop.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
