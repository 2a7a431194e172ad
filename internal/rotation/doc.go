// Package rotation implements the AWS Secrets Manager rotation contract
// for MySQL, Aurora MySQL and MariaDB secrets (single user, and alternating
// users for secrets with "masterarn"): the logic behind
// the lambda/rotation function.
//
// # Contract
//
// Secrets Manager invokes the function four times per rotation with an
// events.SecretsManagerSecretRotationEvent. [Handler.Handle] first guards
// every step: the step must be one of the four; DescribeSecret must not
// report RotationEnabled=false; the ClientRequestToken must be a version of
// the secret; if that version is already AWSCURRENT the step succeeds
// without doing anything (a retry after finishSecret); otherwise the
// version must be AWSPENDING. Then:
//
//   - createSecret reads and parses AWSCURRENT; if the token already has an
//     AWSPENDING value it stops; else it calls GetRandomPassword with the
//     [PasswordPolicy] and stores, with PutSecretValue (token, AWSPENDING,
//     and the event's RotationToken when present), the current JSON with
//     only "password" replaced.
//   - setSecret requires the pending user, host and port to equal
//     AWSCURRENT's before any login, then logs in with AWSCURRENT and
//     changes the password. Only if the database refuses AWSCURRENT does it
//     try AWSPENDING (already set by an earlier attempt: nothing to do),
//     then AWSPREVIOUS (which recovers a current value the database never
//     got), and it stops at a failure other than a refused password (an
//     unreachable database, or an account blocked after failed logins).
//     So a healthy rotation makes no failed login, and a retried one at
//     most one (see "Failed logins" below). If nothing logs in, the error
//     names every version tried and why it failed, never a value.
//   - testSecret logs in with the pending credentials and runs SELECT 1.
//   - finishSecret moves AWSCURRENT to the token with
//     UpdateSecretVersionStage (RemoveFromVersionId = the old current);
//     Secrets Manager moves AWSPREVIOUS itself.
//
// Every step is idempotent, so a step invoked twice, or a rotation retried
// by Secrets Manager after any failure, converges. Every failure is a
// returned, wrapped error; nothing panics on any input.
//
// # Failed logins
//
// Account-lockout policies count refused passwords: MariaDB's
// max_password_errors blocks the account after that many failed logins in
// a row (error 4150 until FLUSH PRIVILEGES or ALTER USER), MySQL's
// FAILED_LOGIN_ATTEMPTS locks it (error 3955); a successful login resets
// the count. A blocked account refuses the applications' correct
// AWSCURRENT too. The login order above is chosen so that a healthy
// rotation makes none (tested against MariaDB with max_password_errors=1,
// ten rotations in a row); a rotation retried after setSecret changed the
// password makes one (AWSCURRENT, now stale), so such a policy should
// allow at least two.
//
// # Dependencies
//
// The handler talks to Secrets Manager through [SecretsManager], the five
// methods of *secretsmanager.Client it uses, and to the database through
// engine.Engine and engine.Session. mysql.Engine (package
// internal/engine/mysql) is the real database: it connects with a
// mysql.Dialer (TLS policy of the secret's "ssl" key, CA bundle,
// 5 s connect timeout) and chooses the password statement by server
// flavour and numerically parsed version (mysql.ServerVersion.PasswordSQL),
// sending the password as a literal escaped for the session's sql_mode
// (mysql.QuoteString) because neither statement accepts a placeholder.
// No step imports a driver: another engine is another engine.Engine.
//
// # Strategy
//
// createSecret, setSecret and testSecret run a [Strategy] chosen from the
// shape of the secret they read (AWSCURRENT for createSecret, the pending
// version for the others), in one function. Single user (above) serves
// secrets without "masterarn". A secret with "masterarn" is rotated with
// alternating users (alternating.go): createSecret switches the pending
// username between "x" and "x_clone"; setSecret logs in with the master
// secret (AWSCURRENT, then AWSPENDING, or AWSCURRENT re-read once if the
// master's rotation finished meanwhile, and AWSPREVIOUS only if refused),
// proves, before any change, that the secret owns each existing account
// it would change (checkOwnership: AWSCURRENT for the current account;
// AWSPREVIOUS, else AWSPENDING, for an existing pending one, which must not
// exist at all when the current one does not), creates the current
// account on the first rotation, creates the pending account or sets its
// password and reconciles its privileges at every level to the declared
// "grants" (engine.Reconcile), or copies the current account's schema- and
// table-level grants when none are declared (refusing anything else);
// testSecret checks and probes the grants as the
// pending account. Names, hosts, grants and the master's host and port
// are checked before any login or statement. With
// ALTERNATING_USERS_SECRET_PREFIXES set, a secret naming a master whose
// own ARN is under none of the listed prefixes is refused ([ErrNotAllowed],
// outcome "refused") before the strategy runs: before the master is read,
// a password generated, or any login (allowed.go). An engine whose sessions do
// not implement engine.Admin fails with [ErrUnsupportedStrategy].
//
// # Configuration
//
// [ConfigFromEnv] reads the environment variables of AWS's own rotation
// functions (EXCLUDE_CHARACTERS, PASSWORD_LENGTH, EXCLUDE_NUMBERS,
// EXCLUDE_PUNCTUATION, EXCLUDE_UPPERCASE, EXCLUDE_LOWERCASE,
// REQUIRE_EACH_INCLUDED_TYPE) plus SECRETS_MANAGER_ENDPOINT, DB_CA_BUNDLE
// and ALTERNATING_USERS_SECRET_PREFIXES; see the Env constants.
//
// # Logs
//
// Handle writes one JSON record per invocation through log/slog with
// secret_arn, step, token (the ClientRequestToken, a version id), outcome
// (done, noop, failed, refused), duration_ms and, on failure, error. It
// never logs a password, a secret string or the RotationToken; the tests
// rotate with known values and scan everything that was logged.
package rotation
