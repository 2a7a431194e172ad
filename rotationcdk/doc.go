// Package rotationcdk holds the AWS CDK constructs of secret-rotation, for
// any Go CDK app: a Secrets Manager rotation function for RDS for MySQL and
// MariaDB written in Go, and the wiring that makes it rotate a secret.
//
// Two constructs, used together:
//
//   - [NewRotationFunction] builds the Go rotation function from source at
//     synth time (a reproducible linux/arm64 build for provided.al2023, no
//     Docker), with its own execution role (no AWS managed policy), log
//     group, security group (HTTPS out only) and VPC placement. One function
//     can rotate many secrets.
//   - [NewSecretRotation] attaches rotation to one secret and its database:
//     an IAM policy on the function's role for that secret only (and its KMS
//     key, only through Secrets Manager), the Lambda permission for
//     secretsmanager.amazonaws.com scoped to that secret, the security-group
//     rule from the function to the database port, and the rotation
//     schedule, created after all of them because Secrets Manager rotates
//     once as soon as the schedule exists.
//
// Create the SecretRotation in the stack of the secret (or any stack
// deployed after the function's): every reference then points from it to
// the function's stack, so the two constructs work in one stack and across
// stacks without a dependency cycle. This is why the permissions are a
// managed policy created next to the secret and attached to the role by
// name, instead of grants on the role's default policy, which would live in
// the function's stack and refer back to the secret.
//
// Application users (the alternating-users strategy: a secret whose
// "masterarn" names its database's master secret) are rotated the same
// way with SecretRotationProps.MasterSecret: the function may then read
// that master, through one policy per master and stack, so only where it
// has users. For many secrets on one function, ResourcePolicies puts each
// secret's permissions in its own resource policy (IAM attaches at most 10
// managed policies to a role by default) and SharedInvokePermission keeps
// one Lambda permission per stack (a function's resource policy holds at
// most 20 KB). Any principal that can create a secret, name the function's
// role in its resource policy and rotate it could otherwise have the
// function use a master it can read: RotationFunctionProps.AlternatingUsersSecretPrefixes
// limits alternating users to secrets under given ARN prefixes (the
// function refuses the others before reading their master) and narrows
// the shared permission to them.
//
// Props are plain structs; every field documents its default. Invalid props
// are returned as errors by the constructors before any resource is
// created, never discovered at deploy time.
//
// A minimal app (see the package example):
//
//	fn, err := rotationcdk.NewRotationFunction(stack, "RotationFunction", &rotationcdk.RotationFunctionProps{Vpc: vpc})
//	...
//	_, err = rotationcdk.NewSecretRotation(stack, "Rotation", &rotationcdk.SecretRotationProps{
//		Function: fn, Secret: db.Secret(), Database: db, Schedule: rotationcdk.RotateEvery(30),
//	})
//
// The function expects the secret format of AWS's single-user rotation for
// MySQL (username, password, host, port, engine, optional dbname and ssl),
// plus masterarn, grants and userhost for application users; a
// secret with "ssl": "true" is only ever used over TLS verified against
// the system roots plus the Amazon RDS CAs, which the function carries.
package rotationcdk
