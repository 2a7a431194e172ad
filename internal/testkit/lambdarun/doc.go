// Package lambdarun runs a compiled Go Lambda function the way Lambda does,
// on this machine, for end-to-end tests.
//
// BuildFunction compiles a main package into a "bootstrap" executable for
// the host, with the flags the CDK app uses for the real deployment
// (CGO_ENABLED=0, -trimpath, -tags lambda.norpc, stripped). Start runs it
// under the AWS Lambda Runtime Interface Emulator (the
// github.com/aws/aws-lambda-runtime-interface-emulator module, a tool in
// go.mod, built on demand by BuildEmulator), which implements the Lambda
// Runtime API the function polls and exposes the invoke endpoint
//
//	http://127.0.0.1:<port>/2015-03-31/functions/function/invocations
//
// that Function.InvokeURL returns and the local Secrets Manager endpoint
// (internal/smlocal) calls for RotateSecret. Both the emulator's HTTP
// address and its Runtime API address are free loopback ports, so several
// functions can run at once.
//
//	dir := t.TempDir()
//	bootstrap, err := lambdarun.BuildFunction(ctx, "github.com/example/secret-rotation/lambda/rotation", dir)
//	fn, err := lambdarun.Start(ctx, bootstrap, map[string]string{"SECRETS_MANAGER_ENDPOINT": sm.URL()})
//	defer fn.Close()
//	out, err := fn.Invoke(ctx, map[string]string{"Step": "createSecret", ...})
//
// # Environment
//
// The function sees only the variables passed to Start plus Lambda-like
// defaults (AWS_REGION, dummy AWS credentials, function name, timeout, TZ,
// PATH); nothing else is inherited from the test process, so real AWS
// credentials on a developer machine never reach the function under test.
// The emulator forwards its whole environment to the function; that is how
// the variables get there.
//
// # Errors and logs
//
// When the handler returns an error, the emulator answers 200 with the
// Lambda error document {"errorMessage": ..., "errorType": ...} and no
// X-Amz-Function-Error header (unlike the real Invoke API). Invoke turns
// that document into a *FunctionError. A crashed function (exit, panic)
// gets 502 with the same document, errorType "Runtime.ExitError" or the
// panic's type; a timeout gets 200 and a bare "Task timed out after N
// seconds", which Invoke reports as errorType "Sandbox.Timedout" like
// Lambda. After a crash or timeout the next invocation starts a fresh
// runtime. Logs returns everything the emulator and the function wrote,
// so tests can assert that no secret value was ever logged; it includes
// all output written before the last invocation returned.
//
// # No leaks
//
// The emulator runs in its own process group with a parent-death signal
// (internal/testkit/childproc). The emulator starts the function in a
// process group of its own; Close kills both groups, and if the test binary
// dies the function exits by itself once the emulator's Runtime API is gone.
//
// The emulator starts the function lazily, on the first invocation, as
// Lambda does for a cold start; Start only waits until the emulator accepts
// HTTP connections.
package lambdarun
