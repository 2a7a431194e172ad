package rotation_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/grant"
	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/internal/secret"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// rdsMasterGrants is what the master user of RDS for MariaDB holds: no
// SUPER, CREATE USER and the data privileges WITH GRANT OPTION.
const rdsMasterGrants = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, " +
	"SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, BINLOG MONITOR, " +
	"CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER ON *.* WITH GRANT OPTION"

// altRig is an alternating-users setup on the package's MariaDB: a master
// user and its secret, a schema with a table, and one application user's
// secret naming the master (the accounts themselves do not exist yet, as
// after a deploy), rotated in-process through the local Secrets Manager.
type altRig struct {
	t         testing.TB
	ctx       context.Context
	sm        *smlocal.Server
	client    *secretsmanager.Client
	h         *rotation.Handler
	log       *syncBuffer
	schema    string
	user      string // declared application user
	masterID  string
	masterPw  string
	masterUsr string
	secretID  string
	declared  []string
	around    func(ev events.SecretsManagerSecretRotationEvent, call func() error) error
}

// altName is a unique account name short enough for its clone.
func altName(t testing.TB) string {
	n := testdb.UniqueName(t)
	if max := grant.MaxUserLen - len(grant.CloneSuffix); len(n) > max {
		n = "a" + n[len(n)-max+1:]
	}
	return n
}

// newAltRig creates the rig; mutate changes the user secret's JSON map
// (e.g. to drop "grants") before it is stored.
func newAltRig(t testing.TB, mutate func(m map[string]any)) *altRig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	r := &altRig{t: t, ctx: ctx, log: &syncBuffer{}, schema: testdb.UniqueName(t), user: altName(t),
		masterUsr: testdb.UniqueName(t), masterPw: "Master-" + testdb.UniqueName(t)}
	r.declared = []string{"SELECT, INSERT, UPDATE, DELETE ON " + r.schema + ".*", "SELECT ON " + r.schema + ".orders"}
	if err := srv.CreateUser(ctx, r.masterUsr, r.masterPw, rdsMasterGrants); err != nil {
		t.Fatal(err)
	}
	if err := srv.CreateDatabase(ctx, r.schema); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.RootDB().ExecContext(ctx, "CREATE TABLE `"+r.schema+"`.orders (id INT PRIMARY KEY, total INT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		bg := context.Background()
		srv.DropUser(bg, r.masterUsr)
		srv.DropUser(bg, r.user)
		srv.DropUser(bg, grant.Clone(r.user))
		srv.DropDatabase(bg, r.schema)
	})
	d, err := mysql.NewDialer(mysql.WithCABundleFile(srv.CAFile()))
	if err != nil {
		t.Fatal(err)
	}
	var h *rotation.Handler
	inv := smlocal.InvokerFunc(func(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
		if r.around != nil {
			return r.around(ev, func() error { return h.Handle(ctx, ev) })
		}
		return h.Handle(ctx, ev)
	})
	sm, err := smlocal.Start(smlocal.WithFunction(functionARN, inv), smlocal.WithSynchronousRotation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sm.Close() })
	r.sm, r.client = sm, sm.NewClient(ctx)
	h = rotation.New(r.client, mysql.NewEngine(d), rotation.WithLogger(slog.New(slog.NewJSONHandler(r.log, nil))))
	r.h = h
	// The master serves the secrets named after the user, as the stacks
	// tag a database's master with its users' prefix.
	r.masterID = r.create("master-"+r.masterUsr, map[string]any{"engine": "mariadb", "host": srv.Host(), "port": srv.Port(),
		"username": r.masterUsr, "password": r.masterPw, "ssl": "true"}, rotation.MasterBindingTag, smARNBase+r.user)
	m := map[string]any{"engine": "mariadb", "host": srv.Host(), "port": srv.Port(), "dbname": r.schema,
		"username": r.user, "password": "First-" + testdb.UniqueName(t), "masterarn": r.masterID, "ssl": "true",
		"grants": r.declared}
	if mutate != nil {
		mutate(m)
	}
	r.secretID = r.create(r.user, m)
	return r
}

// smARNBase starts the ARN of every secret of smlocal's default account
// and region.
const smARNBase = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"

// create stores a secret with m as its value and tags, key and value
// pairs.
func (r *altRig) create(name string, m map[string]any, tags ...string) string {
	r.t.Helper()
	b, _ := json.Marshal(m)
	in := &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(b))}
	for i := 0; i+1 < len(tags); i += 2 {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(tags[i]), Value: aws.String(tags[i+1])})
	}
	out, err := r.client.CreateSecret(r.ctx, in)
	if err != nil {
		r.t.Fatal(err)
	}
	return aws.ToString(out.ARN)
}

func (r *altRig) rotate() error {
	r.t.Helper()
	return rotateSecret(r.ctx, r.client, r.sm, r.secretID)
}

// retry re-invokes the four steps for the pending version.
func (r *altRig) retry() error {
	r.t.Helper()
	md, err := r.client.DescribeSecret(r.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(r.secretID)})
	if err != nil {
		r.t.Fatal(err)
	}
	tok := ""
	for id, st := range md.VersionIdsToStages {
		if strings.Join(st, ",") == secret.StagePending {
			tok = id
		}
	}
	if tok == "" {
		r.t.Fatal("no AWSPENDING version to retry")
	}
	return runSteps(r.ctx, r.h, r.secretID, tok)
}

