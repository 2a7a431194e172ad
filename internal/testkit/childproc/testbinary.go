package childproc

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// StartTestBinary runs the current test binary again, with no test selected
// and env added to its environment, for tests that kill a test process
// which started a child and check the child dies with it: the environment
// makes the copy's TestMain start the child, print one line about it and
// wait. StartTestBinary returns the running copy and that line; the copy is
// killed and reaped when the test ends, if the test has not done so.
func StartTestBinary(t testing.TB, env ...string) (*exec.Cmd, string) {
	t.Helper()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	child.Stderr = &stderr
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("read child report: %v; stderr:\n%s", err, stderr.String())
	}
	return child, line
}
