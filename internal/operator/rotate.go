package operator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/example/secret-rotation/internal/ctxsleep"
	"github.com/example/secret-rotation/internal/secret"
)

// Rotation phases as `rotate --wait` observes them from outside, in order.
// Each is named after the rotation step whose effect was seen.
const (
	PhaseStarted      = "started"      // RotateSecret accepted; AWSPENDING is on the new version
	PhaseCreateSecret = "createSecret" // the new version has a value
	PhaseSetSecret    = "setSecret"    // the database accepts the new version's password
	PhaseFinishSecret = "finishSecret" // AWSCURRENT is on the new version
)

var phaseOrder = []string{PhaseStarted, PhaseCreateSecret, PhaseSetSecret, PhaseFinishSecret}

var phaseText = map[string]string{
	PhaseStarted:      "RotateSecret accepted; AWSPENDING is on the new version",
	PhaseCreateSecret: "createSecret done: the new version has a value",
	PhaseSetSecret:    "setSecret done: the database accepts the new password",
	PhaseFinishSecret: "finishSecret done: AWSCURRENT is on the new version",
}

// PhaseText describes a phase in one line.
func PhaseText(phase string) string { return phaseText[phase] }

// DefaultRotateTimeout bounds `rotate`, --wait included.
const DefaultRotateTimeout = 5 * time.Minute

// TimeoutGrace is how long `rotate` may run past its timeout: once the
// wait is over it reads the secret once more (to name the function's log
// group) or logs in with the new AWSCURRENT, each under this bound. So
// `rotate --timeout D` ends within D plus TimeoutGrace whatever Secrets
// Manager and the database do.
const TimeoutGrace = 10 * time.Second

// ErrRotationFailed is matched by Rotate errors where the rotation did not
// complete or the new password does not log in.
var ErrRotationFailed = errors.New("rotation did not complete")

// RotateOptions are the flags of `rotate`.
type RotateOptions struct {
	// Wait follows the rotation until AWSCURRENT has moved and then
	// verifies a login with it.
	Wait bool
	// Timeout bounds the command, the wait included (default
	// [DefaultRotateTimeout]); see [TimeoutGrace].
	Timeout time.Duration
	// Function, when set, is the rotation function ARN to configure;
	// empty keeps the secret's.
	Function string
	// Progress is called once per phase reached, in order, with the new
	// version's id.
	Progress func(version, phase string)
	// TokenPrefix is put before the fresh ClientRequestToken (which
	// becomes the new version's id), so that the rotation is recognizable
	// later (the doctor's retries: "doctor-"). The token is cut to
	// [MaxTokenLen].
	TokenPrefix string
	// LogGroup, when known, is the rotation function's log group named in
	// the failure text; "" names it by the function's LoggingConfig (the
	// deployed functions log to a group of their own, not /aws/lambda/NAME).
	LogGroup string
}

// MinTokenLen and MaxTokenLen bound a ClientRequestToken (the RotateSecret
// API reference: 32 to 64 characters).
const (
	MinTokenLen = 32
	MaxTokenLen = 64
)

