package connect_test

import (
	"database/sql"
	"errors"
	"testing"

	"github.com/example/secret-rotation/connect"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// sslCipher returns the session's TLS cipher ("" for plain text).
func sslCipher(t *testing.T, sdb *sql.DB) string {
	t.Helper()
	var name, cipher string
	if err := sdb.QueryRowContext(ctxT(t), "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil {
		t.Fatal(err)
	}
	return cipher
}

// The secret's "ssl" key decides TLS as in the rotation function, with the
// server certificate verified against the CA bundle.
func TestTLSModes(t *testing.T) {
	plainServer, err := testdb.Start(ctxT(t), testdb.WithoutTLS())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plainServer.Stop() })

	tests := []struct {
		name     string
		server   *testdb.Server
		ssl      any
		trustCA  bool
		wantTLS  bool
		wantErr  error // nil: must connect
		anyError bool  // an error whose kind is not asserted
	}{
		{name: "ssl true uses verified TLS", server: db, ssl: true, trustCA: true, wantTLS: true},
		{name: "ssl absent prefers TLS", server: db, ssl: nil, trustCA: true, wantTLS: true},
		{name: "ssl false is plain text", server: db, ssl: false, trustCA: true, wantTLS: false},
		{name: "ssl string true", server: db, ssl: "true", trustCA: true, wantTLS: true},
		{name: "ssl true with an untrusted certificate fails", server: db, ssl: true, trustCA: false, wantErr: connect.ErrCertificate},
		{name: "ssl absent falls back to plain text on a server without TLS", server: plainServer, ssl: nil, trustCA: true, wantTLS: false},
		{name: "ssl true refuses a server without TLS", server: plainServer, ssl: true, trustCA: true, anyError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.server, tt.ssl)
			opts := []connect.Option{connect.WithClient(f.client)}
			if tt.trustCA {
				opts = append(opts, connect.WithCABundlePEM(db.CAPEM()))
			}
			c, err := connect.NewConnector(ctxT(t), f.secretID, opts...)
			if err != nil {
				t.Fatal(err)
			}
			sdb := sql.OpenDB(c)
			defer sdb.Close()
			err = sdb.PingContext(ctxT(t))
			switch {
			case tt.wantErr != nil || tt.anyError:
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("Ping err = %v, want %v", err, tt.wantErr)
				}
				if errors.Is(err, connect.ErrAuth) || c.Stats().Refreshes != 0 {
					t.Fatalf("a TLS failure must not look like a refused password: %v", err)
				}
				return
			case err != nil:
				t.Fatalf("Ping: %v", err)
			}
			if got := sslCipher(t, sdb) != ""; got != tt.wantTLS {
				t.Fatalf("TLS in use = %v, want %v", got, tt.wantTLS)
			}
		})
	}
}
