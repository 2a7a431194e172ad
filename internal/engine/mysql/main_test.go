package mysql_test

import (
	"testing"

	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// srv is the package's MariaDB server: TLS offered, plain text allowed.
var srv *testdb.Server

func TestMain(m *testing.M) { testdb.Main(m, &srv) }
