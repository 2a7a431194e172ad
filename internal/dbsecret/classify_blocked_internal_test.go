package dbsecret

import (
	"errors"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// MySQL's FAILED_LOGIN_ATTEMPTS lock (3955) is classified like MariaDB's
// max_password_errors block (4150, tested against the server in
// TestDialerBlockedAccount); there is no MySQL server here to provoke it.
func TestClassifyBlocked(t *testing.T) {
	for _, n := range []uint16{4150, 3955} {
		err := classify(&mysql.MySQLError{Number: n, Message: "blocked"}, "db:3306", true)
		if !errors.Is(err, ErrBlocked) || errors.Is(err, ErrAuth) {
			t.Errorf("error %d: %v, want ErrBlocked and not ErrAuth", n, err)
		}
	}
	if err := classify(&mysql.MySQLError{Number: 1045}, "db:3306", true); errors.Is(err, ErrBlocked) {
		t.Errorf("1045 classified as blocked: %v", err)
	}
}
