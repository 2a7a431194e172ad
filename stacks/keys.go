package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
)

// newKey creates a customer-managed symmetric KMS key with yearly automatic
// rotation. The key policy is CDK's default (the account administers the key
// and IAM policies grant its use), so every use is visible in IAM policies;
// dev keys are scheduled for deletion with the stack (7-day window).
func newKey(scope constructs.Construct, id, description string, env config.Environment) awskms.Key {
	return awskms.NewKey(scope, jsii.String(id), &awskms.KeyProps{
		Description:       jsii.String(description + " (secret-rotation, " + env.Name + ")"),
		EnableKeyRotation: jsii.Bool(true),
		PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
		RemovalPolicy:     plainRemovalPolicy(env),
	})
}

// newLogsKey creates the key that encrypts every log group of the
// environment (flow logs, the function's logs, the database's log exports).
// CloudWatch Logs of this account and region may use it, only for log groups
// of this account and region (the encryption-context condition AWS documents
// for log group encryption).
func newLogsKey(stack awscdk.Stack, env config.Environment) awskms.Key {
	key := newKey(stack, "LogsKey", "CloudWatch Logs encryption", env)
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchLogsOfThisAccount"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(awscdk.Fn_Sub(jsii.String("logs.${AWS::Region}.amazonaws.com"), nil), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"ArnLike": map[string]any{
				"kms:EncryptionContext:aws:logs:arn": awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"), nil),
			},
		},
	}), jsii.Bool(false))
	return key
}

// allowReadsThroughSecretsManager lets principals of this account decrypt
// with key only when Secrets Manager does it for them (kms:ViaService and
// kms:CallerAccount), as the AWS managed aws/secretsmanager key does. Who
// may read the secret is then decided by secretsmanager:GetSecretValue
// permissions alone, and stacks deployed after the database stack (the
// pipeline's post-deploy check) can be granted read access without writing
// their roles into this key's policy, which would be a dependency cycle.
// Nothing else may use the key unless an IAM policy grants it.
func allowReadsThroughSecretsManager(key awskms.Key) {
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("ReadSecretsThroughSecretsManager"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:Decrypt", "kms:DescribeKey"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"kms:ViaService":    awscdk.Fn_Sub(jsii.String("secretsmanager.${AWS::Region}.amazonaws.com"), nil),
			"kms:CallerAccount": awscdk.Aws_ACCOUNT_ID(),
		}},
	}), jsii.Bool(false))
}
