package operator

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/uuid"
)

// SecretsManager is the part of the Secrets Manager API the operator
// uses. *secretsmanager.Client implements it; fakes embed it.
type SecretsManager interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	ListSecretVersionIds(ctx context.Context, in *secretsmanager.ListSecretVersionIdsInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error)
	RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

// Operator runs the operator commands against one Secrets Manager and the
// databases its secrets describe. Create it with [New].
type Operator struct {
	sm           SecretsManager // every call bounded by callTimeout
	db           LoginChecker
	grants       GrantChecker // nil: grants are not compared
	now          func() time.Time
	newToken     func() string
	pollInterval time.Duration
	stuckAfter   time.Duration
	callTimeout  time.Duration
}

// Option configures an [Operator].
type Option func(*Operator)

// WithClock replaces time.Now (tests make output deterministic with it).
func WithClock(now func() time.Time) Option { return func(o *Operator) { o.now = now } }

// WithTokenSource replaces the random ClientRequestToken generator used
// by Rotate (tests make version ids deterministic with it).
func WithTokenSource(f func() string) Option { return func(o *Operator) { o.newToken = f } }

// WithPollInterval sets how often Rotate polls while waiting (default 2 s).
func WithPollInterval(d time.Duration) Option { return func(o *Operator) { o.pollInterval = d } }

// WithStuckAfter sets the age after which an unfinished rotation is
// reported as stuck rather than in progress (default [DefaultStuckAfter]).
func WithStuckAfter(d time.Duration) Option { return func(o *Operator) { o.stuckAfter = d } }

// WithCallTimeout bounds each Secrets Manager call, its SDK retries
// included (default [DefaultCallTimeout]).
func WithCallTimeout(d time.Duration) Option { return func(o *Operator) { o.callTimeout = d } }

// DefaultStuckAfter is longer than four Lambda invocations at their 15
// minute maximum, so a slow but live rotation is never called stuck.
const DefaultStuckAfter = time.Hour

// DefaultCallTimeout bounds one Secrets Manager call with its retries: a
// call the service holds open without answering fails after this long
// instead of taking the whole command's time.
const DefaultCallTimeout = 30 * time.Second

// New returns an Operator using sm for the secret and db for logins.
func New(sm SecretsManager, db LoginChecker, opts ...Option) *Operator {
	o := &Operator{db: db, now: time.Now, newToken: randomToken,
		pollInterval: 2 * time.Second, stuckAfter: DefaultStuckAfter, callTimeout: DefaultCallTimeout}
	o.grants, _ = db.(GrantChecker)
	for _, opt := range opts {
		opt(o)
	}
	o.sm = boundedSM{sm: sm, timeout: o.callTimeout}
	return o
}

// boundedSM gives every call of sm its own deadline, at most timeout
// from now (the caller's earlier deadline wins).
type boundedSM struct {
	sm      SecretsManager
	timeout time.Duration
}

// bounded runs one call under the deadline.
func bounded[In, Out any](ctx context.Context, timeout time.Duration, call func(context.Context, In, ...func(*secretsmanager.Options)) (Out, error), in In, optFns []func(*secretsmanager.Options)) (Out, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return call(ctx, in, optFns...)
}

func (b boundedSM) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	return bounded(ctx, b.timeout, b.sm.DescribeSecret, in, optFns)
}

func (b boundedSM) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return bounded(ctx, b.timeout, b.sm.GetSecretValue, in, optFns)
}

func (b boundedSM) ListSecretVersionIds(ctx context.Context, in *secretsmanager.ListSecretVersionIdsInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretVersionIdsOutput, error) {
	return bounded(ctx, b.timeout, b.sm.ListSecretVersionIds, in, optFns)
}

func (b boundedSM) RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error) {
	return bounded(ctx, b.timeout, b.sm.RotateSecret, in, optFns)
}

func (b boundedSM) UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	return bounded(ctx, b.timeout, b.sm.UpdateSecretVersionStage, in, optFns)
}

// randomToken returns a random (version 4) UUID, the form the console and
// SDKs use for ClientRequestToken.
func randomToken() string { return uuid.NewString() }
