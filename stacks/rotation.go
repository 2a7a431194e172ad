package stacks

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/internal/config"
)

// Environment variables the rotation function reads. The app never sets
// EnvSecretsManagerEndpoint: with the interface endpoint's private DNS the
// SDK's default host name already reaches the endpoint (see NewNetworkStack).
const (
	EnvSecretsManagerEndpoint = "SECRETS_MANAGER_ENDPOINT"
	EnvPasswordLength         = "PASSWORD_LENGTH"
	EnvExcludeCharacters      = "EXCLUDE_CHARACTERS"
	EnvDBCABundle             = "DB_CA_BUNDLE"
)

// RotationStackProps configures [NewRotationStack].
type RotationStackProps struct {
	awscdk.StackProps
	// Environment is the validated environment configuration.
	Environment config.Environment
	// Vpc and Subnets place the function; both come from the network stack.
	Vpc     awsec2.IVpc
	Subnets *awsec2.SubnetSelection
	// Code is the bundled function (see [FunctionCode]).
	Code awslambda.Code
	// CABundleName is the file name of the bundled caBundlePath PEM, whose
	// CAs the function trusts besides the built-in RDS CAs; empty when none.
	CABundleName string
	// LogsKey encrypts the function's log group.
	LogsKey awskms.IKey
}

// RotationStack holds the rotation function.
type RotationStack struct {
	awscdk.Stack
	// Function is the Secrets Manager rotation function.
	Function awslambda.IFunction
	// SecurityGroup is the function's own group; the database stack admits it.
	SecurityGroup awsec2.ISecurityGroup
}

// NewRotationStack creates the Go rotation function in the private subnets
// with its own security group and log group. Permissions to the secret and
// the invoke permission are added by the database stack.
func NewRotationStack(scope constructs.Construct, id string, props *RotationStackProps) *RotationStack {
	env := props.Environment
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	tagStack(stack, env)

	sg := awsec2.NewSecurityGroup(stack, jsii.String("FunctionSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String("Rotation function: HTTPS to Secrets Manager; database port added by the database stack"),
		AllowAllOutbound: jsii.Bool(false),
	})
	if env.SecretsManagerEndpoint {
		// Private DNS resolves Secrets Manager to the endpoint inside the VPC.
		sg.AddEgressRule(awsec2.Peer_Ipv4(jsii.String(env.VpcCidr)), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS to the Secrets Manager endpoint"), nil)
	} else {
		sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS to Secrets Manager through NAT"), nil)
	}

	logGroup := awslogs.NewLogGroup(stack, jsii.String("FunctionLogGroup"), &awslogs.LogGroupProps{
		Retention:     retentionDays[env.LogRetentionDays],
		EncryptionKey: props.LogsKey,
		RemovalPolicy: plainRemovalPolicy(env),
	})
	role, basePolicy := newFunctionRole(stack, logGroup)

	vars := map[string]*string{
		EnvPasswordLength:    jsii.String(strconv.Itoa(env.PasswordLength)),
		EnvExcludeCharacters: jsii.String(env.ExcludeCharacters),
	}
	if props.CABundleName != "" {
		vars[EnvDBCABundle] = jsii.String(props.CABundleName)
	}

	fnProps := &awslambda.FunctionProps{
		Description:  jsii.String("Rotates the RDS for MySQL master password in Secrets Manager (" + env.Name + ")"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         props.Code,
		MemorySize:   jsii.Number(256),
		// Covers a 5 s connect timeout plus retries and the four rotation steps.
		Timeout:        awscdk.Duration_Seconds(jsii.Number(env.RotationTimeoutSeconds)),
		Vpc:            props.Vpc,
		VpcSubnets:     props.Subnets,
		SecurityGroups: &[]awsec2.ISecurityGroup{sg},
		LogGroup:       logGroup,
		Role:           role,
		Environment:    &vars,
	}
	// Reserved concurrency is optional and off by default (see
	// config.DefaultEnvironment): a reservation cannot be deployed in an
	// account whose Lambda concurrency quota is 100 or less.
	if env.RotationReservedConcurrency > 0 {
		fnProps.ReservedConcurrentExecutions = jsii.Number(env.RotationReservedConcurrency)
	}
	fn := awslambda.NewFunction(stack, jsii.String("RotationFunction"), fnProps)
	fn.Node().AddDependency(basePolicy)
	compliance.MustSuppress(fn, compliance.Suppression{Rule: "NIST.800.53.R5-LambdaDLQ", Reason: ReasonLambdaDLQ})
	if env.RotationReservedConcurrency == 0 {
		compliance.MustSuppress(fn, compliance.Suppression{Rule: "NIST.800.53.R5-LambdaConcurrency", Reason: ReasonNoReservedConcurrency})
	}
	return &RotationStack{Stack: stack, Function: fn, SecurityGroup: sg}
}
