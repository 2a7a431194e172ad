package rotation_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/grant"
	"github.com/example/secret-rotation/internal/secret"
)

// TestAlternatingDriftEveryLevel: a global grant, column grants and a
// routine grant added by hand to the next pending account are flagged by
// the readers testSecret and rotatectl use (the account's own view and the
// master's), and gone after that account's next rotation, as the server
// shows it to root.
func TestAlternatingDriftEveryLevel(t *testing.T) {
	r := newAltRig(t, nil)
	if err := r.rotate(); err != nil { // AWSCURRENT: clone; next pending: user
		t.Fatal(err)
	}
	u := "'" + r.user + "'@'%'"
	r.exec("CREATE PROCEDURE SCHEMA.purge() SELECT 1")
	r.exec("GRANT SELECT, CREATE USER ON *.* TO " + u)
	r.exec("GRANT UPDATE (total), INSERT (id) ON SCHEMA.orders TO " + u)
	r.exec("GRANT EXECUTE ON PROCEDURE SCHEMA.purge TO " + u)
	if got := r.privilegesOf(r.user); len(got) != len(expandDeclared(r.declared))+5 {
		t.Fatalf("the drift did not take: %v", got)
	}
	want, err := grant.ParseAll(r.declared)
	if err != nil {
		t.Fatal(err)
	}
	// The master's view (rotatectl status/verify, setSecret).
	if _, extra := engine.DiffGrants(r.grantsOf(r.user), want); !slices.Equal(grantStrs(extra), []string{
		"CREATE USER, SELECT ON *.*",
		"INSERT (`id`) ON `" + r.schema + "`.`orders`",
		"UPDATE (`total`) ON `" + r.schema + "`.`orders`",
	}) {
		t.Errorf("master's view: extra %v", grantStrs(extra))
	}
	// The account's own view (testSecret): AWSPREVIOUS is the user.
	prev := r.value(r.secretID, secret.StagePrevious)
	d, _ := mysql.NewDialer(mysql.WithCABundleFile(srv.CAFile()))
	sess, err := mysql.NewEngine(d).Login(r.ctx, prev)
	if err != nil {
		t.Fatal(err)
	}
	own, err := sess.(engine.GrantReader).Grants(r.ctx, engine.Account{User: r.user, Host: "%"})
	sess.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, extra := engine.DiffGrants(own, want); len(extra) != 3 {
		t.Errorf("own view: extra %v, want the global and the two column grants", grantStrs(extra))
	}

	if err := r.rotate(); err != nil {
		t.Fatalf("%v\n%s", err, r.log)
	}
	r.assertExact(r.user)
	r.assertExact(grant.Clone(r.user))
	logs := r.log.String()
	for _, s := range []string{"CREATE USER, SELECT ON *.*", "UPDATE (`total`) ON", "EXECUTE ON PROCEDURE `" + r.schema + "`.`purge`"} {
		if !strings.Contains(logs, s) {
			t.Errorf("the log does not list the revoked %s:\n%s", s, logs)
		}
	}
	for _, usr := range []string{r.user, grant.Clone(r.user)} {
		if n, err := srv.FailedLogins(r.ctx, usr); err != nil || n != 0 {
			t.Errorf("%s: %d failed logins (%v)", usr, n, err)
		}
	}
}

// TestAlternatingSuperNotRevocableStopsBeforePassword: SUPER, which the
// RDS master user cannot revoke, stops the rotation before the pending
// account's password changes (its AWSPREVIOUS keeps working).
func TestAlternatingSuperNotRevocableStopsBeforePassword(t *testing.T) {
	r := newAltRig(t, nil)
	if err := r.rotate(); err != nil {
		t.Fatal(err)
	}
	r.exec("GRANT SUPER ON *.* TO '" + r.user + "'@'%'")
	err := r.rotate()
	if err == nil || !strings.Contains(err.Error(), "revoke SUPER ON *.*") {
		t.Fatalf("error = %v", err)
	}
	prev := r.value(r.secretID, secret.StagePrevious)
	if !r.canLogin(prev.Username, prev.Password) {
		t.Error("the pending account's password changed although its grants could not be reconciled")
	}
}

func grantStrs(gs []grant.Grant) []string {
	out := []string{}
	for _, g := range gs {
		out = append(out, g.String())
	}
	return out
}

// TestAlternatingRefusesVictimClone: a secret naming "victim_clone" (which
// does not exist) would make the existing "victim" its pending account:
// refused before any change to victim and without logging in to it.
func TestAlternatingRefusesVictimClone(t *testing.T) {
	victimPw := "Victim-Pa55word"
	r := newAltRig(t, nil)
	victim := r.user
	r2 := newAltRig(t, func(m map[string]any) { m["username"] = grant.Clone(victim) })
	if err := srv.CreateUser(r.ctx, victim, victimPw, "SELECT ON "+r.schema+".*"); err != nil {
		t.Fatal(err)
	}
	before := r.privilegesOf(victim)
	err := r2.rotate()
	if err == nil || !strings.Contains(err.Error(), "does not exist but its alternate") {
		t.Fatalf("error = %v", err)
	}
	if !r.canLogin(victim, victimPw) {
		t.Error("victim's password changed")
	}
	if got := r.privilegesOf(victim); !slices.Equal(got, before) {
		t.Errorf("victim's privileges changed: %v, were %v", got, before)
	}
	if n, err := srv.FailedLogins(r.ctx, victim); err != nil || n != 0 {
		t.Errorf("victim: %d failed logins (%v)", n, err)
	}
	var n int
	if err := srv.RootDB().QueryRowContext(r.ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", grant.Clone(victim)).Scan(&n); err != nil || n != 0 {
		t.Errorf("%s created (%d, %v)", grant.Clone(victim), n, err)
	}
}

