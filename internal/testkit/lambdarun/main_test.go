package lambdarun_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/testkit/lambdarun"
)

// bootstrap and emulator are built once for the package by TestMain.
var bootstrap, emulator string

// childEnv makes the test binary act as a crashing test process for
// TestFunctionDiesWithTestBinary.
const childEnv = "LAMBDARUN_TEST_CHILD"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv(childEnv) != "" {
		// The child is killed without cleanup, so it must not build into a
		// directory of its own: it uses the parent's binaries.
		bootstrap, emulator = os.Getenv(childEnv+"_BOOTSTRAP"), os.Getenv(childEnv+"_EMULATOR")
		return runChild()
	}
	dir, err := os.MkdirTemp("", "lambdarun-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if bootstrap, err = lambdarun.BuildFunction(ctx, "./testdata/echo", dir); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	if emulator, err = lambdarun.BuildEmulator(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	return m.Run()
}

// runChild starts the function, invokes it once so the function process
// exists, reports both pids and waits to be killed without calling Close.
func runChild() int {
	ctx := context.Background()
	f, err := lambdarun.Start(ctx, bootstrap, nil, lambdarun.WithEmulator(emulator))
	if err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	if _, err := f.Invoke(ctx, map[string]string{"action": "echo"}); err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	rie := lambdarun.EmulatorPID(f)
	fmt.Println(rie, functionPID(rie))
	time.Sleep(time.Hour)
	return 3
}

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startEcho starts the echo function with env and closes it after the test.
func startEcho(t testing.TB, env map[string]string, opts ...lambdarun.Option) *lambdarun.Function {
	t.Helper()
	opts = append([]lambdarun.Option{lambdarun.WithEmulator(emulator)}, opts...)
	f, err := lambdarun.Start(testContext(t), bootstrap, env, opts...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return f
}

// functionPID returns the pid of the function process the emulator runs
// (its only child), or 0.
func functionPID(emulatorPID int) int {
	kids := childrenOf(emulatorPID)
	if len(kids) != 1 {
		return 0
	}
	return kids[0]
}

// copyBootstrap puts a copy of the echo function in a fresh directory (to
// test the emulator build next to it).
func copyBootstrap(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
