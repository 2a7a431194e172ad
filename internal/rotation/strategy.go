package rotation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/secret"
)

// Strategy is what differs between rotation strategies: how createSecret
// derives the pending value from AWSCURRENT, how setSecret makes the
// database accept it and how testSecret checks it. The guard,
// GetRandomPassword, PutSecretValue and finishSecret are common. Single
// user (no "masterarn") and alternating users (alternating.go) are the two.
type Strategy interface {
	// pendingValue returns the secret string of the new AWSPENDING version
	// from AWSCURRENT and a generated password.
	pendingValue(current *secret.Secret, password string) (string, error)
	setSecret(ctx context.Context, h *Handler, r *request, pending *secret.Secret) (changed bool, err error)
	testSecret(ctx context.Context, h *Handler, r *request, pending *secret.Secret) (changed bool, err error)
}

// ErrUnsupportedStrategy is matched (errors.Is) by the error of a step on
// a secret whose shape asks for a strategy the database engine cannot
// serve (alternating users on an engine whose sessions do not implement
// engine.Admin).
var ErrUnsupportedStrategy = errors.New("rotation strategy not supported")

// strategyFor selects the strategy by the shape of a version of the
// secret: the one place that decides it.
func strategyFor(s *secret.Secret) (Strategy, error) {
	if s.AlternatingUsers() {
		if err := validateAlternating(s); err != nil {
			return nil, err
		}
		return alternatingUsers{}, nil
	}
	return singleUser{}, nil
}

// singleUser rotates the password of the secret's own user, logged in as
// that user: AWS's single-user rotation.
type singleUser struct{}

var _ Strategy = singleUser{}

// pendingValue is AWSCURRENT with only the password replaced.
func (singleUser) pendingValue(current *secret.Secret, password string) (string, error) {
	return current.WithPassword(password)
}

// setSecret changes the database password to the pending one, logged in
// as the secret's own user. It logs in
// with AWSCURRENT first, the password the database has unless something
// went wrong, so a healthy rotation makes no failed login: account-lockout
// policies (MariaDB max_password_errors, MySQL FAILED_LOGIN_ATTEMPTS)
// count every refused password, and one failed login can block the
// account for the applications too. Only when AWSCURRENT is refused does
// it try AWSPENDING (already set by an earlier attempt of this rotation:
// nothing to do) and then AWSPREVIOUS. It stops at the first failure that
// is not a refused password (an unreachable or blocked database): another
// attempt could not tell more and might count against the account.
func (singleUser) setSecret(ctx context.Context, h *Handler, r *request, pending *secret.Secret) (bool, error) {
	current, err := h.getSecret(ctx, r.secretID, "", secret.StageCurrent)
	if err != nil {
		return false, err
	}
	// Before any login: the pending password is sent nowhere but to the
	// account AWSCURRENT names.
	if !pending.SameAccount(current) {
		return false, fmt.Errorf("pending version %s names a different user, host or port than AWSCURRENT; refusing to change the password", r.token)
	}
	tried := &loginError{addr: pending.Addr(), user: pending.Username}
	change := func(s engine.Session) error { return s.ChangePassword(ctx, pending.Password) }
	// next reports whether to go on with the next candidate after err.
	next := func(stage string, err error) (bool, error) {
		if !errors.Is(err, errLogin) {
			return false, err // logged in, but the work failed
		}
		tried.add(stage, err)
		if !errors.Is(err, engine.ErrAuth) {
			return false, tried
		}
		return true, nil
	}

	err = h.tryLogin(ctx, current, change)
	if err == nil {
		r.log.Info("changed database password", "logged_in_as", secret.StageCurrent)
		return true, nil
	}
	if more, err := next(secret.StageCurrent, err); !more {
		return false, err
	}
	// A retried setSecret (or a rotation that crashed after changing the
	// database): the pending password is already set.
	err = h.tryLogin(ctx, pending, func(engine.Session) error { return nil })
	if err == nil {
		r.log.Info("pending credentials already log in; nothing to do")
		return false, nil
	}
	if more, err := next(secret.StagePending, err); !more {
		return false, err
	}
	previous, err := h.getSecret(ctx, r.secretID, "", secret.StagePrevious)
	switch {
	case err == nil && !pending.SameAccount(previous):
		tried.add(secret.StagePrevious, errors.New("names a different user, host or port; not used"))
	case err == nil && previous.Password == current.Password:
		tried.add(secret.StagePrevious, errors.New("same password as AWSCURRENT; not tried again"))
	case err == nil:
		err = h.tryLogin(ctx, previous, change)
		if err == nil {
			r.log.Info("changed database password", "logged_in_as", secret.StagePrevious)
			return true, nil
		}
		if !errors.Is(err, errLogin) {
			return false, err
		}
		tried.add(secret.StagePrevious, err)
	case isNotFound(err):
		tried.add(secret.StagePrevious, errors.New("no such version"))
	default:
		tried.add(secret.StagePrevious, err)
	}
	return false, tried
}

// loginError lists every version setSecret tried, by stage, with why each
// failed; never their values. It unwraps to the individual errors, so
// errors.Is(err, engine.ErrCertificate) reports a TLS problem.
type loginError struct {
	addr, user string
	stages     []string
	errs       []error
}

func (e *loginError) add(stage string, err error) {
	e.stages = append(e.stages, stage)
	e.errs = append(e.errs, err)
}

func (e *loginError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "set password: no version of the secret can log in to %s as %s (tried ", e.addr, e.user)
	for i, st := range e.stages {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %v", st, e.errs[i])
	}
	b.WriteString(")")
	return b.String()
}

func (e *loginError) Unwrap() []error { return e.errs }

// testSecret logs in with the pending credentials and runs a query.
func (singleUser) testSecret(ctx context.Context, h *Handler, r *request, pending *secret.Secret) (bool, error) {
	err := h.tryLogin(ctx, pending, func(s engine.Session) error { return s.Check(ctx) })
	if err != nil {
		return false, fmt.Errorf("test AWSPENDING credentials: %w", err)
	}
	r.log.Info("pending credentials log in and run a query")
	return false, nil
}
