package testdb_test

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/testkit/testdb"
	"github.com/go-sql-driver/mysql"
)

// awkwardPassword has every character class GetRandomPassword can emit,
// including the ones that break naive SQL quoting.
const awkwardPassword = `a'b"c\d` + "`e%f_g;h--i/*j*/ k!@#$^&()+={}[]|:<>,.?~"

func TestCreateUserAndCanLogin(t *testing.T) {
	ctx := testContext(t)
	user := newUser(t, srv, "right-pw")
	awkward := newUser(t, srv, awkwardPassword)

	tests := []struct {
		name, user, password string
		want                 bool
	}{
		{"right password", user, "right-pw", true},
		{"wrong password", user, "wrong-pw", false},
		{"empty password", user, "", false},
		{"unknown user", "nobody_" + user, "right-pw", false},
		{"awkward password round-trips", awkward, awkwardPassword, true},
		{"awkward password without backslash", awkward, strings.ReplaceAll(awkwardPassword, `\`, ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := srv.CanLogin(ctx, tt.user, tt.password)
			if err != nil {
				t.Fatalf("CanLogin: %v", err)
			}
			if got != tt.want {
				t.Errorf("CanLogin(%s) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}

	t.Run("existing user is an error", func(t *testing.T) {
		if err := srv.CreateUser(ctx, user, "x"); err == nil {
			t.Error("CreateUser of an existing user succeeded")
		}
	})
}

func TestDropUser(t *testing.T) {
	ctx := testContext(t)
	user := newUser(t, srv, "pw")
	if err := srv.DropUser(ctx, user); err != nil {
		t.Fatalf("DropUser: %v", err)
	}
	if ok, err := srv.CanLogin(ctx, user, "pw"); err != nil || ok {
		t.Errorf("CanLogin after DropUser = %v, %v; want false, nil", ok, err)
	}
	if err := srv.DropUser(ctx, user); err != nil {
		t.Errorf("DropUser of a missing user: %v, want nil", err)
	}
}

// TestOwnPasswordChange covers the single-user rotation strategy: a user
// changes its own password. SET PASSWORD needs no privilege at all; ALTER
// USER needs CREATE USER on MariaDB and must name the account explicitly:
// on MariaDB 10.11 "ALTER USER CURRENT_USER() IDENTIFIED BY" succeeds
// without changing anything.
func TestOwnPasswordChange(t *testing.T) {
	tests := []struct {
		name, stmt string
		grants     []string
	}{
		{"SET PASSWORD with default grant", "SET PASSWORD = PASSWORD(?)", nil},
		{"ALTER USER account with CREATE USER", "ALTER USER %s IDENTIFIED BY ?", []string{"CREATE USER ON *.*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			user := newUser(t, srv, "old-pw", tt.grants...)
			cfg := srv.Config(user, "old-pw", "")
			cfg.InterpolateParams = true // these statements cannot be prepared
			db := openDB(t, cfg)
			stmt := tt.stmt
			if strings.Contains(stmt, "%s") {
				stmt = fmt.Sprintf(stmt, "'"+user+"'@'%'")
			}
			if _, err := db.ExecContext(ctx, stmt, awkwardPassword); err != nil {
				t.Fatalf("%s as the user itself: %v", stmt, err)
			}
			for pw, want := range map[string]bool{awkwardPassword: true, "old-pw": false} {
				if got, err := srv.CanLogin(ctx, user, pw); err != nil || got != want {
					t.Errorf("CanLogin(%q) = %v, %v; want %v, nil", pw, got, err, want)
				}
			}
		})
	}
}

func TestGrants(t *testing.T) {
	ctx := testContext(t)
	own, other := testdb.UniqueName(t), testdb.UniqueName(t)
	for _, db := range []string{own, other} {
		if err := srv.CreateDatabase(ctx, db); err != nil {
			t.Fatalf("CreateDatabase: %v", err)
		}
		t.Cleanup(func() { _ = srv.DropDatabase(ctx, db) })
	}
	user := newUser(t, srv, "pw", "ALL ON "+own+".*")
	db := openDB(t, srv.Config(user, "pw", ""))

	t.Run("granted database", func(t *testing.T) {
		if _, err := db.ExecContext(ctx, "CREATE TABLE "+own+".t (id INT)"); err != nil {
			t.Errorf("create table in granted database: %v", err)
		}
	})
	t.Run("other database denied", func(t *testing.T) {
		if _, err := db.ExecContext(ctx, "CREATE TABLE "+other+".t (id INT)"); err == nil {
			t.Error("create table in a database without grant succeeded")
		}
	})
	t.Run("grant option goes after TO", func(t *testing.T) {
		admin := newUser(t, srv, "pw", "ALL ON *.* with grant option")
		var grants []string
		rows, err := srv.RootDB().QueryContext(ctx, "SHOW GRANTS FOR '"+admin+"'@'%'")
		if err != nil {
			t.Fatalf("SHOW GRANTS: %v", err)
		}
		defer rows.Close()
		for rows.Next() {
			var g string
			if err := rows.Scan(&g); err != nil {
				t.Fatal(err)
			}
			grants = append(grants, g)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(grants, "\n"), "WITH GRANT OPTION") {
			t.Errorf("grants %q lack WITH GRANT OPTION", grants)
		}
	})
	t.Run("bad grant drops the user", func(t *testing.T) {
		name := testdb.UniqueName(t)
		if err := srv.CreateUser(ctx, name, "pw", "NO SUCH PRIVILEGE ON *.*"); err == nil {
			t.Fatal("CreateUser with an invalid grant succeeded")
		}
		if ok, err := srv.CanLogin(ctx, name, "pw"); err != nil || ok {
			t.Errorf("CanLogin after failed CreateUser = %v, %v; want false, nil", ok, err)
		}
	})
}

func TestRootDB(t *testing.T) {
	var user string
	if err := srv.RootDB().QueryRowContext(testContext(t), "SELECT CURRENT_USER()").Scan(&user); err != nil {
		t.Fatalf("query as root: %v", err)
	}
	if user != "root@localhost" {
		t.Errorf("CURRENT_USER() = %q, want root@localhost", user)
	}
	if v := srv.Version(); !strings.Contains(v, "MariaDB") && !strings.HasPrefix(v, "8.") {
		t.Errorf("Version() = %q, want a MariaDB or MySQL 8 version", v)
	}
}

func openDB(t *testing.T, cfg *mysql.Config) *sql.DB {
	t.Helper()
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatalf("NewConnector: %v", err)
	}
	db := sql.OpenDB(connector)
	t.Cleanup(func() { db.Close() })
	return db
}

// FailedLogins counts an account's refused logins on the server; with
// BlockAfterFailedLogins(1) one failed login blocks the account (error
// 4150), the right password included, until the setting is restored.
func TestFailedLoginsAndBlocking(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t) // the setting is server-wide
	user := newUser(t, s, "right-pw")
	failed := func() int {
		t.Helper()
		n, err := s.FailedLogins(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	login := func(pw string) (bool, error) {
		t.Helper()
		return s.CanLogin(ctx, user, pw)
	}
	if n := failed(); n != 0 {
		t.Fatalf("before any login: %d failed logins", n)
	}
	if ok, err := login("wrong-pw"); ok || err != nil {
		t.Fatalf("wrong password: %v, %v", ok, err)
	}
	if ok, err := login("right-pw"); !ok || err != nil {
		t.Fatalf("right password: %v, %v", ok, err)
	}
	if n := failed(); n != 1 {
		t.Fatalf("failed logins = %d, want 1", n)
	}

	restore, err := s.BlockAfterFailedLogins(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := login("right-pw"); !ok || err != nil {
		t.Fatalf("right password after a success reset the count: %v, %v", ok, err)
	}
	if ok, err := login("wrong-pw"); ok || err != nil {
		t.Fatalf("wrong password: %v, %v", ok, err)
	}
	_, err = login("right-pw")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 4150 {
		t.Fatalf("right password after one failed login: %v, want error 4150 (blocked)", err)
	}
	if n := failed(); n != 2 {
		t.Fatalf("failed logins = %d, want 2 (the blocked login is not counted)", n)
	}
	if err := restore(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := login("right-pw"); !ok || err != nil {
		t.Fatalf("right password after restore: %v, %v", ok, err)
	}
}
