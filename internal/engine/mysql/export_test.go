package mysql

import (
	"crypto/x509"
	"testing"

	"github.com/example/secret-rotation/internal/rdsca"
)

// SetShippedCAs makes pemBytes the CAs a Dialer trusts without options in
// place of the Amazon RDS bundle built into the binary, until the test
// ends: no RDS CA private key is at hand to sign a test server.
func SetShippedCAs(t testing.TB, pemBytes []byte) {
	t.Helper()
	certs, err := rdsca.ParsePEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	saved := shippedCAs
	shippedCAs = func() []*x509.Certificate { return certs }
	t.Cleanup(func() { shippedCAs = saved })
}
