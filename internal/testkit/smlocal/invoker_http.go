package smlocal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
)

// httpInvoker posts rotation events to a Lambda invoke URL.
type httpInvoker struct {
	url    string
	client *http.Client
}

// HTTPInvoker returns an Invoker that POSTs the event JSON to a Lambda
// invoke URL, such as the Runtime Interface Emulator's
// http://127.0.0.1:PORT/2015-03-31/functions/function/invocations.
// A function error - an X-Amz-Function-Error header, or a body with
// errorMessage/errorType as the Lambda runtime reports a handler error -
// and any non-2xx status are returned as a Go error.
func HTTPInvoker(invokeURL string) Invoker {
	return &httpInvoker{url: invokeURL, client: &http.Client{}}
}

// functionError is the body Lambda returns when the handler fails.
type functionError struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// Invoke implements Invoker.
func (h *httpInvoker) Invoke(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", ev.Step, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("invoke %s: %w", ev.Step, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("invoke %s: %w", ev.Step, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	if err != nil {
		return fmt.Errorf("invoke %s: read response: %w", ev.Step, err)
	}
	var fe functionError
	_ = json.Unmarshal(body, &fe) // a successful handler may return anything
	if kind := resp.Header.Get("X-Amz-Function-Error"); kind != "" || fe.ErrorMessage != "" || fe.ErrorType != "" {
		if kind == "" {
			kind = "Unhandled"
		}
		return fmt.Errorf("invoke %s: function error (%s) %s: %s", ev.Step, kind, fe.ErrorType, fe.ErrorMessage)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("invoke %s: HTTP %d: %.200s", ev.Step, resp.StatusCode, body)
	}
	return nil
}
