package rotation_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/internal/secret"
)

func TestRotationAgainstMariaDB(t *testing.T) {
	tests := []struct {
		name string
		opts []rigOption
	}{
		{"ssl absent (TLS first)", nil},
		{"ssl true", []rigOption{func(c *rigConfig) { c.ssl = true }}},
		{"ssl \"true\" and extra fields", []rigOption{func(c *rigConfig) {
			c.ssl = "true"
			c.extra = map[string]any{"dbClusterIdentifier": "cluster-1", "proxy": map[string]any{"port": 6033}}
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.opts...)
			before := r.value(secret.StageCurrent)
			if err := r.rotate(); err != nil {
				t.Fatalf("first rotation: %v", err)
			}
			r.assertRotated(r.initial)
			after := r.value(secret.StageCurrent)
			if !after.SameAccount(before) || after.SSL != before.SSL || after.Engine != before.Engine {
				t.Errorf("rotation changed more than the password: %v -> %v", before, after)
			}
			second := after.Password
			if err := r.rotate(); err != nil {
				t.Fatalf("second rotation: %v", err)
			}
			r.assertRotated(second)
		})
	}
}

// TestRotationPasswordWithEveryPrintableCharacter proves the password
// cannot break out of the SQL literal: GetRandomPassword with no
// exclusions can produce every printable ASCII character except space
// (IncludeSpace is off); the wrapper returns exactly that set, under both
// the default sql_mode and NO_BACKSLASH_ESCAPES.
func TestRotationPasswordWithEveryPrintableCharacter(t *testing.T) {
	var all strings.Builder
	for c := byte(0x21); c <= 0x7e; c++ {
		all.WriteByte(c)
	}
	pw := all.String() + `\'\\''"` // extra quote/backslash runs
	for _, mode := range []string{"", "NO_BACKSLASH_ESCAPES"} {
		t.Run("sql_mode="+mode, func(t *testing.T) {
			var saved string
			if err := srv.RootDB().QueryRow("SELECT @@GLOBAL.sql_mode").Scan(&saved); err != nil {
				t.Fatal(err)
			}
			if _, err := srv.RootDB().Exec("SET GLOBAL sql_mode = ?", mode); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.RootDB().Exec("SET GLOBAL sql_mode = ?", saved) })
			r := newRig(t, func(c *rigConfig) {
				c.policy = &rotation.PasswordPolicy{Length: 94}
				c.wrapSM = func(api rotation.SecretsManager) rotation.SecretsManager { return fixedPassword{api, pw} }
			})
			if err := r.rotate(); err != nil {
				t.Fatalf("rotation: %v", err)
			}
			r.assertRotated(r.initial)
			if got := r.value(secret.StageCurrent).Password; got != pw {
				t.Fatalf("stored password differs from the generated one")
			}
		})
	}
}

// fixedPassword is a Secrets Manager whose GetRandomPassword returns pw.
type fixedPassword struct {
	rotation.SecretsManager
	pw string
}

func (f fixedPassword) GetRandomPassword(ctx context.Context, in *secretsmanager.GetRandomPasswordInput, o ...func(*secretsmanager.Options)) (*secretsmanager.GetRandomPasswordOutput, error) {
	return &secretsmanager.GetRandomPasswordOutput{RandomPassword: aws.String(f.pw)}, nil
}

// TestRotationGeneratedPasswordsNoExclusions rotates with the endpoint's
// own generator and every exclusion off.
func TestRotationGeneratedPasswordsNoExclusions(t *testing.T) {
	r := newRig(t, func(c *rigConfig) { c.policy = &rotation.PasswordPolicy{Length: 512, RequireEachIncludedType: true} })
	for i := 0; i < 3; i++ {
		old := r.value(secret.StageCurrent).Password
		if err := r.rotate(); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
		r.assertRotated(old)
	}
}

func TestRotationWrongCARefused(t *testing.T) {
	wrong, err := mysql.NewDialer() // system roots and the shipped RDS CAs: the test CA is unknown
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(c *rigConfig) { c.dialer = wrong })
	cur := r.versionWith(secret.StageCurrent)
	err = r.rotate()
	if err == nil {
		t.Fatal("rotation succeeded with an untrusted server certificate")
	}
	if !errors.Is(err, engine.ErrCertificate) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error does not report the certificate failure: %v", err)
	}
	r.assertUnchanged(cur)
}

