package connect_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/connect"
)

func TestOpenLogsInWithTheSecret(t *testing.T) {
	f := newFixture(t, db, true)
	sdb, err := connect.Open(ctxT(t), f.secretID, connect.WithClient(f.client), connect.WithCABundlePEM(db.CAPEM()))
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	if got := currentUser(t, sdb); got != f.user {
		t.Fatalf("CURRENT_USER = %q, want %q", got, f.user)
	}
}

// A rotation that finished (database and AWSCURRENT both changed) is
// picked up on the first refused login, with exactly one refresh.
func TestRefreshesAfterRefusedLogin(t *testing.T) {
	f := newFixture(t, db, true)
	sdb, c := f.openDB()
	currentUser(t, sdb)
	f.setDBPassword("rotated-1")
	f.putStage("rotated-1", "AWSCURRENT")
	for range 3 {
		if got := currentUser(t, sdb); got != f.user {
			t.Fatalf("CURRENT_USER = %q", got)
		}
	}
	st := c.Stats()
	if st.Refreshes != 1 || st.RefusedLogins != 1 || st.PendingLogins != 0 {
		t.Fatalf("stats = %+v, want 1 refresh, 1 refused login, no pending login", st)
	}
}

// maxCallsPerRead bounds the Secrets Manager calls of one generation of the
// connector (a new caching client): DescribeSecret, GetSecretValue of
// AWSCURRENT and of AWSPENDING. Which of them the caching library
// (aws-secretsmanager-caching-go) actually makes is its internals, so
// tests bound call counts from above instead of asserting them exactly.
const maxCallsPerRead = 3

// Between setSecret and finishSecret the database only accepts the
// AWSPENDING value while AWSCURRENT still holds the old one.
func TestRotationWindowUsesPending(t *testing.T) {
	f := newFixture(t, db, true)
	sdb, c := f.openDB()
	currentUser(t, sdb)
	f.setDBPassword("pending-1")
	f.putStage("pending-1", "AWSPENDING")
	before := f.smCalls()
	for range 5 {
		currentUser(t, sdb)
	}
	st := c.Stats()
	// One connection falls back to AWSPENDING; the next four reuse it.
	if st.Connections != 6 || st.PendingLogins != 1 || st.Refreshes != 1 {
		t.Fatalf("stats = %+v, want 6 connections, 1 pending fallback, 1 refresh", st)
	}
	// One refresh: DescribeSecret, GetSecretValue(current),
	// GetSecretValue(pending); later connections reuse the good one.
	if calls := f.smCalls() - before; calls > maxCallsPerRead {
		t.Fatalf("Secrets Manager calls for 5 connections in the window = %d, want <= %d", calls, maxCallsPerRead)
	}
	// finishSecret moves AWSCURRENT: nothing more to refresh.
	f.putStage("pending-1", "AWSCURRENT")
	currentUser(t, sdb)
	if got := c.Stats().Refreshes; got != 1 {
		t.Fatalf("refreshes after finish = %d, want 1", got)
	}
}

