package operator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/operator"
	"github.com/example/secret-rotation/internal/rotation"
)

// failedLogins is the number of refused logins of the rig's user so far,
// counted by the real server.
func (r *rig) failedLogins() int {
	r.t.Helper()
	n, err := db.FailedLogins(ctxT(r.t), r.user)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// blockAfterOneFailedLogin sets MariaDB's max_password_errors=1 for the
// rest of the test.
func blockAfterOneFailedLogin(t *testing.T) {
	t.Helper()
	restore, err := db.BlockAfterFailedLogins(ctxT(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := restore(context.Background()); err != nil {
			t.Error(err)
		}
	})
}

// rotate --wait follows a rotation that runs in the background, as the
// service runs it, with its setSecret late: many polls see the new
// version with a value before the database has its password. None of
// them logs in with it, so the whole rotation makes no failed login.
func TestRotateWaitMakesNoFailedLogin(t *testing.T) {
	r := newRig(t, "u_wait_logins", func(c *rigConfig) {
		c.async = true
		c.before = func(step string) {
			if step == rotation.StepSetSecret {
				time.Sleep(300 * time.Millisecond) // about 15 polls
			}
		}
	})
	r.enableRotation(goodFunction)
	if err := r.sm.WaitForRotations(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	before := r.failedLogins()
	out, errOut, code := r.run("rotate", "--wait", "--timeout", "1m", r.secret)
	if code != operator.ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if n := r.failedLogins() - before; n != 0 {
		t.Fatalf("rotate --wait and the rotation made %d failed logins, want 0\n%s", n, out)
	}
}

// verify logs in with AWSCURRENT only, unless --check-previous asks for
// the login with the old password, which is a failed login: under
// max_password_errors=1 that blocks the account, and verify says so and
// exits 1 instead of reporting success.
func TestVerifyFailedLogins(t *testing.T) {
	r := newRig(t, "u_verify_logins")
	r.enableRotation(goodFunction)
	if _, errOut, code := r.run("rotate", "--wait", r.secret); code != 0 {
		t.Fatalf("rotate: %s", errOut)
	}
	before := r.failedLogins()
	if out, errOut, code := r.run("verify", r.secret); code != operator.ExitOK {
		t.Fatalf("verify: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := r.failedLogins() - before; n != 0 {
		t.Fatalf("verify made %d failed logins, want 0", n)
	}

	out, errOut, code := r.run("verify", "--check-previous", r.secret)
	if code != operator.ExitOK {
		t.Fatalf("verify --check-previous: exit %d\n%s\n%s", code, out, errOut)
	}
	golden(t, "verify_check_previous", out, errOut, code)

	blockAfterOneFailedLogin(t)
	out, errOut, code = r.run("verify", "--check-previous", r.secret)
	if code != operator.ExitFailed || !strings.Contains(errOut, "blocked") {
		t.Fatalf("verify --check-previous under max_password_errors=1: exit %d, stderr %q; want %d and the account reported blocked", code, errOut, operator.ExitFailed)
	}
	golden(t, "verify_check_previous_blocked", out, errOut, code)
	// Still blocked: a plain verify reports it too.
	out, errOut, code = r.run("verify", r.secret)
	if code != operator.ExitFailed || !strings.Contains(out, "AWSCURRENT") || !strings.Contains(out, ": blocked") {
		t.Fatalf("verify of a blocked account: exit %d\n%s\n%s", code, out, errOut)
	}
}

// repair stops at the first password the database accepts and never logs
// in when the answer could not change the plan: on the commonest stuck
// state (a rotation that failed before setSecret, after earlier ones) it
// makes no failed login. A blocked account is reported as such and
// nothing changes.
func TestRepairFailedLogins(t *testing.T) {
	r := newRig(t, "u_repair_logins")
	r.enableRotation(goodFunction)
	if _, errOut, code := r.run("rotate", "--wait", r.secret); code != 0 {
		t.Fatalf("rotate: %s", errOut)
	}
	r.now = afterStuck
	r.put("pending", "pending-pw", "AWSPENDING")
	before := r.failedLogins()
	if out, errOut, code := r.run("repair", "--dry-run", r.secret); code != operator.ExitOK {
		t.Fatalf("repair --dry-run: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := r.failedLogins() - before; n != 0 {
		t.Fatalf("repair made %d failed logins, want 0", n)
	}

	blockAfterOneFailedLogin(t)
	if ok, _ := db.CanLogin(ctxT(t), r.user, "wrong-pw"); ok {
		t.Fatal("wrong password accepted")
	}
	labels := r.stages()
	out, errOut, code := r.run("repair", r.secret)
	if code != operator.ExitFailed || !strings.Contains(errOut, "blocked") {
		t.Fatalf("repair of a blocked account: exit %d\n%s\n%s", code, out, errOut)
	}
	golden(t, "repair_blocked", out, errOut, code)
	if after := r.stages(); !equalMaps(labels, after) {
		t.Fatalf("labels changed: %v -> %v", labels, after)
	}
}
