package doctor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/example/secret-rotation/internal/doctor"
	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/secret"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

const fnARN = "arn:aws:lambda:us-east-1:123456789012:function:rotate"

// checker is a LoginChecker that knows which passwords the database
// accepts, and counts logins.
type checker struct {
	mu       sync.Mutex
	accepts  map[string]bool
	blocked  bool
	attempts int
}

func (c *checker) CanLogin(_ context.Context, s string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts++
	sec, err := secret.Parse(s)
	if err != nil {
		return false, err
	}
	if c.blocked {
		return false, fmt.Errorf("connect: %w", engine.ErrBlocked)
	}
	return c.accepts[sec.Password], nil
}

// publisher records what the doctor publishes.
type publisher struct {
	mu        sync.Mutex
	msgs      []*sns.PublishInput
	deadlines []time.Time // of each Publish's context
}

func (p *publisher) Publish(ctx context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, in)
	dl, _ := ctx.Deadline()
	p.deadlines = append(p.deadlines, dl)
	return &sns.PublishOutput{MessageId: aws.String("m")}, nil
}

// greeter is a TCP server that greets like MariaDB without TLS and hangs
// up, for the doctor's network probe.
func greeter(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	pkt := []byte{10}
	pkt = append(pkt, "5.5.5-10.11.6-MariaDB\x00"...)
	pkt = append(pkt, make([]byte, 4+8+1)...)
	pkt = append(pkt, 0x00, 0x82) // protocol 41, secure connection; no TLS
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write(append([]byte{byte(len(pkt)), 0, 0, 0}, pkt...))
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

type rig struct {
	t    *testing.T
	ctx  context.Context
	sm   *secretsmanager.Client
	port int
	db   *checker
	pub  *publisher
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	noop := smlocal.InvokerFunc(func(context.Context, events.SecretsManagerSecretRotationEvent) error { return nil })
	srv, err := smlocal.Start(smlocal.WithFunction(fnARN, noop), smlocal.WithSynchronousRotation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &rig{t: t, ctx: ctx, sm: srv.NewClient(ctx), port: greeter(t), db: &checker{accepts: map[string]bool{}}, pub: &publisher{}}
}

func (r *rig) value(user, pw, extra string) string {
	return fmt.Sprintf(`{"engine":"mariadb","host":"127.0.0.1","port":%d,"username":%q,"password":%q%s}`, r.port, user, pw, extra)
}

// secret creates name with rotation configured (without rotating).
func (r *rig) secret(name, value string) string {
	r.t.Helper()
	out, err := r.sm.CreateSecret(r.ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.sm.RotateSecret(r.ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(name), RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(false)}); err != nil {
		r.t.Fatal(err)
	}
	return aws.ToString(out.ARN)
}

func (r *rig) pending(name, value string) {
	r.t.Helper()
	if _, err := r.sm.PutSecretValue(r.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value), VersionStages: []string{"AWSPENDING"}}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) labels(name string) string {
	out, err := r.sm.DescribeSecret(r.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		r.t.Fatal(err)
	}
	return fmt.Sprint(out.VersionIdsToStages)
}

func (r *rig) doctor(cfg doctor.Config) *doctor.Doctor {
	cfg.TopicARN, cfg.RotationFunctionARN, cfg.Environment = "arn:aws:sns:us-east-1:1:t", fnARN, "test"
	return doctor.New(r.sm, r.db, doctor.WithConfig(cfg), doctor.WithPublisher(r.pub),
		doctor.WithNetwork(doctor.Network{Timeout: 2 * time.Second}))
}

// The verdicts and (non-)actions that the local proof with the real
// servers does not reach: repairs off, a rotation still in its
// stuck-after window, a master secret mid-rotation (alternating users),
// a blocked account.
func TestDiagnoseWithoutChange(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(r *rig) string // returns the secret to diagnose
		cfg    doctor.Config
		cause  doctor.Cause
		action string
		logins int // at most
	}{
		{"repairs off", func(r *rig) string {
			r.secret("s", r.value("app", "old", ""))
			r.pending("s", r.value("app", "new", ""))
			r.db.accepts["new"] = true
			return "s"
		}, doctor.Config{Repair: false}, doctor.CauseStuckAfterSet, "repairs are off (DOCTOR_REPAIR=false); the repair would move AWSCURRENT", 2},
		{"rotation still young", func(r *rig) string {
			r.secret("s", r.value("app", "old", ""))
			r.pending("s", r.value("app", "new", ""))
			r.db.accepts["old"] = true
			return "s"
		}, doctor.Config{Repair: true, StuckAfter: time.Hour}, doctor.CauseStuckAfterCreate, "is younger than 1h0m0s (DOCTOR_STUCK_AFTER)", 1},
		{"master mid-rotation", func(r *rig) string {
			master := r.secret("master", r.value("admin", "m-old", ""))
			r.pending("master", r.value("admin", "m-new", ""))
			r.secret("app", r.value("app", "a-old", `,"masterarn":"`+master+`"`))
			return "app"
		}, doctor.Config{Repair: true}, doctor.CauseMasterMidRotation, "nothing changed", 0},
		// The same, while the master's rotation may still be running.
		{"master young mid-rotation", func(r *rig) string {
			master := r.secret("master", r.value("admin", "m-old", ""))
			r.pending("master", r.value("admin", "m-new", ""))
			r.secret("app", r.value("app", "a-old", `,"masterarn":"`+master+`"`))
			return "app"
		}, doctor.Config{Repair: true, StuckAfter: time.Hour}, doctor.CauseMasterMidRotation, "nothing changed", 0},
		{"account blocked", func(r *rig) string {
			r.secret("s", r.value("app", "old", ""))
			r.pending("s", r.value("app", "new", ""))
			r.db.blocked = true
			return "s"
		}, doctor.Config{Repair: true}, doctor.CauseAccountBlocked, "nothing changed", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			id := tt.setup(r)
			before := r.labels(id)
			g := r.doctor(tt.cfg).Diagnose(r.ctx, id)
			if g.Cause != tt.cause || !strings.Contains(g.Action, tt.action) || g.Repaired || g.Retried {
				t.Fatalf("cause %q, action %q, repaired %v; want %q containing %q\n%s", g.Cause, g.Action, g.Repaired, tt.cause, tt.action, doctor.Render("test", g))
			}
			// A master stuck past the stuck-after age needs rotatectl
			// repair; one that may still run, a look.
			if tt.cause == doctor.CauseMasterMidRotation {
				want := "rotatectl repair master"
				if tt.cfg.StuckAfter > 0 {
					want = "rotatectl status master"
				}
				if g.Next != want {
					t.Errorf("next %q, want %q", g.Next, want)
				}
			}
			if g.Next == "" {
				t.Errorf("no next command:\n%s", doctor.Render("test", g))
			}
			if after := r.labels(id); after != before {
				t.Errorf("labels changed: %s -> %s", before, after)
			}
			if r.db.attempts > tt.logins {
				t.Errorf("%d logins, want at most %d", r.db.attempts, tt.logins)
			}
		})
	}
}

