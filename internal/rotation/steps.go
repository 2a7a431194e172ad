package rotation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/example/secret-rotation/internal/dbsecret"
)

// createSecret stores a new AWSPENDING version: the current secret with
// only the password replaced by a generated one.
func (h *Handler) createSecret(ctx context.Context, r *request) (bool, error) {
	current, err := h.getSecret(ctx, r.secretID, "", StageCurrent)
	if err != nil {
		return false, err
	}
	_, err = h.getSecret(ctx, r.secretID, r.token, StagePending)
	switch {
	case err == nil:
		r.log.Info("AWSPENDING value already exists for this version; nothing to do")
		return false, nil
	case !isNotFound(err):
		return false, err
	}
	p := h.policy
	pw, err := h.sm.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{
		ExcludeCharacters:       aws.String(p.ExcludeCharacters),
		PasswordLength:          aws.Int64(p.Length),
		ExcludeNumbers:          aws.Bool(p.ExcludeNumbers),
		ExcludePunctuation:      aws.Bool(p.ExcludePunctuation),
		ExcludeUppercase:        aws.Bool(p.ExcludeUppercase),
		ExcludeLowercase:        aws.Bool(p.ExcludeLowercase),
		RequireEachIncludedType: aws.Bool(p.RequireEachIncludedType),
	})
	if err != nil {
		return false, fmt.Errorf("generate password: %w", err)
	}
	if pw.RandomPassword == nil || *pw.RandomPassword == "" {
		return false, errors.New("generate password: empty password returned")
	}
	value, err := current.WithPassword(*pw.RandomPassword)
	if err != nil {
		return false, fmt.Errorf("build pending secret: %w", err)
	}
	in := &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(r.secretID),
		ClientRequestToken: aws.String(r.token),
		SecretString:       aws.String(value),
		VersionStages:      []string{StagePending},
	}
	if r.rotationToken != "" {
		in.RotationToken = aws.String(r.rotationToken)
	}
	if _, err := h.sm.PutSecretValue(ctx, in); err != nil {
		return false, fmt.Errorf("store AWSPENDING version %s: %w", r.token, err)
	}
	r.log.Info("stored new AWSPENDING version")
	return true, nil
}

// setSecret changes the database password to the pending one. It logs in
// with AWSCURRENT first, the password the database has unless something
// went wrong, so a healthy rotation makes no failed login: account-lockout
// policies (MariaDB max_password_errors, MySQL FAILED_LOGIN_ATTEMPTS)
// count every refused password, and one failed login can block the
// account for the applications too. Only when AWSCURRENT is refused does
// it try AWSPENDING (already set by an earlier attempt of this rotation:
// nothing to do) and then AWSPREVIOUS. It stops at the first failure that
// is not a refused password (an unreachable or blocked database): another
// attempt could not tell more and might count against the account.
func (h *Handler) setSecret(ctx context.Context, r *request) (bool, error) {
	pending, err := h.getSecret(ctx, r.secretID, r.token, StagePending)
	if err != nil {
		return false, err
	}
	current, err := h.getSecret(ctx, r.secretID, "", StageCurrent)
	if err != nil {
		return false, err
	}
	// Before any login: the pending password is sent nowhere but to the
	// account AWSCURRENT names.
	if !pending.SameAccount(current) {
		return false, fmt.Errorf("pending version %s names a different user, host or port than AWSCURRENT; refusing to change the password", r.token)
	}
	tried := &loginError{addr: pending.Addr(), user: pending.Username}
	change := func(s Session) error { return s.ChangePassword(ctx, pending.Password) }
	// next reports whether to go on with the next candidate after err.
	next := func(stage string, err error) (bool, error) {
		if !errors.Is(err, errLogin) {
			return false, err // logged in, but the work failed
		}
		tried.add(stage, err)
		if !errors.Is(err, dbsecret.ErrAuth) {
			return false, tried
		}
		return true, nil
	}

	err = h.tryLogin(ctx, current, change)
	if err == nil {
		r.log.Info("changed database password", "logged_in_as", StageCurrent)
		return true, nil
	}
	if more, err := next(StageCurrent, err); !more {
		return false, err
	}
	// A retried setSecret (or a rotation that crashed after changing the
	// database): the pending password is already set.
	err = h.tryLogin(ctx, pending, func(Session) error { return nil })
	if err == nil {
		r.log.Info("pending credentials already log in; nothing to do")
		return false, nil
	}
	if more, err := next(StagePending, err); !more {
		return false, err
	}
	previous, err := h.getSecret(ctx, r.secretID, "", StagePrevious)
	switch {
	case err == nil && !pending.SameAccount(previous):
		tried.add(StagePrevious, errors.New("names a different user, host or port; not used"))
	case err == nil && previous.Password == current.Password:
		tried.add(StagePrevious, errors.New("same password as AWSCURRENT; not tried again"))
	case err == nil:
		err = h.tryLogin(ctx, previous, change)
		if err == nil {
			r.log.Info("changed database password", "logged_in_as", StagePrevious)
			return true, nil
		}
		if !errors.Is(err, errLogin) {
			return false, err
		}
		tried.add(StagePrevious, err)
	case isNotFound(err):
		tried.add(StagePrevious, errors.New("no such version"))
	default:
		tried.add(StagePrevious, err)
	}
	return false, tried
}

