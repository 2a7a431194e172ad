package rotation_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/rotation"
)

// Two databases of one environment, as the stacks name their user
// secrets: "<stackPrefix>/<env>/<database>/<user>".
const (
	userARNOfA   = "arn:aws:secretsmanager:us-east-1:111122223333:secret:SecretRotation/dev/a/app-AbCdEf"
	usersOfA     = "arn:aws:secretsmanager:us-east-1:111122223333:secret:SecretRotation/dev/a/"
	usersOfB     = "arn:aws:secretsmanager:us-east-1:111122223333:secret:SecretRotation/dev/b/"
	usersOfAlike = "arn:aws:secretsmanager:us-east-1:111122223333:secret:SecretRotation/dev/a" // no slash: would cover "ab"
)

// newBoundEnv is an alternating-users setup whose rotated secret is
// database A's user secret and whose master (masterARN) carries tag
// (nil: no tags); opts configure the handler.
func newBoundEnv(t *testing.T, tags map[string]string, opts ...rotation.Option) *altEnv {
	t.Helper()
	e := newAltEnv(t, userJSON())
	e.sm.arn = userARNOfA
	e.master.tags = tags
	e.h = rotation.New(e.sm, e.db, append([]rotation.Option{rotation.WithLogger(slog.New(slog.NewJSONHandler(e.log, nil)))}, opts...)...)
	return e
}

// assertUnbound: the master's value was never read and nothing logged
// in (no master login, no application login); createSecret stored the
// pending version (the binding is checked by setSecret).
func (e *altEnv) assertUnbound() {
	e.t.Helper()
	if n := e.master.count("GetSecretValue"); n != 0 {
		e.t.Errorf("the master's value was read %d times", n)
	}
	if len(e.db.logins) != 0 || len(e.db.stmts) != 0 {
		e.t.Errorf("%d logins and statements %v", len(e.db.logins), e.db.stmts)
	}
	if e.current().Username != "app" {
		e.t.Error("AWSCURRENT moved")
	}
}

// TestMasterOfAnotherDatabaseRefused: database A's user secret names the
// master of database B (same host and port as the secret says, which its
// writer chooses). B's master is tagged with B's prefix: the rotation is
// refused at setSecret, before the master's value is read and before any
// login, naming both ARNs and the tag.
func TestMasterOfAnotherDatabaseRefused(t *testing.T) {
	e := newBoundEnv(t, map[string]string{rotation.MasterBindingTag: usersOfB})
	err := e.rotate()
	if !errors.Is(err, rotation.ErrMasterNotBound) || !errors.Is(err, rotation.ErrGuard) {
		t.Fatalf("error = %v, want ErrMasterNotBound and ErrGuard", err)
	}
	for _, want := range []string{userARNOfA, masterARN, rotation.MasterBindingTag, usersOfB} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q: %v", want, err)
		}
	}
	if e.master.count("DescribeSecret") != 1 {
		t.Errorf("master described %d times, want 1", e.master.count("DescribeSecret"))
	}
	e.assertUnbound()
	if !strings.Contains(e.log.String(), `"outcome":"refused"`) {
		t.Errorf("log does not say refused:\n%s", e.log)
	}
}

// TestMasterBoundByTagRotates: the master's tag names A's prefix: A's
// user rotates, and the log says what bound it.
func TestMasterBoundByTagRotates(t *testing.T) {
	e := newBoundEnv(t, map[string]string{rotation.MasterBindingTag: usersOfA, "other": "x"})
	for round := 1; round <= 2; round++ {
		if err := e.rotate(); err != nil {
			t.Fatalf("rotation %d: %v", round, err)
		}
	}
	if cur := e.current(); cur.Username != "app" || e.db.users["app"] != cur.Password {
		t.Errorf("after two rotations: %s", cur.Username)
	}
	if !strings.Contains(e.log.String(), `"bound_by":"tag secret-rotation:users"`) {
		t.Errorf("log does not say how the master was bound:\n%s", e.log)
	}
}

// TestMasterWithoutBindingRefused: a master made by another tool (an
// AWS-style setup) carries no tag and is not in MASTER_SECRET_BINDINGS:
// refused, the error saying how to bind it.
func TestMasterWithoutBindingRefused(t *testing.T) {
	e := newBoundEnv(t, nil)
	err := e.rotate()
	if !errors.Is(err, rotation.ErrMasterNotBound) {
		t.Fatalf("error = %v", err)
	}
	for _, want := range []string{"has no tag " + rotation.MasterBindingTag, "aws secretsmanager tag-resource --secret-id " + masterARN, rotation.EnvMasterSecretBindings} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	e.assertUnbound()
}

