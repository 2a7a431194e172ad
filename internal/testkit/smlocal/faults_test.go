package smlocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// The SDK's standard retryer makes up to 3 attempts and retries throttling
// errors (by error code) and HTTP 5xx; modeled client errors are final.
func TestFailNextAndSDKRetries(t *testing.T) {
	tests := []struct {
		name      string
		errorType string
		n         int
		wantCalls int
		wantCode  string // "" means the call finally succeeds
	}{
		{"throttling is retried", "ThrottlingException", 2, 3, ""},
		{"internal error (HTTP 500) is retried", "InternalServiceError", 2, 3, ""},
		{"throttling beyond max attempts surfaces", "ThrottlingException", 5, 3, "ThrottlingException"},
		{"DecryptionFailure is not retried", "DecryptionFailure", 1, 1, "DecryptionFailure"},
		{"ResourceNotFoundException is not retried", "ResourceNotFoundException", 1, 1, "ResourceNotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := start(t)
			mustCreate(t, c, "s", "v")
			srv.FailNext("GetSecretValue", tt.n, tt.errorType)
			out, err := c.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
			if got := srv.Calls("GetSecretValue"); got != tt.wantCalls {
				t.Fatalf("Calls = %d, want %d", got, tt.wantCalls)
			}
			if tt.wantCode == "" {
				if err != nil || aws.ToString(out.SecretString) != "v" {
					t.Fatalf("GetSecretValue = %v, %v", out, err)
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode {
				t.Fatalf("err = %v, want code %s", err, tt.wantCode)
			}
		})
	}
}

func TestFailNextGivesTypedErrors(t *testing.T) {
	srv, c := start(t)
	mustCreate(t, c, "s", "v")
	srv.FailNext("GetSecretValue", 1, "DecryptionFailure")
	_, err := c.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
	assertErrType(t, err, &types.DecryptionFailure{})
	// Other operations are unaffected and the queue is used up.
	if _, err := c.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	if got := getString(t, c, "s", "AWSCURRENT"); got != "v" {
		t.Fatal(got)
	}
}

// DelayNext holds the next calls: a caller with a shorter deadline gives up,
// the following call is served normally.
func TestDelayNext(t *testing.T) {
	srv, c := start(t)
	mustCreate(t, c, "s", "v")
	srv.DelayNext("GetSecretValue", 1, 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if got := getString(t, c, "s", "AWSCURRENT"); got != "v" {
		t.Fatal(got)
	}
	if got := srv.Calls("GetSecretValue"); got != 2 {
		t.Fatalf("Calls = %d, want 2", got)
	}
}

// rawCall posts one AWS JSON 1.1 request without the SDK.
func rawCall(t *testing.T, url, target string, body any, auth bool) (*http.Response, map[string]any) {
	t.Helper()
	buf, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(buf))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	if auth {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=00")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s response: %v", target, err)
	}
	return resp, m
}

// The wire format the SDKs parse: errors as HTTP 400/500/403 with "__type"
// and "Message" plus X-Amzn-Errortype; timestamps as epoch seconds with a
// fraction; the JSON 1.1 content type.
func TestWireFormat(t *testing.T) {
	srv, c := start(t)
	mustCreate(t, c, "s", "v")
	tests := []struct {
		name       string
		target     string
		body       any
		auth       bool
		fail       string
		wantStatus int
		wantType   string
	}{
		{"not found", "secretsmanager.GetSecretValue", map[string]string{"SecretId": "nope"}, true, "", 400, "ResourceNotFoundException"},
		{"throttled", "secretsmanager.GetSecretValue", map[string]string{"SecretId": "s"}, true, "ThrottlingException", 400, "ThrottlingException"},
		{"internal", "secretsmanager.GetSecretValue", map[string]string{"SecretId": "s"}, true, "InternalServiceError", 500, "InternalServiceError"},
		{"no Authorization header", "secretsmanager.GetSecretValue", map[string]string{"SecretId": "s"}, false, "", 403, "MissingAuthenticationTokenException"},
		{"unknown operation", "secretsmanager.GetResourcePolicy", map[string]string{"SecretId": "s"}, true, "", 400, "UnknownOperationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fail != "" {
				srv.FailNext("GetSecretValue", 1, tt.fail)
			}
			resp, m := rawCall(t, srv.URL(), tt.target, tt.body, tt.auth)
			if resp.StatusCode != tt.wantStatus || m["__type"] != tt.wantType || resp.Header.Get("X-Amzn-Errortype") != tt.wantType {
				t.Fatalf("status %d __type %v header %q, want %d %s", resp.StatusCode, m["__type"], resp.Header.Get("X-Amzn-Errortype"), tt.wantStatus, tt.wantType)
			}
			if msg, _ := m["Message"].(string); msg == "" {
				t.Fatalf("no Message in %v", m)
			}
		})
	}
	resp, m := rawCall(t, srv.URL(), "secretsmanager.DescribeSecret", map[string]string{"SecretId": "s"}, true)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Fatalf("status %d content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	created, ok := m["CreatedDate"].(json.Number)
	if !ok {
		t.Fatalf("CreatedDate = %#v, want a JSON number", m["CreatedDate"])
	}
	secs, err := created.Float64()
	if err != nil || secs < 1.7e9 || strings.Count(created.String(), "e") > 0 {
		t.Fatalf("CreatedDate = %s, want epoch seconds", created)
	}
}

