package stacks

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsconfig"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
	internaldoctor "github.com/example/secret-rotation/internal/doctor"
	"github.com/example/secret-rotation/rotationcdk"
)

// RotationFailureEvents are the Secrets Manager events of a failed
// rotation that the failure rule matches.
var RotationFailureEvents = []string{"RotationFailed", "RotationAbandoned"}

// doctorTarget invokes the doctor asynchronously; EventBridge retries a
// failed delivery, and an event older than an hour is no longer news.
func doctorTarget(doctor *rotationcdk.DoctorFunction) awsevents.IRuleTarget {
	return awseventstargets.NewLambdaFunction(doctor.Function, &awseventstargets.LambdaFunctionProps{
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
	})
}

// newRotationFailureRule sends Secrets Manager's rotation failures of the
// environment's secrets to the doctor and, as a readable line, to the topic.
//
// Rotation outcomes are not API calls: EventBridge delivers them from
// CloudTrail with detail-type "AWS Service Event via CloudTrail" and the
// outcome in detail.eventName ("Match Secrets Manager events with
// EventBridge", https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html;
// RotationFailed and RotationAbandoned are listed under "Log entries for
// rotation", https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html).
// Such an entry has no request or response elements; the secret's full ARN
// is in detail.additionalEventData.SecretId, which is what the rule
// matches, so failures of other environments' or other applications'
// secrets never reach this doctor. The doctor still checks that a secret
// is rotated by its environment's function before it changes anything.
//
// The application users' secrets are matched by ARN prefix
// ({"prefix": "arn:...:secret:<stackPrefix>/<env>/"}, see secretIDFilter):
// their names start with the environment's prefix, which ends with "/".
func newRotationFailureRule(stack awscdk.Stack, env config.Environment, secretIDs []any, doctor *rotationcdk.DoctorFunction, topic awssns.ITopic) awsevents.Rule {
	rule := awsevents.NewRule(stack, jsii.String("RotationFailureRule"), &awsevents.RuleProps{
		Description: jsii.String("Secrets Manager rotation failures of the " + env.Name + " secrets: to the doctor and the topic"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.secretsmanager"),
			DetailType: jsii.Strings("AWS Service Event via CloudTrail"),
			Detail: &map[string]any{
				"eventSource":         []any{"secretsmanager.amazonaws.com"},
				"eventName":           toAny(RotationFailureEvents),
				"additionalEventData": map[string]any{"SecretId": secretIDs},
			},
		},
	})
	rule.AddTarget(doctorTarget(doctor))
	rule.AddTarget(awseventstargets.NewSnsTopic(topic, &awseventstargets.SnsTopicProps{
		Message: awsevents.RuleTargetInput_FromText(jsii.String(fmt.Sprintf(
			"Secret rotation (%s): %s for %s at %s (account %s, %s). Secrets Manager says: %s. The rotation doctor is looking at it; its report follows.",
			env.Name,
			*awsevents.EventField_FromPath(jsii.String("$.detail.eventName")),
			*awsevents.EventField_FromPath(jsii.String("$.detail.additionalEventData.SecretId")),
			*awsevents.EventField_Time(),
			*awsevents.EventField_Account(),
			*awsevents.EventField_Region(),
			*awsevents.EventField_FromPath(jsii.String("$.detail.errorMessage")),
		))),
	}))
	return rule
}

