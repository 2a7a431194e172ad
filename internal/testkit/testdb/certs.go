package testdb

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// serverName is the DNS name in the server certificate. Clients verify
// against it (tls.Config.ServerName) while dialling 127.0.0.1.
const serverName = "localhost"

// certFiles are the PEM files handed to the server, plus the CA for clients.
type certFiles struct {
	caPEM             []byte
	caFile, cert, key string
}

// writeCerts generates a throwaway ECDSA P-256 CA and a server certificate it
// signs, valid for "localhost", 127.0.0.1 and ::1, and writes them into dir.
// The keys never leave dir, which Stop removes.
func writeCerts(dir string) (certFiles, error) {
	now := time.Now()
	caCert, caKey, err := newCA("testdb throwaway CA")
	if err != nil {
		return certFiles{}, err
	}

	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return certFiles{}, fmt.Errorf("generate server key: %w", err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: serverName, Organization: []string{"testdb"}},
		DNSNames:     []string{serverName},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return certFiles{}, fmt.Errorf("create server certificate: %w", err)
	}
	srvKeyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		return certFiles{}, fmt.Errorf("marshal server key: %w", err)
	}

	f := certFiles{
		caPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw}),
		caFile: filepath.Join(dir, "ca.pem"),
		cert:   filepath.Join(dir, "server-cert.pem"),
		key:    filepath.Join(dir, "server-key.pem"),
	}
	writes := []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{f.caFile, f.caPEM, 0o644},
		{f.cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}), 0o644},
		// SEC1 "EC PRIVATE KEY" is read by both OpenSSL (MariaDB, MySQL) and
		// WolfSSL builds.
		{f.key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: srvKeyDER}), 0o600},
	}
	for _, w := range writes {
		if err := os.WriteFile(w.path, w.data, w.mode); err != nil {
			return certFiles{}, fmt.Errorf("write %s: %w", filepath.Base(w.path), err)
		}
	}
	return f, nil
}

// newCA returns a new self-signed ECDSA P-256 CA certificate valid for a
// week, and its key.
func newCA(commonName string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	now := time.Now()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"testdb"}},
		NotBefore:             now.Add(-time.Hour), // tolerate small clock skew
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	return cert, key, nil
}

// UnrelatedCAPEM returns, in PEM, a new throwaway CA certificate that signed
// no server: trusting only it, a client must refuse every test server. Its
// key is discarded.
func UnrelatedCAPEM() ([]byte, error) {
	c, _, err := newCA("testdb unrelated CA")
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), nil
}

// clientTLSConfig returns a config that verifies the server against caPEM.
func clientTLSConfig(caPEM []byte) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no certificate in CA PEM")
	}
	return &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}, nil
}

func randomSerial() *big.Int {
	limit := new(big.Int).Lsh(big.NewInt(1), 127)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		// crypto/rand does not fail on supported platforms; a fixed serial
		// is harmless for a throwaway CA anyway.
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}
