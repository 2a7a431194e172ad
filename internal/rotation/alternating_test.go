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
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/grant"
	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/internal/secret"
)

const (
	masterARN      = "arn:aws:secretsmanager:us-east-1:111122223333:secret:master-XyZ123"
	masterPassword = "Master-Pa55word-Known"
	// fakeUsersPrefix is the ARN prefix the fake master's binding tag
	// names: it covers fakeARN, the rotated secret.
	fakeUsersPrefix = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db"
)

// userJSON is an application user's secret as the stacks create it,
// changed by mods.
func userJSON(mods ...func(map[string]any)) string {
	m := map[string]any{
		"engine": "mysql", "host": "db.internal", "port": 3306, "dbname": "shop",
		"username": "app", "password": oldPassword, "masterarn": masterARN, "ssl": "true",
		"grants": []string{"SELECT, INSERT ON shop.*", "SELECT ON shop.orders"}, "dbClusterIdentifier": "keep-me",
	}
	for _, f := range mods {
		f(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func masterJSON(user, pw, host string) string {
	b, _ := json.Marshal(map[string]any{"engine": "mysql", "host": host, "port": 3306, "username": user, "password": pw})
	return string(b)
}

type altEnv struct {
	t      *testing.T
	sm     *fakeSM
	master *fakeSM
	db     *fakeDB
	h      *rotation.Handler
	log    *bytes.Buffer
	n      int
}

func newAltEnv(t *testing.T, user string) *altEnv {
	t.Helper()
	e := &altEnv{t: t, sm: newFakeSM(user), master: newFakeSM(masterJSON("admin", masterPassword, "db.internal")),
		db: &fakeDB{users: map[string]string{"admin": masterPassword}}, log: &bytes.Buffer{}}
	e.sm.others = map[string]*fakeSM{masterARN: e.master}
	// The master serves the user secrets under "db" (fakeARN is db-AbCdEf).
	e.master.arn = masterARN
	e.master.tags = map[string]string{rotation.MasterBindingTag: fakeUsersPrefix}
	e.h = rotation.New(e.sm, e.db, rotation.WithLogger(slog.New(slog.NewJSONHandler(e.log, nil))))
	t.Cleanup(func() {
		for _, s := range []string{oldPassword, masterPassword, e.sm.password, rotationToken} {
			if strings.Contains(e.log.String(), s) {
				t.Errorf("log contains a secret value %q:\n%s", s, e.log)
			}
		}
	})
	return e
}

// rotate runs the four steps for a new token, stopping at the first error.
func (e *altEnv) rotate() error {
	e.n++
	tok := "alt-token-" + string(rune('a'+e.n))
	if _, planted := e.sm.versions[tok]; !planted {
		e.sm.addPending(tok, "")
	}
	e.sm.password = "Gen3rated-" + tok
	for _, step := range []string{rotation.StepCreateSecret, rotation.StepSetSecret, rotation.StepTestSecret, rotation.StepFinishSecret} {
		ev := events.SecretsManagerSecretRotationEvent{Step: step, SecretID: fakeARN, ClientRequestToken: tok, RotationToken: rotationToken}
		if err := e.h.Handle(context.Background(), ev); err != nil {
			return err
		}
	}
	return nil
}

func (e *altEnv) current() *secret.Secret {
	e.t.Helper()
	s, err := secret.Parse(e.sm.versions[e.sm.stageOf(secret.StageCurrent)].value)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *altEnv) assertGrants(user string, want ...string) {
	e.t.Helper()
	gs, err := grant.ParseAll(want)
	if err != nil {
		e.t.Fatal(err)
	}
	if m, x := engine.DiffGrants(e.db.grants[user], gs); len(m)+len(x) > 0 {
		e.t.Errorf("%s: missing %s, extra %s", user, engine.FormatGrants(m), engine.FormatGrants(x))
	}
}

func TestAlternatingFirstRotationCreatesBothUsers(t *testing.T) {
	e := newAltEnv(t, userJSON())
	if err := e.rotate(); err != nil {
		t.Fatal(err)
	}
	cur := e.current()
	if cur.Username != "app_clone" || e.db.users["app_clone"] != cur.Password || e.db.users["app"] != oldPassword {
		t.Fatalf("after the first rotation: current %s, users %v", cur, len(e.db.users))
	}
	var raw map[string]any
	json.Unmarshal([]byte(e.sm.versions[e.sm.stageOf(secret.StageCurrent)].value), &raw)
	if raw["dbClusterIdentifier"] != "keep-me" || raw["masterarn"] != masterARN || raw["ssl"] != "true" || len(raw["grants"].([]any)) != 2 {
		t.Errorf("other keys not kept: %v", raw["dbClusterIdentifier"])
	}
	for _, u := range []string{"app", "app_clone"} {
		e.assertGrants(u, "SELECT, INSERT ON shop.*", "SELECT ON shop.orders")
	}
	// The second rotation goes back to app, with a new password; app_clone
	// (what clients use until finishSecret) is untouched.
	clonePw := cur.Password
	if err := e.rotate(); err != nil {
		t.Fatal(err)
	}
	if cur := e.current(); cur.Username != "app" || e.db.users["app"] != cur.Password || cur.Password == oldPassword || e.db.users["app_clone"] != clonePw {
		t.Errorf("second rotation: current user %s", cur.Username)
	}
	if e.db.failed != 0 {
		t.Errorf("%d failed logins", e.db.failed)
	}
}

func TestAlternatingRepairsDrift(t *testing.T) {
	e := newAltEnv(t, userJSON())
	if err := e.rotate(); err != nil {
		t.Fatal(err)
	}
	// By hand: app (the next pending user) loses INSERT and gets DROP.
	e.db.grants["app"] = []grant.Grant{{Privileges: []string{"DROP", "SELECT"}, Schema: "shop"}, {Privileges: []string{"SELECT"}, Schema: "shop", Table: "orders"}}
	if err := e.rotate(); err != nil {
		t.Fatal(err)
	}
	e.assertGrants("app", "SELECT, INSERT ON shop.*", "SELECT ON shop.orders")
}

// TestAlternatingCopiesGrantsWithoutDeclared: an AWS-style secret (no
// "grants") gets the current account's grants on the clone, as AWS's
// multi-user function does.
func TestAlternatingCopiesGrantsWithoutDeclared(t *testing.T) {
	e := newAltEnv(t, userJSON(func(m map[string]any) { delete(m, "grants") }))
	e.db.users["app"] = oldPassword
	e.db.grants = map[string][]grant.Grant{"app": {{Privileges: []string{"SELECT", "UPDATE"}, Schema: "shop"}}}
	if err := e.rotate(); err != nil {
		t.Fatal(err)
	}
	e.assertGrants("app_clone", "SELECT, UPDATE ON shop.*")
	// Nothing to copy from: refused clearly.
	e = newAltEnv(t, userJSON(func(m map[string]any) { delete(m, "grants") }))
	if err := e.rotate(); err == nil || !strings.Contains(err.Error(), `declares no "grants"`) {
		t.Errorf("no account and no grants: %v", err)
	}
}

// TestAlternatingRefusedBeforeAnySQL: hostile or inconsistent secrets are
// refused before any statement reaches the database and, for the master
// secret, before its password is sent anywhere.
func TestAlternatingRefusedBeforeAnySQL(t *testing.T) {
	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	tests := []struct {
		name    string
		user    string
		master  string
		pending string // a pending value planted before the rotation (skips createSecret's)
		want    string
	}{
		{"user name too long for its clone", userJSON(set("username", "abcdefghijklmnopqrstuvwxyz1")), "", "", "32-character limit"},
		{"user name with a quote", userJSON(set("username", "app'@'%")), "", "", "user name"},
		{"user name injection", userJSON(set("username", "x' IDENTIFIED BY 'p")), "", "", "user name"},
		{"grant with injection", userJSON(set("grants", []string{"SELECT ON shop.* TO root; --"})), "", "", "grants"},
		{"grant on a quoted injection", userJSON(set("grants", []string{"SELECT ON `shop`; DROP DATABASE x; --`.*"})), "", "", "grants"},
		{"global grant", userJSON(set("grants", []string{"SELECT ON *.*"})), "", "", "grants"},
		{"admin privilege", userJSON(set("grants", []string{"SUPER ON shop.*"})), "", "", "grants"},
		{"grant on the mysql schema", userJSON(set("grants", []string{"SELECT ON mysql.*"})), "", "", "server's own"},
		{"hostile userhost", userJSON(set("userhost", "%' OR '1")), "", "", "userhost"},
		{"master on another host", userJSON(), masterJSON("admin", masterPassword, "evil.example"), "", "refusing to send"},
		{"master names the user", userJSON(), masterJSON("app_clone", masterPassword, "db.internal"), "", "application user"},
		{"pending names another user", userJSON(), "", userJSON(set("username", "victim")), "not the alternate"},
		{"pending on another host", userJSON(), "", userJSON(set("username", "app_clone"), set("host", "evil.example")), "different host"},
		{"pending under another master", userJSON(), "", userJSON(set("username", "app_clone"), set("masterarn", masterARN+"x")), "different master"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAltEnv(t, tt.user)
			if tt.master != "" {
				e.master.versions["v-current"].value = tt.master
			}
			if tt.pending != "" {
				e.sm.addPending("alt-token-b", tt.pending)
			}
			err := e.rotate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one saying %q", err, tt.want)
			}
			if len(e.db.stmts) != 0 || len(e.db.logins) != 0 {
				t.Errorf("reached the database: statements %v, %d logins", e.db.stmts, len(e.db.logins))
			}
			if e.sm.stageOf(secret.StageCurrent) != "v-current" {
				t.Error("AWSCURRENT moved")
			}
		})
	}
}

// TestAlternatingMasterMidRotation: the master's setSecret has changed
// the database password but its finishSecret has not run, so the master's
// AWSCURRENT is refused and its AWSPENDING logs in (one failed login, of
// the master, only in that window).
func TestAlternatingMasterMidRotation(t *testing.T) {
	e := newAltEnv(t, userJSON())
	e.master.addPending("master-pending", masterJSON("admin", "Master-Next-Pa55word", "db.internal"))
	e.db.users["admin"] = "Master-Next-Pa55word"
	if err := e.rotate(); err != nil {
		t.Fatal(err)
	}
	if e.db.failed != 1 || !strings.Contains(e.log.String(), `"logged_in_as":"AWSPENDING"`) {
		t.Errorf("failed logins %d; log:\n%s", e.db.failed, e.log)
	}
	e.assertGrants("app_clone", "SELECT, INSERT ON shop.*", "SELECT ON shop.orders")
}

// finishMaster does what the master's finishSecret (keepPending) or an
// operator's rotatectl repair does once the master's setSecret has run:
// AWSCURRENT moves to the pending version, AWSPREVIOUS to the old one.
func finishMaster(m *fakeSM, pendingID string, keepPending bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.stageOf(secret.StageCurrent)
	m.versions[old].stages = []string{secret.StagePrevious}
	m.versions[pendingID].stages = []string{secret.StageCurrent}
	if keepPending {
		m.versions[pendingID].stages = append(m.versions[pendingID].stages, secret.StagePending)
	}
}

// masterReads records the stages the function reads of the master secret
// and runs fn once, before its first read of the master's AWSPENDING.
func masterReads(m *fakeSM, fn func()) *[]string {
	var stages []string
	done := false
	m.beforeGet = func(in *secretsmanager.GetSecretValueInput) {
		st := aws.ToString(in.VersionStage)
		stages = append(stages, st)
		if st == secret.StagePending && !done {
			done = true
			fn()
		}
	}
	return &stages
}

// TestAlternatingMasterFinishedBetweenReads: the race of a master
// mid-rotation. setSecret is refused with the master's AWSCURRENT, then
// the master's rotation finishes before the function reads the master's
// AWSPENDING: AWSPENDING is gone (rotatectl repair) or on the new
// AWSCURRENT (finishSecret), and AWSPREVIOUS is the password just refused.
// The function re-reads the master's AWSCURRENT once and logs in with it:
// one failed login (the stale AWSCURRENT), never the same password twice.
func TestAlternatingMasterFinishedBetweenReads(t *testing.T) {
	const next = "Master-Next-Pa55word"
	for _, keep := range []bool{false, true} {
		name := map[bool]string{false: "AWSPENDING removed", true: "AWSPENDING left on the new AWSCURRENT"}[keep]
		t.Run(name, func(t *testing.T) {
			e := newAltEnv(t, userJSON())
			e.master.addPending("master-pending", masterJSON("admin", next, "db.internal"))
			e.db.users["admin"] = next
			reads := masterReads(e.master, func() { finishMaster(e.master, "master-pending", keep) })
			if err := e.rotate(); err != nil {
				t.Fatalf("rotation: %v", err)
			}
			if e.db.failed != 1 {
				t.Errorf("failed logins %d, want 1 (the master's stale AWSCURRENT)", e.db.failed)
			}
			stale := 0
			for _, pw := range e.db.logins {
				if pw == masterPassword {
					stale++
				}
			}
			if stale != 1 {
				t.Errorf("the refused master password was tried %d times", stale)
			}
			want := []string{secret.StageCurrent, secret.StagePending, secret.StageCurrent}
			if strings.Join(*reads, ",") != strings.Join(want, ",") {
				t.Errorf("master reads %v, want %v (one re-read)", *reads, want)
			}
			if !strings.Contains(e.log.String(), `"logged_in_as":"AWSCURRENT (re-read)"`) {
				t.Errorf("log does not say the re-read AWSCURRENT was used:\n%s", e.log)
			}
			e.assertGrants("app_clone", "SELECT, INSERT ON shop.*", "SELECT ON shop.orders")
			if cur := e.current(); cur.Username != "app_clone" {
				t.Errorf("AWSCURRENT is %s", cur.Username)
			}
		})
	}
	// The re-read version is checked as the first one is: one naming
	// another host is refused before its password is sent anywhere.
	t.Run("re-read names another host", func(t *testing.T) {
		e := newAltEnv(t, userJSON())
		evil := "Master-Evil-Pa55word"
		e.master.addPending("master-pending", masterJSON("admin", evil, "evil.example"))
		e.db.users["admin"] = "changed-by-the-master"
		masterReads(e.master, func() { finishMaster(e.master, "master-pending", false) })
		err := e.rotate()
		if err == nil || !strings.Contains(err.Error(), "master AWSCURRENT (re-read): master secret "+masterARN+" (AWSCURRENT (re-read)) names evil.example:3306") {
			t.Fatalf("error = %v", err)
		}
		for _, pw := range e.db.logins {
			if pw == evil {
				t.Error("the re-read password was sent to the database")
			}
		}
		if e.db.failed != 1 || len(e.db.stmts) != 0 {
			t.Errorf("failed logins %d, statements %v", e.db.failed, e.db.stmts)
		}
	})
}

func TestAlternatingMasterUnreadable(t *testing.T) {
	e := newAltEnv(t, userJSON())
	e.master.fail["GetSecretValue"] = &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret.")}
	err := e.rotate()
	if err == nil || !strings.Contains(err.Error(), "read master secret "+masterARN) {
		t.Fatalf("error = %v, want the master secret named", err)
	}
	if len(e.db.stmts) != 0 || len(e.db.logins) != 0 {
		t.Errorf("reached the database: %v", e.db.stmts)
	}
	// No master version logs in: every one is named, none is left out.
	e = newAltEnv(t, userJSON())
	e.db.users["admin"] = "someone-changed-it"
	err = e.rotate()
	if err == nil || !errors.Is(err, engine.ErrAuth) || !strings.Contains(err.Error(), "master AWSCURRENT") || !strings.Contains(err.Error(), "master AWSPREVIOUS: no such version") {
		t.Errorf("error = %v", err)
	}
	// AWSPENDING is gone, so AWSCURRENT is re-read, but it is the version
	// just refused: not tried again.
	if e.db.failed != 1 || !strings.Contains(err.Error(), "master AWSCURRENT (re-read): still version v-current, the one refused") {
		t.Errorf("failed logins %d; error = %v", e.db.failed, err)
	}
	if len(e.db.stmts) != 0 {
		t.Errorf("statements %v", e.db.stmts)
	}
}

// TestAlternatingExistingAccountNotOwned: the secret names an account
// that exists but AWSCURRENT does not log in to it (whoever wrote the
// secret does not own it): refused before any change.
func TestAlternatingExistingAccountNotOwned(t *testing.T) {
	e := newAltEnv(t, userJSON())
	e.db.users["app"] = "the-real-owners-password"
	err := e.rotate()
	if err == nil || !strings.Contains(err.Error(), "does not own it") {
		t.Fatalf("error = %v", err)
	}
	for _, s := range e.db.stmts {
		if !strings.HasPrefix(s, "exists ") {
			t.Errorf("changed the database: %s", s)
		}
	}
	if _, ok := e.db.users["app_clone"]; ok || e.db.users["app"] != "the-real-owners-password" {
		t.Error("accounts changed")
	}
}

func TestAlternatingTestSecretChecksGrants(t *testing.T) {
	e := newAltEnv(t, userJSON())
	e.db.probeErr = errors.New("INSERT command denied")
	if err := e.rotate(); err == nil || !strings.Contains(err.Error(), "INSERT command denied") {
		t.Errorf("probe failure: %v", err)
	}
	if e.sm.stageOf(secret.StageCurrent) != "v-current" {
		t.Error("AWSCURRENT moved after a failed testSecret")
	}
}

// A secret naming "victim_clone", which does not exist, would make the
// existing "victim" its pending account: refused after looking both
// accounts up, before any login with the user secret or any change.
func TestAlternatingVictimCloneRefused(t *testing.T) {
	e := newAltEnv(t, userJSON(func(m map[string]any) { m["username"] = "victim_clone" }))
	e.db.users["victim"] = "the-real-owners-password"
	err := e.rotate()
	if err == nil || !strings.Contains(err.Error(), "does not exist but its alternate victim@% does") {
		t.Fatalf("error = %v", err)
	}
	for _, s := range e.db.stmts {
		if !strings.HasPrefix(s, "exists ") {
			t.Errorf("changed the database: %s", s)
		}
	}
	if _, ok := e.db.users["victim_clone"]; ok || e.db.users["victim"] != "the-real-owners-password" || e.db.failed != 0 {
		t.Errorf("accounts changed or %d failed logins", e.db.failed)
	}
}
