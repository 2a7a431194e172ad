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
// number), GRANT and REVOKE on `schema`.* or `schema`.`table`, grants read
// from information_schema.SCHEMA_PRIVILEGES and TABLE_PRIVILEGES (no
// SHOW GRANTS text to parse), accounts looked up in mysql.user. All of it
// works with the privileges of the RDS master user (no SUPER). Accounts
// and grants are validated with package grant before a statement is
// built; identifiers are backtick-quoted and accounts single-quoted.
package mysql
