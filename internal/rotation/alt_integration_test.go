package rotation_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/grant"
	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/internal/secret"
)

// TestAlternatingUsersAgainstMariaDB: the first rotation after a deploy
// creates the user and its clone from nothing with exactly the declared
// grants; ten rotations later both still hold exactly them, AWSCURRENT
// and AWSPREVIOUS log in after every rotation, and no application account
// ever saw a failed login.
func TestAlternatingUsersAgainstMariaDB(t *testing.T) {
	r := newAltRig(t, nil)
	for i := 1; i <= 11; i++ {
		if err := r.rotate(); err != nil {
			t.Fatalf("rotation %d: %v\n%s", i, err, r.log)
		}
		r.assertBothLogIn()
		if i == 1 || i == 11 {
			r.assertExact(r.user)
			r.assertExact(grant.Clone(r.user))
		}
	}
	if cur := r.value(r.secretID, secret.StageCurrent); cur.Username != grant.Clone(r.user) {
		t.Errorf("after 11 rotations AWSCURRENT is %s, want the clone", cur.Username)
	}
	for _, u := range []string{r.user, grant.Clone(r.user), r.masterUsr} {
		if n, err := srv.FailedLogins(r.ctx, u); err != nil || n != 0 {
			t.Errorf("%s: %d failed logins (%v)", u, n, err)
		}
	}
	r.assertLogsClean()
}

// TestAlternatingDriftRepaired: grants changed by hand are put back at the
// next rotation of the account: an added one revoked, a revoked one
// restored, a clone's extra grants removed.
func TestAlternatingDriftRepaired(t *testing.T) {
	r := newAltRig(t, nil)
	if err := r.rotate(); err != nil { // AWSCURRENT: clone; next pending: user
		t.Fatal(err)
	}
	u, c := "'"+r.user+"'@'%'", "'"+grant.Clone(r.user)+"'@'%'"
	r.exec("GRANT DROP, CREATE ON SCHEMA.* TO " + u)
	r.exec("REVOKE SELECT ON SCHEMA.orders FROM " + u)
	r.exec("GRANT SELECT ON mysql.* TO " + c)
	r.exec("GRANT ALTER ON SCHEMA.orders TO " + c + " WITH GRANT OPTION")
	if err := r.rotate(); err != nil {
		t.Fatal(err)
	}
	r.assertExact(r.user)
	if err := r.rotate(); err != nil {
		t.Fatal(err)
	}
	r.assertExact(grant.Clone(r.user))
	if !strings.Contains(r.log.String(), `"revoked":"[SELECT ON `+"`mysql`"+`.*;`) {
		t.Errorf("the log does not list the revoked grants:\n%s", r.log)
	}
}

// TestAlternatingWithoutDeclaredGrants: an AWS-style secret (masterarn,
// no grants) for an existing user: the clone gets the user's grants.
func TestAlternatingWithoutDeclaredGrants(t *testing.T) {
	pw := "Existing-Pa55word"
	r := newAltRig(t, func(m map[string]any) { delete(m, "grants"); m["password"] = pw })
	if err := srv.CreateUser(r.ctx, r.user, pw, "SELECT, UPDATE ON "+r.schema+".*"); err != nil {
		t.Fatal(err)
	}
	r.declared = []string{"SELECT, UPDATE ON " + r.schema + ".*"}
	for i := 0; i < 2; i++ {
		if err := r.rotate(); err != nil {
			t.Fatal(err)
		}
		r.assertBothLogIn()
	}
	r.assertExact(grant.Clone(r.user))
	r.assertExact(r.user)
}

