//go:build !unix

package testdb

import "os/exec"

func setProcAttr(cmd *exec.Cmd) {}

// signalGroup kills the process; there are no process groups here.
func signalGroup(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }

// processAlive is unknown here; claiming "alive" keeps stale-directory
// cleanup from deleting anything.
func processAlive(int) bool { return true }
