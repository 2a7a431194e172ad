package connect_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/connect"
	"github.com/example/secret-rotation/internal/operator"
	"github.com/example/secret-rotation/internal/testkit/localenv"
)

var (
	loadFull      = flag.Bool("load", false, "run the full load test: the compiled function under the emulator, -load.clients and -load.rotations")
	loadClients   = flag.Int("load.clients", 32, "concurrent clients in the full load test")
	loadRotations = flag.Int("load.rotations", 20, "rotations in the full load test")
)

// countingClient counts the connector's own Secrets Manager calls (the
// rotation function and the operator share the endpoint, so smlocal's
// totals would mix them in).
type countingClient struct {
	connect.SecretsClient
	calls atomic.Int64
}

func (c *countingClient) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	c.calls.Add(1)
	return c.SecretsClient.DescribeSecret(ctx, in, optFns...)
}

func (c *countingClient) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	c.calls.Add(1)
	return c.SecretsClient.GetSecretValue(ctx, in, optFns...)
}

// loadPhase is what one phase of the load run measured.
type loadPhase struct {
	name          string
	queries       int
	failed        int
	firstFailure  string
	p50, p99, max time.Duration
	connections   uint64
	smCalls       int64
	rotations     int
	pendingLogins uint64
	refreshes     uint64
	elapsed       time.Duration
}

// loadRun is the size of a load run and the local environment's options:
// the short version by default (8 clients, 3 rotations, the rotation
// handler in process), with -load the full one (-load.clients,
// -load.rotations, the compiled function under the emulator).
func loadRun() (clients, rotations int, opts []localenv.Option) {
	if *loadFull {
		return *loadClients, *loadRotations, nil
	}
	return 8, 3, []localenv.Option{localenv.WithInProcessFunction()}
}

// startLoadEnv starts the local environment of a load run, closed when
// the test ends, and returns it with its operator and the run's context
// (15 minutes, cancelled after the close).
func startLoadEnv(t *testing.T, opts ...localenv.Option) (context.Context, *localenv.Env, *operator.Operator) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	t.Cleanup(cancel)
	env, err := localenv.Start(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	op, err := env.Operator()
	if err != nil {
		t.Fatal(err)
	}
	return ctx, env, op
}

// queryLoad is clients querying in a loop until stopped.
type queryLoad struct {
	stop      atomic.Bool
	wg        sync.WaitGroup
	mu        sync.Mutex
	latencies []time.Duration // of the queries that succeeded; sorted by stop
	failed    int
	first     string         // the first failure
	accounts  map[string]int // successful queries per account
}

// startQueryLoad starts n clients; client i calls query(i) again and
// again, which returns the account the query ran as, or why it failed.
func startQueryLoad(n int, query func(i int) (account string, err error)) *queryLoad {
	l := &queryLoad{accounts: map[string]int{}}
	for i := range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			var mine []time.Duration
			accounts := map[string]int{}
			for !l.stop.Load() {
				start := time.Now()
				account, err := query(i)
				d := time.Since(start)
				if err != nil {
					l.mu.Lock()
					l.failed++
					if l.first == "" {
						l.first = err.Error()
					}
					l.mu.Unlock()
					continue
				}
				mine = append(mine, d)
				accounts[account]++
			}
			l.mu.Lock()
			l.latencies = append(l.latencies, mine...)
			for a, n := range accounts {
				l.accounts[a] += n
			}
			l.mu.Unlock()
		}()
	}
	return l
}

// stopAndWait stops the clients, waits for them and sorts the latencies.
func (l *queryLoad) stopAndWait() {
	l.stop.Store(true)
	l.wg.Wait()
	slices.Sort(l.latencies)
}

// percentiles are the median, 99th percentile and maximum latency; zero
// when no query succeeded.
func (l *queryLoad) percentiles() (p50, p99, highest time.Duration) {
	if n := len(l.latencies); n > 0 {
		return l.latencies[n/2], l.latencies[n*99/100], l.latencies[n-1]
	}
	return 0, 0, 0
}