// An alarm (or {}) checks every secret the environment's function
// rotates, and publishes one report for all of them.
func TestHandleSweep(t *testing.T) {
	r := newRig(t)
	r.secret("a", r.value("a", "a-pw", ""))
	r.secret("b", r.value("b", "b-pw", ""))
	r.pending("b", r.value("b", "b-new", ""))
	if _, err := r.sm.CreateSecret(r.ctx, &secretsmanager.CreateSecretInput{Name: aws.String("not-ours"), SecretString: aws.String(r.value("x", "x-pw", ""))}); err != nil {
		t.Fatal(err)
	}
	r.db.accepts["a-pw"], r.db.accepts["b-pw"] = true, true
	alarm, _ := json.Marshal(map[string]any{"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change",
		"detail": map[string]any{"alarmName": "rotation-errors", "state": map[string]string{"value": "ALARM"}}})
	res, err := r.doctor(doctor.Config{}).Handle(r.ctx, alarm)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Diagnoses) != 2 || res.Diagnoses[0].Secret != "a" || res.Diagnoses[1].Secret != "b" || !res.Published {
		t.Fatalf("result %+v", res)
	}
	if len(r.pub.msgs) != 1 {
		t.Fatalf("%d messages published, want 1", len(r.pub.msgs))
	}
	m := r.pub.msgs[0]
	if got := aws.ToString(m.Subject); got != "[test] rotation doctor: 1 of 2 secrets need attention" {
		t.Errorf("subject %q", got)
	}
	body := aws.ToString(m.Message)
	for _, want := range []string{"triggered by alarm rotation-errors in ALARM", "Secret:      a", "Cause:       healthy", "Secret:      b", "Cause:       stuck after createSecret", "repairs are off"} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %q:\n%s", want, body)
		}
	}
	for _, pw := range []string{"a-pw", "b-pw", "b-new", "x-pw"} {
		if strings.Contains(body, pw) {
			t.Errorf("report contains a password")
		}
	}
	// An alarm back to OK needs no report.
	ok, _ := json.Marshal(map[string]any{"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change",
		"detail": map[string]any{"alarmName": "rotation-errors", "state": map[string]string{"value": "OK"}}})
	if res, err := r.doctor(doctor.Config{}).Handle(r.ctx, ok); err != nil || len(res.Diagnoses) != 0 || len(r.pub.msgs) != 1 {
		t.Fatalf("OK alarm: %+v, %v, %d messages", res, err, len(r.pub.msgs))
	}
}

