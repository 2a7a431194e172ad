// Command demo is the project's walkthrough on a laptop, with no AWS
// account: `make demo` (or `go run ./cmd/demo`).
//
// It starts a throwaway MariaDB with TLS, the local Secrets Manager
// endpoint and the compiled rotation function under the Lambda Runtime
// Interface Emulator (internal/localenv), creates a database user and its
// secret with rotation configured, and then:
//
//  1. runs clients that query continuously through the connect library,
//     each query on a new connection;
//  2. forces -rotations rotations with `rotatectl rotate --wait` (the CLI
//     code itself, configured through AWS_ENDPOINT_URL_SECRETS_MANAGER
//     like any AWS tool);
//  3. breaks one rotation on purpose: the function "crashes" at
//     finishSecret, after setSecret changed the database password, so
//     AWSCURRENT still holds the old one (the clients keep working on the
//     AWSPENDING value); `rotatectl status` reports it, `rotatectl repair`
//     fixes it, and one more rotation proves rotation works again;
//  4. breaks one more rotation the same way and hands the RotationFailed
//     event to the rotation doctor (internal/doctor, in process), which
//     diagnoses it, repairs it, retries the rotation once and publishes
//     its report (printed here instead of sent to SNS);
//  5. shows two application users of the same database (orders_app and
//     reports_app, internal/testkit/localenv.WithApplicationUsers), each
//     with its own secret naming the master secret and declaring grants,
//     rotated with alternating users by the same function: clients on
//     both, -rotations rotations of each in turn, then a grant added by
//     hand that `rotatectl status` shows and the next rotation removes;
//  6. prints a report: rotations done, queries run, queries failed (and
//     refused logins of the application users).
//
// Flags: -rotations N (default 3), -clients N (default 4). Exit status 1
// if any query failed or any step did not behave as described. Everything
// it starts is stopped on exit (Ctrl-C included).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	rotations := flag.Int("rotations", 3, "rotations to force before breaking one")
	clients := flag.Int("clients", 4, "concurrent querying clients")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, *rotations, *clients)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}
