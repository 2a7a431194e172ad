package rotation_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/internal/secret"
)

// failedLogins is the number of refused logins of the rig's user so far,
// counted by the real server.
func (r *rig) failedLogins() int {
	r.t.Helper()
	n, err := srv.FailedLogins(r.ctx, r.user)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// A healthy rotation makes no failed login; one retried after a crash
// that followed setSecret makes exactly one (the retried setSecret's
// login with the stale AWSCURRENT), counted by MariaDB itself.
func TestRotationFailedLogins(t *testing.T) {
	t.Run("healthy", func(t *testing.T) {
		r := newRig(t)
		for i := range 2 {
			before := r.failedLogins()
			if err := r.rotate(); err != nil {
				t.Fatalf("rotation %d: %v", i+1, err)
			}
			if n := r.failedLogins() - before; n != 0 {
				t.Fatalf("rotation %d made %d failed logins, want 0", i+1, n)
			}
		}
	})
	t.Run("retried after a crash before finishSecret", func(t *testing.T) {
		r := newRig(t)
		r.around = func(ctx context.Context, ev events.SecretsManagerSecretRotationEvent, call func() error) error {
			if ev.Step == rotation.StepFinishSecret {
				return errors.New("Runtime.ExitError: function crashed")
			}
			return call()
		}
		before := r.failedLogins()
		if err := r.rotate(); err == nil {
			t.Fatal("rotation succeeded despite the crash")
		}
		r.around = nil
		if err := r.retry(); err != nil {
			t.Fatalf("retry: %v", err)
		}
		if n := r.failedLogins() - before; n > 1 {
			t.Fatalf("the failed rotation and its retry made %d failed logins, want at most 1", n)
		}
		r.assertRotated(r.initial)
	})
}

// With MariaDB's max_password_errors=1 a single failed login blocks the
// account, the application's logins with AWSCURRENT included, until an
// administrator unblocks it. Ten rotations in a row never do: after each
// one the application logs in with the new AWSCURRENT.
func TestRotationUnderLockoutPolicy(t *testing.T) {
	r := newRig(t)
	restore, err := srv.BlockAfterFailedLogins(r.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := restore(context.Background()); err != nil {
			t.Error(err)
		}
	})
	for i := range 10 {
		if err := r.rotate(); err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
		ok, err := srv.CanLogin(r.ctx, r.user, r.value(secret.StageCurrent).Password)
		if err != nil || !ok {
			t.Fatalf("application login with AWSCURRENT after rotation %d: accepted %v, %v", i+1, ok, err)
		}
	}
	if n := r.failedLogins(); n != 0 {
		t.Fatalf("%d failed logins in 10 rotations, want 0", n)
	}
}