// rotateRecorder records the doctor's RotateSecret requests.
type rotateRecorder struct {
	doctor.SecretsManager
	ins []*secretsmanager.RotateSecretInput
}

func (r *rotateRecorder) RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error) {
	r.ins = append(r.ins, in)
	return r.SecretsManager.RotateSecret(ctx, in, optFns...)
}

// The scheduled sweep publishes only when a secret needs attention: not
// for healthy secrets, not for a rotation that may still be running;
// once that rotation is older than the stuck-after age it repairs it and
// publishes. Its retry asks RotateSecret for nothing but a rotation
// (no RotationLambdaARN, no RotationRules), which the doctor's IAM
// conditions (rotationcdk) require. (The rig's rotation function does
// nothing, so the retry times out after RetryTimeout.)
func TestHandleScheduledSweep(t *testing.T) {
	r := newRig(t)
	r.secret("a", r.value("a", "a-pw", ""))
	r.db.accepts["a-pw"] = true
	rec := &rotateRecorder{SecretsManager: r.sm}
	now := time.Now()
	d := func() *doctor.Doctor {
		return doctor.New(rec, r.db, doctor.WithConfig(doctor.Config{TopicARN: "arn:aws:sns:us-east-1:1:t", RotationFunctionARN: fnARN,
			Environment: "test", Repair: true, StuckAfter: time.Hour, RetryTimeout: time.Second}), doctor.WithPublisher(r.pub),
			doctor.WithNetwork(doctor.Network{Timeout: 2 * time.Second}), doctor.WithClock(func() time.Time { return now }))
	}
	sweep := json.RawMessage(doctor.ScheduledSweep)
	res, err := d().Handle(r.ctx, sweep)
	if err != nil || len(res.Diagnoses) != 1 || res.Published || len(r.pub.msgs) != 0 {
		t.Fatalf("healthy sweep: %+v, %v, %d messages", res, err, len(r.pub.msgs))
	}
	// b: stuck after createSecret, AWSPENDING just created.
	r.secret("b", r.value("b", "b-pw", ""))
	r.pending("b", r.value("b", "b-new", ""))
	r.db.accepts["b-pw"] = true
	res, err = d().Handle(r.ctx, sweep)
	if err != nil || len(res.Diagnoses) != 2 || res.Published || !res.Diagnoses[1].Waiting || res.Diagnoses[1].Repaired {
		t.Fatalf("sweep with a young rotation: %+v, %v", res, err)
	}
	// The same state from an on-demand run is published.
	if res, err := d().Handle(r.ctx, json.RawMessage(`{"secretId":"b"}`)); err != nil || !res.Published || len(r.pub.msgs) != 1 {
		t.Fatalf("on demand: %+v, %v, %d messages", res, err, len(r.pub.msgs))
	}
	now = now.Add(time.Hour + time.Minute)
	res, err = d().Handle(r.ctx, sweep)
	if err != nil || !res.Published || len(r.pub.msgs) != 2 || !res.Diagnoses[1].Repaired {
		t.Fatalf("sweep an hour later: %+v, %v", res, err)
	}
	if got := aws.ToString(r.pub.msgs[1].Subject); got != "[test] rotation doctor: 1 of 2 secrets need attention" {
		t.Errorf("subject %q", got)
	}
	if len(rec.ins) != 1 {
		t.Fatalf("%d RotateSecret calls, want 1", len(rec.ins))
	}
	in := rec.ins[0]
	if in.RotationLambdaARN != nil || in.RotationRules != nil || in.ExternalSecretRotationRoleArn != nil || in.ExternalSecretRotationMetadata != nil ||
		aws.ToString(in.SecretId) == "" || aws.ToString(in.ClientRequestToken) == "" {
		t.Errorf("RotateSecret request %+v: want SecretId and ClientRequestToken, no rotation settings", in)
	}
	// The retry is recognizable later by its token, which smlocal (as
	// Secrets Manager: 32..64 characters) took as the new version's id.
	tok := aws.ToString(in.ClientRequestToken)
	if !doctor.IsRetryVersion(tok) || len(tok) < 32 || len(tok) > 64 || !strings.Contains(r.labels("b"), tok) {
		t.Errorf("retry token %q (labels %s): want %q + a UUID, 32..64 characters, the AWSPENDING version", tok, r.labels("b"), doctor.RetryTokenPrefix)
	}
}

