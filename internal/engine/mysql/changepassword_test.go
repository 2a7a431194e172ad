package mysql_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/secret"
)

// TestChangePasswordServerErrorRedacted: when the server rejects the
// password statement, ChangePassword's error keeps the server error's
// number and says the message was withheld (MySQL messages can quote the
// statement, which holds the new password). read_only makes MariaDB
// refuse SET PASSWORD for an account without READ_ONLY ADMIN.
func TestChangePasswordServerErrorRedacted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const user, initial, next = "u_redact", "Initial-Pa55word", "N3xt-Pa55word-Never-Shown"
	if err := srv.CreateUser(ctx, user, initial); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.DropUser(context.Background(), user) })
	d, err := mysql.NewDialer(mysql.WithCABundlePEM(srv.CAPEM()))
	if err != nil {
		t.Fatal(err)
	}
	s, err := secret.Parse(`{"engine":"mariadb","host":"` + srv.Host() + `","port":` + strconv.Itoa(srv.Port()) + `,"username":"` + user + `","password":"` + initial + `","ssl":true}`)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := mysql.NewEngine(d).Login(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, err := srv.RootDB().ExecContext(ctx, "SET GLOBAL read_only = 1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.RootDB().Exec("SET GLOBAL read_only = 0") })
	err = sess.ChangePassword(ctx, next)
	if err == nil {
		t.Fatal("ChangePassword succeeded on a read-only server")
	}
	msg := err.Error()
	if strings.Contains(msg, next) || strings.Contains(msg, "read-only option") {
		t.Errorf("error carries the server's message: %v", err)
	}
	if !strings.Contains(msg, "server error 1290") || !strings.Contains(msg, "withheld") {
		t.Errorf("error = %v, want the server error number with the message withheld", err)
	}
}
