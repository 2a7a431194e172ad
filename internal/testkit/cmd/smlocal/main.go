// Command smlocal runs the local Secrets Manager endpoint of package
// internal/smlocal as a standalone server, for demos and manual testing.
//
// Usage:
//
//	go run ./cmd/smlocal [-addr 127.0.0.1:0] [-region us-east-1] [-account 123456789012] \
//	    [-function ARN=INVOKE_URL ...]
//
// It prints one line, "endpoint: http://127.0.0.1:PORT", then serves until
// SIGINT or SIGTERM. State is in memory only.
//
// -function registers a rotation function: RotateSecret on a secret whose
// RotationLambdaARN is ARN POSTs each step's event to INVOKE_URL, typically
// the Lambda Runtime Interface Emulator's
// http://127.0.0.1:PORT/2015-03-31/functions/function/invocations.
// Repeat the flag for several functions.
//
// Point any client at the endpoint, with any region and dummy credentials:
//
//	export AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1
//	aws --endpoint-url http://127.0.0.1:PORT secretsmanager create-secret --name demo --secret-string s3cr3t
//	aws --endpoint-url http://127.0.0.1:PORT secretsmanager get-secret-value --secret-id demo
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// functionFlags collects repeated -function ARN=URL flags.
type functionFlags map[string]string

func (f functionFlags) String() string {
	var parts []string
	for arn, url := range f {
		parts = append(parts, arn+"="+url)
	}
	return strings.Join(parts, ",")
}

// Set parses one ARN=URL pair. Lambda ARNs contain no "=", so the first "="
// separates the two.
func (f functionFlags) Set(v string) error {
	arn, url, ok := strings.Cut(v, "=")
	if !ok || !strings.HasPrefix(arn, "arn:") || !(strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://")) {
		return fmt.Errorf("want ARN=URL (arn:aws:lambda:...=http://...), got %q", v)
	}
	f[arn] = url
	return nil
}

// errUsage reports a bad command line, already explained on stderr; main
// exits with status 2 for it, like the project's other commands.
var errUsage = errors.New("usage error")

// run parses args, starts the server, writes the endpoint line to out and
// serves until ctx is done.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("smlocal", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	region := fs.String("region", "us-east-1", "region used in ARNs")
	account := fs.String("account", "123456789012", "account id used in ARNs")
	functions := functionFlags{}
	fs.Var(functions, "function", "rotation function as ARN=INVOKE_URL (repeatable)")
	printUsage := func(w io.Writer) {
		fs.SetOutput(w)
		fmt.Fprintln(w, "Usage: smlocal [-addr 127.0.0.1:0] [-region us-east-1] [-account 123456789012] [-function ARN=INVOKE_URL ...]")
		fs.PrintDefaults()
	}
	// The flag package prints only the problem (to stderr); the usage is
	// printed here, on out when it was asked for with -h.
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(out)
			return err
		}
		printUsage(fs.Output())
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "smlocal: unexpected argument %q: only flags are accepted\n", fs.Arg(0))
		printUsage(fs.Output())
		return errUsage
	}
	opts := []smlocal.Option{smlocal.WithAddr(*addr), smlocal.WithRegion(*region), smlocal.WithAccountID(*account)}
	for arn, url := range functions {
		opts = append(opts, smlocal.WithFunction(arn, smlocal.HTTPInvoker(url)))
	}
	srv, err := smlocal.Start(opts...)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(out, "endpoint: %s\n", srv.URL()); err != nil {
		_ = srv.Close()
		return fmt.Errorf("write endpoint: %w", err)
	}
	<-ctx.Done()
	for _, e := range srv.RotationErrors() {
		log.Printf("rotation error: %v", e)
	}
	return srv.Close()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		// -h: the usage is on stdout.
	case errors.Is(err, errUsage):
		stop()
		os.Exit(2)
	default:
		log.Fatal(err)
	}
}
