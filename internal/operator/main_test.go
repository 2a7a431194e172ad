package operator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/operator"
	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/internal/testkit/goldenfile"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var db *testdb.Server

var smtypesRules = types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}

func TestMain(m *testing.M) { testdb.Main(m, &db) }

const (
	goodFunction   = "arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql"
	brokenFunction = "arn:aws:lambda:us-east-1:123456789012:function:rotate-broken"
)

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// rig is a local Secrets Manager with two rotation functions (the real
// handler in process, and one that fails at createSecret), one database
// user and its secret.
type rig struct {
	t      *testing.T
	sm     *smlocal.Server
	client *secretsmanager.Client
	user   string
	secret string // name
	tokens atomic.Int64
	now    func() time.Time
	opOpts []operator.Option // added to every operator the rig makes
}

// rigConfig collects the rigOptions of newRig.
type rigConfig struct {
	// async runs rotations in the background, as the service does,
	// instead of RotateSecret returning after the four steps.
	async bool
	// before runs before each step of the working function.
	before func(step string)
}

type rigOption func(*rigConfig)

// newRig creates user (a fixed name, so golden files are stable; each
// test package run has a fresh server) with password "initial-pw".
func newRig(t *testing.T, user string, opts ...rigOption) *rig {
	t.Helper()
	var cfg rigConfig
	for _, o := range opts {
		o(&cfg)
	}
	dialer, err := mysql.NewDialer(mysql.WithCABundlePEM(db.CAPEM()))
	if err != nil {
		t.Fatal(err)
	}
	var h *rotation.Handler
	good := smlocal.InvokerFunc(func(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
		if cfg.before != nil {
			cfg.before(ev.Step)
		}
		return h.Handle(ctx, ev)
	})
	broken := smlocal.InvokerFunc(func(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
		return errors.New("simulated function failure")
	})
	smOpts := []smlocal.Option{smlocal.WithFunction(goodFunction, good), smlocal.WithFunction(brokenFunction, broken)}
	if !cfg.async {
		smOpts = append(smOpts, smlocal.WithSynchronousRotation())
	}
	sm, err := smlocal.Start(smOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sm.Close() })
	r := &rig{t: t, sm: sm, client: sm.NewClient(ctxT(t)), user: user, secret: "app/" + user, now: time.Now}
	h = rotation.New(r.client, mysql.NewEngine(dialer))
	if err := db.CreateUser(ctxT(t), user, "initial-pw"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.DropUser(context.Background(), user) })
	// Bound to the rig's secrets ("app/..."), as the stacks tag a master:
	// an alternating rig (altrig_test.go) uses this secret as its master.
	_, err = r.client.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{
		Name: aws.String(r.secret), SecretString: aws.String(r.value("initial-pw")),
		ClientRequestToken: aws.String(r.token("initial")),
		Tags:               []types.Tag{{Key: aws.String(rotation.MasterBindingTag), Value: aws.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:app/")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// token returns a deterministic version id.
func (r *rig) token(name string) string {
	return fmt.Sprintf("%08x-0000-4000-8000-000000000000", crc32.ChecksumIEEE([]byte(name)))
}

func (r *rig) value(password string) string {
	b, _ := json.Marshal(map[string]any{"engine": "mariadb", "host": db.Host(), "port": db.Port(),
		"username": r.user, "password": password, "ssl": true})
	return string(b)
}

// put stores a new version with id token(name) carrying stages.
func (r *rig) put(name, password string, stages ...string) {
	r.t.Helper()
	_, err := r.client.PutSecretValue(ctxT(r.t), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(r.secret), SecretString: aws.String(r.value(password)),
		ClientRequestToken: aws.String(r.token(name)), VersionStages: stages,
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) setDBPassword(password string) {
	r.t.Helper()
	if _, err := db.RootDB().ExecContext(ctxT(r.t), "ALTER USER '"+r.user+"'@'%' IDENTIFIED BY '"+password+"'"); err != nil {
		r.t.Fatal(err)
	}
}

// enableRotation configures fn without rotating.
func (r *rig) enableRotation(fn string) {
	r.t.Helper()
	_, err := r.client.RotateSecret(ctxT(r.t), &secretsmanager.RotateSecretInput{
		SecretId: aws.String(r.secret), RotationLambdaARN: aws.String(fn),
		RotationRules: &smtypesRules, RotateImmediately: aws.Bool(false),
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) operator(opts ...operator.Option) *operator.Operator {
	dialer, err := mysql.NewDialer(mysql.WithCABundlePEM(db.CAPEM()), mysql.WithConnectTimeout(2*time.Second))
	if err != nil {
		r.t.Fatal(err)
	}
	base := []operator.Option{
		operator.WithClock(func() time.Time { return r.now() }),
		operator.WithTokenSource(func() string { return fmt.Sprintf("11111111-0000-4000-8000-%012d", r.tokens.Add(1)) }),
		operator.WithPollInterval(20 * time.Millisecond),
	}
	base = append(base, r.opOpts...)
	return operator.New(r.client, operator.DBChecker{Engine: mysql.NewEngine(dialer)}, append(base, opts...)...)
}

// stages returns the secret's label -> version map.
func (r *rig) stages() map[string]string {
	r.t.Helper()
	out, err := r.client.DescribeSecret(ctxT(r.t), &secretsmanager.DescribeSecretInput{SecretId: aws.String(r.secret)})
	if err != nil {
		r.t.Fatal(err)
	}
	m := map[string]string{}
	for v, labels := range out.VersionIdsToStages {
		for _, l := range labels {
			m[l] = v
		}
	}
	return m
}

// run runs the CLI in process and returns stdout, stderr and the code.
func (r *rig) run(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	cli := &operator.CLI{Stdout: &out, Stderr: &errOut, Setup: func(ctx context.Context, g operator.Globals) (*operator.Operator, error) {
		return r.operator(), nil
	}}
	code := cli.Run(ctxT(r.t), args)
	return out.String(), errOut.String(), code
}

var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`), "<TIME>"},
	{regexp.MustCompile(`(secret:[A-Za-z0-9/_+=.@-]+)-[A-Za-z0-9]{6}\b`), "$1-XXXXXX"},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:PORT"},
	{regexp.MustCompile(`RequestID: [0-9a-fA-F-]+`), "RequestID: <ID>"},
}

// normalize removes what differs between runs: times, ARN suffixes, ports.
func normalize(s string) string {
	for _, n := range normalizers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// golden compares the normalized run output with testdata/NAME.golden.
func golden(t *testing.T, name, stdout, stderr string, code int) {
	t.Helper()
	got := normalize(fmt.Sprintf("exit: %d\n--- stdout\n%s--- stderr\n%s", code, stdout, stderr))
	goldenfile.Check(t, filepath.Join("testdata", name+".golden"), []byte(got), *update)
}
