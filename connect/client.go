package connect

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-secretsmanager-caching-go/v2/secretcache"
)

// SecretsClient is the part of the Secrets Manager API the connector uses.
// *secretsmanager.Client implements it; test fakes embed it and override
// what they need.
type SecretsClient interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// errNotUsed answers the calls the caching library's interface declares
// but never makes for reads.
var errNotUsed = errors.New("connect: Secrets Manager operation not used by the connector")

// cacheClient adapts the narrow SecretsClient to the caching library's
// wider interface, so callers never have to provide write permissions.
type cacheClient struct{ SecretsClient }

var _ secretcache.SecretsManagerAPIClient = cacheClient{}

func (cacheClient) CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	return nil, errNotUsed
}

func (cacheClient) DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error) {
	return nil, errNotUsed
}

func (cacheClient) ListSecrets(context.Context, *secretsmanager.ListSecretsInput, ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error) {
	return nil, errNotUsed
}

func (cacheClient) UpdateSecret(context.Context, *secretsmanager.UpdateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretOutput, error) {
	return nil, errNotUsed
}
