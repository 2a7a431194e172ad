package rotation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/internal/secret"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

const functionARN = "arn:aws:lambda:us-east-1:123456789012:function:rotate-mysql"

var secretsmanagerTypesRules = types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}

// syncBuffer is a bytes.Buffer safe for the handler's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rig is one secret for one database user, a local Secrets Manager and a
// handler wired as lambda/rotation wires it.
type rig struct {
	t        testing.TB
	ctx      context.Context
	sm       *smlocal.Server
	client   *secretsmanager.Client
	h        *rotation.Handler
	secretID string // ARN
	user     string
	initial  string // the password the user starts with
	log      *syncBuffer
	// around, when set, wraps every invocation smlocal makes.
	around func(ctx context.Context, ev events.SecretsManagerSecretRotationEvent, call func() error) error
	// seen collects every value that must never appear in the logs.
	seen []string
}

type rigOption func(*rigConfig)

type rigConfig struct {
	dialer  *mysql.Dialer
	ssl     any // nil: key absent
	policy  *rotation.PasswordPolicy
	wrapSM  func(rotation.SecretsManager) rotation.SecretsManager
	smOpts  []func(*secretsmanager.Options)
	extra   map[string]any
	rawJSON string // overrides the secret string entirely
}

func newRig(t testing.TB, opts ...rigOption) *rig {
	t.Helper()
	cfg := rigConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	if cfg.dialer == nil {
		d, err := mysql.NewDialer(mysql.WithCABundleFile(srv.CAFile()))
		if err != nil {
			t.Fatal(err)
		}
		cfg.dialer = d
	}
	r := &rig{t: t, ctx: ctx, user: testdb.UniqueName(t), initial: "Init-" + testdb.UniqueName(t), log: &syncBuffer{}}
	if err := srv.CreateUser(ctx, r.user, r.initial); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.DropUser(context.Background(), r.user) })

	var h *rotation.Handler
	inv := smlocal.InvokerFunc(func(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
		r.seen = append(r.seen, ev.RotationToken)
		if r.around != nil {
			return r.around(ctx, ev, func() error { return h.Handle(ctx, ev) })
		}
		return h.Handle(ctx, ev)
	})
	sm, err := smlocal.Start(smlocal.WithFunction(functionARN, inv), smlocal.WithSynchronousRotation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sm.Close() })
	r.sm = sm
	r.client = sm.NewClient(ctx, cfg.smOpts...)
	var api rotation.SecretsManager = r.client
	if cfg.wrapSM != nil {
		api = cfg.wrapSM(api)
	}
	hopts := []rotation.Option{rotation.WithLogger(slog.New(slog.NewJSONHandler(r.log, nil)))}
	if cfg.policy != nil {
		hopts = append(hopts, rotation.WithPasswordPolicy(*cfg.policy))
	}
	h = rotation.New(api, mysql.NewEngine(cfg.dialer), hopts...)
	r.h = h

	value := cfg.rawJSON
	if value == "" {
		m := map[string]any{"engine": "mariadb", "host": srv.Host(), "port": srv.Port(), "username": r.user, "password": r.initial}
		if cfg.ssl != nil {
			m["ssl"] = cfg.ssl
		}
		for k, v := range cfg.extra {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		value = string(b)
	}
	r.seen = append(r.seen, r.initial, value)
	out, err := r.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(r.user), SecretString: aws.String(value)})
	if err != nil {
		t.Fatal(err)
	}
	r.secretID = aws.ToString(out.ARN)
	t.Cleanup(r.checkLogs)
	return r
}

// rotate runs RotateSecret synchronously and returns the first step error.
func (r *rig) rotate() error {
	r.t.Helper()
	return rotateSecret(r.ctx, r.client, r.sm, r.secretID)
}

// rotateSecret runs RotateSecret on secretID (smlocal invokes the steps
// synchronously) and returns the error of the rotation's last failed
// step, if any.
func rotateSecret(ctx context.Context, client *secretsmanager.Client, sm *smlocal.Server, secretID string) error {
	before := len(sm.RotationErrors())
	_, err := client.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId:          aws.String(secretID),
		RotationLambdaARN: aws.String(functionARN),
		RotationRules:     &secretsmanagerTypesRules,
	})
	if err != nil {
		return err
	}
	if errs := sm.RotationErrors(); len(errs) > before {
		return errs[len(errs)-1]
	}
	return nil
}

