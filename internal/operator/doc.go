// Package operator implements rotatectl, the operator's command line for
// secrets rotated by this project's rotation function: the logic of each
// command as a method of [Operator] (usable from Go, e.g. by the local
// demo), and the command line itself as [CLI]. cmd/rotatectl is a thin
// main around [CLI.Run]; its package comment is the user manual.
//
// The commands only read secrets, start rotations and move staging
// labels; they never write a secret value or change a database password.
// Database logins ([LoginChecker]) use package internal/engine/mysql, so they follow
// the secret's "ssl" key exactly as the rotation function and the
// connect library do.
//
// # What "stuck" means
//
// Secrets Manager refuses RotateSecret while AWSPENDING is on a version
// other than AWSCURRENT ("A previous rotation isn't complete"). That is
// normal while a rotation runs, and a fault when the rotation died: a
// failed step leaves the label behind and every later rotation fails.
// [Operator.Status] calls it stuck once the pending version is older than
// [DefaultStuckAfter]; [Operator.Repair] decides from actual logins what
// the database accepts and moves labels accordingly (see its
// documentation for every case), but only once the rotation is stuck by
// that same age (`repair --stuck-after`), so it never races a running
// rotation function.
//
// # Time limits
//
// No command waits on a service without end. Every Secrets Manager call
// has its own deadline ([DefaultCallTimeout], [WithCallTimeout]); the CLI
// bounds status, verify and repair as a whole by --timeout
// ([DefaultCommandTimeout]), and [Operator.Rotate] bounds RotateSecret and
// the wait by its Timeout, then reports within [TimeoutGrace]. Version
// listings go through the SDK's paginator, which stops on an empty
// NextToken and (with StopOnDuplicateToken) on a repeated one, and never
// read more than [MaxVersionPages] pages. The CLI's client
// (awsclient) also times out each HTTP request.
//
// # Failed logins
//
// A refused login counts toward the database's account-lockout policy
// (MariaDB max_password_errors, MySQL FAILED_LOGIN_ATTEMPTS), and a
// blocked account refuses the applications too. The commands therefore
// never log in where the answer is known or would change nothing:
// `rotatectl status` ([Operator.StatusWithUsers]) logs in only for
// alternating-users secrets, with the two users' stored passwords, which
// work (not with the previous user's while a rotation of it is pending),
// [Operator.Rotate] does not log in with AWSPENDING while it waits,
// [Operator.Verify] logs in with the same user's AWSPREVIOUS only when
// asked ([VerifyOptions.CheckPrevious]), and [Operator.Repair] stops at
// the first password the database accepts. A blocked account is a
// [LoginBlocked] result and an [ErrAccountBlocked] error, not a refused
// password.
//
// # Determinism
//
// Output depends only on Secrets Manager's answers, the database's
// answers and two injectable sources: the clock ([WithClock]) and the
// ClientRequestToken generator ([WithTokenSource]). Golden tests in
// testdata/ pin the text and JSON formats (go test -update rewrites them).
package operator