// TestFaultStepsTwice invokes every step twice in a row.
func TestFaultStepsTwice(t *testing.T) {
	r := newRig(t)
	r.around = func(ctx context.Context, ev events.SecretsManagerSecretRotationEvent, call func() error) error {
		if err := call(); err != nil {
			return err
		}
		return call()
	}
	if err := r.rotate(); err != nil {
		t.Fatal(err)
	}
	r.assertRotated(r.initial)
}

// TestFaultDatabaseDownDuringSetSecret: the step fails, AWSCURRENT keeps
// working, and after the restart the retried rotation succeeds.
func TestFaultDatabaseDownDuringSetSecret(t *testing.T) {
	r := newRig(t)
	r.around = func(ctx context.Context, ev events.SecretsManagerSecretRotationEvent, call func() error) error {
		if ev.Step == rotation.StepSetSecret {
			if err := srv.Halt(); err != nil {
				t.Fatal(err)
			}
		}
		return call()
	}
	cur := r.versionWith(secret.StageCurrent)
	err := r.rotate()
	if resumeErr := srv.Resume(r.ctx); resumeErr != nil {
		t.Fatal(resumeErr)
	}
	if err == nil {
		t.Fatal("setSecret succeeded with the database down")
	}
	if !strings.Contains(err.Error(), rotation.StepSetSecret) {
		t.Errorf("failure not in setSecret: %v", err)
	}
	r.around = nil
	r.assertUnchanged(cur)
	if err := r.retry(); err != nil {
		t.Fatalf("retry after restart: %v", err)
	}
	r.assertRotated(r.initial)
}

// TestFaultCrashAfterSetSecret: the function dies after changing the
// database and before finishSecret; the retry finds the pending value
// already set and completes.
func TestFaultCrashAfterSetSecret(t *testing.T) {
	for _, crashAt := range []string{rotation.StepTestSecret, rotation.StepFinishSecret} {
		t.Run("crash before "+crashAt, func(t *testing.T) {
			r := newRig(t)
			r.around = func(ctx context.Context, ev events.SecretsManagerSecretRotationEvent, call func() error) error {
				if ev.Step == crashAt {
					return errors.New("Runtime.ExitError: function crashed")
				}
				return call()
			}
			if err := r.rotate(); err == nil {
				t.Fatal("rotation succeeded despite the crash")
			}
			// AWSCURRENT no longer logs in (the database has the pending
			// password) until the retry completes: that is the window AWS's
			// single-user strategy accepts.
			r.around = nil
			if err := r.retry(); err != nil {
				t.Fatalf("retry: %v", err)
			}
			r.assertRotated(r.initial)
		})
	}
}

// TestFaultRecoverViaPrevious: AWSCURRENT was replaced by a value the
// database never got (for example an interrupted manual change), while
// AWSPREVIOUS still logs in; setSecret logs in with AWSPREVIOUS.
func TestFaultRecoverViaPrevious(t *testing.T) {
	r := newRig(t)
	broken, err := r.value(secret.StageCurrent).WithPassword("never-set-in-the-database")
	if err != nil {
		t.Fatal(err)
	}
	r.seen = append(r.seen, broken, "never-set-in-the-database")
	if _, err := r.client.PutSecretValue(r.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(r.secretID), SecretString: aws.String(broken)}); err != nil {
		t.Fatal(err)
	}
	if err := r.rotate(); err != nil {
		t.Fatalf("rotation: %v", err)
	}
	if !r.canLogin(r.value(secret.StageCurrent).Password) || r.canLogin(r.initial) {
		t.Error("rotation via AWSPREVIOUS did not set the new password")
	}
	if !strings.Contains(r.log.String(), `"logged_in_as":"AWSPREVIOUS"`) {
		t.Errorf("log does not say AWSPREVIOUS was used:\n%s", r.log)
	}
}

