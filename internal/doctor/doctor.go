package doctor

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/operator"
)

// SecretsManager is the part of the Secrets Manager API the doctor uses:
// rotatectl's (the diagnosis and repair are rotatectl's, see package
// operator) plus ListSecrets to find the environment's secrets.
// *secretsmanager.Client implements it; fakes embed it.
type SecretsManager interface {
	operator.SecretsManager
	ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
}

// Doctor diagnoses secrets and repairs what rotatectl's guard allows.
// Create it with [New].
type Doctor struct {
	sm       SecretsManager
	op       *operator.Operator
	net      Network
	logs     LogReader
	pub      Publisher
	cfg      Config
	endpoint string // the Secrets Manager endpoint probed; "" = none
	now      func() time.Time
	log      *slog.Logger
	opOpts   []operator.Option
}

// Option configures a [Doctor].
type Option func(*Doctor)

// WithConfig sets the environment's settings (see [ConfigFromEnv]); the
// zero Config reports only, with rotatectl's stuck-after age.
func WithConfig(c Config) Option { return func(d *Doctor) { d.cfg = c } }

// WithNetwork sets how the database and endpoint are probed.
func WithNetwork(n Network) Option { return func(d *Doctor) { d.net = n } }

// WithLogs sets the reader of the rotation function's log group (nil:
// the report has no log lines).
func WithLogs(lr LogReader) Option { return func(d *Doctor) { d.logs = lr } }

// WithPublisher sets where reports go (nil: [Doctor.Handle] publishes
// nothing and only returns them).
func WithPublisher(p Publisher) Option { return func(d *Doctor) { d.pub = p } }

// WithSecretsManagerEndpoint sets the endpoint URL whose reachability
// the report shows, normally the one the client uses.
func WithSecretsManagerEndpoint(url string) Option { return func(d *Doctor) { d.endpoint = url } }

// WithClock replaces time.Now (for the doctor and its operator).
func WithClock(now func() time.Time) Option { return func(d *Doctor) { d.now = now } }

// WithLogger sets the doctor's own log (default: discard). It gets one
// record per secret (secret, cause, action), never a secret value.
func WithLogger(l *slog.Logger) Option { return func(d *Doctor) { d.log = l } }

// WithOperatorOptions adds options of the rotatectl logic the doctor
// runs (tests: poll interval, token source).
func WithOperatorOptions(opts ...operator.Option) Option {
	return func(d *Doctor) { d.opOpts = append(d.opOpts, opts...) }
}

// New returns a Doctor reading secrets through sm and logging in with
// db, the same LoginChecker rotatectl uses.
func New(sm SecretsManager, db operator.LoginChecker, opts ...Option) *Doctor {
	d := &Doctor{sm: sm, now: time.Now, log: slog.New(slog.DiscardHandler),
		cfg: Config{StuckAfter: operator.DefaultStuckAfter, RetryTimeout: DefaultRetryTimeout}}
	for _, o := range opts {
		o(d)
	}
	ops := []operator.Option{operator.WithStuckAfter(d.cfg.StuckAfter), operator.WithClock(d.now)}
	d.op = operator.New(sm, db, append(ops, d.opOpts...)...)
	return d
}
