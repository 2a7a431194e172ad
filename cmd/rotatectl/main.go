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
// status [--stuck-after 1h] [--timeout 2m] SECRET
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
// Exit status 3 when stuck. status reads Secrets Manager only, except for
// alternating-users secrets (see Alternating users below).
//
// rotate [--wait] [--timeout 5m] [--function ARN] SECRET
//
// Calls RotateSecret with a fresh ClientRequestToken (the new version's
// id). With --wait it follows the new version through the rotation's
// visible effects in Secrets Manager, one line per phase:
//
//	started       AWSPENDING is on the new version
//	createSecret  the new version has a value
//	setSecret     the database accepts the new password
//	finishSecret  AWSCURRENT is on the new version
//
// then logs in with the new AWSCURRENT. It never logs in with AWSPENDING
// while it waits (before setSecret that would be a failed login, see
// below), so setSecret is printed together with finishSecret. If the
// rotation does not finish within --timeout, or the login is refused, it
// says where the function's log group is named (its LoggingConfig; the
// deployed function logs to a group of its own, not /aws/lambda/NAME) and
// exits 1. If a previous rotation is not complete it says so and points to
// status and repair.
//
// repair [--dry-run] [--stuck-after 1h] [--timeout 2m] SECRET
//
// The "reset a stuck rotation" runbook as one safe command. It finds the
// stored password the database accepts, logging in with AWSCURRENT, then
// AWSPENDING when it sits on another version, then AWSPREVIOUS, then
// every version without staging labels (newest first), and stops at the
// first one accepted; it prints what each login did, then plans label
// changes:
//
//	AWSPENDING has no value                    remove AWSPENDING
//	DB accepts AWSCURRENT                      remove AWSPENDING (not
//	                                           logged in with: it goes
//	                                           either way)
//	DB accepts AWSPENDING, not AWSCURRENT      move AWSCURRENT to the pending
//	                                           version (what finishSecret
//	                                           would have done), then remove
//	                                           AWSPENDING
//	DB accepts only AWSPREVIOUS                move AWSCURRENT back to it
//	DB accepts only a version without labels   move AWSCURRENT to it
//	DB accepts nothing / cannot be reached /   change nothing, exit 1
//	account blocked
//
// Finishing rather than discarding a rotation whose password the
// database already uses is the safe choice: discarding it would leave no
// stored password that logs in, and the next rotation could not log in
// either. It applies the plan (unless --dry-run), re-reads the secret and
// checks that AWSCURRENT logs in and RotateSecret can start. It never
// changes a secret value or the database, and changes nothing while the
// AWSPENDING version is younger than --stuck-after (its rotation may
// still be running).
//
// verify [--check-previous] [--timeout 2m] SECRET
//
// Logs in with AWSCURRENT (exit 1 if refused or blocked) and reads
// AWSPREVIOUS: the same user is single-user rotation, a different user is
// alternating users (whose previous user is logged in with, as it should
// still work). --check-previous also logs in with the same user's old
// AWSPREVIOUS password to prove it is refused: that costs one failed
// login, so afterwards verify logs in with AWSCURRENT again and exits 1 if
// the failed login got the account blocked.
//
// # Alternating users
//
// A secret whose AWSCURRENT names a master secret ("masterarn") is an
// application user rotated with alternating users: its username switches
// between x and x_clone at every rotation. For it:
//
// status adds a Users section: logins with AWSCURRENT and with
// AWSPREVIOUS (the other user, which keeps its password until the next
// rotation), both expected to work. It does not log in with AWSPREVIOUS
// while AWSPENDING names that user (setSecret may have changed its
// password). The verdict does not depend on these logins.
//
// status and verify add a Grants section: logged in once with the master
// secret's AWSCURRENT (never while the master secret itself is
// mid-rotation), they read every privilege of x and x_clone on the
// secret's "userhost" (global, schema, table, column and routine level)
// and list, per account, what is
// missing and extra against the secret's declared "grants" (without
// declared grants, against the current user's, which the rotation
// copies). verify exits 1 when the AWSCURRENT user's grants differ; the
// other user's drift is corrected by the next rotation, which gives the
// user it switches to exactly the declared grants.
//
// repair: AWSPENDING names the other user, so AWSCURRENT logging in does
// not tell whether setSecret ran. With AWSCURRENT working, repair logs in
// with AWSPREVIOUS (the pending user's old password): accepted means
// setSecret did not run, and AWSPENDING is removed; otherwise it logs in
// with AWSPENDING: accepted means setSecret ran, and repair finishes the
// rotation; refused, AWSPENDING is removed. The other cases are those of
// a single user.
//
// # Time limits
//
// Every command ends within its --timeout (status, verify and repair:
// default 2m; rotate: default 5m, --wait included, plus at most 10s to
// report afterwards), whatever Secrets Manager or the database do: each
// Secrets Manager call has its own deadline (30s, retries included), each
// HTTP request times out after 15s, database logins after
// --connect-timeout, and version listings stop on an empty or repeated
// NextToken or after 10 pages.
//
// # Failed logins
//
// Account-lockout policies (MariaDB max_password_errors, MySQL
// FAILED_LOGIN_ATTEMPTS) count every refused password and then refuse
// the account altogether, the applications' correct AWSCURRENT included.
// So status, rotate and verify make no failed login on a healthy secret
// (status logs in only for alternating users, with passwords that work);
// verify --check-previous makes exactly one, on purpose; repair makes as
// few as it can (none when AWSCURRENT works) and stops at a blocked
// account. A blocked account is reported as "blocked" (MariaDB error
// 4150, MySQL 3955), never as a refused password.
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