func (r *altRig) value(id, stage string) *secret.Secret {
	r.t.Helper()
	g, err := r.client.GetSecretValue(r.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id), VersionStage: aws.String(stage)})
	if err != nil {
		r.t.Fatalf("get %s: %v", stage, err)
	}
	s, err := secret.Parse(aws.ToString(g.SecretString))
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *altRig) canLogin(user, pw string) bool {
	r.t.Helper()
	ok, err := srv.CanLogin(r.ctx, user, pw)
	if err != nil {
		r.t.Fatal(err)
	}
	return ok
}

func (r *altRig) exec(q string) {
	r.t.Helper()
	if _, err := srv.RootDB().ExecContext(r.ctx, strings.ReplaceAll(q, "SCHEMA", "`"+r.schema+"`")); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
}

// grantsOf reads an account's grants as the master user does.
func (r *altRig) grantsOf(user string) []grant.Grant {
	r.t.Helper()
	d, _ := mysql.NewDialer(mysql.WithCABundleFile(srv.CAFile()))
	sess, err := mysql.NewEngine(d).Login(r.ctx, r.value(r.masterID, secret.StageCurrent))
	if errors.Is(err, engine.ErrAuth) { // the master mid-rotation
		sess, err = mysql.NewEngine(d).Login(r.ctx, r.value(r.masterID, secret.StagePending))
	}
	if err != nil {
		r.t.Fatal(err)
	}
	defer sess.Close()
	gs, err := sess.(engine.Admin).Grants(r.ctx, engine.Account{User: user, Host: "%"})
	if err != nil {
		r.t.Fatal(err)
	}
	return gs
}

// assertExact checks that user holds exactly the declared grants, as
// the server shows them to root, read by queries written here (not the
// reader under test): global, schema, table, column and routine
// privileges, and the grant option at any level.
func (r *altRig) assertExact(user string) {
	r.t.Helper()
	if got, want := r.privilegesOf(user), expandDeclared(r.declared); !slices.Equal(got, want) {
		r.t.Errorf("%s holds\n  %s\nwant\n  %s", user, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// privilegesOf lists every privilege of user@% as "object:PRIVILEGE":
// "*.*:SUPER", "s.*:SELECT", "s.t:SELECT", "s.t.col:UPDATE",
// "PROCEDURE s.p:Execute", and "object:WITH GRANT OPTION". Global USAGE
// (no privilege) is left out.
func (r *altRig) privilegesOf(user string) []string {
	r.t.Helper()
	grantee := "'" + user + "'@'%'"
	var out []string
	for _, q := range []string{
		"SELECT '*.*', PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?",
		"SELECT CONCAT(TABLE_SCHEMA, '.*'), PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ?",
		"SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME), PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ?",
		"SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME, '.', COLUMN_NAME), PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE = ?",
		"SELECT CONCAT(Routine_type, ' ', Db, '.', Routine_name), Proc_priv, 'NO' FROM mysql.procs_priv WHERE CONCAT(CHAR(39), User, CHAR(39), '@', CHAR(39), Host, CHAR(39)) = ?",
	} {
		rows, err := srv.RootDB().QueryContext(r.ctx, q, grantee)
		if err != nil {
			r.t.Fatal(err)
		}
		for rows.Next() {
			var obj, priv, grantable string
			if err := rows.Scan(&obj, &priv, &grantable); err != nil {
				r.t.Fatal(err)
			}
			if !(obj == "*.*" && priv == "USAGE") {
				out = append(out, obj+":"+priv)
			}
			if grantable == "YES" {
				out = append(out, obj+":WITH GRANT OPTION")
			}
		}
		if err := rows.Close(); err != nil {
			r.t.Fatal(err)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// expandDeclared turns declared grants ("SELECT, INSERT ON s.*") into
// privilegesOf's form, without the grant package.
func expandDeclared(declared []string) []string {
	var out []string
	for _, d := range declared {
		privs, obj, _ := strings.Cut(d, " ON ")
		for _, p := range strings.Split(privs, ",") {
			out = append(out, strings.TrimSpace(obj)+":"+strings.ToUpper(strings.TrimSpace(p)))
		}
	}
	slices.Sort(out)
	return out
}

// assertBothLogIn: AWSCURRENT and AWSPREVIOUS both log in (the point of
// alternating users) as different accounts.
func (r *altRig) assertBothLogIn() {
	r.t.Helper()
	cur, prev := r.value(r.secretID, secret.StageCurrent), r.value(r.secretID, secret.StagePrevious)
	if cur.Username != grant.Clone(prev.Username) {
		r.t.Errorf("AWSCURRENT user %s, AWSPREVIOUS user %s: not a pair", cur.Username, prev.Username)
	}
	if !r.canLogin(cur.Username, cur.Password) || !r.canLogin(prev.Username, prev.Password) {
		r.t.Error("AWSCURRENT or AWSPREVIOUS does not log in")
	}
}

// assertLogsClean: no password of either secret in the handler's log.
func (r *altRig) assertLogsClean() {
	r.t.Helper()
	logs := r.log.String()
	for _, id := range []string{r.secretID, r.masterID} {
		out, err := r.client.ListSecretVersionIds(r.ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(id), IncludeDeprecated: aws.Bool(true)})
		if err != nil {
			r.t.Fatal(err)
		}
		for _, v := range out.Versions {
			g, err := r.client.GetSecretValue(r.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id), VersionId: v.VersionId})
			if err != nil || g.SecretString == nil {
				continue
			}
			s, _ := secret.Parse(*g.SecretString)
			if s != nil && strings.Contains(logs, s.Password) {
				r.t.Errorf("log contains a password of %s", id)
			}
		}
	}
}
