// Command rotatectl operates the rotation of MySQL/MariaDB database
// secrets in AWS Secrets Manager: it shows where a rotation stands,
// starts one and follows it, repairs a stuck one, and verifies that the
// stored passwords log in.
//
// # Usage
//
//	rotatectl [global flags] COMMAND [flags] SECRET
//
// SECRET is the secret's name or ARN. Flags may come before or after
// SECRET; -flag and --flag are the same.
//
// # Commands
//
// status [--stuck-after 1h] SECRET
//
// Prints whether rotation is enabled, the rotation function, the rules,
// the last and next rotation dates, every version with its staging labels
// and creation time, and a one-line verdict:
//
//	healthy               AWSCURRENT is set, no rotation pending
//	rotation in progress  AWSPENDING is on a newer version, younger than
//	                      --stuck-after
//	stuck                 AWSPENDING has been on another version for
//	                      --stuck-after or more (RotateSecret refuses to
//	                      start), or no version is AWSCURRENT
//
// Exit status 3 when stuck. status reads Secrets Manager only.
//
// rotate [--wait] [--timeout 5m] [--function ARN] SECRET
//
// Calls RotateSecret with a fresh ClientRequestToken (the new version's
// id). With --wait it follows the new version through the rotation's
// visible effects, one line per phase:
//
//	started       AWSPENDING is on the new version
//	createSecret  the new version has a value
//	setSecret     the database accepts the new password
//	finishSecret  AWSCURRENT is on the new version
//
// then logs in with the new AWSCURRENT. If that does not happen within
// --timeout, or the login is refused, it names the function's CloudWatch
// log group (/aws/lambda/NAME) and exits 1. If a previous rotation is not
// complete it says so and points to status and repair.
//
// repair [--dry-run] SECRET
//
// The "reset a stuck rotation" runbook as one safe command. It logs in
// with AWSCURRENT, with AWSPENDING when it sits on another version, and
// with AWSPREVIOUS, prints what each login did, then plans label changes:
//
//	AWSPENDING has no value                    remove AWSPENDING
//	DB refuses AWSPENDING, accepts AWSCURRENT  remove AWSPENDING
//	DB accepts AWSPENDING and AWSCURRENT       remove AWSPENDING
//	DB accepts AWSPENDING, not AWSCURRENT      move AWSCURRENT to the pending
//	                                           version (what finishSecret
//	                                           would have done), then remove
//	                                           AWSPENDING
//	DB accepts only AWSPREVIOUS                move AWSCURRENT back to it
//	DB accepts nothing / cannot be reached     change nothing, exit 1
//
// Finishing rather than discarding a rotation whose password the
// database already uses is the safe choice: discarding it would leave no
// stored password that logs in, and the next rotation could not log in
// either. It applies the plan (unless --dry-run), re-reads the secret and
// checks that AWSCURRENT logs in and RotateSecret can start. It never
// changes a secret value or the database.
//
// verify SECRET
//
// Logs in with AWSCURRENT (exit 1 if refused) and with AWSPREVIOUS, and
// says what that means: the previous password of the same user refused
// is single-user rotation; a different previous user is alternating users.
//
// # Global flags
//
//	--output text|json   json prints one document {"command","result","error"}
//	--profile NAME       shared config profile
//	--region NAME        AWS region
//	--endpoint-url URL   Secrets Manager endpoint
//	--ca-bundle PATH     PEM trusted for database TLS (e.g. the RDS bundle)
//	--connect-timeout D  database connect timeout (default 5s)
//
// AWS configuration is the SDK's standard chain: environment variables,
// ~/.aws/config and credentials (AWS_PROFILE or --profile), SSO, IMDS.
// AWS_ENDPOINT_URL_SECRETS_MANAGER (or AWS_ENDPOINT_URL) points it at
// another endpoint, for example the local one of `make demo`.
//
// # Exit status
//
//	0 success   1 the operation failed   2 usage error   3 status: stuck
//
// # Example (local endpoint)
//
//	AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:4566 AWS_REGION=us-east-1 \
//	  rotatectl --ca-bundle ca.pem rotate --wait app/db
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/example/secret-rotation/internal/operator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cli := &operator.CLI{Stdout: os.Stdout, Stderr: os.Stderr}
	code := cli.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
