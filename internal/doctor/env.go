// Package doctor diagnoses and, where rotatectl's guard allows, repairs a
// failed Secrets Manager rotation from inside the VPC, and reports what it
// saw and did. (Being written for issue 14; this file fixes the contract
// between the function and the stacks that deploy it.)
package doctor

// Environment variables of the doctor function, set by the stacks.
const (
	// EnvTopicARN is the SNS topic the report is published to.
	EnvTopicARN = "DOCTOR_TOPIC_ARN"
	// EnvRepair is "true" to let the doctor repair what the guard allows,
	// "false" to report only.
	EnvRepair = "DOCTOR_REPAIR"
	// EnvStuckAfter is the age (Go duration, e.g. "1h") after which a
	// pending rotation counts as stuck.
	EnvStuckAfter = "DOCTOR_STUCK_AFTER"
	// EnvRotationFunctionARN is the rotation function of the environment:
	// the secrets it rotates are the environment's secrets.
	EnvRotationFunctionARN = "DOCTOR_ROTATION_FUNCTION_ARN"
	// EnvRotationLogGroup is the rotation function's log group name, whose
	// last error lines go into the report.
	EnvRotationLogGroup = "DOCTOR_ROTATION_LOG_GROUP"
	// EnvEnvironment is the environment name shown in reports.
	EnvEnvironment = "DOCTOR_ENVIRONMENT"
	// EnvSecretsManagerEndpoint overrides the Secrets Manager endpoint
	// (local tests only), as the rotation function's does.
	EnvSecretsManagerEndpoint = "SECRETS_MANAGER_ENDPOINT"
)
