package mysql_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/engine/mysql"
	"github.com/example/secret-rotation/internal/rdsca"
	"github.com/example/secret-rotation/internal/secret"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// secretFor builds a parsed secret for a user on s; ssl is nil (absent),
// true or false.
func secretFor(t *testing.T, s *testdb.Server, user, password string, ssl any) *secret.Secret {
	t.Helper()
	m := map[string]any{"engine": "mariadb", "host": s.Host(), "port": s.Port(), "username": user, "password": password}
	if ssl != nil {
		m["ssl"] = ssl
	}
	b, _ := json.Marshal(m)
	sec, err := secret.Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

func newUser(t *testing.T, s *testdb.Server) (string, string) {
	t.Helper()
	user, pw := testdb.UniqueName(t), "Pw-"+testdb.UniqueName(t)
	if err := s.CreateUser(context.Background(), user, pw); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.DropUser(context.Background(), user) })
	return user, pw
}

// cipher returns the session's TLS cipher, "" for plain text.
func cipher(t *testing.T, d *mysql.Dialer, sec *secret.Secret) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := d.Open(ctx, sec)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var name, value string
	if err := db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &value); err != nil {
		t.Fatal(err)
	}
	return value, nil
}

// otherCA writes a PEM CA certificate unrelated to the server's.
func otherCA(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wrong-ca.pem")
	if err := os.WriteFile(path, testdb.UnrelatedCA(t), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDialerTLSPolicy(t *testing.T) {
	ctx := context.Background()
	strict, err := testdb.Start(ctx, testdb.WithRequireSecureTransport())
	if err != nil {
		t.Fatal(err)
	}
	defer strict.Stop()
	noTLS, err := testdb.Start(ctx, testdb.WithoutTLS())
	if err != nil {
		t.Fatal(err)
	}
	defer noTLS.Stop()

	right, err := mysql.NewDialer(mysql.WithCABundleFile(srv.CAFile()))
	if err != nil {
		t.Fatal(err)
	}
	rightStrict, err := mysql.NewDialer(mysql.WithCABundleFile(strict.CAFile()))
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := mysql.NewDialer(mysql.WithCABundleFile(otherCA(t)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		server    *testdb.Server
		dialer    *mysql.Dialer
		ssl       any
		wantTLS   bool
		wantErrIs error  // nil: success
		wantInErr string // substring of the error
	}{
		{"ssl true, right CA", srv, right, true, true, nil, ""},
		{"ssl \"true\", right CA", srv, right, "true", true, nil, ""},
		{"ssl absent, right CA: TLS", srv, right, nil, true, nil, ""},
		{"ssl false: plain", srv, right, false, false, nil, ""},
		{"ssl true, wrong CA: certificate error", srv, wrong, true, false, engine.ErrCertificate, "certificate"},
		{"ssl absent, wrong CA: falls back to plain as AWS does", srv, wrong, nil, false, nil, ""},
		{"require_secure_transport, ssl true", strict, rightStrict, true, true, nil, ""},
		{"require_secure_transport, ssl absent", strict, rightStrict, nil, true, nil, ""},
		// MariaDB answers a plain login under require_secure_transport with
		// error 1045 (access denied), indistinguishable from a wrong password.
		{"require_secure_transport, ssl false: refused", strict, rightStrict, false, false, engine.ErrAuth, "over plain text"},
		{"require_secure_transport, wrong CA, ssl absent: certificate error", strict, wrong, nil, false, engine.ErrCertificate, "plain-text fallback"},
		{"no TLS server, ssl absent: plain", noTLS, right, nil, false, nil, ""},
		{"no TLS server, ssl true: refused", noTLS, right, true, false, nil, "does not offer TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, pw := newUser(t, tt.server)
			c, err := cipher(t, tt.dialer, secretFor(t, tt.server, user, pw, tt.ssl))
			if tt.wantErrIs == nil && tt.wantInErr == "" {
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				if (c != "") != tt.wantTLS {
					t.Errorf("Ssl_cipher = %q, want TLS %v", c, tt.wantTLS)
				}
				return
			}
			if err == nil {
				t.Fatalf("connected (cipher %q), want an error", c)
			}
			if tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
				t.Errorf("error %v does not match %v", err, tt.wantErrIs)
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.wantInErr)) {
				t.Errorf("error %q does not mention %q", err, tt.wantInErr)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error contains the password: %v", err)
			}
		})
	}
}