// TestLoad runs clients that each query through their own new connection
// (MaxIdleConns 0), first for a baseline without rotations, then while
// rotations are forced one after the other with the code of
// `rotatectl rotate --wait`. Every query must succeed.
//
// By default it is the short version (8 clients, 3 rotations, the rotation
// handler in process). With -load it is the full run: -load.clients
// (default 32) and -load.rotations (default 20) through the compiled
// function under the Runtime Interface Emulator (`make loadtest`).
func TestLoad(t *testing.T) {
	clients, rotations, opts := loadRun()
	ctx, env, op := startLoadEnv(t, opts...)

	run := func(name string, rotate func() (int, error), baseline time.Duration) loadPhase {
		counting := &countingClient{SecretsClient: env.Client}
		c, err := connect.NewConnector(ctx, env.SecretID, connect.WithClient(counting), connect.WithCABundleFile(env.DB.CAFile()))
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(c)
		defer db.Close()
		db.SetMaxIdleConns(0) // every query opens a new connection
		if err := db.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
		startCalls := counting.calls.Load()
		startConns := c.Stats().Connections

		load := startQueryLoad(clients, func(int) (string, error) {
			var user string
			err := db.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&user)
			if err == nil && !strings.HasPrefix(user, env.User+"@") {
				err = fmt.Errorf("logged in as %q", user)
			}
			return user, err
		})
		began := time.Now()
		rotated := 0
		var rerr error
		if rotate != nil {
			rotated, rerr = rotate()
		} else {
			time.Sleep(baseline)
		}
		load.stopAndWait()
		if rerr != nil {
			t.Errorf("%s: rotation %d: %v", name, rotated+1, rerr)
		}
		st := c.Stats()
		p := loadPhase{name: name, queries: len(load.latencies) + load.failed, failed: load.failed, firstFailure: load.first,
			connections: st.Connections - startConns, smCalls: counting.calls.Load() - startCalls,
			rotations: rotated, pendingLogins: st.PendingLogins, refreshes: st.Refreshes, elapsed: time.Since(began)}
		p.p50, p.p99, p.max = load.percentiles()
		return p
	}

	withRotations := run("rotations", func() (int, error) {
		for i := range rotations {
			rep, err := op.Rotate(ctx, env.SecretID, operator.RotateOptions{Wait: true, Timeout: 2 * time.Minute})
			if err != nil {
				return i, err
			}
			if !rep.Finished {
				return i, fmt.Errorf("rotation %s did not finish", rep.Version)
			}
		}
		return rotations, nil
	}, 0)
	// The baseline runs as long as the rotation phase did, so both see
	// the same amount of work.
	baseline := run("baseline", nil, withRotations.elapsed)

	t.Logf("load run: %d clients, new connection per query, function %s", clients, map[bool]string{true: "compiled under the RIE", false: "in process"}[*loadFull])
	t.Logf("%-10s %9s %8s %6s %9s %9s %9s %11s %13s %8s %9s", "phase", "rotations", "queries", "failed", "p50", "p99", "max", "new conns", "SM calls/1k", "pending", "refreshes")
	for _, p := range []loadPhase{baseline, withRotations} {
		per1k := 0.0
		if p.connections > 0 {
			per1k = float64(p.smCalls) * 1000 / float64(p.connections)
		}
		t.Logf("%-10s %9d %8d %6d %9s %9s %9s %11d %13.2f %8d %9d", p.name, p.rotations, p.queries, p.failed,
			p.p50.Round(time.Microsecond), p.p99.Round(time.Microsecond), p.max.Round(time.Microsecond), p.connections, per1k, p.pendingLogins, p.refreshes)
	}
	for _, p := range []loadPhase{baseline, withRotations} {
		if p.failed != 0 {
			t.Errorf("%s: %d of %d queries failed; first: %s", p.name, p.failed, p.queries, p.firstFailure)
		}
		if p.queries == 0 {
			t.Errorf("%s: no query ran", p.name)
		}
	}
	if withRotations.rotations != rotations {
		t.Errorf("rotations done = %d, want %d", withRotations.rotations, rotations)
	}
	// Single flight: one refresh serves every client; a refresh that
	// waits out the minimum interval can even serve two rotations.
	if withRotations.refreshes == 0 || withRotations.refreshes > uint64(3*rotations) {
		t.Errorf("refreshes = %d for %d rotations: want between 1 and %d", withRotations.refreshes, rotations, 3*rotations)
	}
}