// A stuck rotation whose AWSPENDING version is the doctor's own retry
// (its ClientRequestToken prefix) is repaired but not retried again, so a
// rotation that keeps failing is not repaired and retried forever.
func TestOwnRetryNotRetried(t *testing.T) {
	for _, tt := range []struct {
		name    string
		token   string
		retried bool
	}{
		{"the doctor's retry", doctor.RetryTokenPrefix + "0b6c6f2e-3f0a-4d55-9c8e-1f2a3b4c5d6e", false},
		{"another rotation", "0b6c6f2e-3f0a-4d55-9c8e-1f2a3b4c5d6e", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.secret("s", r.value("app", "old", ""))
			r.db.accepts["old"] = true
			// The rig's function does nothing: AWSPENDING stays, without a value.
			if _, err := r.sm.RotateSecret(r.ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("s"), ClientRequestToken: aws.String(tt.token)}); err != nil {
				t.Fatal(err)
			}
			rec := &rotateRecorder{SecretsManager: r.sm}
			d := doctor.New(rec, r.db, doctor.WithConfig(doctor.Config{TopicARN: "arn:aws:sns:us-east-1:1:t", RotationFunctionARN: fnARN,
				Environment: "test", Repair: true, LogGroup: "/rotation/test", RetryTimeout: time.Second}),
				doctor.WithNetwork(doctor.Network{Timeout: 2 * time.Second}))
			g := d.Diagnose(r.ctx, "s")
			if g.Cause != doctor.CauseStuckAfterCreate || !g.Repaired || g.Retried != tt.retried || (len(rec.ins) == 1) != tt.retried {
				t.Fatalf("cause %s, repaired %v, retried %v, %d RotateSecret calls; want retried %v\n%s", g.Cause, g.Repaired, g.Retried, len(rec.ins), tt.retried, doctor.Render("test", g))
			}
			if strings.Contains(r.labels("s"), tt.token) {
				t.Errorf("labels %s: the stuck version %s still labelled", r.labels("s"), tt.token)
			}
			if tt.retried {
				// The retry fails (the function does nothing): its text names
				// the configured log group, not /aws/lambda/NAME.
				if !strings.Contains(g.Action, "/rotation/test") || strings.Contains(g.Action, "/aws/lambda/") {
					t.Errorf("action %q: want the configured log group /rotation/test", g.Action)
				}
				return
			}
			want := "once the cause in the rotation function's log group /rotation/test is fixed: rotatectl rotate --wait s"
			if !strings.Contains(g.Action, "the doctor's retry failed the same way; not retrying: "+want) || g.Next != want {
				t.Errorf("action %q, next %q; want not retrying and %q", g.Action, g.Next, want)
			}
		})
	}
}

