package config_test

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

func TestCheckCABundle(t *testing.T) {
	cert := testdb.UnrelatedCA(t)
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
	if err := os.WriteFile(good, testdb.UnrelatedCA(t), 0o644); err != nil {
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

// TestCACertificateIdentifier: the instance's CA defaults to
// rds-ca-rsa2048-g1; every identifier whose roots the function ships is
// accepted, anything else is rejected; a region whose roots the shipped
// bundle lacks needs caBundlePath.
func TestCACertificateIdentifier(t *testing.T) {
	if got := config.DefaultEnvironment().CACertificateIdentifier; got != "rds-ca-rsa2048-g1" {
		t.Errorf("default caCertificateIdentifier = %q, want rds-ca-rsa2048-g1", got)
	}
	pem := filepath.Join(t.TempDir(), "il-central-1-bundle.pem")
	if err := os.WriteFile(pem, testdb.UnrelatedCA(t), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func(kv map[string]any, defaultRegion string) (config.Environment, error) {
		cfg, err := config.Load(ctxWith(kv), map[string]string{config.EnvDefaultRegion: defaultRegion})
		if err != nil {
			return config.Environment{}, err
		}
		return cfg.Environments["dev"], nil
	}
	for _, id := range []string{"rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"} {
		for _, region := range []string{"", "us-east-1", "eu-central-2", "ap-southeast-4"} {
			e, err := load(map[string]any{"caCertificateIdentifier": id, "region": region}, "")
			if err != nil || e.CACertificateIdentifier != id {
				t.Errorf("%s in %q: %q, %v", id, region, e.CACertificateIdentifier, err)
			}
		}
	}
	if _, err := load(map[string]any{"caBundlePath": pem}, "il-central-1"); err != nil {
		t.Errorf("il-central-1 with caBundlePath: %v", err)
	}

	for _, tc := range []struct {
		name          string
		kv            map[string]any
		defaultRegion string
		want          []string
	}{
		{"expired rds-ca-2019", map[string]any{"caCertificateIdentifier": "rds-ca-2019"}, "",
			[]string{"environments.dev.caCertificateIdentifier", `"rds-ca-2019"`, "one of rds-ca-ecc384-g1, rds-ca-rsa2048-g1, rds-ca-rsa4096-g1"}},
		{"empty", map[string]any{"caCertificateIdentifier": ""}, "", []string{"caCertificateIdentifier", `""`}},
		{"region not covered", map[string]any{"region": "il-central-1"}, "",
			[]string{"environments.dev.caBundlePath", "region il-central-1", "no rds-ca-rsa2048-g1 root", "global-bundle.pem"}},
		{"CDK_DEFAULT_REGION not covered", map[string]any{"caCertificateIdentifier": "rds-ca-ecc384-g1"}, "ca-west-1",
			[]string{"environments.dev.caBundlePath", "region ca-west-1", "no rds-ca-ecc384-g1 root"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(tc.kv, tc.defaultRegion)
			wantLoadError(t, err, tc.want)
		})
	}
}
