package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/rdsca"
	"github.com/example/secret-rotation/internal/secret"
	"github.com/example/secret-rotation/internal/testkit/lambdarun"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

const (
	pkg         = "github.com/example/secret-rotation/lambda/rotation"
	functionARN = "arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql"
)

var (
	srv       *testdb.Server // require_secure_transport=ON
	bootstrap string         // the compiled function, in buildDir
	buildDir  string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var err error
	if srv, err = testdb.Start(ctx, testdb.WithRequireSecureTransport()); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: cannot start the test database server: %v\n", err)
		return 1
	}
	defer srv.Stop()
	if buildDir, err = os.MkdirTemp("", "rotation-e2e-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(buildDir)
	if bootstrap, err = lambdarun.BuildFunction(ctx, pkg, buildDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Ship the CA bundle next to bootstrap, as the CDK app ships the RDS
	// bundle, and refer to it relative to LAMBDA_TASK_ROOT.
	pem, err := os.ReadFile(srv.CAFile())
	if err == nil {
		err = os.WriteFile(filepath.Join(buildDir, "db-ca.pem"), pem, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// recorder wraps the HTTP invoker to remember every RotationToken that was
// sent, so the test can prove none was logged.
type recorder struct {
	inner  smlocal.Invoker
	mu     sync.Mutex
	tokens []string
}

func (r *recorder) Invoke(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	r.mu.Lock()
	r.tokens = append(r.tokens, ev.RotationToken)
	r.mu.Unlock()
	return r.inner.Invoke(ctx, ev)
}

type e2e struct {
	t      *testing.T
	ctx    context.Context
	sm     *smlocal.Server
	client *secretsmanager.Client
	fn     *lambdarun.Function
	rec    *recorder
}

// start runs the function built in TestMain with the test server's CA as
// its DB_CA_BUNDLE, plus env.
func start(t *testing.T, env map[string]string) *e2e {
	t.Helper()
	fenv := map[string]string{"DB_CA_BUNDLE": "db-ca.pem"}
	for k, v := range env {
		fenv[k] = v
	}
	return startFunction(t, bootstrap, fenv)
}

// startFunction runs the function binary bin (its directory is
// LAMBDA_TASK_ROOT) under the emulator, with env and a local Secrets
// Manager.
func startFunction(t *testing.T, bin string, env map[string]string) *e2e {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	sm, err := smlocal.Start(smlocal.WithSynchronousRotation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sm.Close() })
	fenv := map[string]string{
		"SECRETS_MANAGER_ENDPOINT": sm.URL(),
		"LAMBDA_TASK_ROOT":         filepath.Dir(bin),
	}
	for k, v := range env {
		fenv[k] = v
	}
	fn, err := lambdarun.Start(ctx, bin, fenv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fn.Close() })
	rec := &recorder{inner: smlocal.HTTPInvoker(fn.InvokeURL())}
	sm.RegisterFunction(functionARN, rec)
	return &e2e{t: t, ctx: ctx, sm: sm, client: sm.NewClient(ctx), fn: fn, rec: rec}
}

func (e *e2e) createSecret(value string) string {
	e.t.Helper()
	return e.createNamed(testdb.UniqueName(e.t), value)
}

// createNamed creates secret name with value and tags, key and value
// pairs, and returns its ARN.
func (e *e2e) createNamed(name, value string, tags ...string) string {
	e.t.Helper()
	in := &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}
	for i := 0; i+1 < len(tags); i += 2 {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(tags[i]), Value: aws.String(tags[i+1])})
	}
	out, err := e.client.CreateSecret(e.ctx, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.ARN)
}

// newUserSecret creates a database user and a secret for it on srv whose
// JSON ends with extra (e.g. `,"ssl":"true"`), and returns the user, its
// password, the secret string and the secret's ARN.
func (e *e2e) newUserSecret(engine, extra string) (user, initial, value, id string) {
	e.t.Helper()
	user, initial = testdb.UniqueName(e.t), "Initial-"+testdb.UniqueName(e.t)
	if err := srv.CreateUser(e.ctx, user, initial); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { srv.DropUser(context.Background(), user) })
	value = fmt.Sprintf(`{"engine":%q,"host":%q,"port":%d,"username":%q,"password":%q%s}`,
		engine, srv.Host(), srv.Port(), user, initial, extra)
	return user, initial, value, e.createSecret(value)
}

