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
// Only what the project and its tests call:
//
//	CreateSecret              tests and the demo create their secrets
//	DescribeSecret            the rotation function's guard, connect's caching client, rotatectl
//	GetSecretValue            the rotation function, connect, rotatectl
//	PutSecretValue            the rotation function's createSecret; tests staging versions
//	UpdateSecretVersionStage  finishSecret; rotatectl repair
//	ListSecretVersionIds      rotatectl (status, repair, paginated), the end-to-end tests
//	ListSecrets               the rotation doctor's sweep over an environment's secrets
//	                          (paginated by name; filters not modelled)
//	GetRandomPassword         the rotation function's createSecret
//	RotateSecret              rotatectl rotate, the demo, the end-to-end and load tests
//	CancelRotateSecret        the rotation integration tests (a rotation stopped halfway)
//	UpdateSecret, DeleteSecret, RestoreSecret
//	                          no caller outside this package's tests: not justified,
//	                          to be removed with the deletion state they keep
//
// They follow the documented service rules: secrets addressed by name, full ARN or partial
// ARN (without the "-" and six random characters); ClientRequestToken
// idempotency (same token and value: ignored; same token, other value:
// ResourceExistsException); staging labels that live on one version at a
// time, with AWSPREVIOUS following AWSCURRENT; deprecated (unlabelled)
// versions capped at 100; errors with the service's "__type", so the SDK
// returns its typed errors (*types.ResourceNotFoundException, ...).
// Other operations answer UnknownOperationException.
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