// TestAlternatingFaultCrashBeforeFinish: the function dies after setSecret;
// AWSCURRENT keeps logging in the whole time (alternating users has no
// window), and the retry converges, at the cost of one refused login of
// the pending account per retried setSecret.
func TestAlternatingFaultCrashBeforeFinish(t *testing.T) {
	r := newAltRig(t, nil)
	if err := r.rotate(); err != nil {
		t.Fatal(err)
	}
	for _, crashAt := range []string{rotation.StepTestSecret, rotation.StepFinishSecret} {
		r.around = func(ev events.SecretsManagerSecretRotationEvent, call func() error) error {
			if ev.Step == crashAt {
				return errors.New("Runtime.ExitError: function crashed")
			}
			return call()
		}
		cur := r.value(r.secretID, secret.StageCurrent)
		if err := r.rotate(); err == nil {
			t.Fatal("rotation succeeded despite the crash")
		}
		if !r.canLogin(cur.Username, cur.Password) {
			t.Error("AWSCURRENT stopped logging in after setSecret")
		}
		r.around = nil
		if err := r.retry(); err != nil {
			t.Fatalf("retry: %v", err)
		}
		r.assertBothLogIn()
		r.assertExact(r.value(r.secretID, secret.StageCurrent).Username)
	}
	// Each retried setSecret found its pending account's password already
	// set: the AWSPREVIOUS proof of ownership was refused once (that
	// password was already replaced), then AWSPENDING logged in.
	for _, u := range []string{r.user, grant.Clone(r.user)} {
		if n, err := srv.FailedLogins(r.ctx, u); err != nil || n != 1 {
			t.Errorf("%s: %d failed logins (%v), want 1", u, n, err)
		}
	}
}

// TestAlternatingFaultDatabaseDown: setSecret fails with the database
// halted, nothing changes, and the retry after the restart succeeds.
func TestAlternatingFaultDatabaseDown(t *testing.T) {
	r := newAltRig(t, nil)
	if err := r.rotate(); err != nil {
		t.Fatal(err)
	}
	cur := r.value(r.secretID, secret.StageCurrent)
	r.around = func(ev events.SecretsManagerSecretRotationEvent, call func() error) error {
		if ev.Step == rotation.StepSetSecret {
			if err := srv.Halt(); err != nil {
				t.Fatal(err)
			}
		}
		return call()
	}
	err := r.rotate()
	if resumeErr := srv.Resume(r.ctx); resumeErr != nil {
		t.Fatal(resumeErr)
	}
	if err == nil {
		t.Fatal("setSecret succeeded with the database down")
	}
	r.around = nil
	if got := r.value(r.secretID, secret.StageCurrent); got.Username != cur.Username || got.Password != cur.Password {
		t.Error("AWSCURRENT moved")
	}
	if err := r.retry(); err != nil {
		t.Fatalf("retry: %v", err)
	}
	r.assertBothLogIn()
}

// TestAlternatingFaultMasterMidRotation: the master secret's own rotation
// has set its AWSPENDING password in the database but not finished; the
// user rotation logs in with the master's AWSPENDING after AWSCURRENT is
// refused.
func TestAlternatingFaultMasterMidRotation(t *testing.T) {
	r := newAltRig(t, nil)
	next := "Master-Next-Pa55word"
	m := r.value(r.masterID, secret.StageCurrent)
	val, err := m.WithPassword(next)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.PutSecretValue(r.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(r.masterID),
		SecretString: aws.String(val), VersionStages: []string{secret.StagePending}}); err != nil {
		t.Fatal(err)
	}
	r.exec("ALTER USER '" + r.masterUsr + "'@'%' IDENTIFIED BY '" + next + "'")
	if err := r.rotate(); err != nil {
		t.Fatalf("rotation: %v", err)
	}
	if n, _ := srv.FailedLogins(r.ctx, r.masterUsr); n != 1 {
		t.Errorf("master failed logins = %d, want 1 (its stale AWSCURRENT)", n)
	}
	if !strings.Contains(r.log.String(), `"logged_in_as":"AWSPENDING"`) {
		t.Errorf("log does not say the master's AWSPENDING was used:\n%s", r.log)
	}
	r.assertExact(grant.Clone(r.user))
}

// TestAlternatingFaultMasterUnreadable: the master secret cannot be read
// (its binding is checked first, so DescribeSecret is what fails); the
// error names it and nothing changes in the database.
func TestAlternatingFaultMasterUnreadable(t *testing.T) {
	r := newAltRig(t, func(m map[string]any) {
		m["masterarn"] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf"
	})
	err := r.rotate()
	if err == nil || !strings.Contains(err.Error(), "describe master secret arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf") {
		t.Fatalf("error = %v", err)
	}
	var n int
	if err := srv.RootDB().QueryRowContext(r.ctx, "SELECT COUNT(*) FROM mysql.user WHERE User IN (?, ?)", r.user, grant.Clone(r.user)).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d accounts created (%v)", n, err)
	}
	if cur := r.value(r.secretID, secret.StageCurrent); cur.Username != r.user {
		t.Error("AWSCURRENT moved")
	}
}
