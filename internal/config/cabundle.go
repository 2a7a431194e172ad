package config

import (
	"fmt"
	"os"

	"github.com/example/secret-rotation/internal/rdsca"
)

// RDSCABundleURL is where AWS publishes the certificate bundle of every
// Amazon RDS CA in every commercial region. The function ships the RDS CAs
// of package rdsca; for a region that bundle does not cover, download this
// one and point caBundlePath at the file. The app never fetches it itself.
const RDSCABundleURL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"

// maxCABundleSize bounds what is read: the RDS global bundle is about 160 KB.
const maxCABundleSize = 4 << 20

// CheckCABundle verifies that path is a PEM file holding only X.509
// certificates (at least one), as the RDS CA bundle does, and returns how
// many it holds. A private key or any other PEM block is an error: the file
// is shipped inside the function package.
func CheckCABundle(path string) (int, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("CA bundle: %w", err)
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("CA bundle %s: not a regular file", path)
	}
	if st.Size() > maxCABundleSize {
		return 0, fmt.Errorf("CA bundle %s: %d bytes, more than %d", path, st.Size(), maxCABundleSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("CA bundle: %w", err)
	}
	certs, err := rdsca.ParsePEM(data)
	if err != nil {
		return 0, fmt.Errorf("CA bundle %s: %w", path, err)
	}
	return len(certs), nil
}
