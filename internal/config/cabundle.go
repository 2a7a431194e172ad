package config

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// RDSCABundleURL is where AWS publishes the certificate bundle of every
// Amazon RDS CA in every commercial region; download it and point
// caBundlePath at the file. The app never fetches it itself.
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
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return 0, fmt.Errorf("CA bundle %s: PEM block %d is %q, want only CERTIFICATE blocks", path, n+1, block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return 0, fmt.Errorf("CA bundle %s: certificate %d: %w", path, n+1, err)
		}
		n++
	}
	if n == 0 {
		return 0, errors.New("CA bundle " + path + ": no PEM CERTIFICATE block")
	}
	return n, nil
}
