package connect_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/example/secret-rotation/connect"
)

// Refreshes are logged with the secret id, and nothing logged or returned
// contains a password.
func TestLogsNeverContainPasswords(t *testing.T) {
	f := newFixture(t, db, true)
	var buf bytes.Buffer
	sdb, _ := f.openDB(connect.WithLogger(slog.New(slog.NewJSONHandler(&buf, nil))))
	currentUser(t, sdb)
	f.setDBPassword("rotated-logged")
	f.putStage("rotated-logged", "AWSPENDING")
	currentUser(t, sdb)
	f.putStage("rotated-logged", "AWSCURRENT")
	f.setDBPassword("rotated-again")
	f.putStage("rotated-again", "AWSCURRENT")
	currentUser(t, sdb)
	logged := buf.String()
	if !strings.Contains(logged, f.secretID) || !strings.Contains(logged, "refreshed") {
		t.Fatalf("refresh not logged with the secret id: %q", logged)
	}
	for _, pw := range []string{f.password, "rotated-logged", "rotated-again"} {
		if strings.Contains(logged, pw) {
			t.Fatalf("log contains a password: %q", logged)
		}
	}
}

// With a short cache TTL a finished rotation is picked up by re-reading
// the secret, before any login is refused.
func TestCacheTTLPicksUpRotation(t *testing.T) {
	f := newFixture(t, db, true)
	sdb, c := f.openDB(connect.WithCacheTTL(time.Nanosecond))
	currentUser(t, sdb)
	f.putStage("ttl-rotated", "AWSCURRENT")
	f.setDBPassword("ttl-rotated")
	currentUser(t, sdb)
	// The credentials that logged in last are tried first (one refusal),
	// then AWSCURRENT as the expired cache re-read it: no refresh.
	if st := c.Stats(); st.Refreshes != 0 || st.RefusedLogins != 1 || st.Connections != 2 {
		t.Fatalf("stats = %+v, want the new value read through the cache TTL without a refresh", st)
	}
}
