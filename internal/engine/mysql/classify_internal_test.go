package mysql

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/engine"
)

// The local server's certificate names both localhost and 127.0.0.1, so a
// host name mismatch is provoked here rather than against the server.
func TestClassifyHostnameError(t *testing.T) {
	err := classify(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "db.example"}, "db.example:3306", true)
	if !errors.Is(err, engine.ErrCertificate) || !strings.Contains(err.Error(), "not valid for this host name") {
		t.Fatalf("classify = %v", err)
	}
}
