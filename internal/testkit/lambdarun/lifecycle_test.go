package lambdarun_test

import (
	"debug/elf"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/testkit/childproc"
	"github.com/example/secret-rotation/internal/testkit/lambdarun"
)

func childrenOf(pid int) []int { return childproc.Children(pid) }

// waitDead waits for pid to exit; the timeout only bounds a failing test.
func waitDead(t *testing.T, pid int, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for childproc.Alive(pid) {
		if time.Now().After(deadline) {
			childproc.KillGroup(pid)
			t.Fatalf("%s (pid %d) still running", what, pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloseKillsEmulatorAndFunction(t *testing.T) {
	f, err := lambdarun.Start(testContext(t), bootstrap, nil, lambdarun.WithEmulator(emulator))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if _, err := f.Invoke(testContext(t), map[string]string{"action": "echo"}); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	rie := lambdarun.EmulatorPID(f)
	fn := functionPID(rie)
	if fn == 0 {
		t.Fatalf("no function process under emulator %d", rie)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for pid, what := range map[int]string{rie: "emulator", fn: "function"} {
		if childproc.Alive(pid) {
			t.Errorf("%s (pid %d) alive after Close", what, pid)
		}
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := f.Invoke(testContext(t), map[string]string{"action": "echo"}); !errors.Is(err, lambdarun.ErrClosed) {
		t.Errorf("Invoke after Close: %v, want ErrClosed", err)
	}
}

// TestFunctionDiesWithTestBinary kills a test binary that started a
// function without closing it (as a panic or go test -timeout would): the
// emulator dies by its parent-death signal, and the function exits once the
// Runtime API is gone.
func TestFunctionDiesWithTestBinary(t *testing.T) {
	child, line := childproc.StartTestBinary(t, childEnv+"=1",
		childEnv+"_BOOTSTRAP="+bootstrap, childEnv+"_EMULATOR="+emulator)
	var pids []int
	for _, f := range strings.Fields(line) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid == 0 {
			t.Fatalf("child report %q, want \"<emulator pid> <function pid>\"", line)
		}
		pids = append(pids, pid)
	}
	if len(pids) != 2 {
		t.Fatalf("child report %q, want two pids", line)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	waitDead(t, pids[0], "emulator")
	waitDead(t, pids[1], "function")
}

func TestInvokeAfterEmulatorCrash(t *testing.T) {
	f := startEcho(t, nil)
	childproc.KillGroup(lambdarun.EmulatorPID(f))
	waitDead(t, lambdarun.EmulatorPID(f), "emulator")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := f.Invoke(testContext(t), map[string]string{"action": "echo"})
		if err != nil && strings.Contains(err.Error(), "emulator exited unexpectedly") {
			break
		}
		// The emulator's exit is noticed by the goroutine waiting for it,
		// a moment after the process is gone.
		if time.Now().After(deadline) {
			t.Fatalf("Invoke after the emulator died: %v, want the emulator's exit reported", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBuildFunctionTargetsHost(t *testing.T) {
	// Cross-compilation settings and test flags in the environment must not
	// leak into the build: the binary has to run here, built as deployed.
	t.Setenv("GOOS", "windows")
	t.Setenv("GOARCH", "arm")
	t.Setenv("GOFLAGS", "-race") // needs cgo, which the build turns off
	path, err := lambdarun.BuildFunction(testContext(t), "./testdata/echo", t.TempDir())
	if err != nil {
		t.Fatalf("BuildFunction: %v", err)
	}
	if !strings.HasSuffix(path, "/bootstrap") {
		t.Errorf("path = %q, want .../bootstrap", path)
	}
	if runtime.GOOS == "linux" {
		ef, err := elf.Open(path)
		if err != nil {
			t.Fatalf("not an ELF binary: %v", err)
		}
		defer ef.Close()
		wantMachine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[runtime.GOARCH]
		if wantMachine != 0 && ef.Machine != wantMachine {
			t.Errorf("machine = %v, want %v", ef.Machine, wantMachine)
		}
		if ef.Section(".interp") != nil {
			t.Error("binary is dynamically linked, want static (CGO_ENABLED=0)")
		}
		if ef.Section(".symtab") != nil {
			t.Error("binary has a symbol table, want stripped (-s)")
		}
	}
}

func TestBuildFunctionReportsCompileErrors(t *testing.T) {
	_, err := lambdarun.BuildFunction(testContext(t), "./testdata/does-not-exist", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "does-not-exist") {
		t.Errorf("BuildFunction of a missing package: %v, want an error naming it", err)
	}
}

func TestStartBuildsEmulatorNextToBootstrap(t *testing.T) {
	bs := copyBootstrap(t)
	f, err := lambdarun.Start(testContext(t), bs, nil) // no WithEmulator
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer f.Close()
	if _, err := f.Invoke(testContext(t), map[string]string{"action": "echo"}); err != nil {
		t.Errorf("Invoke: %v", err)
	}
	if _, err := os.Stat(strings.TrimSuffix(bs, "bootstrap") + "aws-lambda-rie"); err != nil {
		t.Errorf("emulator not next to bootstrap: %v", err)
	}
}
