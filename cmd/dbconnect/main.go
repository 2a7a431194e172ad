// Command dbconnect connects to a MySQL/MariaDB database with the
// credentials of an AWS Secrets Manager secret, prints the server version
// and, with -query, the query's rows as a table. It is the Go version of
// the original walkthrough's Python program, built on the connect
// library, so it follows the secret's host, port, dbname and ssl keys and
// survives a rotation like any application using that library.
//
// Usage:
//
//	dbconnect -secret-id NAME [-query SQL] [flags]
//
// Flags:
//
//	-secret-id NAME      secret name or ARN (required)
//	-query SQL           a query to run; its rows are printed as a table
//	-ca-bundle PATH      more CAs for database TLS (the Amazon RDS CAs are built in)
//	-profile NAME        shared config profile
//	-region NAME         AWS region
//	-endpoint-url URL    Secrets Manager endpoint
//	-timeout D           overall time limit (default 30s)
//
// AWS configuration is the SDK's standard chain (environment, shared
// files, SSO, IMDS); AWS_ENDPOINT_URL_SECRETS_MANAGER selects another
// endpoint. Nothing printed ever contains the password.
//
// Exit status:
//
//	0  success
//	2  usage error
//	3  cannot read the secret (missing, no permission, not a database secret)
//	4  cannot connect (network, TLS, password refused)
//	5  the query failed
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
