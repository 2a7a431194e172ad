package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/doctor"
	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/grant"
	"github.com/example/secret-rotation/internal/operator"
	"github.com/example/secret-rotation/internal/secret"
)

// rdsMasterGrants: the RDS for MariaDB master user's privileges (no SUPER).
const rdsMasterGrants = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, " +
	"SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, BINLOG MONITOR, " +
	"CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER ON *.* WITH GRANT OPTION"

// altSchema holds the table the application users are granted.
const altSchema = "doctor_app"

// newMaster creates a master user with the RDS master's privileges and
// its secret (single user, rotated by the environment's function).
func newMaster(t *testing.T, user string) *fixture {
	t.Helper()
	f := startFixture(t, w.db, user)
	if err := w.db.CreateUser(f.ctx, user, "Initial-"+user, rdsMasterGrants); err != nil {
		t.Fatal(err)
	}
	// Bound to the fixtures' secrets ("doctor/..."), as the stacks tag a
	// master: the rotation function refuses an unbound master.
	f.create(map[string]any{"engine": "mariadb", "host": w.db.Host(), "port": w.db.Port(), "username": user, "password": "Initial-" + user, "ssl": true},
		"secret-rotation:users", "arn:aws:secretsmanager:"+w.sm.Region()+":123456789012:secret:doctor/")
	return f
}

// newAltFixture is an application user's secret with masterarn and
// declared grants, rotated once so both accounts exist (AWSCURRENT
// user_clone, AWSPREVIOUS user), as a secret is after its first
// rotation; its master is f.also.
func newAltFixture(t *testing.T, master *fixture, user string) *fixture {
	t.Helper()
	if _, err := w.db.RootDB().ExecContext(master.ctx, "CREATE DATABASE IF NOT EXISTS "+altSchema); err != nil {
		t.Fatal(err)
	}
	f := startFixture(t, w.db, user)
	f.alternating = true
	f.create(map[string]any{"engine": "mariadb", "host": w.db.Host(), "port": w.db.Port(), "dbname": altSchema, "username": user,
		"password": "Initial-" + user, "ssl": true, "masterarn": master.arn, "grants": []string{"SELECT, INSERT ON " + altSchema + ".*"}})
	if err := f.rotate(); err != nil {
		t.Fatalf("first rotation of %s: %v\n%s", user, err, w.rotationFn.Logs())
	}
	f.also = master
	return f
}

// stickMaster leaves the master's rotation stuck after setSecret, as a
// function that timed out before finishSecret does: the database is on
// the master's AWSPENDING password, its AWSCURRENT is refused.
func stickMaster(t *testing.T, master *fixture) {
	t.Helper()
	w.breaker.crashOnce(master.arn, "finishSecret")
	if err := master.rotate(); err == nil {
		t.Fatal("the master's broken rotation succeeded")
	}
}

// smProxy sits between the rotation function and smlocal and runs a
// hook before forwarding a request: it interleaves what happens
// elsewhere (an operator's repair) with one call of the function.
type smProxy struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hook func(target string, body []byte)
}

func startSMProxy(target string) (*smProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &smProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		p.mu.Lock()
		hook := p.hook
		p.mu.Unlock()
		if hook != nil {
			hook(r.Header.Get("X-Amz-Target"), body)
		}
		rp.ServeHTTP(rw, r)
	}))
	return p, nil
}

// onceOnRead runs fn once, before the function's first read of secret
// arn at stage.
func (p *smProxy) onceOnRead(arn, stage string, fn func()) {
	var once sync.Once
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook = func(target string, body []byte) {
		var in struct{ SecretId, VersionStage string }
		if target != "secretsmanager.GetSecretValue" || json.Unmarshal(body, &in) != nil || in.SecretId != arn || in.VersionStage != stage {
			return
		}
		once.Do(fn)
	}
}

func (p *smProxy) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook = nil
}

