package operator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// altRig is an application user pair of the alternating-users strategy on
// the package's database: a master user with the RDS master's kind of
// privileges and its secret, a schema, the users x and x_clone, and x's
// secret naming the master secret and declaring grants. Rotations are
// made by hand, step by step, as the strategy makes them (createSecret
// stores the other user with a new password as AWSPENDING, setSecret sets
// that password as the master user, finishSecret moves AWSCURRENT), so
// every state a failed rotation leaves can be built exactly.
type altRig struct {
	*rig
	users     [2]string // x, x_clone
	schema    string
	masterARN string
	master    string // master secret name
	declared  []string
	cur       int // index of the user AWSCURRENT names
	n         int // value counter, for fresh passwords
}

type altOption func(*altRig)

// withoutDeclaredGrants makes the secret declare no grants (an AWS-style
// multi-user secret): the reference is then the current user's grants.
func withoutDeclaredGrants() altOption { return func(a *altRig) { a.declared = nil } }

// newAltRig creates everything with fixed names derived from base (so
// golden files are stable) and AWSCURRENT naming x.
func newAltRig(t *testing.T, base string, opts ...altOption) *altRig {
	t.Helper()
	r := newRig(t, base+"_m") // the master user and its secret
	a := &altRig{rig: r, users: [2]string{base, base + "_clone"}, schema: base + "_db", master: r.secret}
	a.declared = []string{"SELECT, INSERT ON " + a.schema + ".*"}
	for _, o := range opts {
		o(a)
	}
	ctx := ctxT(t)
	if _, err := db.RootDB().ExecContext(ctx, "GRANT ALL PRIVILEGES ON *.* TO '"+r.user+"'@'%' WITH GRANT OPTION"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateDatabase(ctx, a.schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.DropDatabase(context.Background(), a.schema) })
	for i, u := range a.users {
		if err := db.CreateUser(ctx, u, a.password(i, 0), "SELECT, INSERT ON `"+a.schema+"`.*"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.DropUser(context.Background(), u) })
	}
	d, err := r.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(r.secret)})
	if err != nil {
		t.Fatal(err)
	}
	a.masterARN = aws.ToString(d.ARN)
	// From here on the rig's secret is the application user's.
	r.secret, r.user = "app/"+base, base
	if _, err := r.client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(r.secret), SecretString: aws.String(a.value(0, 0)),
		ClientRequestToken: aws.String(r.token(base + "-initial")),
	}); err != nil {
		t.Fatal(err)
	}
	return a
}

func (a *altRig) password(user, n int) string { return fmt.Sprintf("%s-pw-%d", a.users[user], n) }

func (a *altRig) value(user, n int) string {
	m := map[string]any{"engine": "mariadb", "host": db.Host(), "port": db.Port(), "ssl": true,
		"username": a.users[user], "password": a.password(user, n), "masterarn": a.masterARN}
	if a.declared != nil {
		m["grants"] = a.declared
	}
	b, err := json.Marshal(m)
	if err != nil {
		a.t.Fatal(err)
	}
	return string(b)
}

// version is the deterministic version id of the n-th value.
func (a *altRig) version(n int) string {
	if n == 0 {
		return a.token(a.users[0] + "-initial")
	}
	return a.token(fmt.Sprintf("%s-%d", a.users[0], n))
}

// createSecret stores the other user with a new password as AWSPENDING.
func (a *altRig) createSecret() {
	a.t.Helper()
	a.n++
	// Versions are listed by creation time (milliseconds), then id: a
	// new millisecond keeps the golden files' order the creation order.
	time.Sleep(2 * time.Millisecond)
	_, err := a.client.PutSecretValue(ctxT(a.t), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(a.secret), SecretString: aws.String(a.value(1-a.cur, a.n)),
		ClientRequestToken: aws.String(a.version(a.n)), VersionStages: []string{"AWSPENDING"},
	})
	if err != nil {
		a.t.Fatal(err)
	}
}

// setSecret sets the pending user's new password in the database.
func (a *altRig) setSecret() {
	a.sql("ALTER USER '%s'@'%%' IDENTIFIED BY '%s'", a.users[1-a.cur], a.password(1-a.cur, a.n))
}

// finishSecret moves AWSCURRENT to the pending version (AWSPREVIOUS
// follows) and removes AWSPENDING.
func (a *altRig) finishSecret() {
	a.t.Helper()
	st := a.stages()
	for _, in := range []*secretsmanager.UpdateSecretVersionStageInput{
		{SecretId: aws.String(a.secret), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(a.version(a.n)), RemoveFromVersionId: aws.String(st["AWSCURRENT"])},
		{SecretId: aws.String(a.secret), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(a.version(a.n))},
	} {
		if _, err := a.client.UpdateSecretVersionStage(ctxT(a.t), in); err != nil {
			a.t.Fatal(err)
		}
	}
	a.cur = 1 - a.cur
}

// rotate is one whole rotation.
func (a *altRig) rotate() {
	a.createSecret()
	a.setSecret()
	a.finishSecret()
}

// sql runs a statement as root; names and passwords here need no quoting.
func (a *altRig) sql(format string, args ...any) {
	a.t.Helper()
	if _, err := db.RootDB().ExecContext(ctxT(a.t), fmt.Sprintf(format, args...)); err != nil {
		a.t.Fatal(err)
	}
}

// failedLogins is the server's count of refused logins of x, x_clone
// and the master user.
func (a *altRig) failedLogins() [3]int {
	a.t.Helper()
	var n [3]int
	for i, u := range []string{a.users[0], a.users[1], a.users[0] + "_m"} {
		var err error
		if n[i], err = db.FailedLogins(ctxT(a.t), u); err != nil {
			a.t.Fatal(err)
		}
	}
	return n
}

// refusedSince returns the refused logins of x, x_clone and the master
// user since start, once they reach want or after a short wait: the
// server updates USER_STATISTICS when the refused connection's thread
// ends, which can be just after the client has seen the refusal. Waiting
// for zero also waits, so that a late refusal is not missed.
func (a *altRig) refusedSince(start, want [3]int) [3]int {
	a.t.Helper()
	deadline := time.Now().Add(300 * time.Millisecond)
	for {
		now := a.failedLogins()
		got := [3]int{now[0] - start[0], now[1] - start[1], now[2] - start[2]}
		if (got == want && want != [3]int{}) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}
