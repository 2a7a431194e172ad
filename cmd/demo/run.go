package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/example/secret-rotation/connect"
	"github.com/example/secret-rotation/internal/operator"
	"github.com/example/secret-rotation/internal/testkit/localenv"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// run is the whole demo; see the package documentation.
func run(ctx context.Context, w io.Writer, rotations, clients int) error {
	say := func(format string, args ...any) { fmt.Fprintf(w, "\n==> "+format+"\n", args...) }

	say("starting MariaDB, the local Secrets Manager endpoint and the rotation function under the Lambda emulator")
	env, err := localenv.Start(ctx, localenv.WithApplicationUsers(appUserNames...))
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Fprintf(w, "    MariaDB %s on %s (TLS, throwaway CA %s)\n", env.DB.Version(), env.DB.Addr(), env.DB.CAFile())
	fmt.Fprintf(w, "    Secrets Manager endpoint %s, secret %s, function %s\n", env.SM.URL(), env.SecretID, localenv.FunctionARN)
	if err := useLocalEndpoint(env.SM.URL()); err != nil {
		return err
	}
	rotatectl := func(args ...string) int {
		fmt.Fprintf(w, "$ rotatectl %s\n", strings.Join(args, " "))
		cli := &operator.CLI{Stdout: indent(w), Stderr: indent(w)}
		return cli.Run(ctx, append([]string{"--ca-bundle", env.DB.CAFile()}, args...))
	}

	say("starting %d clients that query continuously, each query on a new connection", clients)
	c, err := connect.NewConnector(ctx, env.SecretID, connect.WithClient(env.Client), connect.WithCABundleFile(env.DB.CAFile()))
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	db.SetMaxIdleConns(0)
	load := startClients(ctx, db, clients)

	rotated := 0
	for i := range rotations {
		say("rotation %d of %d", i+1, rotations)
		if code := rotatectl("rotate", "--wait", "--timeout", "2m", env.SecretID); code != 0 {
			load.stop()
			return fmt.Errorf("rotation %d failed (exit %d)", i+1, code)
		}
		rotated++
	}

	say("breaking a rotation on purpose: the function crashes at finishSecret, after setSecret changed the password")
	env.SM.RegisterFunction(localenv.FunctionARN, crashAtFinish{env.Invoker})
	if code := rotatectl("rotate", "--wait", "--timeout", "10s", env.SecretID); code == 0 {
		load.stop()
		return errors.New("the broken rotation unexpectedly succeeded")
	}
	env.SM.RegisterFunction(localenv.FunctionARN, env.Invoker)
	fmt.Fprintf(w, "    meanwhile: %d queries, %d failed (clients log in with AWSPENDING while AWSCURRENT is stale)\n", load.queries.Load(), load.failed.Load())
	rotatectl("status", "--stuck-after", "5s", env.SecretID)
	rotatectl("rotate", env.SecretID) // refused: a previous rotation isn't complete

	say("repairing it")
	rotatectl("repair", "--dry-run", "--stuck-after", "5s", env.SecretID)
	if code := rotatectl("repair", "--stuck-after", "5s", env.SecretID); code != 0 {
		load.stop()
		return fmt.Errorf("repair failed (exit %d)", code)
	}

	say("rotating again after the repair")
	if code := rotatectl("rotate", "--wait", "--timeout", "2m", env.SecretID); code != 0 {
		load.stop()
		return fmt.Errorf("rotation after repair failed (exit %d)", code)
	}
	rotated++

	say("breaking one more rotation: the rotation doctor notices, diagnoses, repairs and retries it")
	if err := doctorRepairs(ctx, w, env); err != nil {
		load.stop()
		return fmt.Errorf("doctor: %w", err)
	}
	rotated++
	rotatectl("verify", env.SecretID)
	rotatectl("status", env.SecretID)

	app, err := runAppUsers(ctx, w, env, rotatectl, say, rotations, clients)
	if err != nil {
		load.stop()
		return err
	}
	load.stop()

	st := c.Stats()
	say("report")
	fmt.Fprintf(w, "    rotations done:   %d (plus 2 broken on purpose: one repaired with rotatectl, one by the doctor)\n", rotated)
	fmt.Fprintf(w, "    queries run:      %d\n", load.queries.Load())
	fmt.Fprintf(w, "    queries failed:   %d\n", load.failed.Load())
	fmt.Fprintf(w, "    new connections:  %d, secret refreshes: %d, AWSPENDING fallbacks: %d, refused logins: %d\n",
		st.Connections, st.Refreshes, st.PendingLogins, st.RefusedLogins)
	fmt.Fprintf(w, "    application users (%s, alternating users):\n", strings.Join(appUserNames, ", "))
	fmt.Fprintf(w, "      rotations done: %d\n", app.rotations)
	fmt.Fprintf(w, "      queries run:    %d\n", app.queries)
	fmt.Fprintf(w, "      queries failed: %d\n", app.failed)
	fmt.Fprintf(w, "      refused logins: %d\n", app.refused)
	if n := load.failed.Load(); n > 0 {
		return fmt.Errorf("%d queries failed; first: %s", n, load.firstError())
	}
	if app.failed > 0 {
		return fmt.Errorf("%d queries of the application users failed; first: %s", app.failed, app.first)
	}
	if app.refused > 0 {
		return fmt.Errorf("%d logins of the application users were refused", app.refused)
	}
	return nil
}

