package stacks

import (
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
)

// Subnet group names, used to select subnets independently of their type
// (private subnets are isolated when the environment has no NAT gateway).
const (
	publicSubnetGroup  = "Public"
	privateSubnetGroup = "Private"
)

// stackEnv returns the stack's account/region, or nil to stay environment-
// agnostic (or inherit a Stage's environment).
func stackEnv(env config.Environment) *awscdk.Environment {
	if env.Account == "" && env.Region == "" {
		return nil
	}
	out := &awscdk.Environment{}
	if env.Account != "" {
		out.Account = jsii.String(env.Account)
	}
	if env.Region != "" {
		out.Region = jsii.String(env.Region)
	}
	return out
}

// dataRemovalPolicy maps the configured policy onto stateful resources that
// support snapshots (the database).
func dataRemovalPolicy(env config.Environment) awscdk.RemovalPolicy {
	switch env.RemovalPolicy {
	case config.RemovalRetain:
		return awscdk.RemovalPolicy_RETAIN
	case config.RemovalSnapshot:
		return awscdk.RemovalPolicy_SNAPSHOT
	default:
		return awscdk.RemovalPolicy_DESTROY
	}
}

// plainRemovalPolicy is dataRemovalPolicy for resources without snapshots
// (secrets, log groups): snapshot means retain.
func plainRemovalPolicy(env config.Environment) awscdk.RemovalPolicy {
	if env.RemovalPolicy == config.RemovalDestroy {
		return awscdk.RemovalPolicy_DESTROY
	}
	return awscdk.RemovalPolicy_RETAIN
}

// retentionDays maps validated day counts onto the CloudWatch enum.
var retentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

// tagStack labels every resource of the stack with the project and environment.
func tagStack(stack awscdk.Stack, env config.Environment) {
	tagWith(stack, env.Tags)
	awscdk.Tags_Of(stack).Add(jsii.String("environment"), jsii.String(env.Name), nil)
}

// tagWith adds tags to every resource of scope, in key order.
func tagWith(scope constructs.IConstruct, tags map[string]string) {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		awscdk.Tags_Of(scope).Add(jsii.String(k), jsii.String(tags[k]), nil)
	}
}