func TestPooledConnectionsSurviveRotation(t *testing.T) {
	f := newFixture(t, db, true)
	c := f.connector()
	conn, err := c.Connect(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f.setDBPassword("rotated-2")
	f.putStage("rotated-2", "AWSCURRENT")
	if err := conn.(driver.Pinger).Ping(ctxT(t)); err != nil {
		t.Fatalf("existing connection after rotation: %v", err)
	}
	if c.Stats().Refreshes != 0 {
		t.Fatal("an existing connection must not trigger a refresh")
	}
}

// Concurrent new connections that all meet a rotated password cause one
// refresh, counted at the endpoint.
func TestConcurrentConnectionsRefreshOnce(t *testing.T) {
	f := newFixture(t, db, true)
	c := f.connector()
	warm, err := c.Connect(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	warm.Close()
	f.setDBPassword("rotated-3")
	f.putStage("rotated-3", "AWSCURRENT")
	before := f.smCalls()

	const n = 16
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			conn, err := c.Connect(ctxT(t))
			if err != nil {
				errs <- err
				return
			}
			conn.Close()
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Connect: %v", err)
	}
	if got := c.Stats().Refreshes; got != 1 {
		t.Errorf("refreshes = %d, want 1", got)
	}
	// One refresh's worth, whatever n is. How many calls a refresh makes
	// is the caching library's business (today DescribeSecret +
	// GetSecretValue(AWSCURRENT) = 2; AWSPENDING is answered from the
	// DescribeSecret metadata), so this is an upper bound: at most those
	// three reads, far below the n refreshes without single flight.
	if calls := f.smCalls() - before; calls > maxCallsPerRead {
		t.Errorf("Secrets Manager calls for %d concurrent refused connections = %d, want <= %d", n, calls, maxCallsPerRead)
	}
}

// When no stored password works the connector gives up after a bounded
// number of refreshes, and says so without any password.
func TestNoStoredPasswordWorks(t *testing.T) {
	f := newFixture(t, db, true)
	f.setDBPassword("nobody-knows-this")
	c := f.connector(connect.WithRetry(3, 0), connect.WithMinRefreshInterval(0))
	before := f.smCalls()
	_, err := c.Connect(ctxT(t))
	if !errors.Is(err, connect.ErrAuth) {
		t.Fatalf("err = %v, want connect.ErrAuth", err)
	}
	msg := err.Error()
	for _, want := range []string{f.secretID, db.Addr()} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	for _, secret := range []string{f.password, "nobody-knows-this"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error leaks a password: %q", msg)
		}
	}
	if got := c.Stats().Refreshes; got != 2 {
		t.Errorf("refreshes = %d, want 2 (3 attempts)", got)
	}
	// Three generations (initial read, two refreshes), each at most one
	// read's worth of calls: an upper bound because the count per read is
	// the caching library's (today 2: the AWSPENDING lookup is answered
	// from DescribeSecret, as there is no pending version).
	if calls := f.smCalls() - before; calls > 3*maxCallsPerRead {
		t.Errorf("Secrets Manager calls = %d, want <= %d", calls, 3*maxCallsPerRead)
	}
}

func TestSecretErrors(t *testing.T) {
	f := newFixture(t, db, true)
	bad := "app/bad-json"
	if _, err := f.client.CreateSecret(ctxT(t), createInput(bad, `{"engine":"mysql","host":"h","username":"u","password":"p4ssw0rd-in-bad-secret","port":"x"}`)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id string
	}{
		{"missing secret", "app/does-not-exist"},
		{"invalid secret", bad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := connect.NewConnector(ctxT(t), tt.id, connect.WithClient(f.client))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Connect(ctxT(t))
			if !errors.Is(err, connect.ErrSecret) {
				t.Fatalf("err = %v, want ErrSecret", err)
			}
			if !strings.Contains(err.Error(), tt.id) || strings.Contains(err.Error(), "p4ssw0rd") {
				t.Fatalf("error %q must name the secret and no value", err)
			}
		})
	}
}

// A Secrets Manager outage during a refresh is an error that says so; the
// next connection after the outage works.
func TestRefreshDuringOutage(t *testing.T) {
	f := newFixture(t, db, true)
	noRetry := f.sm.NewClient(ctxT(t), func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
	c := f.connector(connect.WithMinRefreshInterval(0), connect.WithClient(noRetry))
	conn, err := c.Connect(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	f.setDBPassword("rotated-4")
	f.putStage("rotated-4", "AWSCURRENT")
	f.sm.FailNext("DescribeSecret", 1, "InternalServiceError")
	if _, err := c.Connect(ctxT(t)); !errors.Is(err, connect.ErrSecret) {
		t.Fatalf("err during outage = %v, want ErrSecret", err)
	}
	conn, err = c.Connect(ctxT(t))
	if err != nil {
		t.Fatalf("after outage: %v", err)
	}
	conn.Close()
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opt  connect.Option
	}{
		{"nil client", connect.WithClient(nil)},
		{"zero TTL", connect.WithCacheTTL(0)},
		{"nil logger", connect.WithLogger(nil)},
		{"no attempts", connect.WithRetry(0, 0)},
		{"negative interval", connect.WithMinRefreshInterval(-1)},
		{"bad CA", connect.WithCABundlePEM([]byte("not a certificate"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := connect.NewConnector(context.Background(), "x", connect.WithClient(fakeClient{}), tt.opt); err == nil {
				t.Fatal("NewConnector accepted an invalid option")
			}
		})
	}
	if _, err := connect.NewConnector(context.Background(), "", connect.WithClient(fakeClient{})); err == nil {
		t.Fatal("NewConnector accepted an empty secret id")
	}
}
