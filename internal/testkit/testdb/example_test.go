package testdb_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// The usual shape of a test package that needs a database: one server in
// TestMain, a database and user per test. (Compiled, not run: a test
// binary has only one TestMain.)
func ExampleMain() {
	var srv *testdb.Server
	testMain := func(m *testing.M) { testdb.Main(m, &srv) }
	testX := func(t *testing.T) {
		ctx := context.Background()
		name := testdb.UniqueName(t)
		if err := srv.CreateDatabase(ctx, name); err != nil {
			t.Fatal(err)
		}
		if err := srv.CreateUser(ctx, name, "pw", "ALL ON "+name+".*"); err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("mysql", srv.DSN(name, "pw", name)) // verified TLS
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
	}
	_, _ = testMain, testX
}

// Simulating an outage: connections are refused between Halt and Resume.
func ExampleServer_Halt() {
	ctx := context.Background()
	srv, err := testdb.Start(ctx)
	if err != nil {
		panic(err) // in a test: t.Fatal
	}
	defer srv.Stop()
	_ = srv.Halt()
	// ... the code under test retries or fails cleanly ...
	_ = srv.Resume(ctx)
}
