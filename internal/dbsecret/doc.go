// Package dbsecret is the model of a MySQL/MariaDB database secret as
// stored in AWS Secrets Manager, and the one place that turns such a secret
// into a database connection.
//
// # Secret JSON
//
// The secret string is a JSON object with the keys AWS documents for the
// RDS MySQL rotation functions:
//
//	engine    required  "mysql", "aurora-mysql" or "mariadb"
//	host      required  DNS name or IP address of the server
//	username  required
//	password  required
//	port      optional  JSON number or numeric string, default 3306
//	dbname    optional  database to select after login
//	ssl       optional  true/false or "true"/"false" (see TLS below)
//
// Any other key (dbClusterIdentifier, proxy settings, anything a user adds)
// is kept exactly as it was: [Parse] remembers the raw JSON of every key and
// [Secret.WithPassword] re-serializes the object changing only "password".
// Errors from [Parse] name the offending field and never contain the secret
// string or any value from it, so they are safe to log.
//
// # TLS
//
// The "ssl" key follows AWS's rules for its own rotation functions:
//
//	absent          try verified TLS first, then plain text (SSLPreferred)
//	true / "true"   verified TLS only (SSLRequired)
//	false / "false" plain text only (SSLDisabled)
//
// Verified TLS trusts the system roots plus the Amazon RDS CAs built into
// every binary of this module (package rdsca), so an RDS server certificate
// verifies with no configuration; an optional PEM bundle
// ([WithCABundleFile], the function's caBundlePath) adds more CAs. The
// certificate must match the secret's host. A certificate or hostname failure is reported as such
// ([ErrCertificate]) rather than as a generic connection error. With
// SSLPreferred a failed TLS attempt (including a certificate failure, as
// AWS's functions do) falls back to plain text; an authentication failure
// does not, because plain text would be refused the same way.
//
// # Connecting
//
// A [Dialer] holds the connection options (CA bundle, 5 s connect timeout)
// and implements [Opener]; [Connect] is the one-call form. [Dialer.Connector] returns a driver.Connector
// that applies the TLS policy on every new connection, [Dialer.Open]
// returns a pinged *sql.DB, and [Dialer.MySQLConfig] exposes the
// *mysql.Config for one TLS mode for callers that need the driver directly.
package dbsecret
