package doctor

import (
	"fmt"
	"strings"
	"time"

	"github.com/example/secret-rotation/internal/operator"
	"github.com/example/secret-rotation/internal/rotation"
)

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
	// EnvCABundle is a PEM file of extra CAs trusted for database TLS,
	// with the rotation function's semantics (a relative path is resolved
	// against LAMBDA_TASK_ROOT; the Amazon RDS CAs are always trusted),
	// so the doctor judges the certificate by what the function trusts.
	// Optional.
	EnvCABundle = rotation.EnvCABundle
	// EnvSweepInterval is how often the environment's schedule runs the
	// scheduled sweep (Go duration; default [DefaultSweepInterval]): the
	// sweep uses it to report what changed since the previous sweep only.
	// Optional.
	EnvSweepInterval = "DOCTOR_SWEEP_INTERVAL"
	// EnvRetryTimeout bounds the one retried rotation after a repair
	// (Go duration; default [DefaultRetryTimeout]). Optional.
	EnvRetryTimeout = "DOCTOR_RETRY_TIMEOUT"
)

// DefaultSweepInterval is the scheduled sweep's default interval, the
// stacks' default sweepMinutes.
const DefaultSweepInterval = time.Hour

// DefaultRetryTimeout bounds the rotation the doctor retries after a
// repair: four steps of a healthy rotation take seconds.
const DefaultRetryTimeout = 2 * time.Minute

// Config is what the doctor function reads from its environment.
type Config struct {
	TopicARN            string
	Repair              bool
	StuckAfter          time.Duration
	RotationFunctionARN string
	LogGroup            string
	Environment         string
	Endpoint            string // Secrets Manager endpoint override; "" = SDK default
	CABundle            string // absolute path, or ""
	RetryTimeout        time.Duration
	SweepInterval       time.Duration
}

// ConfigFromEnv reads the configuration through getenv (os.Getenv in
// main). DOCTOR_TOPIC_ARN and DOCTOR_ROTATION_FUNCTION_ARN are required;
// DOCTOR_REPAIR defaults to false (report only) unless it is exactly
// "true" or "false", which is an error, so a typo never turns repairs on;
// DOCTOR_STUCK_AFTER defaults to rotatectl's 1h.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		TopicARN:            strings.TrimSpace(getenv(EnvTopicARN)),
		RotationFunctionARN: strings.TrimSpace(getenv(EnvRotationFunctionARN)),
		LogGroup:            strings.TrimSpace(getenv(EnvRotationLogGroup)),
		Environment:         strings.TrimSpace(getenv(EnvEnvironment)),
		Endpoint:            strings.TrimSpace(getenv(EnvSecretsManagerEndpoint)),
		StuckAfter:          operator.DefaultStuckAfter,
		RetryTimeout:        DefaultRetryTimeout,
		SweepInterval:       DefaultSweepInterval,
	}
	if c.TopicARN == "" {
		return Config{}, fmt.Errorf("%s is required", EnvTopicARN)
	}
	if c.RotationFunctionARN == "" {
		return Config{}, fmt.Errorf("%s is required", EnvRotationFunctionARN)
	}
	switch v := strings.TrimSpace(getenv(EnvRepair)); v {
	case "true":
		c.Repair = true
	case "false", "":
	default:
		return Config{}, fmt.Errorf("%s: want true or false, got %q", EnvRepair, v)
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{EnvStuckAfter, &c.StuckAfter}, {EnvRetryTimeout, &c.RetryTimeout}, {EnvSweepInterval, &c.SweepInterval}} {
		v := strings.TrimSpace(getenv(d.name))
		if v == "" {
			continue
		}
		dur, err := time.ParseDuration(v)
		if err != nil || dur < 0 {
			return Config{}, fmt.Errorf("%s: want a duration such as 1h or 15m, got %q", d.name, v)
		}
		*d.dst = dur
	}
	if c.LogGroup == "" {
		c.LogGroup = operator.LogGroup(c.RotationFunctionARN)
	}
	c.CABundle = rotation.CABundleFromEnv(getenv)
	return c, nil
}
