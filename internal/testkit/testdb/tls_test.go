package testdb_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/testkit/testdb"
	"github.com/go-sql-driver/mysql"
)

// sessionTLSVersion connects with cfg and returns the session's Ssl_version
// ("" for a plain connection).
func sessionTLSVersion(t *testing.T, cfg *mysql.Config) (string, error) {
	t.Helper()
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatalf("NewConnector: %v", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	var name, version string
	err = db.QueryRowContext(testContext(t), "SHOW SESSION STATUS LIKE 'Ssl_version'").Scan(&name, &version)
	return version, err
}

func TestTLSVerifiedConnection(t *testing.T) {
	user := newUser(t, srv, "pw")
	if got := srv.ServerName(); got != "localhost" {
		t.Errorf("ServerName() = %q, want localhost", got)
	}
	pem, err := os.ReadFile(srv.CAFile())
	if err != nil {
		t.Fatalf("read CAFile: %v", err)
	}
	if string(pem) != string(srv.CAPEM()) || !strings.Contains(string(pem), "BEGIN CERTIFICATE") {
		t.Errorf("CAFile content and CAPEM differ or are not PEM")
	}

	byIP := srv.TLSConfig()
	byIP.ServerName = "127.0.0.1" // the certificate's IP SAN

	tests := []struct {
		name string
		tls  *tls.Config
	}{
		{"TLSConfig verifies localhost", srv.TLSConfig()},
		{"IP SAN 127.0.0.1 verifies", byIP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := srv.Config(user, "pw", "")
			cfg.TLS = tt.tls
			version, err := sessionTLSVersion(t, cfg)
			if err != nil {
				t.Fatalf("verified TLS connection failed: %v", err)
			}
			if !strings.HasPrefix(version, "TLSv1.") {
				t.Errorf("Ssl_version = %q, want a TLS session", version)
			}
		})
	}

	t.Run("DSN keeps verified TLS", func(t *testing.T) {
		db, err := sql.Open("mysql", srv.DSN(user, "pw", ""))
		if err != nil {
			t.Fatalf("sql.Open: %v", err)
		}
		defer db.Close()
		var name, version string
		if err := db.QueryRowContext(testContext(t), "SHOW SESSION STATUS LIKE 'Ssl_version'").Scan(&name, &version); err != nil {
			t.Fatalf("query over DSN: %v", err)
		}
		if version == "" {
			t.Errorf("DSN connection is not TLS")
		}
	})
}

func TestTLSRefusesUnverifiedServer(t *testing.T) {
	user := newUser(t, srv, "pw")
	wrongName := srv.TLSConfig()
	wrongName.ServerName = "db.example.com"

	tests := []struct {
		name    string
		tls     *tls.Config
		wantErr any // pointer to the error type errors.As must find
	}{
		{"foreign CA", &tls.Config{RootCAs: foreignCAPool(t), ServerName: srv.ServerName()}, new(x509.UnknownAuthorityError)},
		{"system roots", &tls.Config{ServerName: srv.ServerName()}, new(x509.UnknownAuthorityError)},
		{"name not in certificate", wrongName, new(x509.HostnameError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := srv.Config(user, "pw", "")
			cfg.TLS = tt.tls
			_, err := sessionTLSVersion(t, cfg)
			if err == nil {
				t.Fatal("connection succeeded, want a certificate verification error")
			}
			if !errors.As(err, tt.wantErr) {
				t.Errorf("error = %v (%T), want %T", err, err, tt.wantErr)
			}
		})
	}
}

// foreignCAPool returns a pool holding a freshly made CA that did not sign
// the server's certificate.
func foreignCAPool(t *testing.T) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "testdb throwaway CA"}, // same name, other key
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

func TestRequireSecureTransport(t *testing.T) {
	s := startServer(t, testdb.WithRequireSecureTransport())
	user := newUser(t, s, "pw")

	var name, value string
	if err := s.RootDB().QueryRowContext(testContext(t), "SHOW GLOBAL VARIABLES LIKE 'require_secure_transport'").Scan(&name, &value); err != nil {
		t.Fatalf("read require_secure_transport: %v", err)
	}
	if value != "ON" {
		t.Errorf("require_secure_transport = %q, want ON", value)
	}

	// MariaDB 10.11 reports the refusal as error 1045 (access denied), MySQL
	// as 3159; either way the right password over plain TCP must fail here
	// while it works on a server without the setting.
	t.Run("plain TCP refused", func(t *testing.T) {
		cfg := s.Config(user, "pw", "")
		cfg.TLS, cfg.TLSConfig = nil, ""
		if _, err := sessionTLSVersion(t, cfg); err == nil {
			t.Error("plain TCP login succeeded under require_secure_transport")
		}
	})
	t.Run("plain TCP accepted without the setting", func(t *testing.T) {
		user := newUser(t, srv, "pw")
		cfg := srv.Config(user, "pw", "")
		cfg.TLS, cfg.TLSConfig = nil, ""
		if version, err := sessionTLSVersion(t, cfg); err != nil || version != "" {
			t.Errorf("plain login to the default server: Ssl_version %q, err %v; want \"\", nil", version, err)
		}
	})
	t.Run("TLS accepted", func(t *testing.T) {
		ok, err := s.CanLogin(testContext(t), user, "pw")
		if err != nil || !ok {
			t.Errorf("CanLogin over TLS = %v, %v; want true, nil", ok, err)
		}
	})
}

func TestWithoutTLS(t *testing.T) {
	s := startServer(t, testdb.WithoutTLS())
	user := newUser(t, s, "pw")

	if s.CAFile() != "" || s.CAPEM() != nil || s.TLSConfig() != nil {
		t.Errorf("CAFile/CAPEM/TLSConfig = %q/%q/%v, want zero values", s.CAFile(), s.CAPEM(), s.TLSConfig())
	}
	var name, haveSSL string
	if err := s.RootDB().QueryRowContext(testContext(t), "SHOW GLOBAL VARIABLES LIKE 'have_ssl'").Scan(&name, &haveSSL); err != nil {
		t.Fatalf("read have_ssl: %v", err)
	}
	if haveSSL != "DISABLED" {
		t.Errorf("have_ssl = %q, want DISABLED", haveSSL)
	}

	t.Run("plain login works", func(t *testing.T) {
		version, err := sessionTLSVersion(t, s.Config(user, "pw", ""))
		if err != nil || version != "" {
			t.Errorf("plain connection: Ssl_version %q, err %v; want \"\", nil", version, err)
		}
	})
	t.Run("client requiring TLS fails", func(t *testing.T) {
		cfg := s.Config(user, "pw", "")
		cfg.TLS = srv.TLSConfig()
		if _, err := sessionTLSVersion(t, cfg); err == nil {
			t.Error("TLS connection to a server without TLS succeeded")
		}
	})
	t.Run("preferred falls back to plain", func(t *testing.T) {
		cfg := s.Config(user, "pw", "")
		cfg.TLS = srv.TLSConfig()
		cfg.AllowFallbackToPlaintext = true
		version, err := sessionTLSVersion(t, cfg)
		if err != nil || version != "" {
			t.Errorf("fallback connection: Ssl_version %q, err %v; want \"\", nil", version, err)
		}
	})
}
