package operator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Staging labels Secrets Manager and the rotation function use.
const (
	StageCurrent  = "AWSCURRENT"
	StagePending  = "AWSPENDING"
	StagePrevious = "AWSPREVIOUS"
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
	sm           SecretsManager
	db           LoginChecker
	now          func() time.Time
	newToken     func() string
	pollInterval time.Duration
	stuckAfter   time.Duration
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

// DefaultStuckAfter is longer than four Lambda invocations at their 15
// minute maximum, so a slow but live rotation is never called stuck.
const DefaultStuckAfter = time.Hour

// New returns an Operator using sm for the secret and db for logins.
func New(sm SecretsManager, db LoginChecker, opts ...Option) *Operator {
	o := &Operator{sm: sm, db: db, now: time.Now, newToken: randomToken,
		pollInterval: 2 * time.Second, stuckAfter: DefaultStuckAfter}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// randomToken returns a UUID-shaped version 4 identifier, the form the
// console and SDKs use for ClientRequestToken.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}
