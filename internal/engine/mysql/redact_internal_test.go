package mysql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
)

// TestRedactServerError: a server error from the password statement can
// quote the statement, and so the new password (MySQL's 1064 syntax error
// does); only its number and SQLSTATE may survive. Client-side errors
// carry no statement text and stay matchable.
func TestRedactServerError(t *testing.T) {
	const pw = "N3w-Pa55word-In-Statement"
	syntax := &gomysql.MySQLError{Number: 1064, SQLState: [5]byte{'4', '2', '0', '0', '0'},
		Message: "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '" + pw + "')' at line 1"}
	tests := []struct {
		name      string
		err       error
		want      []string // substrings the result must contain
		wantIs    error    // errors.Is target that must still match, if any
		wantNotAs bool     // the *gomysql.MySQLError must not be reachable
	}{
		{"server error quoting the statement", syntax, []string{"1064", "42000", "withheld"}, nil, true},
		{"wrapped server error", fmt.Errorf("exec: %w", syntax), []string{"1064", "42000"}, nil, true},
		{"context deadline", context.DeadlineExceeded, []string{"deadline"}, context.DeadlineExceeded, false},
		{"broken connection", gomysql.ErrInvalidConn, []string{"invalid connection"}, gomysql.ErrInvalidConn, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redact(tt.err)
			if got == nil {
				t.Fatal("redact returned nil")
			}
			if strings.Contains(got.Error(), pw) {
				t.Errorf("redacted error contains the password: %v", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.Error(), w) {
					t.Errorf("redacted error %q lacks %q", got, w)
				}
			}
			if tt.wantIs != nil && !errors.Is(got, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", got, tt.wantIs)
			}
			var me *gomysql.MySQLError
			if tt.wantNotAs && errors.As(got, &me) {
				t.Errorf("the server error (and its message) is still reachable through Unwrap: %v", me)
			}
		})
	}
}
