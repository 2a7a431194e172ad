package rotation

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/secret"
)

// createSecret stores a new AWSPENDING version: the current secret with
// only the password replaced by a generated one.
func (h *Handler) createSecret(ctx context.Context, r *request) (bool, error) {
	current, err := h.getSecret(ctx, r.secretID, "", secret.StageCurrent)
	if err != nil {
		return false, err
	}
	st, err := h.strategyOf(r, current)
	if err != nil {
		return false, err
	}
	_, err = h.getSecret(ctx, r.secretID, r.token, secret.StagePending)
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
	value, err := st.pendingValue(current, *pw.RandomPassword)
	if err != nil {
		return false, fmt.Errorf("build pending secret: %w", err)
	}
	in := &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(r.secretID),
		ClientRequestToken: aws.String(r.token),
		SecretString:       aws.String(value),
		VersionStages:      []string{secret.StagePending},
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

// setSecret makes the database accept the pending version, the way the
// secret's strategy does it.
func (h *Handler) setSecret(ctx context.Context, r *request) (bool, error) {
	pending, st, err := h.pendingAndStrategy(ctx, r)
	if err != nil {
		return false, err
	}
	return st.setSecret(ctx, h, r, pending)
}

// testSecret checks the pending version the way the secret's strategy
// does it.
func (h *Handler) testSecret(ctx context.Context, r *request) (bool, error) {
	pending, st, err := h.pendingAndStrategy(ctx, r)
	if err != nil {
		return false, err
	}
	return st.testSecret(ctx, h, r, pending)
}

// pendingAndStrategy reads the pending version and the strategy its shape selects.
func (h *Handler) pendingAndStrategy(ctx context.Context, r *request) (*secret.Secret, Strategy, error) {
	pending, err := h.getSecret(ctx, r.secretID, r.token, secret.StagePending)
	if err != nil {
		return nil, nil, err
	}
	st, err := h.strategyOf(r, pending)
	if err != nil {
		return nil, nil, err
	}
	return pending, st, nil
}

// errLogin marks a failure to log in, as opposed to a failure of the
// work done once logged in.
var errLogin = errors.New("login failed")

// tryLogin logs in as s, without a default schema (engine.WithoutSchema:
// the schema a user secret names need not exist yet), and runs fn on the
// session. A login failure is returned wrapped with errLogin.
func (h *Handler) tryLogin(ctx context.Context, s *secret.Secret, fn func(engine.Session) error) error {
	sess, err := h.db.Login(ctx, engine.WithoutSchema(s))
	if err != nil {
		return fmt.Errorf("%w: %w", errLogin, err)
	}
	defer sess.Close()
	return fn(sess)
}

// finishSecret moves AWSCURRENT to the pending version; Secrets Manager
// moves AWSPREVIOUS to the old current version itself.
func (h *Handler) finishSecret(ctx context.Context, r *request) (bool, error) {
	current := ""
	for id, stages := range r.versions {
		for _, st := range stages {
			if st == secret.StageCurrent {
				current = id
			}
		}
	}
	if current == r.token {
		return false, nil // unreachable after the guard, kept for clarity
	}
	in := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:        aws.String(r.secretID),
		VersionStage:    aws.String(secret.StageCurrent),
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
func (h *Handler) getSecret(ctx context.Context, secretID, versionID, stage string) (*secret.Secret, error) {
	s, _, err := h.getVersion(ctx, secretID, versionID, stage)
	return s, err
}

// versionInfo is what GetSecretValue says about the version it returned:
// its id and labels, never its value.
type versionInfo struct {
	id     string
	stages []string
}

// getVersion is getSecret that also returns the version's id and labels.
func (h *Handler) getVersion(ctx context.Context, secretID, versionID, stage string) (*secret.Secret, versionInfo, error) {
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID), VersionStage: aws.String(stage)}
	what := stage
	if versionID != "" {
		in.VersionId = aws.String(versionID)
		what = stage + " version " + versionID
	}
	out, err := h.sm.GetSecretValue(ctx, in)
	if err != nil {
		return nil, versionInfo{}, fmt.Errorf("get %s: %w", what, err)
	}
	info := versionInfo{id: aws.ToString(out.VersionId), stages: out.VersionStages}
	if out.SecretString == nil {
		return nil, info, fmt.Errorf("get %s: secret has no SecretString (binary secrets are not supported)", what)
	}
	s, err := secret.Parse(*out.SecretString)
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", what, err)
	}
	return s, info, nil
}

func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}
