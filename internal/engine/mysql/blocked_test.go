package mysql_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/engine/mysql"
)

// An account blocked by MariaDB's max_password_errors is reported as
// ErrBlocked, not as refused credentials (the right password gets the
// same answer), and is not retried in plain text.
func TestDialerBlockedAccount(t *testing.T) {
	ctx := context.Background()
	d, err := mysql.NewDialer(mysql.WithCABundleFile(srv.CAFile()))
	if err != nil {
		t.Fatal(err)
	}
	user, pw := newUser(t, srv)
	restore, err := srv.BlockAfterFailedLogins(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { restore(context.Background()) })
	if _, err := cipher(t, d, secretFor(t, srv, user, "not-the-password", nil)); !errors.Is(err, engine.ErrAuth) {
		t.Fatalf("wrong password: %v, want ErrAuth", err)
	}
	_, err = cipher(t, d, secretFor(t, srv, user, pw, nil))
	if !errors.Is(err, engine.ErrBlocked) || errors.Is(err, engine.ErrAuth) {
		t.Fatalf("right password of a blocked account: %v, want ErrBlocked and not ErrAuth", err)
	}
	if strings.Contains(err.Error(), "plain-text fallback") {
		t.Errorf("blocked login retried in plain text: %v", err)
	}
}
