package rotation

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/dbsecret"
)

// SecretsManager is the part of *secretsmanager.Client the function uses.
type SecretsManager interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	GetRandomPassword(ctx context.Context, in *secretsmanager.GetRandomPasswordInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetRandomPasswordOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

var _ SecretsManager = (*secretsmanager.Client)(nil)

// Database logs in to the server a secret describes. Login returns an
// error matching dbsecret.ErrAuth when the server refuses the credentials.
type Database interface {
	Login(ctx context.Context, s *dbsecret.Secret) (Session, error)
}

// Session is one logged-in connection.
type Session interface {
	// ChangePassword sets the password of the logged-in account. Its
	// error never contains the password.
	ChangePassword(ctx context.Context, newPassword string) error
	// Check runs a trivial query to prove the session works.
	Check(ctx context.Context) error
	// Close releases the connection.
	Close() error
}
