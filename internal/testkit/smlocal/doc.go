// Package smlocal is a local AWS Secrets Manager endpoint for tests and
// demos: an HTTP server on 127.0.0.1 speaking the service's wire protocol
// (AWS JSON 1.1, POST / with X-Amz-Target: secretsmanager.<Operation>), so
// the unmodified aws-sdk-go-v2 client and the aws CLI can be pointed at it
// with a base endpoint (--endpoint-url for the CLI).
//
// # Use in tests
//
//	srv, err := smlocal.Start(smlocal.WithFunction(arn, smlocal.InvokerFunc(handler)))
//	if err != nil { t.Fatal(err) }
//	t.Cleanup(func() { srv.Close() })
//	sm := srv.NewClient(ctx) // *secretsmanager.Client, BaseEndpoint = srv.URL()
//
// Any other SDK client works too: set BaseEndpoint to srv.URL(), any region
// and any static credentials. Requests must carry an Authorization header
// (every SDK signs), but signatures are not verified.
//
// # Operations
//
// Only what the project and its tests call (found by grep for the SDK
// method, its paginator and the aws CLI subcommand); each line names the
// callers that justify keeping it:
//
//	CreateSecret              localenv (so the demo and load test), the tests of rotation,
//	                          lambda/rotation, connect, operator, dbconnect, cmd/smlocal
//	DescribeSecret            the rotation function's guard (internal/rotation), connect's
//	                          caching client, rotatectl status/rotate/repair (internal/operator,
//	                          which the rotation doctor reuses), the doctor's event check
//	GetSecretValue            the rotation steps, connect, rotatectl verify
//	PutSecretValue            the rotation function's createSecret; tests staging versions
//	UpdateSecretVersionStage  the rotation function's finishSecret; rotatectl repair
//	ListSecretVersionIds      rotatectl (status, repair, paginated), the end-to-end tests
//	ListSecrets               the rotation doctor's sweep over an environment's secrets
//	                          (paginated by name; filters not modelled)
//	GetRandomPassword         the rotation function's createSecret
//	RotateSecret              rotatectl rotate, localenv (the demo), the end-to-end and
//	                          load tests, cmd/smlocal's test
//	CancelRotateSecret        the rotation integration tests (a rotation stopped halfway)
//
// TestAWSCLI drives most of them through the aws CLI. Nothing in the
// project updates, deletes or restores a secret, so UpdateSecret,
// DeleteSecret and RestoreSecret are not served and there is no deletion
// state (a secret lives as long as the server); they and every other
// operation answer UnknownOperationException. Add an operation together
// with its first caller.
//
// The served operations follow the documented service rules: secrets
// addressed by name, full ARN or partial ARN (without the "-" and six random
// characters); ClientRequestToken idempotency (same token and value:
// ignored; same token, other value: ResourceExistsException); staging labels
// that live on one version at a time, with AWSPREVIOUS following AWSCURRENT;
// deprecated (unlabelled) versions capped at 100; errors with the service's
// "__type", so the SDK returns its typed errors
// (*types.ResourceNotFoundException, ...).
//
// # Rotation
//
// RotateSecret validates the rules, records the function ARN, refuses while
// AWSPENDING sits on a version other than AWSCURRENT ("A previous rotation
// isn't complete"), attaches AWSPENDING to a new version without a value
// (its id is the ClientRequestToken) and invokes the function registered
// for the ARN with createSecret, setSecret, testSecret and finishSecret,
// stopping at the first failure. With RotateImmediately=false it only runs
// testSecret against a temporary AWSPENDING version holding the current
// value, then removes that version. Functions are in-process (InvokerFunc)
// or a Lambda invoke URL (HTTPInvoker, e.g. the Runtime Interface
// Emulator). Rotation is asynchronous like the service; WaitForRotations
// waits for it, RotationErrors reports failed steps, and
// WithSynchronousRotation makes RotateSecret return after the steps.
//
// # Age
//
// Backdate(secretID, stage, age) makes the version holding stage look age
// older (its CreatedDate), so what depends on a version's age, such as
// the stuck-after rule of rotatectl and the rotation doctor, is tested
// with the deployed age (an hour) without waiting for it.
//
// # Fault injection
//
// FailNext(op, n, "ThrottlingException") makes the next n calls of op fail
// the way the service throttles (HTTP 400, which the SDK retries);
// "InternalServiceError" answers HTTP 500; DelayNext delays calls;
// HangNext holds calls open without ever answering, until the client gives
// up. PageTokenNext makes paginated answers carry the NextToken another
// implementation sends: "" on the last page (EmptyNextToken) or the token
// the page was asked with (RepeatedNextToken). Calls counts requests per
// operation, so tests can measure API usage.
//
// The command cmd/smlocal runs the same server standalone.
package smlocal
