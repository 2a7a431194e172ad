package smlocal

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	secretmodel "github.com/example/secret-rotation/internal/secret"
)

// Rotation steps, in the order Secrets Manager invokes them.
const (
	StepCreateSecret = "createSecret"
	StepSetSecret    = "setSecret"
	StepTestSecret   = "testSecret"
	StepFinishSecret = "finishSecret"
)

// Invoker runs one step of a rotation function, as Lambda would when
// Secrets Manager invokes it.
type Invoker interface {
	Invoke(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error
}

// InvokerFunc adapts an in-process handler to Invoker.
type InvokerFunc func(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	return f(ctx, ev)
}

// RotationError is a failed rotation step, recorded for RotationErrors.
type RotationError struct {
	SecretARN string
	VersionID string // the ClientRequestToken of the rotation
	Step      string
	Err       error
}

// Error names the secret, the rotation's version and the failed step.
func (e *RotationError) Error() string {
	return fmt.Sprintf("rotation of %s (version %s) failed at %s: %v", e.SecretARN, e.VersionID, e.Step, e.Err)
}

// Unwrap returns the function's error.
func (e *RotationError) Unwrap() error { return e.Err }

// rotation is one running rotation.
type rotation struct {
	cancelled bool
}

// RotationErrors returns every failed rotation step so far (as
// *RotationError), oldest first. Asynchronous rotations only report
// failures here, as the service only reports them in logs.
func (s *Server) RotationErrors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.rotErrs...)
}

// WaitForRotations waits until no asynchronous rotation is running.
func (s *Server) WaitForRotations(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.rotWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("smlocal: waiting for rotations: %w", ctx.Err())
	}
}

var (
	rateExpr     = regexp.MustCompile(`^rate\((\d+) (hour|hours|day|days)\)$`)
	cronExpr     = regexp.MustCompile(`^cron\(.+\)$`)
	durationExpr = regexp.MustCompile(`^(\d+)h$`)
)

// checkRules validates RotationRules as documented: AutomaticallyAfterDays
// 1..1000 or a ScheduleExpression (rate() of 4 hours up to 1000 days, or
// cron()), not both; Duration "Nh" of 1 to 24 hours.
func checkRules(r *rotationRules) *apiError {
	if r.AutomaticallyAfterDays != nil && r.ScheduleExpression != nil {
		return newErr(errInvalidParameter, "You can't specify both AutomaticallyAfterDays and ScheduleExpression.")
	}
	if d := r.AutomaticallyAfterDays; d != nil && (*d < 1 || *d > 1000) {
		return newErr(errInvalidParameter, "AutomaticallyAfterDays must be between 1 and 1000.")
	}
	if e := r.ScheduleExpression; e != nil {
		m := rateExpr.FindStringSubmatch(*e)
		switch {
		case m != nil:
			if _, err := rateInterval(m); err != nil {
				return err
			}
		case cronExpr.MatchString(*e):
		default:
			return newErr(errInvalidParameter, "Invalid ScheduleExpression %q: use rate() or cron().", *e)
		}
	}
	if d := r.Duration; d != nil {
		m := durationExpr.FindStringSubmatch(*d)
		if m == nil {
			return newErr(errInvalidParameter, "Invalid Duration %q: use a number of hours like 2h.", *d)
		}
		if n, _ := strconv.Atoi(m[1]); n < 1 || n > 24 {
			return newErr(errInvalidParameter, "Duration must be between 1h and 24h.")
		}
	}
	return nil
}

func rateInterval(m []string) (time.Duration, *apiError) {
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, newErr(errInvalidParameter, "Invalid rate %q.", m[0])
	}
	unit := 24 * time.Hour
	if m[2] == "hour" || m[2] == "hours" {
		unit = time.Hour
	}
	d := time.Duration(n) * unit
	if d < 4*time.Hour || d > 1000*24*time.Hour {
		return 0, newErr(errInvalidParameter, "The rotation interval must be between 4 hours and 1000 days.")
	}
	return d, nil
}

// nextRotation computes NextRotationDate from the rules; zero for cron()
// schedules, which this endpoint does not evaluate.
func nextRotation(from time.Time, r *rotationRules) time.Time {
	if r == nil {
		return time.Time{}
	}
	if r.AutomaticallyAfterDays != nil {
		return from.Add(time.Duration(*r.AutomaticallyAfterDays) * 24 * time.Hour)
	}
	if r.ScheduleExpression != nil {
		if m := rateExpr.FindStringSubmatch(*r.ScheduleExpression); m != nil {
			if d, err := rateInterval(m); err == nil {
				return from.Add(d)
			}
		}
	}
	return time.Time{}
}

