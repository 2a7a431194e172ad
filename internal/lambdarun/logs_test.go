package lambdarun_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/lambdarun"
)

func TestLogsCaptureFunctionAndEmulator(t *testing.T) {
	var copied bytes.Buffer
	f := startEcho(t, nil, lambdarun.WithLogOutput(&copied))
	marker := "marker-" + strings.ReplaceAll(t.Name(), "/", "-")
	if _, err := f.Invoke(testContext(t), map[string]string{"action": "log", "message": marker}); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if _, err := f.Invoke(testContext(t), map[string]string{"action": "error", "message": "failure-" + marker}); err == nil {
		t.Fatal("error action succeeded")
	}
	// Logs are complete after Close (Cleanup's second Close is a no-op).
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	logs := string(f.Logs())
	for _, want := range []string{
		"stdout: " + marker,  // function stdout
		"stderr: " + marker,  // function stderr
		"failure-" + marker,  // aws-lambda-go logs returned errors
		"START RequestId: ",  // emulator
		"REPORT RequestId: ", // emulator
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("Logs() lacks %q:\n%s", want, logs)
		}
	}
	if !strings.Contains(copied.String(), "stdout: "+marker) {
		t.Errorf("WithLogOutput copy lacks the function output")
	}
}
