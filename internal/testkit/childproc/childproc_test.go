package childproc_test

import (
	"bufio"
	"errors"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/testkit/childproc"
)

// waitFor polls cond; the timeout only bounds a failing test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTerminate(t *testing.T) {
	tests := []struct {
		name    string
		grace   time.Duration
		script  string // prints a line once it is ready for signals
		wantSig syscall.Signal
	}{
		{"SIGTERM is enough", time.Minute, "echo ready; exec sleep 60", syscall.SIGTERM},
		{"SIGKILL after grace", 50 * time.Millisecond, "trap '' TERM; echo ready; sleep 60", syscall.SIGKILL},
		{"kill at once", 0, "echo ready; exec sleep 60", syscall.SIGKILL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", tt.script)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			p, err := childproc.Start(cmd)
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
				t.Fatalf("child not ready: %v", err)
			}
			pid := p.Pid()
			if !childproc.Alive(pid) || p.Exited() {
				t.Fatalf("child %d not running after Start", pid)
			}
			p.Terminate(tt.grace)
			if !p.Exited() || childproc.Exists(pid) {
				t.Errorf("child %d still there after Terminate", pid)
			}
			var exitErr *exec.ExitError
			if !errors.As(p.Err(), &exitErr) {
				t.Fatalf("Err() = %v, want an *exec.ExitError", p.Err())
			}
			status, ok := exitErr.Sys().(syscall.WaitStatus)
			if !ok || !status.Signaled() || status.Signal() != tt.wantSig {
				t.Errorf("child ended with %v, want signal %v", p.Err(), tt.wantSig)
			}
		})
	}
}

// TestGroupIsKilled checks that Terminate reaches grandchildren, which stay
// in the child's process group.
func TestGroupIsKilled(t *testing.T) {
	p, err := childproc.Start(exec.Command("sh", "-c", "sleep 60 & wait"))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	var grandchild int
	waitFor(t, "the grandchild", func() bool {
		kids := childproc.Children(p.Pid())
		if len(kids) == 1 {
			grandchild = kids[0]
		}
		return grandchild != 0
	})
	p.Terminate(0)
	waitFor(t, "the grandchild to die", func() bool { return !childproc.Alive(grandchild) })
}

func TestChildrenAndAlive(t *testing.T) {
	p, err := childproc.Start(exec.Command("sleep", "60"))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer p.Terminate(0)
	if kids := childproc.Children(0); slices.Contains(kids, p.Pid()) {
		t.Errorf("Children(0) contains our child")
	}
	if !childproc.Alive(p.Pid()) || !childproc.Exists(p.Pid()) {
		t.Errorf("Alive/Exists false for a running child")
	}
	if childproc.Alive(1<<22 + 1) { // above the kernel's pid_max limit
		t.Errorf("Alive true for an impossible pid")
	}
}

func TestStartError(t *testing.T) {
	if _, err := childproc.Start(exec.Command("/nonexistent/binary")); err == nil {
		t.Error("Start of a missing binary succeeded")
	}
}
