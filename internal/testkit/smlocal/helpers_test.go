package smlocal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// start runs a server for one test and returns it with an SDK client whose
// retryer is the SDK's standard one (same retry decisions) without backoff
// sleeps, so retry tests stay fast.
func start(t *testing.T, opts ...smlocal.Option) (*smlocal.Server, *secretsmanager.Client) {
	t.Helper()
	srv, err := smlocal.Start(opts...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	client := srv.NewClient(context.Background(), func(o *secretsmanager.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = noBackoff{}
		})
	})
	return srv, client
}

type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

// token returns a valid ClientRequestToken (32..64 characters) from a tag.
func token(tag string) *string {
	return aws.String((tag + "-" + strings.Repeat("0", 40))[:36])
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mustCreate creates a secret with a string value and returns its ARN and version id.
func mustCreate(t *testing.T, c *secretsmanager.Client, name, value string) (arn, versionID string) {
	t.Helper()
	out, err := c.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		t.Fatalf("CreateSecret %s: %v", name, err)
	}
	return aws.ToString(out.ARN), aws.ToString(out.VersionId)
}

// stagesOf returns DescribeSecret's VersionIdsToStages.
func stagesOf(t *testing.T, c *secretsmanager.Client, id string) map[string][]string {
	t.Helper()
	out, err := c.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeSecret %s: %v", id, err)
	}
	return out.VersionIdsToStages
}

// getString returns GetSecretValue's SecretString for a stage.
func getString(t *testing.T, c *secretsmanager.Client, id, stage string) string {
	t.Helper()
	out, err := c.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id), VersionStage: aws.String(stage)})
	if err != nil {
		t.Fatalf("GetSecretValue %s %s: %v", id, stage, err)
	}
	return aws.ToString(out.SecretString)
}
