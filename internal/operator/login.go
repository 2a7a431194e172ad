package operator

import (
	"context"
	"errors"
	"fmt"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/secret"
)

// LoginChecker tells whether the database a secret value describes
// accepts its credentials.
type LoginChecker interface {
	// CanLogin returns (true, nil) when the login works, (false, nil)
	// when the server refuses the credentials (engine.ErrAuth), and an
	// error when it cannot tell (server down, TLS failure, bad secret).
	CanLogin(ctx context.Context, secretString string) (bool, error)
}

// DBChecker is the LoginChecker for real databases: it logs in through
// the dialect's engine.Engine, the one the rotation function uses, and
// closes the session again.
type DBChecker struct {
	Engine engine.Engine
}

// CanLogin implements [LoginChecker].
func (c DBChecker) CanLogin(ctx context.Context, secretString string) (bool, error) {
	s, err := secret.Parse(secretString)
	if err != nil {
		return false, err
	}
	sess, err := c.Engine.Login(ctx, s)
	if errors.Is(err, engine.ErrAuth) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := sess.Close(); err != nil {
		return true, fmt.Errorf("close: %w", err)
	}
	return true, nil
}