// newRotationAlarms creates the alarm on the rotation function's errors,
// whose state changes go to the topic (alarm and OK actions), the rule
// that sends its ALARM state to the doctor, and the alarm on the doctor's
// own errors (to the topic only).
//
// The doctor gets the alarm through EventBridge, where CloudWatch sends
// every alarm state change as "CloudWatch Alarm State Change" with the
// alarm's ARN in resources ("Alarm events and EventBridge",
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html),
// rather than through a Lambda alarm action: both of the doctor's triggers
// then arrive as EventBridge events, with EventBridge's retries.
func newRotationAlarms(stack awscdk.Stack, env config.Environment, fn *rotationcdk.RotationFunction, doctor *rotationcdk.DoctorFunction, topic awssns.ITopic) (awscloudwatch.Alarm, awsevents.Rule, awscloudwatch.Alarm) {
	notify := awscloudwatchactions.NewSnsAction(topic)
	period := awscdk.Duration_Minutes(jsii.Number(env.Doctor.AlarmPeriodMinutes))
	errors := awscloudwatch.NewAlarm(stack, jsii.String("RotationErrorsAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("The %s rotation function failed %d or more times in %d minutes: a rotation step failed; the doctor diagnoses it",
			env.Name, env.Doctor.AlarmThreshold, env.Doctor.AlarmPeriodMinutes)),
		Metric:             fn.Function.MetricErrors(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum")}),
		Threshold:          jsii.Number(env.Doctor.AlarmThreshold),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		// No invocation, no error: rotations run once a month.
		TreatMissingData: awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	errors.AddAlarmAction(notify)
	errors.AddOkAction(notify)

	rule := awsevents.NewRule(stack, jsii.String("RotationAlarmRule"), &awsevents.RuleProps{
		Description: jsii.String("The " + env.Name + " rotation function's error alarm going off: to the doctor"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.cloudwatch"),
			DetailType: jsii.Strings("CloudWatch Alarm State Change"),
			Resources:  jsii.Strings(*errors.AlarmArn()),
			Detail:     &map[string]any{"state": map[string]any{"value": []any{"ALARM"}}},
		},
	})
	rule.AddTarget(doctorTarget(doctor))

	doctorErrors := awscloudwatch.NewAlarm(stack, jsii.String("DoctorErrorsAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String("The " + env.Name + " rotation doctor failed: no report was published; run rotatectl status on the environment's secrets"),
		Metric:             doctor.Function.MetricErrors(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	doctorErrors.AddAlarmAction(notify)
	return errors, rule, doctorErrors
}

// newDoctorSweepRule runs the doctor over every secret of the
// environment every env.Doctor.SweepMinutes, with the payload
// doctor.ScheduledSweep. The failure rule and the alarm reach the doctor
// minutes after a failed step, while AWSPENDING is younger than the
// stuck-after age (at least an hour), so those runs can only report; the
// sweep comes back once the rotation is old enough to be stuck and
// repairs it. It publishes only when some secret needs attention, never
// an "all healthy" report.
func newDoctorSweepRule(stack awscdk.Stack, env config.Environment, doctor *rotationcdk.DoctorFunction) awsevents.Rule {
	rule := awsevents.NewRule(stack, jsii.String("DoctorSweepRule"), &awsevents.RuleProps{
		Description: jsii.String(fmt.Sprintf("Every %d minutes: the doctor checks every %s secret and repairs rotations stuck longer than %s (reports only what needs attention)",
			env.Doctor.SweepMinutes, env.Name, env.Doctor.StuckAfterDuration())),
		Schedule: awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(env.Doctor.SweepMinutes))),
	})
	rule.AddTarget(awseventstargets.NewLambdaFunction(doctor.Function, &awseventstargets.LambdaFunctionProps{
		Event:         awsevents.RuleTargetInput_FromObject(sweepPayload()),
		RetryAttempts: jsii.Number(2),
		// The next sweep does the same: a late one is no longer needed.
		MaxEventAge: awscdk.Duration_Minutes(jsii.Number(env.Doctor.SweepMinutes)),
	}))
	return rule
}

// sweepPayload is doctor.ScheduledSweep as an object, which the target
// sends as that JSON (FromText would send a JSON string).
func sweepPayload() map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(internaldoctor.ScheduledSweep), &m); err != nil {
		panic(err) // a constant: TestDoctorSweepRule reads it back
	}
	return m
}

// rotationConfigRules are the AWS Config managed rules for rotation
// (https://docs.aws.amazon.com/config/latest/developerguide/managed-rules-by-aws-config.html):
// rotation is enabled, the scheduled rotation succeeded, and the secret was
// rotated within the rule's maxDaysSinceRotation (90 days by default).
var rotationConfigRules = []struct {
	id         string
	identifier *string
	what       string
}{
	{"RotationEnabledRule", awsconfig.ManagedRuleIdentifiers_SECRETSMANAGER_ROTATION_ENABLED_CHECK(), "rotation is enabled"},
	{"ScheduledRotationSuccessRule", awsconfig.ManagedRuleIdentifiers_SECRETSMANAGER_SCHEDULED_ROTATION_SUCCESS_CHECK(), "the last scheduled rotation succeeded"},
	{"PeriodicRotationRule", awsconfig.ManagedRuleIdentifiers_SECRETSMANAGER_SECRET_PERIODIC_ROTATION(), "the secret was rotated within 90 days"},
}

// newRotationConfigRules creates the Config rules, scoped to Secrets
// Manager secrets. A Config scope is either resource types or one tag,
// not both (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-config-configrule-scope.html),
// and rules see the whole account and region: they report on every secret
// there, so enable them in one environment per account and region. They
// need a configuration recorder that records secrets, which this app does
// not create.
func newRotationConfigRules(stack awscdk.Stack, env config.Environment) []awsconfig.ManagedRule {
	out := make([]awsconfig.ManagedRule, 0, len(rotationConfigRules))
	for _, r := range rotationConfigRules {
		out = append(out, awsconfig.NewManagedRule(stack, jsii.String(r.id), &awsconfig.ManagedRuleProps{
			Identifier:  r.identifier,
			Description: jsii.String("Secrets Manager: " + r.what + " (secret-rotation, " + env.Name + ")"),
			RuleScope:   awsconfig.RuleScope_FromResources(&[]awsconfig.ResourceType{awsconfig.ResourceType_SECRETS_MANAGER_SECRET()}),
		}))
	}
	return out
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