// RotateReport is what `rotate` prints.
type RotateReport struct {
	Name     string   `json:"name"`
	ARN      string   `json:"arn"`
	Version  string   `json:"version"`
	Phases   []string `json:"phases"`
	Finished bool     `json:"finished"`
	Verified *Login   `json:"verified,omitempty"`
	LogGroup string   `json:"logGroup,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// Rotate starts a rotation with a fresh ClientRequestToken. With Wait it
// polls until the new version is AWSCURRENT and AWSPENDING is settled,
// reporting each phase, then logs in with the new AWSCURRENT. A timeout
// or a refused login is an error wrapping [ErrRotationFailed] that names
// the function's CloudWatch log group.
//
// While it waits it reads Secrets Manager only and never logs in with
// AWSPENDING: before setSecret has run that login would be refused, and
// a lockout policy counts every refused login. So the setSecret phase is
// reported together with finishSecret, and the one login, with the new
// AWSCURRENT once it has moved, is expected to work.
//
// Everything up to the end of the wait happens within opts.Timeout; the
// last read after a timeout and the login afterwards get [TimeoutGrace]
// more.
func (o *Operator) Rotate(ctx context.Context, secretID string, opts RotateOptions) (*RotateReport, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultRotateTimeout
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rctx, rcancel := context.WithTimeout(ctx, timeout+TimeoutGrace)
	defer rcancel()

	token := opts.TokenPrefix + o.newToken()
	if len(token) > MaxTokenLen {
		token = token[:MaxTokenLen]
	}
	in := &secretsmanager.RotateSecretInput{SecretId: aws.String(secretID), ClientRequestToken: aws.String(token), RotateImmediately: aws.Bool(true)}
	if opts.Function != "" {
		in.RotationLambdaARN = aws.String(opts.Function)
	}
	out, err := o.sm.RotateSecret(wctx, in)
	if err != nil {
		var ir *types.InvalidRequestException
		if errors.As(err, &ir) && strings.Contains(strings.ToLower(ir.ErrorMessage()), "previous rotation") {
			return nil, fmt.Errorf("rotate %s: a previous rotation isn't complete (AWSPENDING is on another version); see `rotatectl status`, then `rotatectl repair`: %w", secretID, err)
		}
		if wctx.Err() != nil {
			return nil, fmt.Errorf("rotate %s: %w within %s (--timeout): %w", secretID, ErrTimeout, timeout, err)
		}
		return nil, fmt.Errorf("rotate %s: %w", secretID, err)
	}
	r := &RotateReport{Name: aws.ToString(out.Name), ARN: aws.ToString(out.ARN), Version: aws.ToString(out.VersionId)}
	if r.Version == "" {
		r.Version = token
	}
	// r.Phases is always a prefix of phaseOrder. Phases a poll skipped
	// over are reported too, so the output does not depend on timing.
	reach := func(phase string) {
		for i := len(r.Phases); i <= indexOf(phaseOrder, phase); i++ {
			r.Phases = append(r.Phases, phaseOrder[i])
			if opts.Progress != nil {
				opts.Progress(r.Version, phaseOrder[i])
			}
		}
	}
	reach(PhaseStarted)
	if !opts.Wait {
		return r, nil
	}
	for {
		s, err := o.snapshot(wctx, r.ARN)
		if err == nil {
			phase, perr := o.observe(wctx, s, r.Version)
			err = perr
			reach(phase)
			if phase == PhaseFinishSecret {
				l := o.tryLogin(rctx, s, secret.StageCurrent, r.Version)
				r.Verified = &l
				if l.Result != LoginAccepted {
					return o.failed(r, s, opts.LogGroup, fmt.Errorf("%w: AWSCURRENT moved but the database login with it: %s", ErrRotationFailed, strings.TrimSpace(l.Result+" "+l.Detail)))
				}
				r.Finished = true
				return r, nil
			}
		}
		if wctx.Err() != nil || ctxsleep.Sleep(wctx, o.pollInterval) != nil {
			last := r.Phases[len(r.Phases)-1]
			cause := fmt.Errorf("%w within %s: the new version %s got no further than %q", ErrRotationFailed, timeout, r.Version, last)
			if last == PhaseCreateSecret {
				cause = fmt.Errorf("%w (whether setSecret changed the password is not known: rotatectl does not log in with AWSPENDING while it waits, since before setSecret that is a failed login; `rotatectl repair --dry-run` checks)", cause)
			}
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				cause = fmt.Errorf("%w (last error: %v)", cause, err)
			}
			if ctx.Err() != nil {
				cause = fmt.Errorf("%w: %w", cause, ctx.Err())
			}
			s, _ := o.snapshot(rctx, r.ARN)
			return o.failed(r, s, opts.LogGroup, cause)
		}
	}
}

// observe returns the furthest phase the new version has visibly reached
// in Secrets Manager; it never logs in (see [Operator.Rotate]).
func (o *Operator) observe(ctx context.Context, s *snapshot, version string) (string, error) {
	v := s.version(version)
	if contains(v.Stages, secret.StageCurrent) {
		if _, pending := s.pendingElsewhere(); !pending {
			return PhaseFinishSecret, nil
		}
	}
	if !contains(v.Stages, secret.StagePending) && !contains(v.Stages, secret.StageCurrent) {
		return PhaseStarted, fmt.Errorf("version %s lost its AWSPENDING label", version)
	}
	_, err := o.value(ctx, s.arn(), version)
	switch {
	case errors.Is(err, errNoValue):
		return PhaseStarted, nil
	case err != nil:
		return PhaseStarted, err
	}
	return PhaseCreateSecret, nil
}

// failed completes a report for a rotation that did not finish. It names
// logGroup when the caller knows it (the doctor's configured one); else
// the function's log group by where to find it, since a function's
// LoggingConfig may send its logs anywhere, not to /aws/lambda/NAME.
func (o *Operator) failed(r *RotateReport, s *snapshot, logGroup string, err error) (*RotateReport, error) {
	r.LogGroup = logGroup
	where := "the rotation function's log group (see its LoggingConfig)"
	if s != nil {
		if fn := aws.ToString(s.desc.RotationLambdaARN); fn != "" {
			where = fmt.Sprintf("the rotation function's log group (see its LoggingConfig: `aws lambda get-function-configuration --function-name %s --query LoggingConfig.LogGroup`)", fn)
		}
	}
	if r.LogGroup != "" {
		where = "CloudWatch log group " + r.LogGroup
	}
	err = fmt.Errorf("%w; look at %s, then run `rotatectl status %s` (and `rotatectl repair` if it is stuck)", err, where, r.Name)
	r.Error = err.Error()
	return r, err
}

// LogGroup returns Lambda's default log group of a function ARN
// (/aws/lambda/NAME), or "" if arn is not a function ARN. A function
// whose LoggingConfig names another group logs there instead.
func LogGroup(arn string) string {
	_, rest, ok := strings.Cut(arn, ":function:")
	if !ok || rest == "" {
		return ""
	}
	name, _, _ := strings.Cut(rest, ":")
	return "/aws/lambda/" + name
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }
