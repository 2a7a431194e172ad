package rotation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/internal/secret"
)

const (
	oldPassword   = "Old-Pa55word-Known"
	prevPassword  = "Prev-Pa55word-Known"
	token         = "token-0001"
	rotationToken = "rotation-token-Secret-XYZ"
)

func secretJSON(user, pw string) string {
	b, _ := json.Marshal(map[string]any{
		"engine": "mysql", "host": "db.internal", "port": 3306, "username": user,
		"password": pw, "dbClusterIdentifier": "keep-me",
	})
	return string(b)
}

func event(step string) events.SecretsManagerSecretRotationEvent {
	return events.SecretsManagerSecretRotationEvent{Step: step, SecretID: fakeARN, ClientRequestToken: token, RotationToken: rotationToken}
}

type env struct {
	sm  *fakeSM
	db  *fakeDB
	h   *rotation.Handler
	log *bytes.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{
		sm:  newFakeSM(secretJSON("admin", oldPassword)),
		db:  &fakeDB{users: map[string]string{"admin": oldPassword}},
		log: &bytes.Buffer{},
	}
	e.h = rotation.New(e.sm, e.db, rotation.WithLogger(slog.New(slog.NewJSONHandler(e.log, nil))))
	t.Cleanup(func() {
		for _, secret := range []string{oldPassword, prevPassword, e.sm.password, rotationToken} {
			if strings.Contains(e.log.String(), secret) {
				t.Errorf("log contains a secret value %q:\n%s", secret, e.log)
			}
		}
	})
	return e
}

func TestGuard(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*env)
		ev      func() events.SecretsManagerSecretRotationEvent
		wantErr bool
		calls   []string // exact SM calls expected
	}{
		{"unknown step", func(e *env) { e.sm.addPending(token, "") },
			func() events.SecretsManagerSecretRotationEvent { return event("dropSecret") }, true, nil},
		{"empty token", func(e *env) {},
			func() events.SecretsManagerSecretRotationEvent {
				ev := event(rotation.StepCreateSecret)
				ev.ClientRequestToken = ""
				return ev
			}, true, nil},
		{"rotation disabled", func(e *env) { e.sm.addPending(token, ""); e.sm.rotationEnabled = aws.Bool(false) },
			func() events.SecretsManagerSecretRotationEvent { return event(rotation.StepCreateSecret) }, true, []string{"DescribeSecret"}},
		{"rotation flag absent is allowed", func(e *env) { e.sm.addPending(token, ""); e.sm.rotationEnabled = nil },
			func() events.SecretsManagerSecretRotationEvent { return event(rotation.StepTestSecret) }, true /* no pending value */, []string{"DescribeSecret", "GetSecretValue"}},
		{"token not a version", func(e *env) {},
			func() events.SecretsManagerSecretRotationEvent { return event(rotation.StepCreateSecret) }, true, []string{"DescribeSecret"}},
		{"token already current", func(e *env) { e.sm.versions[token] = e.sm.versions["v-current"]; delete(e.sm.versions, "v-current") },
			func() events.SecretsManagerSecretRotationEvent { return event(rotation.StepSetSecret) }, false, []string{"DescribeSecret"}},
		{"token not pending", func(e *env) { e.sm.versions[token] = &fakeVersion{value: "{}", stages: []string{"CUSTOM"}} },
			func() events.SecretsManagerSecretRotationEvent { return event(rotation.StepFinishSecret) }, true, []string{"DescribeSecret"}},
		{"describe fails", func(e *env) { e.sm.fail["DescribeSecret"] = errors.New("boom") },
			func() events.SecretsManagerSecretRotationEvent { return event(rotation.StepCreateSecret) }, true, []string{"DescribeSecret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.setup(e)
			err := e.h.Handle(context.Background(), tt.ev())
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle error = %v, want error %v", err, tt.wantErr)
			}
			if strings.Join(e.sm.calls, ",") != strings.Join(tt.calls, ",") {
				t.Errorf("calls = %v, want %v", e.sm.calls, tt.calls)
			}
			if e.db.changes != 0 {
				t.Errorf("database changed %d times", e.db.changes)
			}
		})
	}
}

func TestCreateSecret(t *testing.T) {
	t.Run("stores pending with only the password changed", func(t *testing.T) {
		e := newEnv(t)
		e.sm.addPending(token, "")
		if err := e.h.Handle(context.Background(), event(rotation.StepCreateSecret)); err != nil {
			t.Fatal(err)
		}
		put := e.sm.lastPut
		if put == nil {
			t.Fatal("no PutSecretValue")
		}
		if aws.ToString(put.ClientRequestToken) != token || aws.ToString(put.RotationToken) != rotationToken ||
			strings.Join(put.VersionStages, ",") != secret.StagePending {
			t.Errorf("put = token %q rotation token %q stages %v", aws.ToString(put.ClientRequestToken), aws.ToString(put.RotationToken), put.VersionStages)
		}
		var got, want map[string]any
		json.Unmarshal([]byte(*put.SecretString), &got)
		json.Unmarshal([]byte(secretJSON("admin", e.sm.password)), &want)
		if g, w := mustJSON(got), mustJSON(want); g != w {
			t.Errorf("pending = %s, want %s", g, w)
		}
		r := e.sm.lastRandom
		if aws.ToString(r.ExcludeCharacters) != `/@"'\` || aws.ToInt64(r.PasswordLength) != 32 || !aws.ToBool(r.RequireEachIncludedType) ||
			aws.ToBool(r.ExcludeNumbers) || aws.ToBool(r.ExcludePunctuation) || aws.ToBool(r.ExcludeUppercase) || aws.ToBool(r.ExcludeLowercase) {
			t.Errorf("GetRandomPassword input = %+v", *r)
		}
	})
	t.Run("no rotation token in event means none sent", func(t *testing.T) {
		e := newEnv(t)
		e.sm.addPending(token, "")
		ev := event(rotation.StepCreateSecret)
		ev.RotationToken = ""
		if err := e.h.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if e.sm.lastPut.RotationToken != nil {
			t.Error("RotationToken sent although the event had none")
		}
	})
	t.Run("twice is harmless", func(t *testing.T) {
		e := newEnv(t)
		e.sm.addPending(token, "")
		for i := 0; i < 2; i++ {
			if err := e.h.Handle(context.Background(), event(rotation.StepCreateSecret)); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		if n := e.sm.count("PutSecretValue"); n != 1 {
			t.Errorf("PutSecretValue called %d times, want 1", n)
		}
		if n := e.sm.count("GetRandomPassword"); n != 1 {
			t.Errorf("GetRandomPassword called %d times, want 1", n)
		}
	})
	bad := []struct{ name, current string }{
		{"current not JSON", `{"engine":"mysql",` + oldPassword},
		{"current missing password", `{"engine":"mysql","host":"h","username":"u"}`},
		{"current bad engine", `{"engine":"oracle","host":"h","username":"u","password":"` + oldPassword + `"}`},
		{"current port wrong type", `{"engine":"mysql","host":"h","username":"u","password":"` + oldPassword + `","port":[1]}`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sm.versions["v-current"].value = tt.current
			e.sm.addPending(token, "")
			err := e.h.Handle(context.Background(), event(rotation.StepCreateSecret))
			if !errors.Is(err, secret.ErrInvalid) {
				t.Fatalf("error = %v, want ErrInvalid", err)
			}
			if strings.Contains(err.Error(), oldPassword) {
				t.Errorf("error leaks the password: %v", err)
			}
			if e.sm.count("PutSecretValue")+e.sm.count("GetRandomPassword") != 0 {
				t.Errorf("calls after bad current secret: %v", e.sm.calls)
			}
		})
	}
	t.Run("PutSecretValue failure is returned", func(t *testing.T) {
		e := newEnv(t)
		e.sm.addPending(token, "")
		e.sm.fail["PutSecretValue"] = errors.New("InternalServiceError")
		if err := e.h.Handle(context.Background(), event(rotation.StepCreateSecret)); err == nil {
			t.Fatal("no error")
		}
		if err := e.h.Handle(context.Background(), event(rotation.StepCreateSecret)); err != nil {
			t.Fatalf("retry: %v", err)
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// pendingEnv returns an env after createSecret.
func pendingEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.sm.addPending(token, "")
	if err := e.h.Handle(context.Background(), event(rotation.StepCreateSecret)); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestSetSecret also counts failed logins (refused passwords), which an
// account-lockout policy (MariaDB max_password_errors, MySQL
// FAILED_LOGIN_ATTEMPTS) punishes: setSecret logs in with AWSCURRENT
// first, so a healthy rotation makes none, and a retried one (the
// database already has the pending password) makes exactly one.
func TestSetSecret(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(*env)
		wantErr     string // substring; "" means success
		wantChanges int
		wantFailed  int // refused logins
		wantLogins  int // login attempts; 0 means not checked
	}{
		{"current logs in", func(e *env) {}, "", 1, 0, 1},
		{"pending already set", func(e *env) { e.db.users["admin"] = e.sm.password }, "", 0, 1, 2},
		{"previous logs in", func(e *env) {
			e.db.users["admin"] = prevPassword
			e.sm.versions["v-prev"] = &fakeVersion{value: secretJSON("admin", prevPassword), stages: []string{secret.StagePrevious}}
		}, "", 1, 2, 3},
		{"nothing logs in", func(e *env) {
			e.db.users["admin"] = "someone-else-changed-it"
			e.sm.versions["v-prev"] = &fakeVersion{value: secretJSON("admin", prevPassword), stages: []string{secret.StagePrevious}}
		}, "tried AWSCURRENT", 0, 3, 3},
		{"nothing logs in, no previous", func(e *env) { e.db.users["admin"] = "x" }, "AWSPREVIOUS: no such version", 0, 2, 2},
		{"previous has the current password", func(e *env) {
			e.db.users["admin"] = "x"
			e.sm.versions["v-prev"] = &fakeVersion{value: secretJSON("admin", oldPassword), stages: []string{secret.StagePrevious}}
		}, "AWSPREVIOUS: same password as AWSCURRENT", 0, 2, 2},
		{"previous is another user", func(e *env) {
			e.db.users["admin"] = "x"
			e.sm.versions["v-prev"] = &fakeVersion{value: secretJSON("other", prevPassword), stages: []string{secret.StagePrevious}}
		}, "AWSPREVIOUS: names a different user", 0, 2, 2},
		{"account blocked", func(e *env) { e.db.blocked = true }, "blocked", 0, 0, 1},
		{"pending names another user", func(e *env) {
			e.sm.versions[token].value = secretJSON("intruder", "pw-of-intruder")
		}, "different user", 0, 0, -1},
		{"pending names another host", func(e *env) {
			e.sm.versions[token].value = `{"engine":"mysql","host":"attacker.example","port":3306,"username":"admin","password":"pw-of-intruder"}`
		}, "different user, host or port", 0, 0, -1},
		{"pending names another port", func(e *env) {
			e.sm.versions[token].value = `{"engine":"mysql","host":"db.internal","port":3307,"username":"admin","password":"pw-of-intruder"}`
		}, "different user, host or port", 0, 0, -1},
		{"database down", func(e *env) { e.db.down = true }, "connection refused", 0, 0, 1},
		{"pending bad JSON", func(e *env) { e.sm.versions[token].value = "{" }, "malformed JSON", 0, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := pendingEnv(t)
			tt.setup(e)
			err := e.h.Handle(context.Background(), event(rotation.StepSetSecret))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want containing %q", err, tt.wantErr)
			}
			if e.db.failed != tt.wantFailed {
				t.Errorf("failed logins = %d, want %d", e.db.failed, tt.wantFailed)
			}
			switch n := len(e.db.logins); {
			case tt.wantLogins > 0 && n != tt.wantLogins:
				t.Errorf("login attempts = %d, want %d", n, tt.wantLogins)
			case tt.wantLogins < 0 && n != 0:
				t.Errorf("login attempts = %d, want none before the pending version is checked", n)
			}
			if err != nil {
				for _, s := range []string{oldPassword, prevPassword, e.sm.password} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error leaks a password: %v", err)
					}
				}
			}
			if e.db.changes != tt.wantChanges {
				t.Errorf("changes = %d, want %d", e.db.changes, tt.wantChanges)
			}
			if tt.wantErr == "" && e.db.users["admin"] != e.sm.password {
				t.Errorf("database password not the pending one")
			}
			// Twice in a row is harmless: the second call changes nothing
			// and costs at most one failed login (AWSCURRENT, now stale).
			if tt.wantErr == "" {
				before, failed := e.db.changes, e.db.failed
				if err := e.h.Handle(context.Background(), event(rotation.StepSetSecret)); err != nil {
					t.Fatalf("second setSecret: %v", err)
				}
				if e.db.changes != before {
					t.Errorf("second setSecret changed the password again")
				}
				if n := e.db.failed - failed; n > 1 {
					t.Errorf("second setSecret made %d failed logins, want at most 1", n)
				}
			}
		})
	}
}

func TestTestSecret(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*env)
		wantErr bool
	}{
		{"pending works", func(e *env) { e.db.users["admin"] = e.sm.password }, false},
		{"pending not set", func(e *env) {}, true},
		{"query fails", func(e *env) { e.db.users["admin"] = e.sm.password; e.db.checkErr = errors.New("read-only") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := pendingEnv(t)
			tt.setup(e)
			for i := 0; i < 2; i++ { // twice in a row: same result
				err := e.h.Handle(context.Background(), event(rotation.StepTestSecret))
				if (err != nil) != tt.wantErr {
					t.Fatalf("call %d: error = %v, want error %v", i, err, tt.wantErr)
				}
			}
			if e.db.changes != 0 {
				t.Error("testSecret changed the database")
			}
		})
	}
}

func TestFinishSecret(t *testing.T) {
	e := pendingEnv(t)
	e.sm.versions["v-old"] = &fakeVersion{value: secretJSON("admin", prevPassword), stages: []string{secret.StagePrevious}}
	for i := 0; i < 2; i++ {
		if err := e.h.Handle(context.Background(), event(rotation.StepFinishSecret)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if got := e.sm.stageOf(secret.StageCurrent); got != token {
		t.Errorf("AWSCURRENT on %q, want %q", got, token)
	}
	if got := e.sm.stageOf(secret.StagePrevious); got != "v-current" {
		t.Errorf("AWSPREVIOUS on %q, want v-current", got)
	}
	if n := e.sm.count("UpdateSecretVersionStage"); n != 1 {
		t.Errorf("UpdateSecretVersionStage called %d times, want 1", n)
	}
}

func TestFullRotationLogs(t *testing.T) {
	e := newEnv(t)
	e.sm.addPending(token, "")
	for _, step := range []string{rotation.StepCreateSecret, rotation.StepSetSecret, rotation.StepTestSecret, rotation.StepFinishSecret} {
		if err := e.h.Handle(context.Background(), event(step)); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	var finished []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(e.log.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "rotation step finished" {
			finished = append(finished, rec)
		}
	}
	wantOutcome := []string{rotation.OutcomeDone, rotation.OutcomeDone, rotation.OutcomeNoop, rotation.OutcomeDone}
	if len(finished) != 4 {
		t.Fatalf("%d finish records, want 4:\n%s", len(finished), e.log)
	}
	for i, rec := range finished {
		if rec["secret_arn"] != fakeARN || rec["token"] != token || rec["outcome"] != wantOutcome[i] {
			t.Errorf("record %d = %v", i, rec)
		}
		if _, ok := rec["duration_ms"].(float64); !ok {
			t.Errorf("record %d lacks duration_ms", i)
		}
	}
}