// HangNext holds a request until the client gives up; the next call is
// served, and Close does not wait for a held request.
func TestHangNext(t *testing.T) {
	srv, c := start(t)
	mustCreate(t, c, "s", "v")
	srv.HangNext("DescribeSecret", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if _, err := c.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Calls("DescribeSecret"); got != 2 {
		t.Fatalf("Calls = %d, want 2", got)
	}

	srv.HangNext("GetSecretValue", 1)
	done := make(chan error, 1)
	go func() {
		_, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
		done <- err
	}()
	for srv.Calls("GetSecretValue") == 0 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for a held request")
	}
	if err := <-done; err == nil {
		t.Fatal("the held request got an answer")
	}
}

// The two NextToken answers another implementation gives, on the wire,
// and what the SDK's paginator makes of them: it stops on "" by itself,
// but on a repeated token only with StopOnDuplicateToken (which is off by
// default); without it a client asks for the same page as long as the
// server repeats the token.
func TestPageTokenFaults(t *testing.T) {
	srv, c := start(t)
	mustCreate(t, c, "s", "v")
	list := map[string]string{"SecretId": "s"}

	srv.PageTokenNext("ListSecretVersionIds", 1, smlocal.EmptyNextToken)
	_, m := rawCall(t, srv.URL(), "secretsmanager.ListSecretVersionIds", list, true)
	if tok, ok := m["NextToken"]; !ok || tok != "" {
		t.Fatalf("EmptyNextToken: NextToken = %#v (present %v), want \"\"", tok, ok)
	}
	srv.PageTokenNext("ListSecretVersionIds", 2, smlocal.RepeatedNextToken)
	_, m = rawCall(t, srv.URL(), "secretsmanager.ListSecretVersionIds", list, true)
	first, _ := m["NextToken"].(string)
	_, m = rawCall(t, srv.URL(), "secretsmanager.ListSecretVersionIds", map[string]string{"SecretId": "s", "NextToken": first}, true)
	if first == "" || m["NextToken"] != first {
		t.Fatalf("RepeatedNextToken: tokens %q then %v, want the same non-empty token twice", first, m["NextToken"])
	}
	if _, m = rawCall(t, srv.URL(), "secretsmanager.ListSecretVersionIds", list, true); m["NextToken"] != nil {
		t.Fatalf("after the faults: NextToken = %v, want none", m["NextToken"])
	}

	pages := func(fault smlocal.PageTokenFault, stopOnDuplicate bool) int {
		srv.PageTokenNext("ListSecretVersionIds", 10, fault)
		before := srv.Calls("ListSecretVersionIds")
		p := secretsmanager.NewListSecretVersionIdsPaginator(c, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s")},
			func(o *secretsmanager.ListSecretVersionIdsPaginatorOptions) { o.StopOnDuplicateToken = stopOnDuplicate })
		for p.HasMorePages() {
			if _, err := p.NextPage(ctxT(t)); err != nil {
				t.Fatal(err)
			}
		}
		n := srv.Calls("ListSecretVersionIds") - before
		for range 10 { // drain what is left of the queue
			rawCall(t, srv.URL(), "secretsmanager.ListSecretVersionIds", list, true)
		}
		return n
	}
	if n := pages(smlocal.EmptyNextToken, false); n != 1 {
		t.Errorf("empty token: paginator made %d calls, want 1", n)
	}
	if n := pages(smlocal.RepeatedNextToken, true); n != 2 {
		t.Errorf("repeated token with StopOnDuplicateToken: %d calls, want 2", n)
	}
	if n := pages(smlocal.RepeatedNextToken, false); n != 11 {
		t.Errorf("repeated token without StopOnDuplicateToken: %d calls, want 11 (until the faults ran out)", n)
	}
}
