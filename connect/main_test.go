package connect_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/connect"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// db is the package's MariaDB server: TLS offered, not required.
var db *testdb.Server

func TestMain(m *testing.M) { testdb.Main(m, &db) }

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// fixture is one database user and its secret on a private endpoint.
type fixture struct {
	t        testing.TB
	sm       *smlocal.Server
	client   *secretsmanager.Client
	secretID string
	user     string
	password string // the password the secret was created with
	server   *testdb.Server
}

// newFixture creates a user with a known password and a secret for it;
// ssl is the "ssl" key's value (nil: absent).
func newFixture(t testing.TB, server *testdb.Server, ssl any) *fixture {
	t.Helper()
	sm, err := smlocal.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sm.Close() })
	f := &fixture{t: t, sm: sm, client: sm.NewClient(ctxT(t)), server: server,
		user: testdb.UniqueName(t), password: "initial-" + testdb.UniqueName(t)}
	if err := server.CreateUser(ctxT(t), f.user, f.password); err != nil {
		t.Fatal(err)
	}
	f.secretID = "app/" + f.user
	out, err := f.client.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{
		Name: aws.String(f.secretID), SecretString: aws.String(f.secretString(f.password, ssl)),
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = out
	return f
}

func (f *fixture) secretString(password string, ssl any) string {
	m := map[string]any{"engine": "mariadb", "host": f.server.Host(), "port": f.server.Port(),
		"username": f.user, "password": password, "dbname": ""}
	if ssl != nil {
		m["ssl"] = ssl
	}
	b, err := json.Marshal(m)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

// setDBPassword changes the user's password in the database only.
func (f *fixture) setDBPassword(password string) {
	f.t.Helper()
	// ALTER USER takes no placeholders; test passwords are plain
	// [a-z0-9-] and UniqueName users are [a-z0-9_].
	if strings.ContainsAny(password, `'\`) {
		f.t.Fatalf("test password must not need quoting")
	}
	_, err := f.server.RootDB().ExecContext(ctxT(f.t), "ALTER USER '"+f.user+"'@'%' IDENTIFIED BY '"+password+"'")
	if err != nil {
		f.t.Fatal(err)
	}
}

// putStage stores password as a new version carrying stage.
func (f *fixture) putStage(password, stage string) {
	f.t.Helper()
	_, err := f.client.PutSecretValue(ctxT(f.t), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(f.secretID), SecretString: aws.String(f.secretString(password, true)),
		VersionStages: []string{stage},
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// smCalls is the number of Secrets Manager reads so far.
func (f *fixture) smCalls() int {
	return f.sm.Calls("GetSecretValue") + f.sm.Calls("DescribeSecret")
}

// connector returns a connector for the fixture's secret trusting the test CA.
func (f *fixture) connector(opts ...connect.Option) *connect.Connector {
	f.t.Helper()
	opts = append([]connect.Option{connect.WithClient(f.client), connect.WithCABundlePEM(f.server.CAPEM())}, opts...)
	c, err := connect.NewConnector(ctxT(f.t), f.secretID, opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// openDB returns a *sql.DB that opens a new connection for every query, so
// every query exercises the connector.
func (f *fixture) openDB(opts ...connect.Option) (*sql.DB, *connect.Connector) {
	c := f.connector(opts...)
	sdb := sql.OpenDB(c)
	sdb.SetMaxIdleConns(0)
	f.t.Cleanup(func() { sdb.Close() })
	return sdb, c
}

// currentUser runs a query that proves the login.
func currentUser(t testing.TB, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) string {
	t.Helper()
	var u string
	if err := q.QueryRowContext(ctxT(t), "SELECT CURRENT_USER()").Scan(&u); err != nil {
		t.Fatalf("query: %v", err)
	}
	return strings.SplitN(u, "@", 2)[0]
}
