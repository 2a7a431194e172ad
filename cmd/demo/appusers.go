package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/example/secret-rotation/connect"
	"github.com/example/secret-rotation/internal/grant"
	"github.com/example/secret-rotation/internal/testkit/localenv"
)

// appUserNames are the demo's application users, rotated with alternating
// users by the same function as the master secret.
var appUserNames = []string{"orders_app", "reports_app"}

// The application users' clients re-read AWSCURRENT at least every
// appCacheTTL, and two rotations of one secret are at least appPause
// apart: a value read from the cache keeps working until the rotation
// after next, so no login is ever refused. (In production: a 1 h cache
// against a 30-day rotation.)
const (
	appCacheTTL = 200 * time.Millisecond
	appPause    = time.Second
)

// appUsersResult is what the application-user part reports.
type appUsersResult struct {
	rotations       int
	queries, failed int64
	refused         uint64
	first           string
}

// runAppUsers shows one database with two application users rotating
// under load: clients on each user, rotations of both in turn with
// `rotatectl rotate --wait`, then a grant added by hand, which status
// shows and the next rotation of that user removes.
func runAppUsers(ctx context.Context, w io.Writer, env *localenv.Env, rotatectl func(...string) int, say func(string, ...any), rotations, perUser int) (appUsersResult, error) {
	var res appUsersResult
	say("application users: %s share the database, each with its own secret naming the master secret (masterarn) and declaring %s; the same function rotates them with alternating users",
		strings.Join(appUserNames, " and "), strings.Join(localenv.AppGrants, "; "))
	fmt.Fprintf(w, "    their first rotation created %s (no manual SQL)\n", strings.Join(accountNames(), ", "))

	say("starting %d clients on each application user (cache %s, each query on a new connection)", perUser, appCacheTTL)
	var loads []*clients
	var conns []*connect.Connector
	for _, u := range env.AppUsers {
		c, err := connect.NewConnector(ctx, u.SecretID, connect.WithClient(env.Client),
			connect.WithCABundleFile(env.DB.CAFile()), connect.WithCacheTTL(appCacheTTL))
		if err != nil {
			return res, err
		}
		db := sql.OpenDB(c)
		defer db.Close()
		db.SetMaxIdleConns(0)
		conns = append(conns, c)
		loads = append(loads, startClients(ctx, db, perUser))
	}
	stopAll := func() {
		for _, l := range loads {
			l.stop()
			res.queries += l.queries.Load()
			res.failed += l.failed.Load()
			if res.first == "" {
				res.first = l.firstError()
			}
		}
		for _, c := range conns {
			res.refused += c.Stats().RefusedLogins
		}
	}

	rotate := func(secretID string) error {
		time.Sleep(appPause / time.Duration(len(env.AppUsers)))
		if code := rotatectl("rotate", "--wait", "--timeout", "2m", secretID); code != 0 {
			return fmt.Errorf("rotation of %s failed (exit %d)", secretID, code)
		}
		res.rotations++
		return nil
	}
	for i := range rotations {
		say("application users: rotation %d of %d of each", i+1, rotations)
		for _, u := range env.AppUsers {
			if err := rotate(u.SecretID); err != nil {
				stopAll()
				return res, err
			}
		}
	}

	first := env.AppUsers[0]
	other, err := otherUser(ctx, env, first.SecretID)
	if err != nil {
		stopAll()
		return res, err
	}
	say("grant drift: someone grants DROP by hand to %s, the account of %s that AWSCURRENT does not name", other, first.Name)
	fmt.Fprintf(w, "$ mariadb -e \"GRANT DROP ON %s.* TO '%s'@'%%'\"\n", localenv.AppSchema, other)
	if _, err := env.DB.RootDB().ExecContext(ctx, "GRANT DROP ON "+localenv.AppSchema+".* TO '"+other+"'@'%'"); err != nil {
		stopAll()
		return res, err
	}
	rotatectl("status", first.SecretID)
	say("the next rotation of %s switches to %s and gives it exactly the declared grants", first.Name, other)
	if err := rotate(first.SecretID); err != nil {
		stopAll()
		return res, err
	}
	rotatectl("verify", first.SecretID)
	stopAll()
	return res, nil
}

// accountNames lists both accounts of every application user.
func accountNames() []string {
	var out []string
	for _, n := range appUserNames {
		out = append(out, n, grant.Clone(n))
	}
	return out
}

// otherUser is the account AWSCURRENT of secretID does not name.
func otherUser(ctx context.Context, env *localenv.Env, secretID string) (string, error) {
	c, err := connect.NewConnector(ctx, secretID, connect.WithClient(env.Client), connect.WithCABundleFile(env.DB.CAFile()))
	if err != nil {
		return "", err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	var who string
	if err := db.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&who); err != nil {
		return "", err
	}
	user, _, _ := strings.Cut(who, "@")
	return grant.Clone(user), nil
}
