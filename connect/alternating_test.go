package connect_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/connect"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// altFixture is an application user pair (x and x_clone) with one
// secret, rotated by hand the way the alternating-users strategy does it:
// createSecret puts AWSPENDING naming the other user, setSecret changes
// that user's password, finishSecret moves AWSCURRENT.
type altFixture struct {
	t        *testing.T
	sm       *smlocal.Server
	client   *secretsmanager.Client
	secretID string
	users    [2]string // x, x_clone
	cur      int       // index of the AWSCURRENT user
	n        int       // rotations done, for fresh passwords
	// masterARN is the "masterarn" value ("" makes the same secret a
	// single-user one, the control case).
	masterARN string
}

func newAltFixture(t *testing.T, masterARN string) *altFixture {
	t.Helper()
	sm, err := smlocal.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sm.Close() })
	base := testdb.UniqueName(t)
	if len(base)+len("_clone") > 32 {
		t.Fatalf("user name %q leaves no room for _clone", base)
	}
	f := &altFixture{t: t, sm: sm, client: sm.NewClient(ctxT(t)), secretID: "app/" + base,
		users: [2]string{base, base + "_clone"}, masterARN: masterARN}
	for i, u := range f.users {
		if err := db.CreateUser(ctxT(t), u, f.password(i, 0)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.DropUser(ctxT(t), u) })
	}
	if _, err := f.client.CreateSecret(ctxT(t), createInput(f.secretID, f.value(0, 0))); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *altFixture) password(user, n int) string {
	return "pw-" + strings.ReplaceAll(f.users[user], "_", "-") + "-" + string(rune('a'+n))
}

