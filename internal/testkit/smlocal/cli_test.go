package smlocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// awsCLI runs `aws --endpoint-url URL secretsmanager ARGS...` with dummy
// credentials and no shared config, returning stdout, stderr and the error.
func awsCLI(t *testing.T, endpoint string, args ...string) (map[string]any, string, error) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", endpoint, "--output", "json", "secretsmanager"}, args...)...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") { // no profile, token or endpoint from the caller
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"AWS_ACCESS_KEY_ID=AKIDCLI", "AWS_SECRET_ACCESS_KEY=dummy",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_MAX_ATTEMPTS=3", "AWS_RETRY_MODE=standard",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var out map[string]any
	if err == nil && stdout.Len() > 0 {
		if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
			t.Fatalf("aws %v: output is not JSON: %v\n%s", args, jerr, stdout.String())
		}
	}
	return out, stderr.String(), err
}

// The unmodified aws CLI (v1, botocore) talks to the endpoint with
// --endpoint-url. Skipped only when `aws` is not installed.
func TestAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not on PATH; install awscli to run this test")
	}
	var steps []string
	srv, _ := start(t, smlocal.WithSynchronousRotation(), smlocal.WithFunction(fnARN, smlocal.InvokerFunc(
		func(_ context.Context, ev events.SecretsManagerSecretRotationEvent) error {
			steps = append(steps, ev.Step)
			return nil
		})))
	url := srv.URL()
	must := func(args ...string) map[string]any {
		t.Helper()
		out, stderr, err := awsCLI(t, url, args...)
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, stderr)
		}
		return out
	}

	created := must("create-secret", "--name", "cli/demo", "--secret-string", `{"password":"one"}`)
	arn, _ := created["ARN"].(string)
	v1, _ := created["VersionId"].(string)
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:123456789012:secret:cli/demo-") || v1 == "" {
		t.Fatalf("create-secret = %v", created)
	}
	if got := must("get-secret-value", "--secret-id", "cli/demo")["SecretString"]; got != `{"password":"one"}` {
		t.Fatalf("get-secret-value SecretString = %v", got)
	}
	put := must("put-secret-value", "--secret-id", arn, "--secret-string", "two", "--version-stages", "AWSPENDING")
	v2, _ := put["VersionId"].(string)
	must("update-secret-version-stage", "--secret-id", "cli/demo", "--version-stage", "AWSCURRENT", "--move-to-version-id", v2, "--remove-from-version-id", v1)
	desc := must("describe-secret", "--secret-id", arn[:len(arn)-7])
	stages, _ := desc["VersionIdsToStages"].(map[string]any)
	if len(stages) != 2 || desc["CreatedDate"] == nil {
		t.Fatalf("describe-secret = %v", desc)
	}
	if got := must("get-secret-value", "--secret-id", "cli/demo", "--version-stage", "AWSPREVIOUS")["SecretString"]; got != `{"password":"one"}` {
		t.Fatalf("AWSPREVIOUS = %v", got)
	}
	versions, _ := must("list-secret-version-ids", "--secret-id", "cli/demo")["Versions"].([]any)
	if len(versions) != 2 {
		t.Fatalf("list-secret-version-ids = %v", versions)
	}
	pw, _ := must("get-random-password", "--password-length", "20", "--exclude-punctuation")["RandomPassword"].(string)
	if len(pw) != 20 || strings.ContainsAny(pw, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") {
		t.Fatalf("get-random-password = %q", pw)
	}
	must("rotate-secret", "--secret-id", "cli/demo", "--rotation-lambda-arn", fnARN, "--rotation-rules", "AutomaticallyAfterDays=7")
	if strings.Join(steps, ",") != "createSecret,setSecret,testSecret,finishSecret" {
		t.Fatalf("rotation steps = %v", steps)
	}

	_, stderr, err := awsCLI(t, url, "get-secret-value", "--secret-id", "missing")
	if err == nil || !strings.Contains(stderr, "ResourceNotFoundException") || !strings.Contains(stderr, "can't find the specified secret") {
		t.Fatalf("missing secret: err %v, stderr %q", err, stderr)
	}
	// The CLI retries throttling too.
	srv.FailNext("DescribeSecret", 1, "ThrottlingException")
	must("describe-secret", "--secret-id", "cli/demo")
	if got := srv.Calls("DescribeSecret"); got != 3 {
		t.Fatalf("DescribeSecret calls = %d, want 3 (1 before, 1 throttled, 1 retry)", got)
	}
}
