package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Main is a TestMain body: it starts a server with opts into *srv, runs the
// tests and always stops the server, then exits with the tests' status. If
// the server cannot start, it prints why (including what to install) and
// exits 1 without running any test: a missing server is a failure, never a
// skip.
//
//	func TestMain(m *testing.M) { testdb.Main(m, &srv) }
func Main(m *testing.M, srv **Server, opts ...Option) {
	os.Exit(run(m, srv, opts...))
}

func run(m *testing.M, srv **Server, opts ...Option) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	s, err := Start(ctx, opts...)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: cannot start the test database server: %v\n", err)
		return 1
	}
	*srv = s
	defer func() {
		if err := s.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testdb: %v\n", err)
		}
	}()
	return m.Run()
}

var nameCounter atomic.Uint64

// UniqueName returns a short lower-case identifier derived from the test's
// name, unique within the process and very likely across processes, safe
// unquoted as a database or user name (at most 32 characters, MySQL's user
// name limit; [a-z0-9_] only).
func UniqueName(t testing.TB) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	base := strings.TrimPrefix(b.String(), "test")
	if len(base) > 16 {
		base = base[len(base)-16:] // subtest names are at the end
	}
	var rnd [2]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand never fails on supported platforms
	return "t_" + base + "_" + strconv.FormatUint(nameCounter.Add(1), 36) + hex.EncodeToString(rnd[:])
}

// UnrelatedCA is [UnrelatedCAPEM] for a test: it fails the test if the
// certificate cannot be made. Also the module's throwaway CA certificate
// for tests that need any valid PEM CA (no server is started).
func UnrelatedCA(t testing.TB) []byte {
	t.Helper()
	pem, err := UnrelatedCAPEM()
	if err != nil {
		t.Fatal(err)
	}
	return pem
}