func TestConnect(t *testing.T) {
	user, pw := newUser(t, srv)
	db, err := mysql.Connect(context.Background(), secretFor(t, srv, user, pw, true), mysql.WithCABundlePEM(srv.CAPEM()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got string
	if err := db.QueryRow("SELECT CURRENT_USER()").Scan(&got); err != nil || !strings.HasPrefix(got, user+"@") {
		t.Errorf("CURRENT_USER() = %q, %v", got, err)
	}
	if _, err := mysql.Connect(context.Background(), secretFor(t, srv, user, pw, true), mysql.WithCABundleFile("/nonexistent.pem")); err == nil {
		t.Error("Connect accepted a missing CA bundle")
	}
}

// TestDialerDefaultTrust: without options a Dialer trusts the CAs shipped
// in the binary (the Amazon RDS bundle, swapped here for the test server's
// CA or an unrelated one, since no RDS CA key signs a local server) on top
// of the system roots; a CA bundle option adds to them.
func TestDialerDefaultTrust(t *testing.T) {
	user, pw := newUser(t, srv)
	sec := secretFor(t, srv, user, pw, true)
	tests := []struct {
		name    string
		shipped []byte // nil: the real RDS bundle
		opts    []mysql.Option
		ok      bool
	}{
		{"server CA only in the shipped bundle: verified", srv.CAPEM(), nil, true},
		{"shipped bundle with an unrelated CA: certificate error", testdb.UnrelatedCA(t), nil, false},
		{"real RDS bundle and system roots: the private test CA is refused", nil, nil, false},
		{"CA bundle file adds the server CA to an unrelated shipped CA", testdb.UnrelatedCA(t), []mysql.Option{mysql.WithCABundleFile(srv.CAFile())}, true},
		{"CA bundle PEM does not replace the shipped CAs", srv.CAPEM(), []mysql.Option{mysql.WithCABundlePEM(testdb.UnrelatedCA(t))}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.shipped != nil {
				mysql.SetShippedCAs(t, tt.shipped)
			}
			d, err := mysql.NewDialer(tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			c, err := cipher(t, d, sec)
			switch {
			case tt.ok && (err != nil || c == ""):
				t.Fatalf("cipher %q, error %v; want a verified TLS session", c, err)
			case !tt.ok && (!errors.Is(err, engine.ErrCertificate) || !strings.Contains(err.Error(), "certificate verification failed")):
				t.Fatalf("error = %v, want ErrCertificate saying certificate verification failed", err)
			}
		})
	}
}

// TestDialerTrustsRDSRoots: the default pool holds the shipped RDS roots,
// e.g. the one of the default CA in us-east-1.
func TestDialerTrustsRDSRoots(t *testing.T) {
	d, err := mysql.NewDialer()
	if err != nil {
		t.Fatal(err)
	}
	root := rdsca.Root(rdsca.DefaultIdentifier, "us-east-1")
	if root == nil {
		t.Fatal("no us-east-1 root in the shipped bundle")
	}
	if _, err := root.Verify(x509.VerifyOptions{Roots: d.TLSConfig("db.example").RootCAs}); err != nil {
		t.Errorf("%s is not trusted by a default Dialer: %v", root.Subject.CommonName, err)
	}
}

func TestDialerWrongPasswordDoesNotFallBack(t *testing.T) {
	d, err := mysql.NewDialer(mysql.WithCABundleFile(srv.CAFile()))
	if err != nil {
		t.Fatal(err)
	}
	user, _ := newUser(t, srv)
	_, err = cipher(t, d, secretFor(t, srv, user, "not-the-password", nil))
	if !errors.Is(err, engine.ErrAuth) {
		t.Fatalf("error = %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), "plain-text fallback") {
		t.Errorf("authentication failure retried in plain text: %v", err)
	}
}

func TestDialerConnectTimeout(t *testing.T) {
	// A listener that accepts and never speaks: the MySQL handshake hangs.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	d, err := mysql.NewDialer(mysql.WithConnectTimeout(200 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	sec, err := secret.Parse(`{"engine":"mysql","host":"127.0.0.1","port":` + itoa(port) + `,"username":"u","password":"p","ssl":true}`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = d.Open(ctx, sec)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("error = %v, want a timeout", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the connect timeout did not bound the handshake")
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestNewDialerBadBundle(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	os.WriteFile(empty, []byte("not a certificate"), 0o600)
	for name, path := range map[string]string{"missing file": filepath.Join(dir, "nope.pem"), "no PEM": empty} {
		t.Run(name, func(t *testing.T) {
			if _, err := mysql.NewDialer(mysql.WithCABundleFile(path)); err == nil {
				t.Fatal("NewDialer accepted a bad CA bundle")
			}
		})
	}
}

func TestMySQLConfig(t *testing.T) {
	d, err := mysql.NewDialer()
	if err != nil {
		t.Fatal(err)
	}
	sec, err := secret.Parse(`{"engine":"mysql","host":"db.example","port":"3307","username":"u","password":"p","dbname":"app"}`)
	if err != nil {
		t.Fatal(err)
	}
	cfg := d.MySQLConfig(sec, true)
	if cfg.Addr != "db.example:3307" || cfg.User != "u" || cfg.Passwd != "p" || cfg.DBName != "app" ||
		cfg.Timeout != 5*time.Second || cfg.TLS == nil || cfg.TLS.ServerName != "db.example" || cfg.InterpolateParams || cfg.AllowFallbackToPlaintext {
		t.Errorf("unexpected config: addr %s user %s db %s timeout %v tls %v", cfg.Addr, cfg.User, cfg.DBName, cfg.Timeout, cfg.TLS != nil)
	}
	if plain := d.MySQLConfig(sec, false); plain.TLS != nil {
		t.Error("plain config has TLS")
	}
}
