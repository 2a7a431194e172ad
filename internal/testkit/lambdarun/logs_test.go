package lambdarun_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/testkit/lambdarun"
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
	// Logs stay available, and complete, after Close (Cleanup's second
	// Close is a no-op).
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

// TestLogsIncludeOutputBeforeResponse checks, on a running function, that
// every line the function wrote before an invocation returned is in Logs
// right away: aws-lambda-go logs a returned error before reporting it.
// Logs drains the pipe itself, so this holds however busy the machine is.
func TestLogsIncludeOutputBeforeResponse(t *testing.T) {
	f := startEcho(t, nil)
	for i := 0; i < 20; i++ {
		marker := fmt.Sprintf("failure-%d-%s", i, t.Name())
		if _, err := f.Invoke(testContext(t), map[string]string{"action": "error", "message": marker}); err == nil {
			t.Fatal("error action succeeded")
		}
		if !strings.Contains(string(f.Logs()), marker) {
			t.Fatalf("invocation %d: Logs() lacks the line logged before the response", i)
		}
	}
}