// TestScheduledSweepReportsWhatIsNew: with repairs off, a stuck rotation
// is published by the first sweep after it became stuck, not by the next
// ones, and again by the first sweep of a UTC day; the sweep's interval is
// Config.SweepInterval.
func TestScheduledSweepReportsWhatIsNew(t *testing.T) {
	r := newRig(t)
	r.secret("c", r.value("c", "c-pw", ""))
	r.pending("c", r.value("c", "c-new", ""))
	r.db.accepts["c-pw"] = true
	created := time.Now()
	// A moment of the day away from midnight, so only the stuck rule can publish.
	base := created.UTC().Truncate(24 * time.Hour).Add(36 * time.Hour)
	if base.Before(created) {
		base = base.Add(24 * time.Hour)
	}
	sweep := json.RawMessage(doctor.ScheduledSweep)
	tests := []struct {
		name    string
		now     time.Time
		publish bool
	}{
		{"young", created.Add(10 * time.Minute), false},
		{"first sweep after the stuck age", created.Add(time.Hour + 20*time.Minute), true},
		{"the next sweep", created.Add(2*time.Hour + 20*time.Minute), false},
		{"midday, a day later", base, false},
		{"first sweep of the next UTC day", base.Truncate(24 * time.Hour).Add(24*time.Hour + 5*time.Minute), true},
		{"second sweep of that day", base.Truncate(24 * time.Hour).Add(25*time.Hour + 5*time.Minute), false},
	}
	for _, tt := range tests {
		now := tt.now
		d := doctor.New(r.sm, r.db, doctor.WithConfig(doctor.Config{TopicARN: "arn:aws:sns:us-east-1:1:t", RotationFunctionARN: fnARN,
			Environment: "test", Repair: false, StuckAfter: time.Hour, SweepInterval: time.Hour}), doctor.WithPublisher(r.pub),
			doctor.WithNetwork(doctor.Network{Timeout: 2 * time.Second}), doctor.WithClock(func() time.Time { return now }))
		res, err := d.Handle(r.ctx, sweep)
		if err != nil || len(res.Diagnoses) != 1 {
			t.Fatalf("%s: %+v, %v", tt.name, res, err)
		}
		if res.Published != tt.publish {
			t.Errorf("%s: published %v, want %v (%s: %s)", tt.name, res.Published, tt.publish, res.Diagnoses[0].Cause, res.Diagnoses[0].Action)
		}
		if res.Diagnoses[0].Repaired {
			t.Errorf("%s: repaired with repairs off", tt.name)
		}
	}
}

// alarmPayload is an alarm in ALARM: every secret of the environment.
func alarmPayload() json.RawMessage {
	b, _ := json.Marshal(map[string]any{"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change",
		"detail": map[string]any{"alarmName": "rotation-errors", "state": map[string]string{"value": "ALARM"}}})
	return b
}

