package rotation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/secret"
)

// Rotation step names, as sent in the event's Step field.
const (
	StepCreateSecret = "createSecret"
	StepSetSecret    = "setSecret"
	StepTestSecret   = "testSecret"
	StepFinishSecret = "finishSecret"
)

// ErrGuard is matched (errors.Is) by every refusal of the step guard:
// unknown step, rotation disabled, token unknown or not pending; by the
// refusal of an alternating-users secret outside the allowed prefixes
// ([ErrNotAllowed]); and by that of a secret its master secret does not
// serve ([ErrMasterNotBound]).
var ErrGuard = errors.New("rotation request refused")

// Handler runs the rotation steps. Create it with [New]; its Handle method
// is the Lambda handler.
type Handler struct {
	sm     SecretsManager
	db     engine.Engine
	policy PasswordPolicy
	// altPrefixes limit alternating users to secrets under these ARN
	// prefixes (allowed.go); empty: no limit.
	altPrefixes []string
	// masterBindings bind master secrets to the ARN prefix of the secrets
	// that may name them, besides their tags; bindingOptional turns the
	// check off (binding.go).
	masterBindings  map[string]string
	bindingOptional bool
	log             *slog.Logger
	now             func() time.Time
}

// Option configures a [Handler].
type Option func(*Handler)

// WithPasswordPolicy sets the GetRandomPassword parameters (default
// [DefaultPasswordPolicy]).
func WithPasswordPolicy(p PasswordPolicy) Option { return func(h *Handler) { h.policy = p } }

// WithLogger sets the structured logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// New returns a Handler using sm for Secrets Manager and db, a dialect of
// package engine, for the database.
func New(sm SecretsManager, db engine.Engine, opts ...Option) *Handler {
	h := &Handler{
		sm:     sm,
		db:     db,
		policy: DefaultPasswordPolicy(),
		log:    slog.New(slog.NewJSONHandler(io.Discard, nil)),
		now:    time.Now,
	}
	for _, o := range opts {
		o(h)
	}
	return h
}

// request is one invocation after the guard has passed.
type request struct {
	secretID      string
	arn           string
	token         string
	rotationToken string
	versions      map[string][]string
	log           *slog.Logger
}

// Handle runs one rotation step. It logs one JSON record per invocation
// with the secret ARN, step, token (the ClientRequestToken, which is the
// version id, not a credential), outcome and duration. It never logs the
// RotationToken, a secret string or a password.
func (h *Handler) Handle(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	start := h.now()
	log := h.log.With(slog.String("secret_arn", ev.SecretID), slog.String("step", ev.Step), slog.String("token", ev.ClientRequestToken))
	outcome, err := h.handle(ctx, ev, log)
	attrs := []slog.Attr{
		slog.String("outcome", outcome),
		slog.Float64("duration_ms", float64(h.now().Sub(start).Microseconds())/1000),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
		log.LogAttrs(ctx, slog.LevelError, "rotation step failed", attrs...)
		return err
	}
	log.LogAttrs(ctx, slog.LevelInfo, "rotation step finished", attrs...)
	return nil
}

// Outcomes reported in the log's "outcome" field.
const (
	OutcomeDone    = "done"    // the step changed something
	OutcomeNoop    = "noop"    // the step found its work already done
	OutcomeFailed  = "failed"  // the step returned an error
	OutcomeRefused = "refused" // the guard rejected the request
)

func (h *Handler) handle(ctx context.Context, ev events.SecretsManagerSecretRotationEvent, log *slog.Logger) (string, error) {
	step, ok := steps[ev.Step]
	if !ok {
		return OutcomeRefused, fmt.Errorf("%w: unknown step %q", ErrGuard, ev.Step)
	}
	if ev.SecretID == "" || ev.ClientRequestToken == "" {
		return OutcomeRefused, fmt.Errorf("%w: event lacks SecretId or ClientRequestToken", ErrGuard)
	}
	md, err := h.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ev.SecretID)})
	if err != nil {
		return OutcomeFailed, fmt.Errorf("describe secret: %w", err)
	}
	if md.RotationEnabled != nil && !*md.RotationEnabled {
		return OutcomeRefused, fmt.Errorf("%w: rotation is not enabled for secret %s", ErrGuard, ev.SecretID)
	}
	stages, ok := md.VersionIdsToStages[ev.ClientRequestToken]
	if !ok {
		return OutcomeRefused, fmt.Errorf("%w: version %s is not a version of secret %s", ErrGuard, ev.ClientRequestToken, ev.SecretID)
	}
	if slices.Contains(stages, secret.StageCurrent) {
		// A retried step after finishSecret already completed.
		log.Info("version is already AWSCURRENT; nothing to do")
		return OutcomeNoop, nil
	}
	if !slices.Contains(stages, secret.StagePending) {
		return OutcomeRefused, fmt.Errorf("%w: version %s of secret %s is not AWSPENDING", ErrGuard, ev.ClientRequestToken, ev.SecretID)
	}
	r := &request{
		secretID:      ev.SecretID,
		arn:           aws.ToString(md.ARN),
		token:         ev.ClientRequestToken,
		rotationToken: ev.RotationToken,
		versions:      md.VersionIdsToStages,
		log:           log,
	}
	if r.arn == "" {
		r.arn = ev.SecretID
	}
	changed, err := step(h, ctx, r)
	switch {
	case errors.Is(err, ErrGuard):
		return OutcomeRefused, err
	case err != nil:
		return OutcomeFailed, err
	case changed:
		return OutcomeDone, nil
	}
	return OutcomeNoop, nil
}

// stepFunc runs one step; changed reports whether it modified anything.
type stepFunc func(h *Handler, ctx context.Context, r *request) (changed bool, err error)

var steps = map[string]stepFunc{
	StepCreateSecret: (*Handler).createSecret,
	StepSetSecret:    (*Handler).setSecret,
	StepTestSecret:   (*Handler).testSecret,
	StepFinishSecret: (*Handler).finishSecret,
}
