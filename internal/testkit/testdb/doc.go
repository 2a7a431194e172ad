// Package testdb starts a throwaway MariaDB (or MySQL) server for tests.
//
// Nothing in this project can be checked against a live RDS instance, so every
// test that talks to a database talks to a real server started by this
// package: a fresh data directory (made by mariadb-install-db) in a temporary
// directory, mariadbd started with --no-defaults (no /etc/mysql, no system
// service) on 127.0.0.1 and a free port, with its own unix socket. Stop kills
// the server and removes the directory.
//
// # One server per test package
//
// Starting a server takes about a quarter of a second: the slow part,
// mariadb-install-db, runs once per machine and its result is kept as a
// template datadir in $TMPDIR that later servers copy. Start one server per
// test package in TestMain and give each test its own database or user where
// isolation is needed:
//
//	var srv *testdb.Server
//
//	func TestMain(m *testing.M) { testdb.Main(m, &srv) }
//
//	func TestSomething(t *testing.T) {
//		name := testdb.UniqueName(t)
//		if err := srv.CreateDatabase(ctx, name); err != nil { ... }
//		if err := srv.CreateUser(ctx, name, "pw", "ALL ON "+name+".*"); err != nil { ... }
//		db, err := sql.Open("mysql", srv.DSN(name, "pw", name))
//	}
//
// # TLS
//
// By default the server speaks TLS with a certificate issued by a throwaway
// ECDSA CA generated for this server only. The certificate names "localhost"
// (ServerName) and the IP 127.0.0.1, so clients can verify it with CAFile,
// CAPEM or TLSConfig exactly as they verify the RDS CA bundle in production.
// WithRequireSecureTransport sets require_secure_transport=ON so plain TCP
// logins are refused; WithoutTLS starts a server that offers no TLS at all,
// for tests of the "server without TLS" fallback path.
//
// # Outages
//
// Halt stops the server process but keeps its data; Resume starts it again on
// the same port. Together they simulate an outage of the database in which
// connections are refused. Freeze and Thaw simulate a hung server instead:
// connections are accepted but never answered, so clients hit their
// timeouts.
//
// # No leaks, no silent skips
//
// The server runs in its own process group with a parent-death signal
// (Pdeathsig=SIGKILL on Linux), so it dies with the test binary even when a
// test panics or go test kills the binary on -timeout. Directories left behind
// by such crashes are removed by the next Start. If no server binary is
// installed, Start fails with an error that says what to install
// (apt-get install -y mariadb-server); tests never skip silently.
package testdb
