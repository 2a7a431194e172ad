package awsclient_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/awsclient"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// hermetic points the standard configuration at static dummy credentials
// only: no shared files, no IMDS, no profile.
func hermetic(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":                "AKIDAWSCLIENTTEST",
		"AWS_SECRET_ACCESS_KEY":            "awsclient-test-dummy",
		"AWS_SESSION_TOKEN":                "",
		"AWS_REGION":                       "us-east-1",
		"AWS_PROFILE":                      "",
		"AWS_CONFIG_FILE":                  filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":      filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_ENDPOINT_URL":                 "",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "",
	} {
		t.Setenv(k, v)
	}
}

// Every client has a request timeout by default.
func TestDefaultRequestTimeout(t *testing.T) {
	hermetic(t)
	sm, err := awsclient.SecretsManager(context.Background(), awsclient.Flags{})
	if err != nil {
		t.Fatal(err)
	}
	hc, ok := sm.Options().HTTPClient.(interface{ GetTimeout() time.Duration })
	if !ok || hc.GetTimeout() != awsclient.DefaultRequestTimeout {
		t.Fatalf("HTTP client %T has no %s timeout", sm.Options().HTTPClient, awsclient.DefaultRequestTimeout)
	}
}

// A service that never answers: a call without any context deadline
// still returns, with a timeout error, after the SDK's attempts.
func TestRequestTimeoutWithoutContextDeadline(t *testing.T) {
	hermetic(t)
	srv, err := smlocal.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	sm, err := awsclient.SecretsManager(context.Background(), awsclient.Flags{EndpointURL: srv.URL(), RequestTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv.HangNext("DescribeSecret", 10)
	done := make(chan error, 1)
	go func() {
		_, err := sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second): // 3 attempts of 0.3 s plus at most 6 s of backoff, with room for a busy machine
		t.Fatal("DescribeSecret against a server that never answers is still waiting after 60 s")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if n := srv.Calls("DescribeSecret"); n < 1 {
		t.Fatalf("the server saw %d DescribeSecret calls", n)
	}
}