func (f *altFixture) value(user, n int) string {
	m := map[string]any{"engine": "mariadb", "host": db.Host(), "port": db.Port(), "ssl": true,
		"username": f.users[user], "password": f.password(user, n), "dbname": ""}
	if f.masterARN != "" {
		m["masterarn"] = f.masterARN
	}
	b, err := json.Marshal(m)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

// createSecret stores the next value, for the other user, as AWSPENDING
// and returns its version id.
func (f *altFixture) createSecret() string {
	f.t.Helper()
	f.n++
	token := "00000000-0000-4000-8000-" + strings.Repeat("0", 11) + string(rune('a'+f.n))
	_, err := f.client.PutSecretValue(ctxT(f.t), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(f.secretID), SecretString: aws.String(f.value(1-f.cur, f.n)),
		ClientRequestToken: aws.String(token), VersionStages: []string{"AWSPENDING"},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return token
}

// setSecret changes the pending user's password in the database.
func (f *altFixture) setSecret() {
	f.t.Helper()
	u := 1 - f.cur
	_, err := db.RootDB().ExecContext(ctxT(f.t), "ALTER USER '"+f.users[u]+"'@'%' IDENTIFIED BY '"+f.password(u, f.n)+"'")
	if err != nil {
		f.t.Fatal(err)
	}
}

// finishSecret moves AWSCURRENT (and so AWSPREVIOUS) to version.
func (f *altFixture) finishSecret(version string) {
	f.t.Helper()
	st := map[string]string{}
	out, err := f.client.DescribeSecret(ctxT(f.t), &secretsmanager.DescribeSecretInput{SecretId: aws.String(f.secretID)})
	if err != nil {
		f.t.Fatal(err)
	}
	for v, labels := range out.VersionIdsToStages {
		for _, l := range labels {
			st[l] = v
		}
	}
	for _, in := range []*secretsmanager.UpdateSecretVersionStageInput{
		{SecretId: aws.String(f.secretID), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(version), RemoveFromVersionId: aws.String(st["AWSCURRENT"])},
		{SecretId: aws.String(f.secretID), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(version)},
	} {
		if _, err := f.client.UpdateSecretVersionStage(ctxT(f.t), in); err != nil {
			f.t.Fatal(err)
		}
	}
	f.cur = 1 - f.cur
}

// openDB is fixture.openDB for the pair's secret.
func (f *altFixture) openDB(opts ...connect.Option) (*sql.DB, *connect.Connector) {
	f.t.Helper()
	opts = append([]connect.Option{connect.WithClient(f.client), connect.WithCABundlePEM(db.CAPEM())}, opts...)
	c, err := connect.NewConnector(ctxT(f.t), f.secretID, opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	sdb := sql.OpenDB(c)
	sdb.SetMaxIdleConns(0)
	f.t.Cleanup(func() { sdb.Close() })
	return sdb, c
}

// failedLogins is the server's count of refused logins of both users.
func (f *altFixture) failedLogins() [2]int {
	f.t.Helper()
	var n [2]int
	for i, u := range f.users {
		var err error
		if n[i], err = db.FailedLogins(ctxT(f.t), u); err != nil {
			f.t.Fatal(err)
		}
	}
	return n
}

// Alternating users: whenever AWSCURRENT has been read within one
// rotation, it logs in, so a rotation costs no refused login, no refresh
// and no AWSPENDING read. Connections go to the new user once the cache
// (a short TTL here, as a 1 h TTL is against a 30-day rotation) has seen
// the new AWSCURRENT. With a cache older than a whole rotation, the
// previous user's password has changed under it: one refused login and
// one refresh, then the new user (single flight as for one user).
func TestAlternatingUsersRotation(t *testing.T) {
	const ttl = 50 * time.Millisecond
	tests := []struct {
		name string
		// opts are the connector's options; pause is how long each step
		// waits, so the cache (TTL jittered between half and all of it)
		// expires between two rotations or not.
		opts  []connect.Option
		pause time.Duration
		// users is the user each query logs in as (index: 0 x, 1
		// x_clone): first, then after createSecret, setSecret and
		// finishSecret of each of two rotations.
		users         []int
		wantRefused   uint64
		wantRefreshes uint64
	}{
		{"cache expires within a rotation", []connect.Option{connect.WithCacheTTL(ttl)}, 2 * ttl,
			[]int{0, 0, 0, 1, 1, 1, 0}, 0, 0},
		{"cache older than a rotation", nil, 0,
			[]int{0, 0, 0, 0, 0, 1, 1}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAltFixture(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:master-AbCdEf")
			sdb, c := f.openDB(tt.opts...)
			before := f.failedLogins()
			var got []int
			query := func() {
				t.Helper()
				time.Sleep(tt.pause)
				switch u := currentUser(t, sdb); u {
				case f.users[0], f.users[1]:
					got = append(got, map[bool]int{true: 0, false: 1}[u == f.users[0]])
				default:
					t.Fatalf("logged in as %q", u)
				}
			}
			query()
			for range 2 { // two rotations: x -> x_clone -> x
				v := f.createSecret()
				query()
				f.setSecret()
				query() // the pending user's new password is never tried
				f.finishSecret(v)
				query()
			}
			if !slices.Equal(got, tt.users) {
				t.Errorf("users logged in (0 x, 1 x_clone) = %v, want %v", got, tt.users)
			}
			st := c.Stats()
			if st.RefusedLogins != tt.wantRefused || st.Refreshes != tt.wantRefreshes || st.PendingLogins != 0 {
				t.Errorf("stats = %+v, want %d refused logins, %d refreshes, no pending login", st, tt.wantRefused, tt.wantRefreshes)
			}
			// With the old cache, the refused login is the first user's
			// (x, changed by the second rotation).
			onServer := f.refusedSince(before, [2]int{int(tt.wantRefused), 0})
			if refused := uint64(onServer[0] + onServer[1]); refused != tt.wantRefused {
				t.Errorf("refused logins counted by the server = %v (x, x_clone), want %d in all", onServer, tt.wantRefused)
			}
		})
	}
}

// When AWSCURRENT is refused, a single-user secret falls back to
// AWSPENDING (its rotation window), while an alternating-users secret
// does not: its AWSPENDING names the other user with a password that
// setSecret has not applied yet, so the login would be refused and
// counted against that user by a lockout policy. Here the current user's
// password was changed behind the secret's back; both fail, but only the
// single-user connector knocks on the other account's door.
func TestAlternatingUsersNeverTryPending(t *testing.T) {
	tests := []struct {
		name, masterARN   string
		wantPendingTries  int // refused logins of the pending user
		wantPendingLogins uint64
	}{
		{"single user", "", 2, 0},
		{"alternating users", "arn:aws:secretsmanager:us-east-1:123456789012:secret:master-AbCdEf", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAltFixture(t, tt.masterARN)
			f.createSecret() // AWSPENDING: x_clone with a password not set yet
			if _, err := db.RootDB().ExecContext(ctxT(t), "ALTER USER '"+f.users[0]+"'@'%' IDENTIFIED BY 'changed-by-hand'"); err != nil {
				t.Fatal(err)
			}
			before := f.failedLogins()
			_, c := f.openDB(connect.WithRetry(2, 0), connect.WithMinRefreshInterval(0))
			if _, err := c.Connect(ctxT(t)); !errors.Is(err, connect.ErrAuth) {
				t.Fatalf("Connect = %v, want ErrAuth", err)
			}
			got := f.refusedSince(before, [2]int{2, tt.wantPendingTries})
			if got[1] != tt.wantPendingTries {
				t.Errorf("refused logins of the pending user %s = %d, want %d", f.users[1], got[1], tt.wantPendingTries)
			}
			if got[0] != 2 {
				t.Errorf("refused logins of the current user = %d, want 2 (one per generation)", got[0])
			}
		})
	}
}

// refusedSince returns the refused logins of both users since start,
// once they reach want or after a short wait: the server updates
// USER_STATISTICS when the refused connection's thread ends, which can be
// just after the client has seen the refusal. Waiting for zero also
// waits, so that a late refusal is not missed.
func (f *altFixture) refusedSince(start, want [2]int) [2]int {
	f.t.Helper()
	deadline := time.Now().Add(300 * time.Millisecond)
	for {
		now := f.failedLogins()
		got := [2]int{now[0] - start[0], now[1] - start[1]}
		if (got == want && want != [2]int{}) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}
