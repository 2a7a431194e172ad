// Package mysql is the MySQL, Aurora MySQL and MariaDB dialect of
// internal/engine: the one place that turns a secret (package
// internal/secret) into a database connection, classifies connection
// errors, and changes a password.
//
// # TLS
//
// Verified TLS trusts the system roots plus the Amazon RDS CAs built into
// every binary of this module (package rdsca), so an RDS server certificate
// verifies with no configuration; an optional PEM bundle
// ([WithCABundleFile], the function's caBundlePath) adds more CAs. The
// certificate must match the secret's host. A certificate or hostname
// failure is reported as such (engine.ErrCertificate) rather than as a
// generic connection error. With secret.SSLPreferred a failed TLS attempt
// (including a certificate failure, as AWS's functions do) falls back to
// plain text; an authentication failure (engine.ErrAuth) or a blocked
// account (engine.ErrBlocked) does not, because plain text would be
// refused the same way.
//
// # Connecting
//
// A [Dialer] holds the connection options (CA bundle, 5 s connect timeout)
// and implements [Opener]; [Connect] is the one-call form.
// [Dialer.Connector] returns a driver.Connector that applies the TLS policy
// on every new connection, [Dialer.Open] returns a pinged *sql.DB, and
// [Dialer.MySQLConfig] exposes the driver configuration for one TLS mode
// for callers that need the driver directly.
//
// # Changing a password
//
// [Engine] is the engine.Engine the rotation function uses: Login opens one
// connection, and Session.ChangePassword chooses the statement by server
// flavour and numerically parsed version ([ServerVersion.PasswordSQL]),
// sending the password as a literal escaped for the session's sql_mode
// ([QuoteString]) because neither statement accepts a placeholder. A server
// error from that statement is reduced to its number and SQLSTATE.
//
// # Accounts and grants (alternating users)
//
// The Session also implements engine.Admin, engine.GrantReader and
// engine.GrantProber with statements both MySQL (5.7.6+, 8.x) and MariaDB
// (10.2+) accept, so there is no flavour branch to leave untested on
// MariaDB: CREATE USER IF NOT EXISTS / ALTER USER 'u'@'h' IDENTIFIED BY
// (password as an escaped literal, server errors reduced to their
// number), GRANT on `schema`.* or `schema`.`table`, REVOKE on those and on
// *.*, columns (PRIV (`col`) ON t) and routines (ON PROCEDURE/FUNCTION),
// privileges read from information_schema.USER_PRIVILEGES,
// SCHEMA_PRIVILEGES, TABLE_PRIVILEGES and COLUMN_PRIVILEGES and from
// mysql.procs_priv (no SHOW GRANTS text to parse), accounts looked up in
// mysql.user. All of it works with the privileges of the RDS master user
// (no SUPER), except revoking a privilege it does not hold itself (SUPER
// on MariaDB), which the server refuses. Only MariaDB 10.11 runs here:
// MySQL 8 (its dynamic privileges such as BACKUP_ADMIN in USER_PRIVILEGES,
// partial_revokes) is from its documentation and unit tests. Accounts
// and grants are validated with package grant before a statement is
// built; identifiers are backtick-quoted and accounts single-quoted.
package mysql
