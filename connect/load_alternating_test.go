package connect_test

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/secret-rotation/connect"
	"github.com/example/secret-rotation/internal/grant"
	"github.com/example/secret-rotation/internal/operator"
	"github.com/example/secret-rotation/internal/testkit/localenv"
)

// Alternating users in the load run: the cache lifetime of the clients,
// and the pause between two rotations of one secret. A client holds an
// AWSCURRENT value for at most one cache lifetime, and that value works
// until the second rotation after it became current changes its user's
// password; so the pause must exceed the lifetime plus the time a
// connection takes to authenticate. This is the load test's compressed
// version of the production case: a 1 h cache against a 30-day rotation.
const (
	altCacheTTL = 200 * time.Millisecond
	altPause    = time.Second
)

// TestLoadAlternatingUsers runs clients on two application users rotated
// with alternating users, each query on a new connection (MaxIdleConns
// 0), while both secrets are rotated again and again (concurrently, one
// rotation after the other per secret) by the code of
// `rotatectl rotate --wait`. Every query must succeed, and no login may
// be refused: counted by the connectors and, per account, by the server
// (MariaDB's USER_STATISTICS), since a refused login is what a lockout
// policy counts.
//
// Short version by default (8 clients, 3 rotations of each user, the
// handler in process); with -load the full run: -load.clients (32) and
// -load.rotations (20 of each user) through the compiled function under
// the Runtime Interface Emulator (`make loadtest`).
func TestLoadAlternatingUsers(t *testing.T) {
	clients, rotations, opts := loadRun()
	names := []string{"orders_app", "reports_app"}
	ctx, env, op := startLoadEnv(t, append(opts, localenv.WithApplicationUsers(names...))...)
	accounts := func() []string {
		var out []string
		for _, n := range names {
			out = append(out, n, grant.Clone(n))
		}
		return out
	}()
	refusedOnServer := func() int {
		total := 0
		for _, a := range accounts {
			n, err := env.DB.FailedLogins(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			total += n
		}
		return total
	}

	type user struct {
		name      string
		counting  *countingClient
		connector *connect.Connector
		db        *sql.DB
	}
	var users []user
	for _, u := range env.AppUsers {
		counting := &countingClient{SecretsClient: env.Client}
		c, err := connect.NewConnector(ctx, u.SecretID, connect.WithClient(counting),
			connect.WithCABundleFile(env.DB.CAFile()), connect.WithCacheTTL(altCacheTTL))
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(c)
		defer db.Close()
		db.SetMaxIdleConns(0)
		if err := db.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
		users = append(users, user{u.Name, counting, c, db})
	}
	serverBefore := refusedOnServer()

	load := startQueryLoad(clients, func(i int) (string, error) {
		u := users[i%len(users)]
		var who string
		var rows int
		// The declared grants are used, not only the login.
		err := u.db.QueryRowContext(ctx, "SELECT CURRENT_USER(), (SELECT COUNT(*) FROM "+localenv.AppSchema+"."+localenv.AppTable+")").Scan(&who, &rows)
		account, _, _ := strings.Cut(who, "@")
		if err == nil && account != u.name && account != grant.Clone(u.name) {
			err = fmt.Errorf("logged in as %q", who)
		}
		return account, err
	})

	began := time.Now()
	rotated := make([]int, len(env.AppUsers))
	rerrs := make([]error, len(env.AppUsers))
	var rwg sync.WaitGroup
	for i, u := range env.AppUsers {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for range rotations {
				time.Sleep(altPause)
				rep, err := op.Rotate(ctx, u.SecretID, operator.RotateOptions{Wait: true, Timeout: 2 * time.Minute})
				if err == nil && !rep.Finished {
					err = fmt.Errorf("rotation %s did not finish", rep.Version)
				}
				if err != nil {
					rerrs[i] = err
					return
				}
				rotated[i]++
			}
		}()
	}
	rwg.Wait()
	time.Sleep(altPause) // clients keep going past the last rotation
	load.stopAndWait()
	elapsed := time.Since(began)

	p50, p99, _ := load.percentiles()
	latencies, failed, first, seen := load.latencies, load.failed, load.first, load.accounts
	var conns, refused, refreshes, pending uint64
	var smCalls int64
	for _, u := range users {
		st := u.connector.Stats()
		conns += st.Connections
		refused += st.RefusedLogins
		refreshes += st.Refreshes
		pending += st.PendingLogins
		smCalls += u.counting.calls.Load()
	}
	serverRefused := refusedOnServer() - serverBefore
	function := map[bool]string{true: "compiled under the RIE", false: "in process"}[*loadFull]
	t.Logf("alternating users: %d clients on %d users, %d rotations of each (%s), cache TTL %s, %s between rotations, %s",
		clients, len(users), rotations, function, altCacheTTL, altPause, elapsed.Round(time.Millisecond))
	t.Logf("queries %d, failed %d, p50 %s, p99 %s, new connections %d, refused logins: client %d, server %d; refreshes %d, AWSPENDING logins %d, SM calls/1k connections %.1f",
		len(latencies)+failed, failed, p50.Round(time.Microsecond), p99.Round(time.Microsecond), conns, refused, serverRefused,
		refreshes, pending, float64(smCalls)*1000/float64(max(conns, 1)))
	t.Logf("queries per account: %v", seen)

	for i, err := range rerrs {
		if err != nil {
			t.Errorf("%s: rotation %d: %v", env.AppUsers[i].SecretID, rotated[i]+1, err)
		}
	}
	if failed != 0 {
		t.Errorf("%d of %d queries failed; first: %s", failed, len(latencies)+failed, first)
	}
	if refused != 0 || serverRefused != 0 || pending != 0 {
		t.Errorf("refused logins: %d counted by the clients, %d by the server; AWSPENDING logins %d; want none", refused, serverRefused, pending)
	}
	// Both accounts of both users served queries: the clients followed
	// the rotations.
	for _, a := range accounts {
		if seen[a] == 0 {
			t.Errorf("no query logged in as %s: %v", a, seen)
		}
	}
}
