package operator

import (
	"context"
	"errors"
	"fmt"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/secret"
)

// LoginChecker tells whether the database a secret value describes
// accepts its credentials.
type LoginChecker interface {
	// CanLogin returns (true, nil) when the login works, (false, nil)
	// when the server refuses the credentials (MySQL error 1045), and an
	// error when it cannot tell (server down, TLS failure, bad secret).
	CanLogin(ctx context.Context, secretString string) (bool, error)
}

// DBChecker is the LoginChecker for real databases: it opens one
// connection with the secret's TLS policy and closes it again.
type DBChecker struct {
	Dialer *mysql.Dialer
}

// CanLogin implements [LoginChecker].
func (c DBChecker) CanLogin(ctx context.Context, secretString string) (bool, error) {
	s, err := secret.Parse(secretString)
	if err != nil {
		return false, err
	}
	db, err := c.Dialer.Open(ctx, s)
	if errors.Is(err, engine.ErrAuth) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := db.Close(); err != nil {
		return true, fmt.Errorf("close: %w", err)
	}
	return true, nil
}
