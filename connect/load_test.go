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
	clients, rotations := 8, 3
	opts := []localenv.Option{localenv.WithInProcessFunction()}
	if *loadFull {
		clients, rotations, opts = *loadClients, *loadRotations, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	env, err := localenv.Start(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := env.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	op, err := env.Operator()
	if err != nil {
		t.Fatal(err)
	}

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

		var (
			stop      atomic.Bool
			wg        sync.WaitGroup
			mu        sync.Mutex
			latencies []time.Duration
			failed    int
			first     string
		)
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for !stop.Load() {
					start := time.Now()
					var user string
					err := db.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&user)
					d := time.Since(start)
					if err == nil && !strings.HasPrefix(user, env.User+"@") {
						err = fmt.Errorf("logged in as %q", user)
					}
					if err != nil {
						mu.Lock()
						failed++
						if first == "" {
							first = err.Error()
						}
						mu.Unlock()
						continue
					}
					mine = append(mine, d)
				}
				mu.Lock()
				latencies = append(latencies, mine...)
				mu.Unlock()
			}()
		}
		began := time.Now()
		rotated := 0
		var rerr error
		if rotate != nil {
			rotated, rerr = rotate()
		} else {
			time.Sleep(baseline)
		}
		stop.Store(true)
		wg.Wait()
		if rerr != nil {
			t.Errorf("%s: rotation %d: %v", name, rotated+1, rerr)
		}
		slices.Sort(latencies)
		st := c.Stats()
		p := loadPhase{name: name, queries: len(latencies) + failed, failed: failed, firstFailure: first,
			connections: st.Connections - startConns, smCalls: counting.calls.Load() - startCalls,
			rotations: rotated, pendingLogins: st.PendingLogins, refreshes: st.Refreshes, elapsed: time.Since(began)}
		if n := len(latencies); n > 0 {
			p.p50, p.p99, p.max = latencies[n/2], latencies[n*99/100], latencies[n-1]
		}
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