// useLocalEndpoint points every AWS SDK client that loads the standard
// configuration (the rotatectl code) at the local endpoint, with dummy
// credentials that could not work anywhere else.
func useLocalEndpoint(url string) error {
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": url,
		"AWS_REGION":                       "us-east-1",
		"AWS_ACCESS_KEY_ID":                "AKIDLOCALDEMO",
		"AWS_SECRET_ACCESS_KEY":            "local-demo-dummy",
		"AWS_SESSION_TOKEN":                "",
		"AWS_PROFILE":                      "",
		"AWS_EC2_METADATA_DISABLED":        "true",
	} {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return nil
}

// crashAtFinish is the rotation function with finishSecret failing, as if
// the Lambda timed out right before it.
type crashAtFinish struct{ next smlocal.Invoker }

func (c crashAtFinish) Invoke(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	if ev.Step == smlocal.StepFinishSecret {
		return errors.New("demo: simulated crash before finishSecret")
	}
	return c.next.Invoke(ctx, ev)
}

// clients is the querying load.
type clients struct {
	queries, failed atomic.Int64
	halt            atomic.Bool
	wg              sync.WaitGroup
	mu              sync.Mutex
	first           string
}

func startClients(ctx context.Context, db *sql.DB, n int) *clients {
	c := &clients{}
	for range n {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for !c.halt.Load() && ctx.Err() == nil {
				var now string
				err := db.QueryRowContext(ctx, "SELECT NOW(6)").Scan(&now)
				c.queries.Add(1)
				if err != nil && ctx.Err() == nil {
					c.failed.Add(1)
					c.mu.Lock()
					if c.first == "" {
						c.first = err.Error()
					}
					c.mu.Unlock()
				}
				time.Sleep(5 * time.Millisecond) // a busy application, not a benchmark
			}
		}()
	}
	return c
}

func (c *clients) stop() {
	c.halt.Store(true)
	c.wg.Wait()
}

func (c *clients) firstError() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.first
}

// indent prefixes every line written through it, to set the CLI's output
// apart from the demo's narration.
func indent(w io.Writer) io.Writer { return &indenter{w: w, bol: true} }

type indenter struct {
	w   io.Writer
	bol bool
}

func (i *indenter) Write(p []byte) (int, error) {
	var b strings.Builder
	for _, r := range string(p) {
		if i.bol {
			b.WriteString("    ")
		}
		b.WriteRune(r)
		i.bol = r == '\n'
	}
	if _, err := io.WriteString(i.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}
