// Package testkit is the root of the project's test tooling: the
// throwaway MariaDB server (testdb), the local Secrets Manager endpoint
// (smlocal, and cmd/smlocal to serve it standalone), the Lambda Runtime
// Interface Emulator runner (lambdarun), all three wired together
// (localenv), child processes that die with the test binary (childproc),
// a copy of the module (checkout) and golden-file comparison (goldenfile).
//
// Nothing under testkit is part of what ships: the rotation function, the
// tools and the constructs never import it (a test in this package checks
// it), and only tests, the local demo and the load test do.
package testkit