func (e *e2e) rotate(id string) error {
	e.t.Helper()
	before := len(e.sm.RotationErrors())
	if _, err := e.client.RotateSecret(e.ctx, &secretsmanager.RotateSecretInput{
		SecretId: aws.String(id), RotationLambdaARN: aws.String(functionARN),
		RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)},
	}); err != nil {
		return err
	}
	if errs := e.sm.RotationErrors(); len(errs) > before {
		return errs[len(errs)-1]
	}
	return nil
}

func (e *e2e) get(id, stage string) (string, *secret.Secret) {
	e.t.Helper()
	g, err := e.client.GetSecretValue(e.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id), VersionStage: aws.String(stage)})
	if err != nil {
		e.t.Fatalf("get %s: %v", stage, err)
	}
	s, err := secret.Parse(aws.ToString(g.SecretString))
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(g.SecretString), s
}

func (e *e2e) stages(id string) map[string][]string {
	e.t.Helper()
	md, err := e.client.DescribeSecret(e.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		e.t.Fatal(err)
	}
	return md.VersionIdsToStages
}

// secretValues returns every secret string and password ever stored.
func (e *e2e) secretValues(id string) []string {
	e.t.Helper()
	out, err := e.client.ListSecretVersionIds(e.ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(id), IncludeDeprecated: aws.Bool(true)})
	if err != nil {
		e.t.Fatal(err)
	}
	var vals []string
	for _, v := range out.Versions {
		g, err := e.client.GetSecretValue(e.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id), VersionId: v.VersionId})
		if err != nil || g.SecretString == nil {
			continue
		}
		vals = append(vals, *g.SecretString)
		if s, err := secret.Parse(*g.SecretString); err == nil {
			vals = append(vals, s.Password)
		}
	}
	return vals
}

// assertLogsClean scans everything the emulator and the function wrote.
func (e *e2e) assertLogsClean(secrets ...string) {
	e.t.Helper()
	logs := string(e.fn.Logs())
	e.rec.mu.Lock()
	secrets = append(secrets, e.rec.tokens...)
	e.rec.mu.Unlock()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			e.t.Errorf("function logs contain a secret value (%d characters)", len(s))
		}
	}
}

func canLogin(t *testing.T, user, pw string) bool {
	t.Helper()
	ok, err := srv.CanLogin(context.Background(), user, pw)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestEndToEndRotation(t *testing.T) {
	e := start(t, nil)
	user, initial, value, id := e.newUserSecret("mariadb", `,"dbInstanceIdentifier":"db-1"`)

	old := initial
	for round := 1; round <= 2; round++ {
		if err := e.rotate(id); err != nil {
			t.Fatalf("rotation %d: %v\nfunction logs:\n%s", round, err, e.fn.Logs())
		}
		_, cur := e.get(id, "AWSCURRENT")
		_, prev := e.get(id, "AWSPREVIOUS")
		if !canLogin(t, user, cur.Password) {
			t.Errorf("rotation %d: new password does not log in", round)
		}
		if canLogin(t, user, old) {
			t.Errorf("rotation %d: old password still logs in", round)
		}
		if prev.Password != old {
			t.Errorf("rotation %d: AWSPREVIOUS does not hold the old password", round)
		}
		for vid, st := range e.stages(id) {
			for _, s := range st {
				if s == "AWSPENDING" && !contains(st, "AWSCURRENT") {
					t.Errorf("rotation %d: AWSPENDING left on version %s", round, vid)
				}
			}
		}
		old = cur.Password
	}
	e.assertLogsClean(append(e.secretValues(id), initial, value)...)

	// Every invocation logged one JSON record with ARN, step, token and
	// outcome, which CloudWatch Logs Insights can query.
	finished := 0
	for _, line := range strings.Split(string(e.fn.Logs()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "rotation step finished" {
			continue
		}
		finished++
		if rec["secret_arn"] != id || rec["step"] == "" || rec["token"] == "" || rec["outcome"] == "" {
			t.Errorf("incomplete log record: %s", line)
		}
	}
	if finished != 8 {
		t.Errorf("%d 'rotation step finished' records, want 8 (two rotations of four steps)\n%s", finished, e.fn.Logs())
	}
}

// TestEndToEndShippedCABundle is a default deployment: the secret says
// "ssl": "true" (verified TLS only, as the database stack generates it) and
// the function has no DB_CA_BUNDLE, so it must verify the server against
// the CA bundle built into it (package rdsca, the Amazon RDS CAs). No RDS CA
// key can sign a local server, so the function is built exactly as for
// deployment except that go build -overlay puts a test CA in place of the
// embedded RDS bundle: the server's CA, or an unrelated one.
func TestEndToEndShippedCABundle(t *testing.T) {
	unrelated, err := testdb.UnrelatedCAPEM()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		shipped []byte
		ok      bool
	}{
		{"server CA only in the shipped bundle: rotates", srv.CAPEM(), true},
		{"unrelated CA in the shipped bundle: certificate error", unrelated, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startFunction(t, buildWithShippedCAs(t, tc.shipped), nil)
			user, initial, value, id := e.newUserSecret("mysql", `,"ssl":"true"`)
			err := e.rotate(id)
			_, cur := e.get(id, "AWSCURRENT")
			if tc.ok {
				if err != nil {
					t.Fatalf("rotation: %v\nfunction logs:\n%s", err, e.fn.Logs())
				}
				if !canLogin(t, user, cur.Password) || canLogin(t, user, initial) {
					t.Error("the database password did not move to the new AWSCURRENT")
				}
			} else {
				if err == nil {
					t.Fatal("rotation succeeded against a server the shipped bundle does not trust")
				}
				t.Logf("rotation error: %v", err)
				if msg := err.Error(); !strings.Contains(msg, engine.ErrCertificate.Error()) || !strings.Contains(msg, "x509: certificate signed by unknown authority") {
					t.Errorf("error does not say that certificate verification failed: %v", err)
				}
				if cur.Password != initial || !canLogin(t, user, initial) {
					t.Error("a refused rotation changed AWSCURRENT or the database password")
				}
			}
			// One built-in CA (the overlay's), and no CA bundle file.
			if logs := string(e.fn.Logs()); !strings.Contains(logs, `"msg":"rotation function started"`) ||
				!strings.Contains(logs, `"rds_ca_certificates":1,"ca_bundle":""`) {
				t.Errorf("the function did not start with only the built-in test CA:\n%s", logs)
			}
			e.assertLogsClean(append(e.secretValues(id), initial, value)...)
		})
	}
}

