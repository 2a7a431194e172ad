package main_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/example/secret-rotation/internal/doctor"
	"github.com/example/secret-rotation/internal/secret"
	"github.com/example/secret-rotation/internal/testkit/goldenfile"
	"github.com/example/secret-rotation/internal/testkit/lambdarun"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixture is one case's database user and secret.
type fixture struct {
	t           *testing.T
	ctx         context.Context
	sm          *secretsmanager.Client
	db          *testdb.Server
	user        string
	name        string // secret name
	arn         string
	alternating bool     // user and user_clone take turns
	also        *fixture // the master secret of an alternating-users case
	function    string   // the rotation function; "" = functionARN
}

// newFixture creates user on db with a secret named doctor/<user>
// pointing at host:port (db's unless overridden).
func newFixture(t *testing.T, db *testdb.Server, user string, port int) *fixture {
	t.Helper()
	f := startFixture(t, db, user)
	if err := db.CreateUser(f.ctx, user, "Initial-"+user); err != nil {
		t.Fatal(err)
	}
	if port == 0 {
		port = db.Port()
	}
	f.create(map[string]any{"engine": "mariadb", "host": db.Host(), "port": port, "username": user, "password": "Initial-" + user, "ssl": true})
	return f
}

func startFixture(t *testing.T, db *testdb.Server, user string) *fixture {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return &fixture{t: t, ctx: ctx, sm: w.sm.NewClient(ctx), db: db, user: user, name: "doctor/" + user}
}

// create stores the secret's first value, with tags (key and value
// pairs).
func (f *fixture) create(value map[string]any, tags ...string) {
	f.t.Helper()
	v, _ := json.Marshal(value)
	in := &secretsmanager.CreateSecretInput{Name: aws.String(f.name), SecretString: aws.String(string(v))}
	for i := 0; i+1 < len(tags); i += 2 {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(tags[i]), Value: aws.String(tags[i+1])})
	}
	out, err := f.sm.CreateSecret(f.ctx, in)
	if err != nil {
		f.t.Fatal(err)
	}
	f.arn = aws.ToString(out.ARN)
}

// rotate configures the rotation function and rotates once, returning
// the rotation's error, if any.
func (f *fixture) rotate() error {
	f.t.Helper()
	before := len(w.sm.RotationErrors())
	fn := f.function
	if fn == "" {
		fn = functionARN
	}
	if _, err := f.sm.RotateSecret(f.ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(f.arn), RotationLambdaARN: aws.String(fn),
		RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}}); err != nil {
		return err
	}
	if errs := w.sm.RotationErrors(); len(errs) > before {
		return errs[len(errs)-1]
	}
	return nil
}

func (f *fixture) stages() map[string]string {
	f.t.Helper()
	out, err := f.sm.DescribeSecret(f.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(f.arn)})
	if err != nil {
		f.t.Fatal(err)
	}
	m := map[string]string{}
	for v, ls := range out.VersionIdsToStages {
		for _, l := range ls {
			m[l] = v
		}
	}
	return m
}

// passwords returns every password the secret ever stored.
func (f *fixture) passwords() []string {
	f.t.Helper()
	out, err := f.sm.ListSecretVersionIds(f.ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(f.arn), IncludeDeprecated: aws.Bool(true)})
	if err != nil {
		f.t.Fatal(err)
	}
	var pws []string
	for _, v := range out.Versions {
		g, err := f.sm.GetSecretValue(f.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(f.arn), VersionId: v.VersionId})
		if err != nil {
			continue // a version without a value
		}
		if s, err := secret.Parse(aws.ToString(g.SecretString)); err == nil {
			pws = append(pws, s.Password, aws.ToString(g.SecretString))
		}
	}
	return pws
}

// invokeDoctor runs the compiled doctor with payload and returns its
// result and the report it published.
func invokeDoctor(t *testing.T, payload any) (*doctor.Result, string) {
	t.Helper()
	return invokeDoctorOn(t, w.doctorFn, payload, true)
}

// invokeDoctorOn runs the compiled doctor fn with payload and returns
// its result and the report it published: exactly one when publish is
// set, none ("") otherwise.
func invokeDoctorOn(t *testing.T, fn *lambdarun.Function, payload any, publish bool) (*doctor.Result, string) {
	t.Helper()
	before := len(w.sns.Messages())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := fn.Invoke(ctx, payload)
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, fn.Logs())
	}
	var res doctor.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("doctor result %s: %v", out, err)
	}
	msgs := w.sns.Messages()
	if !publish {
		if len(msgs) != before || res.Published {
			t.Fatalf("doctor published %d messages (published %v), want none", len(msgs)-before, res.Published)
		}
		return &res, ""
	}
	if len(msgs) != before+1 {
		t.Fatalf("doctor published %d messages, want 1", len(msgs)-before)
	}
	m := msgs[len(msgs)-1]
	if m.TopicARN != topicARN {
		t.Fatalf("published to %s, want %s", m.TopicARN, topicARN)
	}
	return &res, "Subject: " + m.Subject + "\n\n" + m.Body
}

