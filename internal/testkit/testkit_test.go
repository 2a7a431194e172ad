package testkit_test

import (
	"os/exec"
	"strings"
	"testing"
)

// shipped are the packages whose code is deployed or imported by users:
// the CDK app, the constructs, the rotation function, the CLIs and the
// client library.
var shipped = []string{
	"github.com/example/secret-rotation",
	"github.com/example/secret-rotation/rotationcdk",
	"github.com/example/secret-rotation/lambda/rotation",
	"github.com/example/secret-rotation/cmd/rotatectl",
	"github.com/example/secret-rotation/cmd/dbconnect",
	"github.com/example/secret-rotation/connect",
}

// Test tooling never becomes part of what ships: no shipped package
// depends on anything under internal/testkit (tests excluded).
func TestShippedCodeDoesNotImportTestkit(t *testing.T) {
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, shipped...)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < len(shipped) {
		t.Fatalf("go list listed %d packages", len(deps))
	}
	for _, d := range deps {
		if strings.Contains(d, "/internal/testkit") {
			t.Errorf("a shipped package depends on %s", d)
		}
	}
}
