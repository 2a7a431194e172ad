package testdb_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/testkit/childproc"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

func TestHaltResume(t *testing.T) {
	s := startServer(t)
	ctx := testContext(t)
	user := newUser(t, s, "pw")
	port := s.Port()

	if err := s.Halt(); err != nil {
		t.Fatalf("Halt: %v", err)
	}
	if err := s.Halt(); err != nil {
		t.Errorf("second Halt: %v", err)
	}
	if testdb.ServerPID(s) != 0 {
		t.Errorf("server process still recorded after Halt")
	}
	ok, err := s.CanLogin(ctx, user, "pw")
	if err == nil {
		t.Errorf("CanLogin during outage = %v, nil; want an error (not a refused login)", ok)
	}

	if err := s.Resume(ctx); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	if err := s.Resume(ctx); err != nil {
		t.Errorf("Resume of a running server: %v", err)
	}
	if s.Port() != port {
		t.Errorf("port changed across Resume: %d -> %d", port, s.Port())
	}
	if ok, err := s.CanLogin(ctx, user, "pw"); err != nil || !ok {
		t.Errorf("CanLogin after Resume = %v, %v; want true (data kept)", ok, err)
	}
	if err := s.RootDB().PingContext(ctx); err != nil {
		t.Errorf("RootDB after Resume: %v", err)
	}
}

func TestFreezeThaw(t *testing.T) {
	s := startServer(t)
	user := newUser(t, s, "pw")
	if err := s.Freeze(); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	// A frozen server accepts TCP connections but never answers: the login
	// runs into the caller's deadline instead of being refused.
	ctx, cancel := context.WithTimeout(testContext(t), 300*time.Millisecond)
	ok, err := s.CanLogin(ctx, user, "pw")
	cancel()
	if err == nil {
		t.Fatalf("CanLogin on a frozen server = %v, nil; want an error", ok)
	}
	if ctx.Err() == nil {
		t.Errorf("CanLogin returned %v before the deadline, want it to hang until then", err)
	}
	if err := s.Thaw(); err != nil {
		t.Fatalf("Thaw: %v", err)
	}
	if ok, err := s.CanLogin(testContext(t), user, "pw"); err != nil || !ok {
		t.Errorf("CanLogin after Thaw = %v, %v; want true, nil", ok, err)
	}
	t.Run("Halt while frozen", func(t *testing.T) {
		if err := s.Freeze(); err != nil {
			t.Fatalf("Freeze: %v", err)
		}
		if err := s.Halt(); err != nil {
			t.Fatalf("Halt: %v", err)
		}
		if err := s.Resume(testContext(t)); err != nil {
			t.Fatalf("Resume: %v", err)
		}
		if ok, err := s.CanLogin(testContext(t), user, "pw"); err != nil || !ok {
			t.Errorf("CanLogin after Halt and Resume = %v, %v; want true, nil", ok, err)
		}
	})
}

func TestStopRemovesEverything(t *testing.T) {
	// The fresh-datadir path also proves that a datadir made by
	// mariadb-install-db for this server (not the template copy) works.
	s, err := testdb.Start(testContext(t), testdb.WithFreshDatadir())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if ok, err := s.CanLogin(testContext(t), "root", ""); err != nil || !ok {
		t.Errorf("root login on a fresh datadir = %v, %v; want true, nil", ok, err)
	}
	pid, dir := testdb.ServerPID(s), testdb.ServerDir(s)
	if pid == 0 || !testdb.ProcessAlive(pid) {
		t.Fatalf("server pid %d not running after Start", pid)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if testdb.ProcessAlive(pid) {
		t.Errorf("server pid %d still running after Stop", pid)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory %s still there after Stop (stat: %v)", dir, err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := s.Resume(testContext(t)); err == nil {
		t.Error("Resume after Stop succeeded")
	}
}

// TestServerDiesWithTestBinary kills a test binary that started a server
// without stopping it (as a panic or go test -timeout would) and checks the
// server dies with it and the next Start removes its directory.
func TestServerDiesWithTestBinary(t *testing.T) {
	child, line := childproc.StartTestBinary(t, childEnv+"=1")
	fields := strings.Fields(line)
	if len(fields) != 2 {
		t.Fatalf("child report %q, want \"<pid> <dir>\"", line)
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || !testdb.ProcessAlive(pid) {
		t.Fatalf("child's server %q not running (%v)", fields[0], err)
	}
	dir := fields[1]

	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	deadline := time.Now().Add(20 * time.Second)
	for testdb.ProcessAlive(pid) {
		if time.Now().After(deadline) {
			_ = syscallKill(pid)
			t.Fatalf("server pid %d outlived its killed test binary", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("abandoned dir %s: %v (expected it to be left behind)", dir, err)
	}
	testdb.RemoveAbandonedDirs()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("abandoned dir %s not removed (stat: %v)", dir, err)
	}
}

func syscallKill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func TestMissingServerBinary(t *testing.T) {
	withNonExecutable := t.TempDir()
	if err := os.WriteFile(withNonExecutable+"/mariadbd", []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dirs []string
	}{
		{"empty search path", []string{t.TempDir()}},
		{"non-executable mariadbd", []string{withNonExecutable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := testdb.Start(testContext(t), testdb.WithSearchPath(tt.dirs...))
			if err == nil {
				_ = s.Stop()
				t.Fatal("Start succeeded without a server binary")
			}
			if !errors.Is(err, testdb.ErrNoServerBinary) {
				t.Errorf("error %v is not ErrNoServerBinary", err)
			}
			if !strings.Contains(err.Error(), "install `mariadb-server` (apt-get install -y mariadb-server)") {
				t.Errorf("error %q does not say what to install", err)
			}
		})
	}
}

// TestMainFailsWithoutServer runs this test binary with no server binary
// to be found: testdb.Main must fail the run, saying what to install,
// rather than skip or pass the tests.
func TestMainFailsWithoutServer(t *testing.T) {
	child := exec.Command(os.Args[0], "-test.run=^TestRootDB$", "-test.v")
	child.Env = append(os.Environ(), noServerEnv+"="+t.TempDir())
	out, err := child.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("test binary without server: err %v, want exit status 1; output:\n%s", err, out)
	}
	if !strings.Contains(string(out), "apt-get install -y mariadb-server") {
		t.Errorf("output does not say what to install:\n%s", out)
	}
	if strings.Contains(string(out), "=== RUN") {
		t.Errorf("tests ran without a server:\n%s", out)
	}
}

func TestUniqueName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	seen := map[string]bool{}
	for _, name := range []string{"short", "a very long subtest name with Spaces/Slashes and ÜNICODE that goes on"} {
		t.Run(name, func(t *testing.T) {
			for i := 0; i < 50; i++ {
				n := testdb.UniqueName(t)
				if !valid.MatchString(n) {
					t.Fatalf("UniqueName = %q, not [a-z0-9_]{1,32}", n)
				}
				if seen[n] {
					t.Fatalf("UniqueName returned %q twice", n)
				}
				seen[n] = true
			}
			n := testdb.UniqueName(t)
			if err := srv.CreateDatabase(testContext(t), n); err != nil {
				t.Errorf("UniqueName %q unusable as database name: %v", n, err)
			}
			_ = srv.DropDatabase(testContext(t), n)
			newUser(t, srv, "pw")
		})
	}
}