// failRotation rotates f, which must fail (what names the rotation in the
// test's message), and returns f with the doctor's payload: the event of
// the failed rotation.
func failRotation(t *testing.T, f *fixture, what string) (*fixture, any) {
	t.Helper()
	if err := f.rotate(); err == nil {
		t.Fatal(what + " succeeded")
	}
	return f, rotationFailed(f.arn)
}

// stuckRotation rotates f, which must fail, then makes its AWSPENDING
// version older than the doctor's stuck-after age (smlocal's Backdate),
// as a rotation that failed more than an hour ago, and returns f with the
// doctor's payload: an on-demand run, as an operator's (the scheduled
// sweep's repair of the same state is TestDoctorSweep's).
func stuckRotation(t *testing.T, f *fixture, what string) (*fixture, any) {
	t.Helper()
	f, _ = failRotation(t, f, what)
	f.backdatePending()
	return f, map[string]string{"secretId": f.name}
}

// backdatePending makes f's AWSPENDING version a minute older than the
// stuck-after age.
func (f *fixture) backdatePending() {
	f.t.Helper()
	if err := w.sm.Backdate(f.arn, secret.StagePending, stuckAfter+time.Minute); err != nil {
		f.t.Fatal(err)
	}
}

// rotationFailed is the EventBridge event of a failed rotation: a
// CloudTrail service event with the secret's ARN in
// detail.additionalEventData.SecretId (see doctor.DetailTypeServiceEvent).
func rotationFailed(arn string) map[string]any {
	return map[string]any{
		"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "source": "aws.secretsmanager",
		"detail-type": "AWS Service Event via CloudTrail", "account": "123456789012", "region": "us-east-1",
		"time": "2024-05-01T12:00:00Z", "resources": []string{},
		"detail": map[string]any{
			"eventVersion": "1.08", "eventSource": "secretsmanager.amazonaws.com", "eventName": "RotationFailed",
			"eventType": "AwsServiceEvent", "awsRegion": "us-east-1",
			"userIdentity":        map[string]any{"accountId": "123456789012", "invokedBy": "secretsmanager.amazonaws.com"},
			"additionalEventData": map[string]any{"SecretId": arn},
			"requestParameters":   nil, "responseElements": nil,
		},
	}
}

func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

