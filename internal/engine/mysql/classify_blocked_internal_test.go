package mysql

import (
	"errors"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/example/secret-rotation/internal/engine"
)

// MySQL's FAILED_LOGIN_ATTEMPTS lock (3955) is classified like MariaDB's
// max_password_errors block (4150, tested against the server in
// TestDialerBlockedAccount); there is no MySQL server here to provoke it.
func TestClassifyBlocked(t *testing.T) {
	for _, n := range []uint16{4150, 3955} {
		err := classify(&gomysql.MySQLError{Number: n, Message: "blocked"}, "db:3306", true)
		if !errors.Is(err, engine.ErrBlocked) || errors.Is(err, engine.ErrAuth) {
			t.Errorf("error %d: %v, want engine.ErrBlocked and not engine.ErrAuth", n, err)
		}
	}
	if err := classify(&gomysql.MySQLError{Number: 1045}, "db:3306", true); errors.Is(err, engine.ErrBlocked) {
		t.Errorf("1045 classified as blocked: %v", err)
	}
}
