// Package servicerole creates IAM roles that one AWS service assumes on
// behalf of this account only, shared by the constructs and the stacks.
package servicerole

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// New is a role that only the AWS service principal (for example
// "lambda.amazonaws.com") may assume, and only on behalf of this account
// (aws:SourceAccount), which keeps the role from being a confused deputy.
func New(scope constructs.Construct, id, service, description string) awsiam.Role {
	return awsiam.NewRole(scope, jsii.String(id), &awsiam.RoleProps{
		Description: jsii.String(description),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String(service), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
		}),
	})
}
