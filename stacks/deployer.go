package stacks

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
)

// deploymentRoleArn returns the ARN of the role CloudFormation deploys the
// stack with: the CDK bootstrap's CloudFormation execution role
// (cdk-<qualifier>-cfn-exec-role-<account>-<region>), which `cdk deploy` and
// CDK Pipelines both use. It is rendered with Fn::Sub so that it also works
// for environment-agnostic stacks.
func deploymentRoleArn(stack awscdk.Stack) *string {
	arn := ""
	if s, ok := stack.Synthesizer().(awscdk.DefaultStackSynthesizer); ok && s.CloudFormationExecutionRoleArn() != nil {
		arn = *s.CloudFormationExecutionRoleArn()
	}
	if arn == "" || strings.Contains(arn, "${Token[") {
		qualifier := *awscdk.DefaultStackSynthesizer_DEFAULT_QUALIFIER()
		if q, ok := stack.Node().TryGetContext(jsii.String("@aws-cdk/core:bootstrapQualifier")).(string); ok && q != "" {
			qualifier = q
		}
		arn = strings.ReplaceAll(*awscdk.DefaultStackSynthesizer_DEFAULT_CLOUDFORMATION_ROLE_ARN(), "${Qualifier}", qualifier)
	}
	return awscdk.Fn_Sub(jsii.String(arn), nil)
}

// protectSecret adds the resource policy CDK's own rotation adds
// (Secret.denyAccountRootDelete), narrowed the way a deployment needs it:
// nobody may delete the secret or change its resource policy except the
// deployment role, so only a stack update or deletion removes it. In
// particular neither the rotation function nor an administrator's console
// session can delete the credentials of a running database.
func protectSecret(stack awscdk.Stack, secret awssecretsmanager.Secret) {
	secret.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyDeleteExceptDeploymentRole"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("secretsmanager:DeleteSecret", "secretsmanager:DeleteResourcePolicy", "secretsmanager:PutResourcePolicy"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"ArnNotEquals": map[string]any{"aws:PrincipalArn": deploymentRoleArn(stack)},
		},
	}))
}