// buildWithShippedCAs builds the function with pemBytes in place of the
// embedded Amazon RDS bundle and returns the binary, alone in its directory.
func buildWithShippedCAs(t *testing.T, pemBytes []byte) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bundle, err := filepath.Abs(filepath.Join("..", "..", "internal", "rdsca", rdsca.FileName))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	replacement := filepath.Join(dir, "shipped-ca.pem")
	overlay, err := json.Marshal(map[string]any{"Replace": map[string]string{bundle: replacement}})
	if err == nil {
		err = os.WriteFile(replacement, pemBytes, 0o644)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "overlay.json"), overlay, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	bin, err := lambdarun.BuildFunction(ctx, pkg, t.TempDir(), "-overlay", filepath.Join(dir, "overlay.json"))
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestEndToEndBadSecretFailsCleanly(t *testing.T) {
	e := start(t, nil)
	const pw = "Bad-Secret-Pw-42"
	value := `{"engine":"mariadb","username":"nobody","password":"` + pw + `"}` // no host
	id := e.createSecret(value)
	err := e.rotate(id)
	if err == nil || !strings.Contains(err.Error(), `"host": missing`) {
		t.Fatalf("error = %v, want the missing host reported", err)
	}
	if strings.Contains(err.Error(), pw) {
		t.Error("error contains the password")
	}
	st := e.stages(id)
	if len(st) != 2 { // AWSCURRENT + the AWSPENDING placeholder RotateSecret made
		t.Errorf("versions after a failed createSecret: %v", st)
	}
	e.assertLogsClean(pw, value)
}

func TestEndToEndBadConfigurationFailsAtInit(t *testing.T) {
	e := start(t, map[string]string{"PASSWORD_LENGTH": "lots"})
	id := e.createSecret(`{"engine":"mysql","host":"h","username":"u","password":"p"}`)
	if err := e.rotate(id); err == nil {
		t.Fatal("rotation succeeded with an invalid configuration")
	}
	if logs := string(e.fn.Logs()); !strings.Contains(logs, `"msg":"invalid configuration","error":"PASSWORD_LENGTH`) {
		t.Errorf("the init failure is not logged as JSON naming the variable:\n%s", logs)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
