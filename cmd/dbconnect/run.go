package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/example/secret-rotation/connect"
	"github.com/example/secret-rotation/internal/awsclient"
)

// Exit codes; see the package documentation.
const (
	exitOK          = 0
	exitUsage       = 2
	exitSecret      = 3
	exitConnect     = 4
	exitQueryFailed = 5
)

type flags struct {
	secretID, query, caBundle, profile, region, endpoint string
	timeout                                              time.Duration
}

// run is the whole program; extra connect options (tests: the local
// endpoint's client) are applied last.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, extra ...connect.Option) int {
	var f flags
	fs := flag.NewFlagSet("dbconnect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.secretID, "secret-id", "", "secret name or ARN (required)")
	fs.StringVar(&f.query, "query", "", "SQL query whose rows are printed")
	fs.StringVar(&f.caBundle, "ca-bundle", "", "PEM file trusted for database TLS")
	fs.StringVar(&f.profile, "profile", "", "shared config profile")
	fs.StringVar(&f.region, "region", "", "AWS region")
	fs.StringVar(&f.endpoint, "endpoint-url", "", "Secrets Manager endpoint URL")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "overall time limit")
	printUsage := func(w io.Writer) {
		fs.SetOutput(w)
		fmt.Fprintln(w, "Usage: dbconnect -secret-id NAME [-query SQL] [flags]")
		fs.PrintDefaults()
	}
	// The flag package prints only the problem (to stderr); the usage is
	// printed here, on stdout when it was asked for with -h.
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return exitOK
		}
		printUsage(stderr)
		return exitUsage
	}
	if f.secretID == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "dbconnect: -secret-id is required and no positional arguments are accepted")
		printUsage(stderr)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()

	opts, err := awsOptions(ctx, f)
	if err != nil {
		fmt.Fprintf(stderr, "dbconnect: %v\n", err)
		return exitSecret
	}
	db, err := connect.Open(ctx, f.secretID, append(opts, extra...)...)
	if err != nil {
		fmt.Fprintf(stderr, "dbconnect: %v\n", err)
		if errors.Is(err, connect.ErrSecret) {
			return exitSecret
		}
		return exitConnect
	}
	defer db.Close()

	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		fmt.Fprintf(stderr, "dbconnect: read server version: %v\n", err)
		return exitConnect
	}
	fmt.Fprintf(stdout, "Server version: %s\n", version)
	if f.query == "" {
		return exitOK
	}
	if err := printQuery(ctx, stdout, db, f.query); err != nil {
		fmt.Fprintf(stderr, "dbconnect: query failed: %v\n", err)
		return exitQueryFailed
	}
	return exitOK
}

// awsOptions builds the Secrets Manager client from the standard AWS
// configuration and the flags.
func awsOptions(ctx context.Context, f flags) ([]connect.Option, error) {
	sm, err := awsclient.SecretsManager(ctx, awsclient.Flags{Profile: f.profile, Region: f.region, EndpointURL: f.endpoint})
	if err != nil {
		return nil, err
	}
	return []connect.Option{connect.WithClient(sm), connect.WithCABundleFile(f.caBundle)}, nil
}

// printQuery runs query and prints its rows as a table.
func printQuery(ctx context.Context, w io.Writer, db *sql.DB, query string) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	var table [][]string
	for rows.Next() {
		raw := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		row := make([]string, len(cols))
		for i, v := range raw {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = string(v)
			}
		}
		table = append(table, row)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	writeTable(w, cols, table)
	return nil
}