func (s *Server) rotateSecret(in rotateSecretInput) (any, *apiError) {
	if in.RotationRules != nil {
		if err := checkRules(in.RotationRules); err != nil {
			return nil, err
		}
	}
	token, err := clientToken(in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	immediately := in.RotateImmediately == nil || *in.RotateImmediately

	s.mu.Lock()
	sec, err := s.lookup(in.SecretId)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if pending, busy := sec.pendingInProgress(); busy {
		s.mu.Unlock()
		if pending == token {
			// A retried RotateSecret with the same token is the same rotation.
			return rotateSecretOutput{ARN: sec.arn, Name: sec.name, VersionId: &pending}, nil
		}
		// "If the AWSPENDING staging label is present but not attached to the
		// same version as AWSCURRENT, then any later invocation of
		// RotateSecret assumes that a previous rotation request is still in
		// progress and returns an error."
		return nil, newErr(errInvalidRequest, "A previous rotation isn't complete. That rotation will be reattempted.")
	}
	lambdaARN := sec.rotationARN
	if in.RotationLambdaARN != nil && *in.RotationLambdaARN != "" {
		lambdaARN = *in.RotationLambdaARN
	}
	if lambdaARN == "" {
		s.mu.Unlock()
		return nil, newErr(errInvalidRequest, "No Lambda rotation function ARN is associated with this secret.")
	}
	inv, ok := s.functions[lambdaARN]
	if !ok {
		s.mu.Unlock()
		return nil, newErr(errAccessDenied, "Secrets Manager cannot invoke the specified Lambda function %s (smlocal: no function registered for this ARN; use WithFunction or RegisterFunction).", lambdaARN)
	}
	if _, exists := sec.versions[token]; exists {
		s.mu.Unlock()
		return nil, newErr(errResourceExists, "A version with ClientRequestToken %s already exists for this secret.", token)
	}
	sec.rotationARN = lambdaARN
	sec.rotationEnabled = true
	if in.RotationRules != nil {
		r := *in.RotationRules
		sec.rules = &r
	}
	now := s.now()
	sec.lastChanged = now
	if sec.nextRotation.IsZero() || in.RotationRules != nil {
		base := sec.lastRotated
		if base.IsZero() {
			base = now
		}
		sec.nextRotation = nextRotation(base, sec.rules)
	}
	// "During rotation, Secrets Manager creates an AWSPENDING version ID
	// before creating the new secret version": a placeholder without a value
	// until the function's createSecret step puts one.
	v := &version{id: token, created: now}
	if !immediately {
		// RotateImmediately=false "tests the rotation configuration by running
		// the testSecret step ... This test creates an AWSPENDING version of
		// the secret and then removes it." The test version carries the
		// current value, so testSecret checks the current credentials.
		if cur := sec.versions[sec.labels[secretmodel.StageCurrent]]; cur != nil && cur.hasValue {
			v.secretString, v.secretBinary, v.hasValue = cur.secretString, cur.secretBinary, true
		}
	}
	sec.addVersion(v)
	sec.attach(secretmodel.StagePending, token)
	rot := &rotation{}
	s.rotations[sec.arn] = rot
	ev := events.SecretsManagerSecretRotationEvent{
		SecretID:           sec.arn,
		ClientRequestToken: token,
		RotationToken:      uuid.NewString(),
	}
	out := rotateSecretOutput{ARN: sec.arn, Name: sec.name, VersionId: &token}
	s.rotWG.Add(1)
	s.mu.Unlock()

	steps := []string{StepCreateSecret, StepSetSecret, StepTestSecret, StepFinishSecret}
	if !immediately {
		steps = []string{StepTestSecret}
	}
	run := func() {
		defer s.rotWG.Done()
		s.runRotation(sec, rot, inv, ev, steps, immediately)
	}
	if s.cfg.synchronous {
		run()
	} else {
		go run()
	}
	return out, nil
}

// runRotation invokes the steps in order and stops at the first failure,
// leaving AWSPENDING where it is, as the service does.
func (s *Server) runRotation(sec *secret, rot *rotation, inv Invoker, ev events.SecretsManagerSecretRotationEvent, steps []string, immediately bool) {
	var failed error
	for _, step := range steps {
		s.mu.Lock()
		cancelled := rot.cancelled
		s.mu.Unlock()
		if cancelled {
			break
		}
		ev.Step = step
		if err := inv.Invoke(s.ctx, ev); err != nil {
			failed = &RotationError{SecretARN: ev.SecretID, VersionID: ev.ClientRequestToken, Step: step, Err: err}
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rotations[sec.arn] == rot {
		delete(s.rotations, sec.arn)
	}
	if failed != nil {
		s.rotErrs = append(s.rotErrs, failed)
	}
	if !immediately {
		// The test version is removed again whatever the outcome.
		if v, ok := sec.versions[ev.ClientRequestToken]; ok && v.hasStage(secretmodel.StagePending) && !v.hasStage(secretmodel.StageCurrent) {
			sec.removeVersion(ev.ClientRequestToken)
		}
		return
	}
	if failed == nil && !rot.cancelled {
		now := s.now()
		sec.lastRotated = now
		sec.nextRotation = nextRotation(now, sec.rules)
	}
}

func (s *Server) cancelRotateSecret(in secretIDInput) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	out := cancelRotateSecretOutput{ARN: sec.arn, Name: sec.name}
	// "If you cancel a rotation in progress, it can leave the VersionStage
	// labels in an unexpected state": AWSPENDING stays where it is.
	if p, busy := sec.pendingInProgress(); busy {
		out.VersionId = &p
	}
	if rot, ok := s.rotations[sec.arn]; ok {
		rot.cancelled = true
	}
	sec.rotationEnabled = false
	sec.nextRotation = time.Time{}
	sec.lastChanged = s.now()
	return out, nil
}
