package childproc

import (
	"os/exec"
	"syscall"
)

// SetAttrs puts cmd's process in its own process group and has the kernel
// SIGKILL it when the thread that starts it dies. Use Start for long-lived
// children; SetAttrs alone suits short commands run with cmd.Run.
func SetAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