// TestMasterBindingNotAPrefix: a tag that is no ARN prefix (a wildcard, a
// bare name) binds nothing; a prefix without the trailing slash is taken
// literally (it would also cover database "ab": the stacks always end it
// with "/").
func TestMasterBindingNotAPrefix(t *testing.T) {
	for _, v := range []string{"*", "SecretRotation/dev/a/", "arn:aws:secretsmanager:us-east-1:111122223333:secret:*"} {
		e := newBoundEnv(t, map[string]string{rotation.MasterBindingTag: v})
		if err := e.rotate(); !errors.Is(err, rotation.ErrMasterNotBound) || !strings.Contains(err.Error(), "is not a secret ARN prefix") {
			t.Errorf("tag %q: error = %v", v, err)
		}
		e.assertUnbound()
	}
	e := newBoundEnv(t, map[string]string{rotation.MasterBindingTag: usersOfAlike})
	if err := e.rotate(); err != nil {
		t.Errorf("prefix without slash: %v", err)
	}
}

// TestMasterBoundByEnvironment: MASTER_SECRET_BINDINGS binds a master the
// stacks cannot tag (an existing database's). Its entry decides, whatever
// the master's tag says, and the master is not described.
func TestMasterBoundByEnvironment(t *testing.T) {
	e := newBoundEnv(t, map[string]string{rotation.MasterBindingTag: usersOfB},
		rotation.WithMasterSecretBindings(map[string]string{masterARN: usersOfA}))
	if err := e.rotate(); err != nil {
		t.Fatal(err)
	}
	if n := e.master.count("DescribeSecret"); n != 0 {
		t.Errorf("master described %d times", n)
	}
	if !strings.Contains(e.log.String(), `"bound_by":"MASTER_SECRET_BINDINGS"`) {
		t.Errorf("log does not say how the master was bound:\n%s", e.log)
	}

	e = newBoundEnv(t, map[string]string{rotation.MasterBindingTag: usersOfA},
		rotation.WithMasterSecretBindings(map[string]string{masterARN: usersOfB}))
	err := e.rotate()
	if !errors.Is(err, rotation.ErrMasterNotBound) || !strings.Contains(err.Error(), "MASTER_SECRET_BINDINGS binds it to the secrets whose ARN starts with "+usersOfB) {
		t.Fatalf("error = %v", err)
	}
	e.assertUnbound()
}

// TestMasterBindingOff: REQUIRE_MASTER_SECRET_BINDING=false trusts any
// master the role can read, as before bindings existed.
func TestMasterBindingOff(t *testing.T) {
	e := newBoundEnv(t, nil, rotation.WithMasterSecretBindingRequired(false))
	if err := e.rotate(); err != nil {
		t.Fatal(err)
	}
	if n := e.master.count("DescribeSecret"); n != 0 {
		t.Errorf("master described %d times", n)
	}
}

// TestMasterDescribeFails: the master cannot be described (no such
// secret, no permission): nothing read, nothing logged in.
func TestMasterDescribeFails(t *testing.T) {
	e := newBoundEnv(t, map[string]string{rotation.MasterBindingTag: usersOfA})
	e.master.fail["DescribeSecret"] = errors.New("AccessDeniedException")
	err := e.rotate()
	if err == nil || !strings.Contains(err.Error(), "describe master secret "+masterARN) {
		t.Fatalf("error = %v", err)
	}
	e.assertUnbound()
}

func TestParseMasterSecretBindings(t *testing.T) {
	const m = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:legacy-AbCdEf"
	const p = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:SecretRotation/prod/legacy/"
	got, err := rotation.ParseMasterSecretBindings(`{"` + m + `":"` + p + `"}`)
	if err != nil || len(got) != 1 || got[m] != p {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"", "{}", "[]", m + "=" + p, `{"legacy":"` + p + `"}`, `{"` + m + `":"SecretRotation/prod/legacy/"}`, `{"` + m + `":"arn:aws:secretsmanager:eu-west-1:111122223333:secret:"}`} {
		if _, err := rotation.ParseMasterSecretBindings(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestConfigMasterSecretBinding(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := rotation.ConfigFromEnv(env(nil))
	if err != nil || c.MasterSecretBindingOptional || c.MasterSecretBindings != nil {
		t.Errorf("default: %+v, %v", c, err)
	}
	c, err = rotation.ConfigFromEnv(env(map[string]string{rotation.EnvRequireMasterSecretBinding: "false"}))
	if err != nil || !c.MasterSecretBindingOptional {
		t.Errorf("false: %+v, %v", c, err)
	}
	c, err = rotation.ConfigFromEnv(env(map[string]string{rotation.EnvRequireMasterSecretBinding: "true"}))
	if err != nil || c.MasterSecretBindingOptional {
		t.Errorf("true: %+v, %v", c, err)
	}
	if _, err := rotation.ConfigFromEnv(env(map[string]string{rotation.EnvMasterSecretBindings: "nope"})); err == nil || !strings.Contains(err.Error(), rotation.EnvMasterSecretBindings) {
		t.Errorf("bad bindings: %v", err)
	}
}
