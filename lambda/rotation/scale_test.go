package main_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/secret-rotation/internal/testkit/lambdarun"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// pool hands each invocation to a free emulator running the same
// compiled function, as Lambda hands concurrent invocations to separate
// execution environments (one emulator serves one invocation at a time).
type pool struct {
	free           chan *lambdarun.Function
	inFlight, peak atomic.Int32 // invocations running at once
}

func (p *pool) Invoke(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	fn := <-p.free
	defer func() { p.free <- fn }()
	n := p.inFlight.Add(1)
	defer p.inFlight.Add(-1)
	for old := p.peak.Load(); n > old && !p.peak.CompareAndSwap(old, n); old = p.peak.Load() {
	}
	return smlocal.HTTPInvoker(fn.InvokeURL()).Invoke(ctx, ev)
}

// TestScaleAlternatingUsers rotates 50 application users' secrets on one
// database at once through one compiled function (4 execution
// environments) and reports wall time, the database's peak connections
// and Secrets Manager calls per rotation. Figures are in
// docs/rotation-function.md.
func TestScaleAlternatingUsers(t *testing.T) {
	const users, envs = 50, 4
	e := start(t, nil) // for its Secrets Manager; its own emulator stays idle
	p := &pool{free: make(chan *lambdarun.Function, envs)}
	for i := 0; i < envs; i++ {
		fn, err := lambdarun.Start(e.ctx, bootstrap, map[string]string{"DB_CA_BUNDLE": "db-ca.pem",
			"SECRETS_MANAGER_ENDPOINT": e.sm.URL(), "LAMBDA_TASK_ROOT": filepath.Dir(bootstrap)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fn.Close() })
		p.free <- fn
	}
	e.sm.RegisterFunction(functionARN, p)
	schema, masterID := e.altSetup()
	ids := make([]string, users)
	names := make([]string, users)
	for i := range ids {
		names[i] = appUser(t)
		ids[i] = e.createSecret(fmt.Sprintf(`{"engine":"mariadb","host":%q,"port":%d,"username":%q,"password":"First-Pa55word-%d","masterarn":%q,"ssl":"true","grants":["SELECT, INSERT ON %s.*"]}`,
			srv.Host(), srv.Port(), names[i], i, masterID, schema))
	}
	if _, err := srv.RootDB().Exec("FLUSH STATUS"); err != nil { // resets Max_used_connections
		t.Fatal(err)
	}
	ops := []string{"DescribeSecret", "GetSecretValue", "PutSecretValue", "GetRandomPassword", "UpdateSecretVersionStage"}
	before := map[string]int{}
	for _, op := range ops {
		before[op] = e.sm.Calls(op)
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, users)
	for i := range ids {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = e.rotate(ids[i]) }()
	}
	wg.Wait()
	wall := time.Since(start)
	for i, err := range errs {
		if err != nil {
			t.Errorf("user %d: %v", i, err)
		}
	}
	var name string
	var peak int
	if err := srv.RootDB().QueryRow("SHOW GLOBAL STATUS LIKE 'Max_used_connections'").Scan(&name, &peak); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, op := range ops {
		n := e.sm.Calls(op) - before[op]
		total += n
		t.Logf("%s: %.1f per rotation", op, float64(n)/users)
	}
	t.Logf("%d rotations through %d execution environments (peak %d invocations at once): wall %v, peak database connections %d (the test's root connection included), %.1f Secrets Manager calls per rotation (the caller's own RotateSecret excluded)",
		users, envs, p.peak.Load(), wall.Round(time.Millisecond), peak, float64(total)/users)
	for i, id := range ids {
		_, cur := e.get(id, "AWSCURRENT")
		if cur.Username != names[i]+"_clone" || !canLogin(t, cur.Username, cur.Password) {
			t.Errorf("user %d: AWSCURRENT %s does not log in", i, cur.Username)
		}
	}
}