// TestFaultSecretsManagerErrors injects throttling and 5xx answers into
// every operation the function uses.
func TestFaultSecretsManagerErrors(t *testing.T) {
	ops := []string{"DescribeSecret", "GetSecretValue", "PutSecretValue", "GetRandomPassword", "UpdateSecretVersionStage"}
	for _, op := range ops {
		for _, kind := range []string{"ThrottlingException", "InternalServiceError"} {
			t.Run(op+"/"+kind+" absorbed by SDK retries", func(t *testing.T) {
				r := newRig(t)
				r.sm.FailNext(op, 2, kind)
				if err := r.rotate(); err != nil {
					t.Fatalf("rotation: %v", err)
				}
				r.assertRotated(r.initial)
			})
		}
		t.Run(op+" beyond SDK retries then retried step", func(t *testing.T) {
			r := newRig(t, func(c *rigConfig) {
				c.smOpts = append(c.smOpts, func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
			})
			cur := r.versionWith(secret.StageCurrent)
			r.sm.FailNext(op, 1, "InternalServiceError")
			err := r.rotate()
			if err == nil {
				t.Fatal("rotation succeeded without retries")
			}
			if op != "UpdateSecretVersionStage" {
				r.assertUnchanged(cur)
			}
			if err := r.retry(); err != nil {
				t.Fatalf("retry: %v", err)
			}
			r.assertRotated(r.initial)
		})
	}
}

// TestFaultBadRequests: each request must fail and change nothing.
func TestFaultBadRequests(t *testing.T) {
	tests := []struct {
		name  string
		opts  []rigOption
		setup func(r *rig) events.SecretsManagerSecretRotationEvent
	}{
		{"wrong token", nil, func(r *rig) events.SecretsManagerSecretRotationEvent {
			return events.SecretsManagerSecretRotationEvent{Step: rotation.StepSetSecret, SecretID: r.secretID, ClientRequestToken: "00000000-0000-0000-0000-000000000000"}
		}},
		{"wrong step", nil, func(r *rig) events.SecretsManagerSecretRotationEvent {
			return events.SecretsManagerSecretRotationEvent{Step: "deleteSecret", SecretID: r.secretID, ClientRequestToken: r.versionWith(secret.StageCurrent)}
		}},
		{"disabled rotation", nil, func(r *rig) events.SecretsManagerSecretRotationEvent {
			if _, err := r.client.CancelRotateSecret(r.ctx, &secretsmanager.CancelRotateSecretInput{SecretId: aws.String(r.secretID)}); err != nil {
				r.t.Fatal(err)
			}
			return events.SecretsManagerSecretRotationEvent{Step: rotation.StepCreateSecret, SecretID: r.secretID, ClientRequestToken: r.versionWith(secret.StageCurrent)}
		}},
		{"bad JSON", []rigOption{func(c *rigConfig) { c.rawJSON = `{"engine":"mariadb","password":"Bad-Json-Pw",` }}, nil},
		{"missing fields", []rigOption{func(c *rigConfig) { c.rawJSON = `{"engine":"mariadb","password":"Missing-Host-Pw"}` }}, nil},
		{"unsupported engine", []rigOption{func(c *rigConfig) { c.rawJSON = `{"engine":"postgres","host":"h","username":"u","password":"Pg-Pw"}` }}, nil},
		{"port of the wrong type", []rigOption{func(c *rigConfig) {
			c.rawJSON = `{"engine":"mysql","host":"h","username":"u","password":"Port-Pw","port":{}}`
		}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.opts...)
			cur := r.versionWith(secret.StageCurrent)
			versionsBefore := len(r.describe().VersionIdsToStages)
			var err error
			if tt.setup != nil {
				// Give the secret a rotation configuration first.
				if err := r.rotate(); err != nil {
					t.Fatal(err)
				}
				r.initial = r.value(secret.StageCurrent).Password
				cur = r.versionWith(secret.StageCurrent)
				versionsBefore = len(r.describe().VersionIdsToStages)
				err = r.h.Handle(r.ctx, tt.setup(r))
			} else {
				err = r.rotate()
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range r.seen {
				if s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("error contains a secret value: %v", err)
				}
			}
			if tt.setup != nil {
				r.assertUnchanged(cur)
				if n := len(r.describe().VersionIdsToStages); n != versionsBefore {
					t.Errorf("versions: %d -> %d", versionsBefore, n)
				}
			} else {
				// RotateSecret itself adds the AWSPENDING placeholder;
				// nothing else may change.
				if r.versionWith(secret.StageCurrent) != cur {
					t.Error("AWSCURRENT moved")
				}
				if n := r.sm.Calls("PutSecretValue") + r.sm.Calls("UpdateSecretVersionStage") + r.sm.Calls("GetRandomPassword"); n != 0 {
					t.Errorf("%d writing calls after a bad secret", n)
				}
				if strings.HasPrefix(tt.name, "bad") || strings.HasPrefix(tt.name, "missing") {
					if !r.canLogin(r.initial) {
						t.Error("database password changed")
					}
				}
			}
		})
	}
}