// retry re-invokes all four steps for the pending version, as Secrets
// Manager does when it retries a failed rotation.
func (r *rig) retry() error {
	r.t.Helper()
	token := r.versionWith(secret.StagePending)
	if token == "" {
		r.t.Fatal("no AWSPENDING version to retry")
	}
	return runSteps(r.ctx, r.h, r.secretID, token)
}

// runSteps invokes h with the four steps of version token of secretID, in
// order, up to the first that fails.
func runSteps(ctx context.Context, h *rotation.Handler, secretID, token string) error {
	for _, step := range []string{rotation.StepCreateSecret, rotation.StepSetSecret, rotation.StepTestSecret, rotation.StepFinishSecret} {
		if err := h.Handle(ctx, events.SecretsManagerSecretRotationEvent{Step: step, SecretID: secretID, ClientRequestToken: token}); err != nil {
			return err
		}
	}
	return nil
}

// remember records every stored secret string and password (deprecated
// versions included), for checkLogs.
func (r *rig) remember() {
	out, err := r.client.ListSecretVersionIds(r.ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(r.secretID), IncludeDeprecated: aws.Bool(true)})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, v := range out.Versions {
		g, err := r.client.GetSecretValue(r.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(r.secretID), VersionId: v.VersionId})
		if err != nil || g.SecretString == nil {
			continue
		}
		r.seen = append(r.seen, *g.SecretString)
		if s, err := secret.Parse(*g.SecretString); err == nil {
			r.seen = append(r.seen, s.Password)
		}
	}
}

// checkLogs fails the test if any password, secret string or rotation
// token appears in what the handler logged.
func (r *rig) checkLogs() {
	r.remember()
	logs := r.log.String()
	if logs == "" {
		r.t.Error("handler logged nothing")
	}
	for _, s := range r.seen {
		if s != "" && strings.Contains(logs, s) {
			r.t.Errorf("handler log contains a secret value (%d chars)", len(s))
		}
	}
}

// versionWith returns the version id carrying stage, or "".
func (r *rig) versionWith(stage string) string {
	r.t.Helper()
	md := r.describe()
	for id, stages := range md.VersionIdsToStages {
		for _, s := range stages {
			if s == stage {
				return id
			}
		}
	}
	return ""
}

func (r *rig) describe() *secretsmanager.DescribeSecretOutput {
	r.t.Helper()
	md, err := r.client.DescribeSecret(r.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(r.secretID)})
	if err != nil {
		r.t.Fatal(err)
	}
	return md
}

// value returns the parsed secret at stage.
func (r *rig) value(stage string) *secret.Secret {
	r.t.Helper()
	g, err := r.client.GetSecretValue(r.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(r.secretID), VersionStage: aws.String(stage)})
	if err != nil {
		r.t.Fatalf("get %s: %v", stage, err)
	}
	s, err := secret.Parse(aws.ToString(g.SecretString))
	if err != nil {
		r.t.Fatalf("parse %s: %v", stage, err)
	}
	return s
}

func (r *rig) canLogin(pw string) bool {
	r.t.Helper()
	ok, err := srv.CanLogin(r.ctx, r.user, pw)
	if err != nil {
		r.t.Fatalf("CanLogin: %v", err)
	}
	return ok
}

// assertRotated checks the state after a successful rotation from oldPw.
func (r *rig) assertRotated(oldPw string) {
	r.t.Helper()
	cur := r.value(secret.StageCurrent)
	if cur.Password == oldPw {
		r.t.Fatal("AWSCURRENT still holds the old password")
	}
	if !r.canLogin(cur.Password) {
		r.t.Error("the new AWSCURRENT password does not log in")
	}
	if r.canLogin(oldPw) {
		r.t.Error("the old password still logs in")
	}
	if prev := r.value(secret.StagePrevious); prev.Password != oldPw {
		r.t.Error("AWSPREVIOUS does not hold the old password")
	}
	if p, c := r.versionWith(secret.StagePending), r.versionWith(secret.StageCurrent); p != "" && p != c {
		r.t.Errorf("AWSPENDING left on version %s (AWSCURRENT is %s)", p, c)
	}
}

// assertUnchanged checks that neither the database nor AWSCURRENT moved.
func (r *rig) assertUnchanged(currentVersion string) {
	r.t.Helper()
	if !r.canLogin(r.initial) {
		r.t.Error("the initial password no longer logs in")
	}
	if got := r.versionWith(secret.StageCurrent); got != currentVersion {
		r.t.Errorf("AWSCURRENT moved from %s to %s", currentVersion, got)
	}
}