// With more secrets than one invocation diagnoses, consecutive sweeps
// start at different secrets, so every secret is diagnosed within two
// sweeps (not the same first MaxSweepSecrets every time), and a secret
// with a rotation pending is diagnosed in every sweep wherever
// ListSecrets lists it.
func TestSweepCoversEverySecret(t *testing.T) {
	r := newRig(t)
	const n = doctor.MaxSweepSecrets + 10
	for i := range n {
		name := fmt.Sprintf("s%02d", i)
		r.secret(name, r.value("u", "pw", ""))
	}
	r.pending("s59", r.value("u", "new", "")) // last in ListSecrets' order
	r.db.accepts["pw"] = true
	seen := map[string]int{}
	now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	for sweep := range 2 {
		at := now.Add(time.Duration(sweep) * time.Hour)
		d := doctor.New(r.sm, r.db, doctor.WithConfig(doctor.Config{TopicARN: "arn:aws:sns:us-east-1:1:t", RotationFunctionARN: fnARN,
			Environment: "test", SweepInterval: time.Hour}), doctor.WithPublisher(r.pub),
			doctor.WithNetwork(doctor.Network{Timeout: 2 * time.Second}), doctor.WithClock(func() time.Time { return at }))
		res, err := d.Handle(r.ctx, json.RawMessage(doctor.ScheduledSweep))
		if err != nil || len(res.Diagnoses) != doctor.MaxSweepSecrets || len(res.Skipped) != n-doctor.MaxSweepSecrets {
			t.Fatalf("sweep %d: %d diagnosed, %d skipped, %v", sweep, len(res.Diagnoses), len(res.Skipped), err)
		}
		for _, g := range res.Diagnoses {
			seen[g.Secret]++
		}
		if seen["s59"] != sweep+1 {
			t.Errorf("sweep %d: the secret with AWSPENDING (s59) was not diagnosed", sweep)
		}
	}
	if len(seen) != n {
		t.Errorf("two sweeps diagnosed %d of %d secrets", len(seen), n)
	}
}

// Diagnoses stop when less than PublishBudget (plus MinDiagnoseTime) of
// the invocation is left; the rest is named as not diagnosed, the report
// is still published, and Publish's deadline is within the invocation's.
func TestHandleKeepsPublishBudget(t *testing.T) {
	r := newRig(t)
	r.secret("a", r.value("a", "a-pw", ""))
	r.db.accepts["a-pw"] = true
	for _, left := range []time.Duration{doctor.PublishBudget + 5*time.Second, 10 * time.Second} {
		ctx, cancel := context.WithTimeout(r.ctx, left)
		res, err := r.doctor(doctor.Config{}).Handle(ctx, alarmPayload())
		cancel()
		if err != nil || len(res.Diagnoses) != 0 || !res.OutOfTime || fmt.Sprint(res.Skipped) != "[a]" || !res.Published {
			t.Fatalf("%s left: %+v, %v; want nothing diagnosed, a not diagnosed, published", left, res, err)
		}
		body := aws.ToString(r.pub.msgs[len(r.pub.msgs)-1].Message)
		if !strings.Contains(body, "Not diagnosed in this run") || !strings.Contains(body, "ran out") {
			t.Errorf("report lacks the secrets not diagnosed and why:\n%s", body)
		}
		dl, _ := ctx.Deadline()
		if got := r.pub.deadlines[len(r.pub.deadlines)-1]; got.IsZero() || got.After(dl) {
			t.Errorf("%s left: Publish's deadline %s is after the invocation's %s", left, got, dl)
		}
	}
}

// One invocation probes a database once, however many secrets use it:
// an unreachable database costs its probe timeouts once, not per secret.
func TestProbeCachedPerInvocation(t *testing.T) {
	r := newRig(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var mu sync.Mutex
	conns := 0
	go func() { // accepts and never greets
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns++
			mu.Unlock()
			t.Cleanup(func() { c.Close() })
		}
	}()
	r.port = l.Addr().(*net.TCPAddr).Port
	for _, name := range []string{"a", "b", "c"} {
		r.secret(name, r.value(name, name+"-pw", ""))
	}
	d := doctor.New(r.sm, r.db, doctor.WithConfig(doctor.Config{TopicARN: "arn:aws:sns:us-east-1:1:t", RotationFunctionARN: fnARN, Environment: "test"}),
		doctor.WithPublisher(r.pub), doctor.WithNetwork(doctor.Network{Timeout: 300 * time.Millisecond}))
	res, err := d.Handle(r.ctx, alarmPayload())
	if err != nil || len(res.Diagnoses) != 3 {
		t.Fatalf("%+v, %v", res, err)
	}
	for _, g := range res.Diagnoses {
		if g.Cause != doctor.CauseDatabaseUnreachable {
			t.Errorf("%s: cause %s, want %s", g.Secret, g.Cause, doctor.CauseDatabaseUnreachable)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if conns != 1 {
		t.Errorf("%d connections to the database for 3 secrets, want 1", conns)
	}
}