// repairWithRotatectl runs rotatectl repair's code on a secret, as an
// operator would.
func repairWithRotatectl(t *testing.T, f *fixture) {
	dialer, err := mysql.NewDialer(mysql.WithCABundleFile(w.db.CAFile()))
	if err != nil {
		t.Error(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// --stuck-after 0: the master's function has stopped (it crashed).
	op := operator.New(w.sm.NewClient(ctx), operator.DBChecker{Engine: mysql.NewEngine(dialer)}, operator.WithStuckAfter(0))
	if _, err := op.Repair(ctx, f.arn, false); err != nil {
		t.Errorf("rotatectl repair %s: %v", f.name, err)
	}
}

// altCases are the alternating-users cases of TestDoctorCases.
func altCases() []doctorCase {
	return []doctorCase{
		{"alt_healthy", func(t *testing.T) (*fixture, any) {
			m := newMaster(t, "m_alt_stable")
			f := newAltFixture(t, m, "u_alt_healthy")
			return f, map[string]string{"secretId": f.name}
		}, doctorCaseWant{cause: doctor.CauseHealthy}},
		// setSecret gave the pending account (u_alt_set) its new password;
		// AWSCURRENT's account (u_alt_set_clone) still logs in.
		{"alt_crash_after_setsecret", func(t *testing.T) (*fixture, any) {
			m := newMaster(t, "m_alt_set")
			f := newAltFixture(t, m, "u_alt_set")
			w.breaker.crashOnce(f.arn, "finishSecret")
			return stuckRotation(t, f, "the broken rotation")
		}, doctorCaseWant{cause: doctor.CauseStuckAfterSet, repaired: true, changed: true, failedLogins: 1}},
		// The master's rotation is stuck after its setSecret (the database
		// has the master's AWSPENDING password): the doctor, asked about an
		// application user's secret, logs in with nothing, changes nothing
		// and names rotatectl repair for the master.
		{"alt_master_mid_rotation", func(t *testing.T) (*fixture, any) {
			m := newMaster(t, "m_alt_mid")
			f := newAltFixture(t, m, "u_alt_mid")
			stickMaster(t, m)
			m.backdatePending() // stuck by rotatectl's rule: the doctor names rotatectl repair
			return f, map[string]string{"secretId": f.name}
		}, doctorCaseWant{cause: doctor.CauseMasterMidRotation}},
		// The race of a master mid-rotation, which the function
		// survives: its setSecret is refused with the master's
		// AWSCURRENT, and before it reads the master's AWSPENDING, the
		// master's rotation is finished (here by an operator running
		// rotatectl repair on the master, as the doctor advised in the
		// case above); AWSPENDING is gone and AWSPREVIOUS is the password
		// already refused. The function re-reads the master's AWSCURRENT
		// once, logs in with it and the user's rotation succeeds, at the
		// cost of the one failed login of the stale AWSCURRENT. Asked
		// afterwards, the doctor finds the user secret healthy.
		{"alt_master_finished_during_setsecret", func(t *testing.T) (*fixture, any) {
			m := newMaster(t, "m_alt_race")
			f := newAltFixture(t, m, "u_alt_race")
			stickMaster(t, m)
			masterBefore, err := settledFailedLogins(m, 0)
			if err != nil {
				t.Fatal(err)
			}
			userBefore := failedLogins(t, f)
			// The hook runs on the proxy's goroutine (t.Error, not t.Fatal)
			// while the function waits for its read of the master's
			// AWSPENDING, so the master's failed logins in between are
			// rotatectl repair's. The function's refused AWSCURRENT came
			// before: wait until it is counted.
			var mu sync.Mutex
			raced, beforeRepair, afterRepair := false, 0, 0
			w.proxy.onceOnRead(m.arn, secret.StagePending, func() {
				n0, err0 := settledFailedLogins(m, masterBefore+1)
				repairWithRotatectl(t, m)
				n1, err1 := settledFailedLogins(m, n0)
				if err := errors.Join(err0, err1); err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				raced, beforeRepair, afterRepair = true, n0, n1
			})
			defer w.proxy.clear()
			if err := f.rotate(); err != nil {
				t.Fatalf("the user's rotation failed although the master finished between its reads: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !raced {
				t.Fatal("the function never read the master's AWSPENDING: the race was not reproduced")
			}
			if st := m.stages(); st["AWSPENDING"] != "" && st["AWSPENDING"] != st["AWSCURRENT"] {
				t.Fatalf("the master is still mid-rotation: %v", st)
			}
			// rotatectl repair's own logins (its refused AWSCURRENT) are
			// not the function's.
			total, err := settledFailedLogins(m, afterRepair)
			if err != nil {
				t.Fatal(err)
			}
			n := beforeRepair - masterBefore + total - afterRepair
			t.Logf("failed master logins: the user's rotation %d, rotatectl repair %d", n, afterRepair-beforeRepair)
			if n > 1 {
				t.Errorf("the user's rotation cost %d failed master logins, want at most 1 (the stale AWSCURRENT)", n)
			}
			if n := failedLogins(t, f) - userBefore; n != 0 {
				t.Errorf("the user's rotation cost %d failed logins of the application accounts", n)
			}
			if !strings.Contains(string(w.rotationFn.Logs()), `"logged_in_as":"AWSCURRENT (re-read)"`) {
				t.Error("the function's log does not say it logged in with the master's re-read AWSCURRENT")
			}
			return f, map[string]string{"secretId": f.name}
		}, doctorCaseWant{cause: doctor.CauseHealthy}},
	}
}

// settledFailedLogins is the refused logins of a single-user fixture's
// account once the count is at least atLeast and has not changed for
// 200ms (at most 5s): MariaDB counts a refused connection in
// USER_STATISTICS when its server thread ends, measured here up to some
// hundred milliseconds after the client got the error.
func settledFailedLogins(f *fixture, atLeast int) (int, error) {
	deadline := time.Now().Add(5 * time.Second)
	last, err := f.db.FailedLogins(f.ctx, f.user)
	for {
		if err != nil {
			return 0, err
		}
		time.Sleep(200 * time.Millisecond)
		n, err2 := f.db.FailedLogins(f.ctx, f.user)
		if err2 != nil {
			return 0, err2
		}
		if n == last && n >= atLeast {
			return n, nil
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("failed logins of %s: %d after 5s, want at least %d and settled", f.user, n, atLeast)
		}
		last = n
	}
}

// accounts are the database accounts whose failed logins a case counts.
func (f *fixture) accounts() []string {
	if f.alternating {
		return []string{f.user, grant.Clone(f.user)}
	}
	return []string{f.user}
}
