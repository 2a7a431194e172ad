package rotation_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/rotation"
)

// Prefixes of fakeARN's account and region: one it is under, one it is not.
const (
	prefixOfFake = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-"
	otherPrefix  = "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/prod/"
)

// limit replaces e's handler by one allowing alternating users under prefixes.
func (e *altEnv) limit(prefixes ...string) {
	e.h = rotation.New(e.sm, e.db, rotation.WithAlternatingUsersSecretPrefixes(prefixes),
		rotation.WithLogger(slog.New(slog.NewJSONHandler(e.log, nil))))
}

// assertUntouched: the master was never read, nothing logged in, no
// password generated or stored.
func (e *altEnv) assertUntouched() {
	e.t.Helper()
	if len(e.master.calls) != 0 {
		e.t.Errorf("master secret calls %v, want none", e.master.calls)
	}
	if len(e.db.logins) != 0 || len(e.db.stmts) != 0 {
		e.t.Errorf("%d logins, statements %v, want none", len(e.db.logins), e.db.stmts)
	}
	for _, op := range []string{"GetRandomPassword", "PutSecretValue", "UpdateSecretVersionStage"} {
		if n := e.sm.count(op); n != 0 {
			e.t.Errorf("%d %s calls", n, op)
		}
	}
}

func assertNotAllowed(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, rotation.ErrNotAllowed) || !errors.Is(err, rotation.ErrGuard) {
		t.Fatalf("error = %v, want ErrNotAllowed and ErrGuard", err)
	}
	for _, want := range []string{fakeARN, masterARN, otherPrefix, rotation.EnvAlternatingUsersSecretPrefixes, "not read"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestAlternatingOutsidePrefixesRefused: a secret naming a master, outside
// every allowed prefix, fails at createSecret before anything else.
func TestAlternatingOutsidePrefixesRefused(t *testing.T) {
	e := newAltEnv(t, userJSON())
	e.limit(otherPrefix)
	assertNotAllowed(t, e.rotate())
	e.assertUntouched()
	var rec map[string]any
	lines := strings.Split(strings.TrimSpace(e.log.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rec); err != nil || rec["outcome"] != rotation.OutcomeRefused || rec["step"] != rotation.StepCreateSecret {
		t.Errorf("last log record %v (%v), want outcome refused at createSecret", rec, err)
	}
}

// TestAlternatingOutsidePrefixesRefusedAtEveryStrategyStep: a caller that
// plants AWSPENDING itself and invokes setSecret or testSecret directly
// is refused the same way (the pending version selects the strategy).
func TestAlternatingOutsidePrefixesRefusedAtEveryStrategyStep(t *testing.T) {
	for _, step := range []string{rotation.StepSetSecret, rotation.StepTestSecret} {
		t.Run(step, func(t *testing.T) {
			e := newAltEnv(t, userJSON())
			e.limit(otherPrefix)
			e.sm.addPending(token, userJSON(func(m map[string]any) { m["username"] = "app_clone"; m["password"] = "Planted-Pa55word" }))
			assertNotAllowed(t, e.h.Handle(context.Background(), event(step)))
			e.assertUntouched()
		})
	}
}

// TestAlternatingInsidePrefixesRotates: under an allowed prefix (one of
// several) the rotation runs as without the limit.
func TestAlternatingInsidePrefixesRotates(t *testing.T) {
	e := newAltEnv(t, userJSON())
	e.limit(otherPrefix, prefixOfFake)
	for i := 0; i < 2; i++ {
		if err := e.rotate(); err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
	}
	if cur := e.current(); cur.Username != "app" || e.db.users["app"] != cur.Password {
		t.Errorf("after two rotations: current user %s", cur.Username)
	}
	if len(e.master.calls) == 0 {
		t.Error("the master was never read")
	}
}

// TestSingleUserNotLimitedByPrefixes: a secret without "masterarn" logs
// in only as itself; the limit does not apply to it.
func TestSingleUserNotLimitedByPrefixes(t *testing.T) {
	e := newEnv(t)
	e.h = rotation.New(e.sm, e.db, rotation.WithAlternatingUsersSecretPrefixes([]string{otherPrefix}))
	e.sm.addPending(token, "")
	for _, step := range []string{rotation.StepCreateSecret, rotation.StepSetSecret, rotation.StepTestSecret, rotation.StepFinishSecret} {
		if err := e.h.Handle(context.Background(), event(step)); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	if e.db.changes != 1 {
		t.Errorf("%d password changes, want 1", e.db.changes)
	}
}

func TestParseSecretARNPrefixes(t *testing.T) {
	good := "arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/prod/"
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{good, []string{good}},
		{" " + good + " , arn:aws-us-gov:secretsmanager:us-gov-west-1:111122223333:secret:x,", []string{good, "arn:aws-us-gov:secretsmanager:us-gov-west-1:111122223333:secret:x"}},
	} {
		got, err := rotation.ParseSecretARNPrefixes(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseSecretARNPrefixes(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{
		"", " , ",
		"app/prod/", // a name prefix, not an ARN
		"arn:aws:secretsmanager:eu-west-1:111122223333:secret:",           // every secret
		"arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/*",      // wildcard
		"arn:aws:ssm:eu-west-1:111122223333:parameter/app/",               // another service
		"arn:aws:secretsmanager:eu-west-1:1111:secret:app/",               // account
		"arn:aws:secretsmanager::111122223333:secret:app/",                // region
		"arn:aws:secretsmanager:eu-west-1:111122223333:function:app/",     // resource type
		good + ",arn:aws:secretsmanager:eu-west-1:111122223333:secret:a?", // one bad entry
	} {
		if got, err := rotation.ParseSecretARNPrefixes(bad); err == nil {
			t.Errorf("ParseSecretARNPrefixes(%q) = %q, want an error", bad, got)
		}
	}
}
