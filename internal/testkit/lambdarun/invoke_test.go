package lambdarun_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/example/secret-rotation/internal/testkit/lambdarun"
)

type echoResponse struct {
	Action    string          `json:"action"`
	Message   string          `json:"message"`
	Data      json.RawMessage `json:"data"`
	RequestID string          `json:"requestId"`
}

func TestInvokeEcho(t *testing.T) {
	f := startEcho(t, nil)
	if !strings.HasPrefix(f.InvokeURL(), "http://127.0.0.1:") || !strings.HasSuffix(f.InvokeURL(), "/2015-03-31/functions/function/invocations") {
		t.Errorf("InvokeURL() = %q", f.InvokeURL())
	}
	tests := []struct {
		name    string
		payload any
		want    string
	}{
		{"struct is JSON-encoded", map[string]any{"action": "echo", "message": "hi", "data": map[string]int{"n": 1}}, "hi"},
		{"bytes are sent as is", []byte(`{"action":"echo","message":"raw"}`), "raw"},
		{"RawMessage is sent as is", json.RawMessage(`{"action":"echo","message":"rawmsg"}`), "rawmsg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.Invoke(testContext(t), tt.payload)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var resp echoResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("response %s: %v", out, err)
			}
			if resp.Message != tt.want || resp.Action != "echo" || resp.RequestID == "" {
				t.Errorf("response = %+v, want echo of %q with a request id", resp, tt.want)
			}
		})
	}
}

// TestInvokeFunctionErrors checks how each kind of failure reaches the
// caller: the emulator answers 200 (handler error) or 502 (panic, crash)
// with the Lambda error document, and Invoke maps all of them to
// *FunctionError. After a crash the next invocation starts a new runtime.
func TestInvokeFunctionErrors(t *testing.T) {
	f := startEcho(t, nil)
	tests := []struct {
		name        string
		payload     any
		wantType    string
		wantMessage string // substring
		wantStack   bool
	}{
		{"returned error", map[string]string{"action": "error", "message": "boom"}, "errorString", "boom", false},
		{"typed error", map[string]string{"action": "custom-error", "message": "typed boom"}, "customError", "typed boom", false},
		{"panic", map[string]string{"action": "panic", "message": "oops"}, "string", "oops", true},
		{"process exit", map[string]string{"action": "exit"}, "Runtime.ExitError", "exit status 3", false},
		{"payload not JSON", []byte("not json"), "SyntaxError", "invalid character", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.Invoke(testContext(t), tt.payload)
			var fe *lambdarun.FunctionError
			if !errors.As(err, &fe) {
				t.Fatalf("Invoke error = %v, want *FunctionError (body %s)", err, out)
			}
			if fe.Type != tt.wantType || !strings.Contains(fe.Message, tt.wantMessage) {
				t.Errorf("FunctionError = %s / %q, want %s / ...%q...", fe.Type, fe.Message, tt.wantType, tt.wantMessage)
			}
			if (len(fe.StackTrace) > 0) != tt.wantStack {
				t.Errorf("stack trace present = %v, want %v", len(fe.StackTrace) > 0, tt.wantStack)
			}
			if !strings.Contains(err.Error(), tt.wantType) || !json.Valid(out) {
				t.Errorf("error text %q lacks the type, or body %q is not the JSON document", err, out)
			}
			// The function recovers, as a fresh Lambda execution environment would.
			if _, err := f.Invoke(testContext(t), map[string]string{"action": "echo"}); err != nil {
				t.Errorf("echo after %s: %v", tt.name, err)
			}
		})
	}
}

// TestInvokeTimeout runs a function with a 1-second timeout into it: the
// emulator kills the runtime and answers with a bare text, which Invoke
// reports as Lambda does, errorType Sandbox.Timedout.
func TestInvokeTimeout(t *testing.T) {
	f := startEcho(t, map[string]string{"AWS_LAMBDA_FUNCTION_TIMEOUT": "1"})
	_, err := f.Invoke(testContext(t), map[string]string{"action": "sleep", "message": "1m"})
	var fe *lambdarun.FunctionError
	if !errors.As(err, &fe) || fe.Type != "Sandbox.Timedout" || !strings.Contains(fe.Message, "timed out after 1.00 seconds") {
		t.Fatalf("Invoke error = %v, want a Sandbox.Timedout FunctionError", err)
	}
	if _, err := f.Invoke(testContext(t), map[string]string{"action": "echo"}); err != nil {
		t.Errorf("echo after timeout: %v", err)
	}
}

func TestFunctionErrorRecognition(t *testing.T) {
	marked := http.Header{"X-Amz-Function-Error": {"Unhandled"}}
	tests := []struct {
		name     string
		header   http.Header
		body     string
		wantType string // "" means not an error
	}{
		{"emulator error document", nil, `{"errorMessage":"m","errorType":"T"}`, "T"},
		{"with stack trace", nil, `{"errorMessage":"m","errorType":"T","stackTrace":[]}`, "T"},
		{"result with extra fields", nil, `{"errorMessage":"m","errorType":"T","ok":true}`, ""},
		{"result without errorType", nil, `{"errorMessage":"m"}`, ""},
		{"plain result", nil, `{"action":"echo"}`, ""},
		{"JSON string result", nil, `"errorType"`, ""},
		{"header marks error", marked, `{"errorMessage":"m","errorType":"T","x":1}`, "T"},
		{"header with non-JSON body", marked, `boom`, "Unhandled"},
		{"header without errorType", marked, `{"errorMessage":"m"}`, "Unhandled"},
		{"emulator timeout text", nil, `Task timed out after 1.00 seconds`, "Sandbox.Timedout"},
		{"other text", nil, `Task done`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := lambdarun.FunctionErrorFrom(tt.header, []byte(tt.body))
			got := ""
			if fe != nil {
				got = fe.Type
			}
			if got != tt.wantType {
				t.Errorf("type = %q, want %q", got, tt.wantType)
			}
		})
	}
}

func TestConcurrentInvocationsAreSerialized(t *testing.T) {
	f := startEcho(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < cap(errs); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.Invoke(testContext(t), map[string]string{"action": "echo"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Invoke: %v", err)
		}
	}
}

func TestSeveralFunctionsAtOnce(t *testing.T) {
	a := startEcho(t, map[string]string{"WHO": "a"})
	b := startEcho(t, map[string]string{"WHO": "b"})
	if a.InvokeURL() == b.InvokeURL() {
		t.Fatalf("both functions on %s", a.InvokeURL())
	}
	for want, f := range map[string]*lambdarun.Function{"a": a, "b": b} {
		out, err := f.Invoke(testContext(t), map[string]string{"action": "env", "message": "WHO"})
		if err != nil {
			t.Fatalf("Invoke %s: %v", want, err)
		}
		var resp echoResponse
		if err := json.Unmarshal(out, &resp); err != nil || resp.Message != want {
			t.Errorf("function %s answered %s (%v)", want, out, err)
		}
	}
}
