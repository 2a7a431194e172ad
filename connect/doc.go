// Package connect opens MySQL/MariaDB connections whose credentials live
// in AWS Secrets Manager and keeps working when the secret is rotated,
// without restarting the application. It is the module's public client
// library:
//
//	go get github.com/example/secret-rotation/connect
//
//	db, err := connect.Open(ctx, "prod/app/mysql",
//		connect.WithClient(secretsmanager.NewFromConfig(awsCfg)))
//	if err != nil { ... } // errors name the secret id and host, never a password
//	defer db.Close()
//
// The Amazon RDS CAs are built in (package rdsca), so an RDS server
// certificate verifies with no option; [WithCABundleFile] adds other CAs.
//
// # How credentials are found
//
// [Connector] is a database/sql driver.Connector, so every NEW connection
// asks it for credentials; connections already in the pool are never
// touched (MySQL keeps an authenticated session working after its
// password changes). The secret is read through the AWS caching client
// (github.com/aws/aws-secretsmanager-caching-go/v2): one DescribeSecret
// and one GetSecretValue per cache lifetime ([WithCacheTTL], default one
// hour), not one per connection. The secret's host, port, dbname and ssl
// keys are interpreted with the same rules (and the same code) as the
// rotation function: verified TLS, "ssl" absent means TLS then plain
// text, true means TLS only, false means plain text.
//
// # Surviving a rotation
//
// When the server refuses the cached password (MySQL error 1045) the
// connector refreshes the secret and tries again (single-user secrets;
// see Alternating users below for the others):
//
//  1. the credentials that logged in last (so one refresh serves every
//     later connection),
//  2. AWSCURRENT as just re-read from Secrets Manager,
//  3. AWSPENDING. Single-user rotation changes the database password in
//     setSecret but moves AWSCURRENT only in finishSecret; in between
//     only the pending value logs in, and a client that re-reads
//     AWSCURRENT alone fails there.
//
// If nothing logs in, it backs off (50 ms doubling, [WithRetry]) and
// refreshes again, up to a bounded number of attempts. Refreshes are
// single-flight: concurrent connections that fail with the same cached
// value wait for one refresh instead of each calling Secrets Manager, and
// a refresh never starts within [WithMinRefreshInterval] of the previous
// one. A refresh replaces the caching client's state wholesale (a new
// secretcache.Cache) because the library's own RefreshNow sleeps 2.5-5 s
// by design.
//
// # Alternating users
//
// A secret with a "masterarn" key (an application user rotated with the
// alternating-users strategy) alternates its username between x and
// x_clone: each rotation sets a new password on the user AWSCURRENT does
// not name, then moves AWSCURRENT to it. AWSCURRENT therefore always
// logs in, and the previous user keeps working until the next rotation
// changes its password. For such a secret the connector tries AWSCURRENT first on every
// new connection (a cached read), then the credentials that logged in
// last, and never AWSPENDING: that value names the other user with a
// password that is not valid before setSecret, so the login would be
// refused and counted by lockout policies. A rotation costs such a
// client no refused login and no refresh as long as the cache lifetime
// ([WithCacheTTL], one hour) is shorter than the time between two
// rotations; a cache older than a whole rotation costs one refused login
// and one refresh. Which strategy applies is read from each AWSCURRENT
// value, so a secret may change strategy.
//
// # Never a password in errors or logs
//
// Errors wrap [ErrSecret] when the secret cannot be read or parsed and
// otherwise the connection errors [ErrAuth], [ErrBlocked] and
// [ErrCertificate]; they name the secret id and the host. The
// optional [WithLogger] logs refreshes (secret id, generation, reason)
// and nothing else.
//
// # Testing
//
// [SecretsClient] is the two Secrets Manager calls the connector makes;
// fakes embed it. Tests in this package use the real MariaDB server
// (internal/testkit/testdb) and the local Secrets Manager endpoint
// (internal/testkit/smlocal), which counts calls to prove single flight.
package connect
