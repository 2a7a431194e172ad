package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
)

// eniActions are what Lambda needs on the execution role to attach a
// function to a VPC: the EC2 actions of AWSLambdaVPCAccessExecutionRole.
var eniActions = []string{
	"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
	"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
}

// newFunctionRole creates the rotation function's own execution role with no
// AWS managed policy. Instead of AWSLambdaBasicExecutionRole (logs on every
// log group) and AWSLambdaVPCAccessExecutionRole, one customer-managed
// policy grants writing to the function's own log group and the EC2 network
// interface actions Lambda performs for a function in a VPC. Permissions on
// the secret and its key are added by the database stack. The function must
// depend on the returned policy: Lambda checks the ENI permissions when the
// function is created.
func newFunctionRole(scope constructs.Construct, logGroup awslogs.ILogGroup) (awsiam.Role, awsiam.ManagedPolicy) {
	role := newServiceRole(scope, "RotationFunctionRole", "lambda.amazonaws.com", "Secrets Manager rotation function for RDS for MySQL")
	policy := awsiam.NewManagedPolicy(scope, jsii.String("RotationFunctionBasePolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Rotation function: its own log group, and the network interfaces of a function in a VPC"),
		Roles:       &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("WriteOwnLogGroup"),
				Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
				Resources: jsii.Strings(*logGroup.LogGroupArn()),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("VpcNetworkInterfaces"),
				Actions:   jsii.Strings(eniActions...),
				Resources: jsii.Strings("*"),
			}),
		},
	})
	compliance.MustSuppress(policy, compliance.Suppression{
		Rule:      "AwsSolutions-IAM5",
		Reason:    ReasonENIWildcard,
		AppliesTo: []string{"Resource::*"},
	})
	return role, policy
}
