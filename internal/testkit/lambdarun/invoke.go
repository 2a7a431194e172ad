package lambdarun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// FunctionError is the error document a Lambda function invocation returns
// when the handler fails: the handler's error, a panic, or a crash.
type FunctionError struct {
	// Type is errorType: the Go type name of the returned error (such as
	// "errorString"), or a runtime type such as "Runtime.ExitError" or
	// "Sandbox.Timedout".
	Type string `json:"errorType"`
	// Message is errorMessage, the error's text.
	Message string `json:"errorMessage"`
	// StackTrace is present for panics.
	StackTrace json.RawMessage `json:"stackTrace,omitempty"`
}

// Error returns "lambda function error: <errorType>: <errorMessage>".
func (e *FunctionError) Error() string {
	return fmt.Sprintf("lambda function error: %s: %s", e.Type, e.Message)
}

// Invoke sends payload to the function, as the Lambda Invoke API with
// RequestResponse does, and returns the function's response. payload is
// sent as is if it is []byte or json.RawMessage, JSON-encoded otherwise.
//
// If the function failed, Invoke returns the raw error document and a
// *FunctionError (use errors.As). Emulator failures (a non-200 status) are
// other errors. Invocations are serialized: the emulator, like a single
// Lambda execution environment, handles one at a time.
func (f *Function) Invoke(ctx context.Context, payload any) ([]byte, error) {
	body, err := encodePayload(payload)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: encode payload: %w", err)
	}
	f.invokeMu.Lock()
	defer f.invokeMu.Unlock()
	if err := f.gone(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.InvokeURL(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("lambdarun: invoke request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: invoke: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: read invoke response: %w", err)
	}
	if fe := functionError(resp.Header, out); fe != nil {
		return out, fe
	}
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("lambdarun: invoke: emulator answered %s: %s", resp.Status, out)
	}
	return out, nil
}

func encodePayload(payload any) ([]byte, error) {
	switch p := payload.(type) {
	case []byte:
		return p, nil
	case json.RawMessage:
		return p, nil
	default:
		return json.Marshal(payload)
	}
}

// timeoutErrorType is Lambda's errorType for an invocation that ran out of
// time (AWS_LAMBDA_FUNCTION_TIMEOUT, 60 s by default here).
const timeoutErrorType = "Sandbox.Timedout"

// functionError recognises a function error. The real Invoke API marks it
// with the X-Amz-Function-Error header. The emulator drops that header: it
// answers 200 (handler error) or 502 (panic, crash) with the error document
// and 200 with a bare "Task timed out after N seconds" on a timeout, so that
// text, and a JSON object with a non-empty errorType and no keys besides
// errorType, errorMessage and stackTrace counts as well.
func functionError(h http.Header, body []byte) *FunctionError {
	marker := h.Get("X-Amz-Function-Error")
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		// On a timeout the emulator answers 200 with this bare text; Lambda
		// reports errorType Sandbox.Timedout with the same message.
		if bytes.HasPrefix(body, []byte("Task timed out after")) {
			return &FunctionError{Type: timeoutErrorType, Message: string(body)}
		}
		if marker != "" {
			return &FunctionError{Type: marker, Message: string(body)}
		}
		return nil
	}
	if marker == "" {
		for k := range doc {
			if k != "errorType" && k != "errorMessage" && k != "stackTrace" {
				return nil
			}
		}
	}
	var fe FunctionError
	if err := json.Unmarshal(body, &fe); err != nil {
		// A field of the wrong type: not an error document we understand.
		if marker != "" {
			return &FunctionError{Type: marker, Message: string(body)}
		}
		return nil
	}
	if fe.Type == "" {
		fe.Type = marker
	}
	if fe.Type == "" {
		return nil
	}
	return &fe
}