var (
	uuidRE      = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	normalizers = []struct {
		re   *regexp.Regexp
		with string
	}{
		{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`), "<TIME>"},
		{regexp.MustCompile(`(secret:[A-Za-z0-9/_+=.@-]+?)-[A-Za-z0-9]{6}\b`), "$1-XXXXXX"},
		{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:PORT"},
		{regexp.MustCompile(`server \S+, default`), "server <VERSION>, default"},
		{regexp.MustCompile(`TLS 1\.[23]`), "TLS 1.x"},
	}
)

// normalize removes what differs between runs; version ids become <v1>,
// <v2>, ... in order of first appearance, so the report still shows
// which labels moved where.
func normalize(s string) string {
	ids := map[string]string{}
	s = uuidRE.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := ids[id]; !ok {
			ids[id] = fmt.Sprintf("<v%d>", len(ids)+1)
		}
		return ids[id]
	})
	for _, n := range normalizers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

func golden(t *testing.T, name, report string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name+".golden"), []byte(normalize(report)), *update)
}

// failedLogins counts the refused logins of the fixture's accounts.
func failedLogins(t *testing.T, f *fixture) int {
	t.Helper()
	total := 0
	for _, u := range f.accounts() {
		n, err := f.db.FailedLogins(f.ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}

// doctorCase breaks a secret one way; setup returns the secret and the
// doctor's payload.
type doctorCase struct {
	name  string
	setup func(t *testing.T) (*fixture, any)
	want  doctorCaseWant
}

type doctorCaseWant struct {
	cause        doctor.Cause
	repaired     bool
	changed      bool // whether labels may change
	failedLogins int  // refused logins the doctor may cost
}

// The doctor, compiled and under the emulator, on a rotation broken each
// way: its verdict, what it changed, the failed logins it cost and the
// report it published (testdata/*.golden; go test -update rewrites
// them). No password or secret string of any case may appear in any
// report, result or log line of the doctor.
func TestDoctorCases(t *testing.T) {
	var leaks []string // every password and secret string of every case
	var reports []string
	tests := append([]doctorCase{
		{"healthy", func(t *testing.T) (*fixture, any) {
			f := newFixture(t, w.db, "u_healthy", 0)
			if err := f.rotate(); err != nil {
				t.Fatal(err)
			}
			return f, map[string]string{"secretId": f.name}
		}, doctorCaseWant{doctor.CauseHealthy, false, false, 0}},
		{"rotation_disabled", func(t *testing.T) (*fixture, any) {
			f := newFixture(t, w.db, "u_disabled", 0)
			return f, map[string]string{"secretId": f.name}
		}, doctorCaseWant{doctor.CauseRotationDisabled, false, false, 0}},
		{"database_unreachable", func(t *testing.T) (*fixture, any) {
			f := newFixture(t, w.db, "u_unreachable", closedPort(t))
			return failRotation(t, f, "rotation against a closed port")
		}, doctorCaseWant{doctor.CauseDatabaseUnreachable, false, false, 0}},
		{"wrong_ca", func(t *testing.T) (*fixture, any) {
			f := newFixture(t, w.otherDB, "u_wrong_ca", 0)
			return failRotation(t, f, "rotation against an untrusted certificate")
		}, doctorCaseWant{doctor.CauseTLS, false, false, 0}},
		{"password_changed_by_hand", func(t *testing.T) (*fixture, any) {
			f := newFixture(t, w.db, "u_by_hand", 0)
			pw := "Typed-By-Hand-7"
			w.handPassword = append(w.handPassword, pw)
			if _, err := w.db.RootDB().ExecContext(f.ctx, "ALTER USER 'u_by_hand'@'%' IDENTIFIED BY '"+pw+"'"); err != nil {
				t.Fatal(err)
			}
			return failRotation(t, f, "rotation after a password change by hand")
		}, doctorCaseWant{doctor.CausePasswordChanged, false, false, 2}},
		{"crash_after_setsecret", func(t *testing.T) (*fixture, any) {
			f := newFixture(t, w.db, "u_after_set", 0)
			w.breaker.crashOnce(f.arn, "finishSecret")
			return stuckRotation(t, f, "the broken rotation")
		}, doctorCaseWant{doctor.CauseStuckAfterSet, true, true, 1}},
		{"crash_after_createsecret", func(t *testing.T) (*fixture, any) {
			f := newFixture(t, w.db, "u_after_create", 0)
			w.breaker.crashOnce(f.arn, "setSecret")
			return stuckRotation(t, f, "the broken rotation")
		}, doctorCaseWant{doctor.CauseStuckAfterCreate, true, true, 0}},
	}, altCases()...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, payload := tt.setup(t)
			before, loginsBefore := f.stages(), failedLogins(t, f)
			res, report := invokeDoctor(t, payload)
			reports = append(reports, report, fmt.Sprint(res.Diagnoses))
			golden(t, tt.name, report)
			if len(res.Diagnoses) != 1 {
				t.Fatalf("%d diagnoses, want 1", len(res.Diagnoses))
			}
			g := res.Diagnoses[0]
			want := tt.want
			if g.Cause != want.cause || g.Repaired != want.repaired || g.Retried != want.repaired {
				t.Fatalf("cause %q repaired %v retried %v; want %q %v %v\n%s", g.Cause, g.Repaired, g.Retried, want.cause, want.repaired, want.repaired, report)
			}
			if n := failedLogins(t, f) - loginsBefore; n > want.failedLogins {
				t.Errorf("the doctor cost %d failed logins, want at most %d", n, want.failedLogins)
			}
			after := f.stages()
			if !want.changed && fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("labels changed: %v -> %v", before, after)
			}
			if want.repaired {
				// Repaired and retried: the rotation finished, so no
				// AWSPENDING elsewhere and a new AWSCURRENT that logs in.
				if p, ok := after["AWSPENDING"]; ok && p != after["AWSCURRENT"] {
					t.Errorf("AWSPENDING still on %s: %v", p, after)
				}
				if after["AWSCURRENT"] == before["AWSCURRENT"] {
					t.Errorf("AWSCURRENT did not move: %v", after)
				}
			}
			leaks = append(leaks, f.passwords()...)
			if f.also != nil {
				leaks = append(leaks, f.also.passwords()...)
			}
		})
	}
	t.Run("no_secret_in_any_report_or_log", func(t *testing.T) {
		out := strings.Join(reports, "\n") + string(w.doctorFn.Logs())
		for _, m := range w.sns.Messages() {
			out += m.Subject + m.Body
		}
		for _, s := range append(leaks, w.handPassword...) {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("a password or secret string (%d characters) appears in the doctor's reports or logs", len(s))
			}
		}
		if len(leaks) < 10 {
			t.Fatalf("only %d secret values collected; the check would prove little", len(leaks))
		}
	})
}
