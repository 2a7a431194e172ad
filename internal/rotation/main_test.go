package rotation_test

import (
	"testing"

	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// srv is the package's MariaDB server. require_secure_transport=ON, so
// every integration test that rotates proves the function uses verified
// TLS.
var srv *testdb.Server

func TestMain(m *testing.M) { testdb.Main(m, &srv, testdb.WithRequireSecureTransport()) }
