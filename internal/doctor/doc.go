// Package doctor diagnoses a secret whose Secrets Manager rotation failed,
// from inside the VPC where the rotation function runs, repairs it when
// rotatectl's guard allows, retries the rotation once and reports what it
// saw and did. lambda/doctor wires it into the doctor function; the
// stacks deploy that function with the environment variables of [Config]
// (see [ConfigFromEnv]).
//
// # Triggers
//
// [ParseTrigger] reads the invocation payload: a Secrets Manager
// RotationFailed or RotationAbandoned event (TestRotationFailed is accepted too) delivered
// by EventBridge from CloudTrail (the secret in
// detail.additionalEventData.SecretId), a CloudWatch alarm state change to
// ALARM (every secret the environment's rotation function rotates), or an
// on-demand {"secretId":"..."} or {}, or the environment's scheduled
// sweep ([ScheduledSweep], every secret). A failed rotation's event comes
// minutes after the failure, while AWSPENDING is still younger than
// Config.StuckAfter, so that run only reports; the scheduled sweep (an
// EventBridge schedule, hourly by default) is what repairs the rotation
// once it is older, and it publishes only when some secret needs
// attention ([NeedsAttention]).
//
// # Diagnosis
//
// [Doctor.Diagnose] reuses package operator, the code of rotatectl
// status and repair, instead of a copy: the status reading and
// [operator.PlanRepair]'s logins and guard. It adds what only something
// inside the VPC can see: DNS and TCP to Secrets Manager and to the
// database, the server's greeting (version, authentication plugin), the
// TLS handshake with the CAs the rotation function trusts, the master
// secret of an alternating-users secret, and the last error lines of the
// rotation function's log group. The result is a [Diagnosis]: a [Cause]
// in one line, its evidence, the action taken and the one command an
// operator should run next.
//
// # Repair
//
// Only two causes are repaired: stuck after setSecret (AWSCURRENT moves
// to the pending version, as finishSecret would) and stuck after
// createSecret (AWSPENDING is removed), and only when the rotation has
// been pending longer than Config.StuckAfter and [operator.PlanRepair]
// returns its plan without error: the first stored password the database
// accepts, in rotatectl's order, decides, and nothing is changed when it
// accepts none, an account is blocked or a login cannot be checked. Then
// the rotation is retried once. Everything else changes nothing.
// Config.Repair false reports only.
//
// # Reports
//
// [Render] and [Message] write the report published to the SNS topic. A
// report never holds a password or a secret string: the secret is named
// by ARN, logins by stage label and account, and log lines are shortened
// to the step, the outcome and the error.
//
// docs/doctor.md is the operator's guide: what is watched, the verdicts,
// what the doctor may change and what it never touches, and an example
// report.
package doctor