// loginError lists every version setSecret tried, by stage, with why each
// failed; never their values. It unwraps to the individual errors, so
// errors.Is(err, dbsecret.ErrCertificate) reports a TLS problem.
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

// errLogin marks a failure to log in, as opposed to a failure of the
// work done once logged in.
var errLogin = errors.New("login failed")

// tryLogin logs in as s and runs fn on the session. A login failure is
// returned wrapped with errLogin.
func (h *Handler) tryLogin(ctx context.Context, s *dbsecret.Secret, fn func(Session) error) error {
	sess, err := h.db.Login(ctx, s)
	if err != nil {
		return fmt.Errorf("%w: %w", errLogin, err)
	}
	defer sess.Close()
	return fn(sess)
}

// testSecret logs in with the pending credentials and runs a query.
func (h *Handler) testSecret(ctx context.Context, r *request) (bool, error) {
	pending, err := h.getSecret(ctx, r.secretID, r.token, StagePending)
	if err != nil {
		return false, err
	}
	err = h.tryLogin(ctx, pending, func(s Session) error { return s.Check(ctx) })
	if err != nil {
		return false, fmt.Errorf("test AWSPENDING credentials: %w", err)
	}
	r.log.Info("pending credentials log in and run a query")
	return false, nil
}

// finishSecret moves AWSCURRENT to the pending version; Secrets Manager
// moves AWSPREVIOUS to the old current version itself.
func (h *Handler) finishSecret(ctx context.Context, r *request) (bool, error) {
	current := ""
	for id, stages := range r.versions {
		for _, st := range stages {
			if st == StageCurrent {
				current = id
			}
		}
	}
	if current == r.token {
		return false, nil // unreachable after the guard, kept for clarity
	}
	in := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:        aws.String(r.secretID),
		VersionStage:    aws.String(StageCurrent),
		MoveToVersionId: aws.String(r.token),
	}
	if current != "" {
		in.RemoveFromVersionId = aws.String(current)
	}
	if _, err := h.sm.UpdateSecretVersionStage(ctx, in); err != nil {
		return false, fmt.Errorf("move AWSCURRENT to version %s: %w", r.token, err)
	}
	r.log.Info("moved AWSCURRENT to the new version", "previous_version", current)
	return true, nil
}

// getSecret fetches and parses one version, by id and/or stage.
func (h *Handler) getSecret(ctx context.Context, secretID, versionID, stage string) (*dbsecret.Secret, error) {
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID), VersionStage: aws.String(stage)}
	what := stage
	if versionID != "" {
		in.VersionId = aws.String(versionID)
		what = stage + " version " + versionID
	}
	out, err := h.sm.GetSecretValue(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", what, err)
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("get %s: secret has no SecretString (binary secrets are not supported)", what)
	}
	s, err := dbsecret.Parse(*out.SecretString)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return s, nil
}

func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}