// TestAlternatingRefusesExistingPendingNotOwned: the current account is
// the secret's, but its alternate exists with a password no version of the
// secret has: refused without changing it (one failed login of it, the
// AWSPENDING attempt).
func TestAlternatingRefusesExistingPendingNotOwned(t *testing.T) {
	pw := "Existing-Pa55word"
	r := newAltRig(t, func(m map[string]any) { m["password"] = pw })
	if err := srv.CreateUser(r.ctx, r.user, pw, "SELECT ON "+r.schema+".*"); err != nil {
		t.Fatal(err)
	}
	other := grant.Clone(r.user)
	if err := srv.CreateUser(r.ctx, other, "Someone-Elses-Pa55word", "SELECT ON "+r.schema+".*"); err != nil {
		t.Fatal(err)
	}
	before := r.privilegesOf(other)
	err := r.rotate()
	if err == nil || !strings.Contains(err.Error(), "no version of this secret logs in to it") {
		t.Fatalf("error = %v", err)
	}
	if !r.canLogin(other, "Someone-Elses-Pa55word") || !slices.Equal(r.privilegesOf(other), before) {
		t.Error("the other account changed")
	}
	if n, _ := srv.FailedLogins(r.ctx, other); n != 1 {
		t.Errorf("%s: %d failed logins, want 1 (AWSPENDING)", other, n)
	}
}

// TestAlternatingTakesOverAnExistingPair: both accounts exist (e.g. made
// by AWS's multi-user function); the secret is stored with AWSPREVIOUS
// naming the clone and AWSCURRENT the user, each with its password, as
// docs/deploy.md describes. Rotations then proceed with no failed login,
// and both accounts end up with exactly the declared grants.
func TestAlternatingTakesOverAnExistingPair(t *testing.T) {
	pwUser, pwClone := "User-Pa55word", "Clone-Pa55word"
	r := newAltRig(t, func(m map[string]any) { m["password"] = pwUser })
	for u, pw := range map[string]string{r.user: pwUser, grant.Clone(r.user): pwClone} {
		if err := srv.CreateUser(r.ctx, u, pw, "SELECT ON "+r.schema+".*", "DROP ON "+r.schema+".*"); err != nil {
			t.Fatal(err)
		}
	}
	cur := r.value(r.secretID, secret.StageCurrent)
	put := func(user, pw string) {
		c := *cur
		c.Username = user
		val, err := (&c).WithPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		val = strings.Replace(val, `"username":"`+cur.Username+`"`, `"username":"`+user+`"`, 1)
		if _, err := r.client.PutSecretValue(r.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(r.secretID), SecretString: aws.String(val)}); err != nil {
			t.Fatal(err)
		}
	}
	put(grant.Clone(r.user), pwClone)
	put(r.user, pwUser)
	if p := r.value(r.secretID, secret.StagePrevious); p.Username != grant.Clone(r.user) || p.Password != pwClone {
		t.Fatalf("AWSPREVIOUS is %s", p.Username)
	}
	for i := 1; i <= 3; i++ {
		if err := r.rotate(); err != nil {
			t.Fatalf("rotation %d: %v\n%s", i, err, r.log)
		}
		r.assertBothLogIn()
	}
	r.assertExact(r.user)
	r.assertExact(grant.Clone(r.user))
	for _, u := range []string{r.user, grant.Clone(r.user)} {
		if n, err := srv.FailedLogins(r.ctx, u); err != nil || n != 0 {
			t.Errorf("%s: %d failed logins (%v)", u, n, err)
		}
	}
	if !strings.Contains(r.log.String(), "AWSPREVIOUS logs in to it") {
		t.Errorf("the log does not say how the pending user was proven:\n%s", r.log)
	}
}

// TestAlternatingWithoutDeclaredGrantsRefusesWhatItDoesNotCopy: an
// AWS-style secret (no "grants") whose account holds something beyond
// schema- and table-level grants in the grammar is refused, naming it,
// before the clone is created.
func TestAlternatingWithoutDeclaredGrantsRefusesWhatItDoesNotCopy(t *testing.T) {
	for _, tc := range []struct{ name, grants, want string }{
		{"all on a schema (MariaDB adds DELETE HISTORY)", "ALL PRIVILEGES ON SCHEMA.*", "DELETE HISTORY"},
		{"global", "SELECT ON SCHEMA.*;PROCESS ON *.*", "a global, column or routine privilege"},
		{"column", "SELECT ON SCHEMA.*;UPDATE (total) ON SCHEMA.orders", "a global, column or routine privilege"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pw := "Existing-Pa55word"
			r := newAltRig(t, func(m map[string]any) { delete(m, "grants"); m["password"] = pw })
			if err := srv.CreateUser(r.ctx, r.user, pw, strings.Split(strings.ReplaceAll(tc.grants, "SCHEMA", r.schema), ";")...); err != nil {
				t.Fatal(err)
			}
			err := r.rotate()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "declare the account's") {
				t.Fatalf("error = %v", err)
			}
			var n int
			if err := srv.RootDB().QueryRowContext(r.ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", grant.Clone(r.user)).Scan(&n); err != nil || n != 0 {
				t.Errorf("clone created (%d, %v)", n, err)
			}
		})
	}
}
