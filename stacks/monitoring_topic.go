package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
)

// topicPublishers are the AWS services that publish to the rotation topic:
// EventBridge (the failure rule's target) and CloudWatch (the alarms'
// actions).
var topicPublishers = []string{"events.amazonaws.com", "cloudwatch.amazonaws.com"}

// newRotationTopic creates the environment's topic of rotation events and
// doctor reports, encrypted with its own customer-managed key, with the
// configured subscriptions.
//
// AWS services publishing to an encrypted topic use its key themselves,
// so the key policy names them with the actions of the SNS developer
// guide ("Enable compatibility between event sources from AWS services
// and encrypted topics": kms:Decrypt and kms:GenerateDataKey*,
// https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
// The guide gives no condition, and one the services do not send would
// drop every alert without an error anyone sees; the key encrypts nothing
// but this topic. The topic policy is where publishing is narrowed: only
// over TLS (EnforceSSL, AwsSolutions-SNS3), and CloudWatch only for alarms
// of this account.
func newRotationTopic(stack awscdk.Stack, env config.Environment) (awskms.Key, awssns.Topic) {
	key := newKey(stack, "TopicKey", "SNS topic of rotation events and doctor reports", env)
	principals := make([]awsiam.IPrincipal, len(topicPublishers))
	for i, p := range topicPublishers {
		principals[i] = awsiam.NewServicePrincipal(jsii.String(p), nil)
	}
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AwsServicesPublishToTheTopic"),
		Principals: &principals,
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), jsii.Bool(false))

	topic := awssns.NewTopic(stack, jsii.String("RotationTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("Secret rotation (" + env.Name + ")"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	// A topic policy replaces SNS's default one, which let the account's
	// principals and services publish: CloudWatch alarm actions need their
	// own statement now (EventBridge's is added by the rule's target).
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsOfThisAccount"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  jsii.Strings(*topic.TopicArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()},
			"ArnLike": map[string]any{
				"aws:SourceArn": awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"), nil),
			},
		},
	}))
	for _, address := range env.Doctor.EmailSubscriptions {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(address), nil))
	}
	for _, url := range env.Doctor.HTTPSSubscriptions {
		topic.AddSubscription(awssnssubscriptions.NewUrlSubscription(jsii.String(url), &awssnssubscriptions.UrlSubscriptionProps{
			Protocol: awssns.SubscriptionProtocol_HTTPS,
		}))
	}
	return key, topic
}
