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
	// Whether the credentials work, not whether the schema the secret
	// names exists yet: the rotation function's logins select none either.
	sess, err := c.Engine.Login(ctx, engine.WithoutSchema(s))
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

var _ GrantChecker = DBChecker{}

// AccountStates implements [GrantChecker]: one login as the master user,
// then, per account, whether it exists and its privileges at every level
// (engine.AllGrants: global, schema, table, column, routine), through the
// engine's Admin seam (the statements the rotation function uses).
func (c DBChecker) AccountStates(ctx context.Context, masterSecret string, accounts []engine.Account) ([]AccountState, error) {
	s, err := secret.Parse(masterSecret)
	if err != nil {
		return nil, err
	}
	sess, err := c.Engine.Login(ctx, engine.WithoutSchema(s))
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	adm, ok := sess.(engine.Admin)
	if !ok {
		return nil, errors.New("the database engine cannot read accounts")
	}
	out := make([]AccountState, 0, len(accounts))
	for _, a := range accounts {
		exists, err := adm.AccountExists(ctx, a)
		if err != nil {
			return nil, err
		}
		st := AccountState{Exists: exists}
		if exists {
			if st.Grants, err = engine.AllGrants(ctx, adm, a); err != nil {
				return nil, err
			}
		}
		out = append(out, st)
	}
	return out, nil
}
