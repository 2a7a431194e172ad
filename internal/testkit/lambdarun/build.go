package lambdarun

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// emulatorPackage is the RIE's main package, pinned by the tool directive in
// go.mod.
const emulatorPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// BuildFunction compiles the main package pkg (an import path, or a
// directory path relative to the current directory such as
// "./testdata/echo") for the host's GOOS/GOARCH into outDir/bootstrap and
// returns that path. The flags match a Lambda deployment build: static
// (CGO_ENABLED=0), -trimpath, -buildvcs=false, -tags lambda.norpc and a
// stripped binary without build id. flags are added to those, e.g.
// "-overlay", file to build the function with a test file in place of one of
// its sources or embedded files.
func BuildFunction(ctx context.Context, pkg, outDir string, flags ...string) (string, error) {
	out := filepath.Join(outDir, "bootstrap")
	err := goBuild(ctx, out, pkg, append([]string{
		"-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags=-s -w -buildid="}, flags...)...)
	if err != nil {
		return "", fmt.Errorf("lambdarun: build function %s: %w", pkg, err)
	}
	return out, nil
}

// emulatorCache remembers the emulator built in this process, so tests that
// start many functions build it once.
var emulatorCache struct {
	mu   sync.Mutex
	path string
}

// BuildEmulator builds the Runtime Interface Emulator into
// outDir/aws-lambda-rie and returns the path. The first call in a process
// runs go build (fast when the Go build cache is warm); later calls copy
// that binary, or rebuild it if it has been deleted meanwhile.
func BuildEmulator(ctx context.Context, outDir string) (string, error) {
	emulatorCache.mu.Lock()
	defer emulatorCache.mu.Unlock()
	out := filepath.Join(outDir, "aws-lambda-rie")
	if cached := emulatorCache.path; cached != "" {
		if cached == out && isExecutable(out) {
			return out, nil
		}
		if err := copyExecutable(cached, out); err == nil {
			return out, nil
		}
		// The cached binary is gone (its directory was cleaned up): rebuild.
	}
	if err := goBuild(ctx, out, emulatorPackage, "-trimpath"); err != nil {
		return "", fmt.Errorf("lambdarun: build emulator: %w", err)
	}
	emulatorCache.path = out
	return out, nil
}

// goBuild runs go build -o out for the host platform with cgo off.
func goBuild(ctx context.Context, out, pkg string, flags ...string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("find the go command: %w", err)
	}
	args := append([]string{"build", "-o", out}, flags...)
	cmd := exec.CommandContext(ctx, goBin, append(args, pkg)...)
	// Whatever GOOS/GOARCH the caller's environment says, the binary must
	// run here, under the emulator; and GOFLAGS meant for the tests (say
	// -race, which needs cgo) must not change the deployment-like build.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH, "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, stderr.Bytes())
	}
	return nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// copyExecutable copies src to dst (mode 0755) through a temporary file, so
// dst is never seen half-written.
func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".aws-lambda-rie-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
