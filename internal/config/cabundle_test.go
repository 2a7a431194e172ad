package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/config"
)

// testCertPEM returns a throwaway self-signed CA certificate in PEM.
func testCertPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestCheckCABundle(t *testing.T) {
	cert := testCertPEM(t)
	dir := t.TempDir()
	tests := []struct {
		name    string
		content []byte // nil: no file
		want    int
		errLike string
	}{
		{name: "one certificate", content: cert, want: 1},
		{name: "bundle of two", content: append(append([]byte{}, cert...), cert...), want: 2},
		{name: "missing", errLike: "no such file"},
		{name: "empty", content: []byte{}, errLike: "no PEM CERTIFICATE block"},
		{name: "not PEM", content: []byte("pem"), errLike: "no PEM CERTIFICATE block"},
		{name: "private key", content: append(append([]byte{}, cert...), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})...), errLike: `"PRIVATE KEY", want only CERTIFICATE`},
		{name: "bad DER", content: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}), errLike: "certificate 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".pem")
			if tc.content != nil {
				if err := os.WriteFile(path, tc.content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			n, err := config.CheckCABundle(path)
			if tc.errLike != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errLike) {
					t.Fatalf("CheckCABundle = %d, %v; want an error containing %q", n, err, tc.errLike)
				}
				return
			}
			if err != nil || n != tc.want {
				t.Fatalf("CheckCABundle = %d, %v; want %d", n, err, tc.want)
			}
		})
	}
}

// TestCABundlePathValidated: Load rejects a caBundlePath that is not a PEM
// certificate bundle, naming the key, and accepts a real one.
func TestCABundlePathValidated(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pem")
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(good, testCertPEM(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func(path string) error {
		ctx := config.ContextMap{config.ContextEnvironments: map[string]any{"dev": map[string]any{"caBundlePath": path}}}
		_, err := config.Load(ctx, nil)
		return err
	}
	if err := load(good); err != nil {
		t.Errorf("valid bundle rejected: %v", err)
	}
	err := load(bad)
	if err == nil || !strings.Contains(err.Error(), "environments.dev.caBundlePath") || !strings.Contains(err.Error(), "PEM") {
		t.Errorf("invalid bundle: error %v, want one naming environments.dev.caBundlePath and PEM", err)
	}
}
