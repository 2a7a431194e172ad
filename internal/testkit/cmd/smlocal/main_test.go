package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func TestFunctionFlag(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"arn:aws:lambda:us-east-1:123456789012:function:rotate=http://127.0.0.1:9000/2015-03-31/functions/function/invocations", true},
		{"arn:aws:lambda:us-east-1:123456789012:function:rotate", false},
		{"rotate=http://127.0.0.1:9000", false},
		{"arn:aws:lambda:us-east-1:1:function:f=127.0.0.1:9000", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if err := (functionFlags{}).Set(tt.in); (err == nil) != tt.ok {
				t.Fatalf("Set(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

// run prints the endpoint, serves the SDK, invokes the registered function
// URL on RotateSecret and stops when its context is cancelled.
func TestRunServesUntilCancelled(t *testing.T) {
	invoked := make(chan string, 4)
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		invoked <- string(b)
		_, _ = w.Write([]byte(`{"errorMessage":"stop here","errorType":"test"}`))
	}))
	defer fn.Close()
	const arn = "arn:aws:lambda:eu-west-1:111122223333:function:rotate"

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-region", "eu-west-1", "-account", "111122223333", "-function", arn + "=" + fn.URL}, pw)
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	endpoint, ok := strings.CutPrefix(strings.TrimSpace(line), "endpoint: ")
	if !ok || !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Fatalf("first line %q, want endpoint: http://127.0.0.1:PORT", line)
	}
	c := secretsmanager.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(endpoint) })
	out, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("demo"), SecretString: aws.String("x")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(out.ARN), "arn:aws:secretsmanager:eu-west-1:111122223333:secret:demo-") {
		t.Fatalf("ARN %s does not use -region/-account", aws.ToString(out.ARN))
	}
	if _, err := c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("demo"), RotationLambdaARN: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-invoked:
		if !strings.Contains(ev, `"Step":"createSecret"`) {
			t.Fatalf("event %s", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("function URL not invoked")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestRunCommandLine: -h is help on out and no server; a bad flag or a
// stray argument is a usage error (exit 2 in main) and starts no server.
func TestRunCommandLine(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr error
		wantOut string
	}{
		{"help", []string{"-h"}, flag.ErrHelp, "Usage: smlocal"},
		{"bad function", []string{"-function", "rotate"}, errUsage, ""},
		{"unknown flag", []string{"-port", "1"}, errUsage, ""},
		{"stray argument", []string{"serve"}, errUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out strings.Builder
			err := run(ctx, tt.args, &out)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("run(%q) = %v, want %v", tt.args, err, tt.wantErr)
			}
			if !strings.HasPrefix(out.String(), tt.wantOut) || strings.Contains(out.String(), "endpoint:") {
				t.Errorf("stdout = %q, want it to start with %q and no endpoint", out.String(), tt.wantOut)
			}
		})
	}
}
