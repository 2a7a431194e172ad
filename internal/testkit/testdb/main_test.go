package testdb_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// srv is the package's shared server (TLS on, default options).
var srv *testdb.Server

// childEnv makes the test binary act as a crashing test process for
// TestServerDiesWithTestBinary instead of running tests.
const childEnv = "TESTDB_TEST_CHILD"

// noServerEnv makes TestMain look for the server in an empty directory, for
// TestMainFailsWithoutServer.
const noServerEnv = "TESTDB_TEST_NO_SERVER"

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(childEnv) == "1":
		runChild()
	case os.Getenv(noServerEnv) != "":
		testdb.Main(m, &srv, testdb.WithSearchPath(os.Getenv(noServerEnv)))
	default:
		testdb.Main(m, &srv)
	}
}

// runChild starts a server, reports its pid and directory, and waits to be
// killed without ever calling Stop.
func runChild() {
	s, err := testdb.Start(context.Background())
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Printf("%d %s\n", testdb.ServerPID(s), testdb.ServerDir(s))
	time.Sleep(time.Hour)
	os.Exit(3)
}

// testContext returns a context bounded so a hung server fails the test
// instead of the whole binary.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startServer starts a private server for tests that change server state.
func startServer(t *testing.T, opts ...testdb.Option) *testdb.Server {
	t.Helper()
	s, err := testdb.Start(testContext(t), opts...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

// newUser creates a uniquely named user and returns its name.
func newUser(t *testing.T, s *testdb.Server, password string, grants ...string) string {
	t.Helper()
	name := testdb.UniqueName(t)
	if err := s.CreateUser(testContext(t), name, password, grants...); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return name
}
