// Package secret is the engine-neutral model of a database secret as
// stored in AWS Secrets Manager: its JSON fields, their validation, the TLS
// policy a secret asks for and the version stage labels. Connecting is the
// business of a dialect package (internal/engine/mysql for MySQL, Aurora
// MySQL and MariaDB); this package imports no database driver and names no
// engine (see Dialects below).
//
// # Secret JSON
//
// The secret string is a JSON object with the keys AWS documents for the
// RDS rotation functions:
//
//	engine     required  an engine of a registered dialect (below)
//	host       required  DNS name or IP address of the server
//	username   required
//	password   required
//	port       optional  JSON number or numeric string, default the
//	                     dialect's port (3306 for MySQL/MariaDB)
//	dbname     optional  database to select after login
//	ssl        optional  true/false or "true"/"false" (see TLS below)
//	masterarn  optional  ARN of the master secret (alternating users; parsed,
//	                     the rotation function refuses it for now)
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
// How a dialect verifies TLS and falls back is documented with the dialect.
//
// # Dialects
//
// This package names no engine. A dialect package registers its engine
// names and default port ([RegisterDialect]) when it is linked:
// internal/engine/mysql registers "mysql", "aurora-mysql" and "mariadb",
// port 3306. An engine no linked dialect serves is a [FieldError] on
// "engine" that lists the registered engines.
package secret
