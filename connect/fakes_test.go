package connect_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/connect"
)

// fakeClient embeds the interface: calls it does not override panic,
// which fails a test that makes an unexpected call.
type fakeClient struct {
	connect.SecretsClient
	describeErr error
}

func (f fakeClient) DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	return nil, f.describeErr
}

func createInput(name, value string) *secretsmanager.CreateSecretInput {
	return &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}
}

// An unreachable Secrets Manager is a secret error, not a database error.
func TestUnreachableSecretsManager(t *testing.T) {
	denied := errors.New("AccessDeniedException: not authorized")
	c, err := connect.NewConnector(ctxT(t), "app/x", connect.WithClient(fakeClient{describeErr: denied}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Connect(ctxT(t))
	if !errors.Is(err, connect.ErrSecret) || !errors.Is(err, denied) {
		t.Fatalf("err = %v, want ErrSecret wrapping the API error", err)
	}
}
