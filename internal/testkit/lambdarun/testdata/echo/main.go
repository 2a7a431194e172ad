// Command echo is the test function of package lambdarun: a minimal Go
// Lambda that echoes, fails, logs, reads its environment, sleeps or
// crashes on request, so the harness can be checked against every outcome.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// request selects what the function does.
type request struct {
	Action  string          `json:"action"`
	Message string          `json:"message,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

type response struct {
	Action    string          `json:"action"`
	Message   string          `json:"message,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	RequestID string          `json:"requestId,omitempty"`
}

// customError has its own type name, which Lambda reports as errorType.
type customError struct{ msg string }

func (e customError) Error() string { return e.msg }

func handle(ctx context.Context, req request) (response, error) {
	resp := response{Action: req.Action, Message: req.Message, Data: req.Data}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		resp.RequestID = lc.AwsRequestID
	}
	switch req.Action {
	case "echo":
		return resp, nil
	case "error":
		return response{}, errors.New(req.Message)
	case "custom-error":
		return response{}, customError{req.Message}
	case "log":
		fmt.Fprintln(os.Stdout, "stdout:", req.Message)
		fmt.Fprintln(os.Stderr, "stderr:", req.Message)
		return resp, nil
	case "env":
		resp.Message = os.Getenv(req.Message)
		return resp, nil
	case "sleep":
		d, err := time.ParseDuration(req.Message)
		if err != nil {
			return response{}, err
		}
		// Deliberately deaf to ctx: a function that overruns its deadline.
		// Returning at ctx.Done() would race the emulator's own timeout,
		// and on a busy machine the handler's response could win.
		time.Sleep(d)
		return resp, nil
	case "exit":
		os.Exit(3)
	case "panic":
		panic(req.Message)
	}
	return response{}, fmt.Errorf("unknown action %q", req.Action)
}

func main() { lambda.Start(handle) }
