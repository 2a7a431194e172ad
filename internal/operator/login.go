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

var _ GrantChecker = DBChecker{}

// AccountStates implements [GrantChecker]: one login as the master user,
// then, per account, whether it exists and its grants, through the
// engine's Admin seam (the statements the rotation function uses).
func (c DBChecker) AccountStates(ctx context.Context, masterSecret string, accounts []engine.Account) ([]AccountState, error) {
	s, err := secret.Parse(masterSecret)
	if err != nil {
		return nil, err
	}
	sess, err := mysql.NewEngine(c.Dialer).Login(ctx, s)
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
			if st.Grants, err = adm.Grants(ctx, a); err != nil {
				return nil, err
			}
		}
		out = append(out, st)
	}
	return out, nil
}
