package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/internal/servicerole"
)

// NetworkStackProps configures [NewNetworkStack].
type NetworkStackProps struct {
	awscdk.StackProps
	// Environment is the validated environment configuration.
	Environment config.Environment
}

// NetworkStack is the VPC every other stack of the environment runs in.
type NetworkStack struct {
	awscdk.Stack
	// Vpc spans the configured zones with public and private subnet groups.
	Vpc awsec2.IVpc
	// PrivateSubnets selects the private subnets (with egress through NAT, or
	// isolated when the environment has no NAT gateway).
	PrivateSubnets *awsec2.SubnetSelection
	// SecretsManagerEndpoint is the interface endpoint, nil when disabled.
	// Its private DNS makes the standard Secrets Manager host name resolve
	// to it inside the VPC, so clients need no endpoint configuration.
	SecretsManagerEndpoint awsec2.InterfaceVpcEndpoint
	// LogsKey is the customer-managed KMS key of every log group of the
	// environment (see newLogsKey).
	LogsKey awskms.IKey

	privateSubnetArns []*string
}

// PrivateSubnetArns returns the ARNs of the private subnets (in the order
// of PrivateSubnets) as finished values for another stack: each is an
// output of this stack that the consumer reads whole with one
// Fn::GetStackOutput. A consumer that builds the ARN itself from a subnet id
// would nest Fn::GetStackOutput inside Fn::Join, which CloudFormation does
// not document and cfn-lint rejects. The outputs are added on the first
// call, so the network stack of an environment without such a consumer
// does not change.
func (n *NetworkStack) PrivateSubnetArns() []*string {
	if n.privateSubnetArns != nil {
		return n.privateSubnetArns
	}
	for i, subnet := range *n.Vpc.SelectSubnets(n.PrivateSubnets).Subnets {
		id := fmt.Sprintf("PrivateSubnet%dArn", i+1)
		out := awscdk.NewCfnOutput(n.Stack, jsii.String(id), &awscdk.CfnOutputProps{
			Value: n.Stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("ec2"), Resource: jsii.String("subnet"), ResourceName: subnet.SubnetId(),
			}),
			Description: jsii.String(fmt.Sprintf("ARN of private subnet %d", i+1)),
		})
		out.OverrideLogicalId(jsii.String(id))
		n.privateSubnetArns = append(n.privateSubnetArns, awscdk.Fn_GetStackOutput(n.Stack.StackName(), jsii.String(id), nil, nil))
	}
	return n.privateSubnetArns
}

// NewNetworkStack creates the VPC, its flow logs and the optional Secrets
// Manager endpoint, and outputs the VPC and subnet ids.
func NewNetworkStack(scope constructs.Construct, id string, props *NetworkStackProps) *NetworkStack {
	env := props.Environment
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	tagStack(stack, env)

	privateType := awsec2.SubnetType_PRIVATE_WITH_EGRESS
	if env.NatGateways == 0 {
		// CDK refuses egress subnets without NAT; the endpoint is the only way out.
		privateType = awsec2.SubnetType_PRIVATE_ISOLATED
	}
	vpcProps := &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String(env.VpcCidr)),
		NatGateways: jsii.Number(env.NatGateways),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String(publicSubnetGroup), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24), MapPublicIpOnLaunch: jsii.Bool(false)},
			{Name: jsii.String(privateSubnetGroup), SubnetType: privateType, CidrMask: jsii.Number(24)},
		},
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	}
	if len(env.AvailabilityZones) > 0 {
		vpcProps.AvailabilityZones = jsii.Strings(env.AvailabilityZones...)
	} else {
		vpcProps.MaxAzs = jsii.Number(env.MaxAzs)
	}
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), vpcProps)

	// The public subnets exist for the NAT gateways; their default route to
	// the internet gateway is what NAT needs.
	for _, subnet := range *vpc.PublicSubnets() {
		if route, ok := subnet.Node().TryFindChild(jsii.String("DefaultRoute")).(awsec2.CfnRoute); ok {
			compliance.MustSuppress(route, compliance.Suppression{Rule: "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW", Reason: ReasonPublicRoute})
		}
	}

	logsKey := newLogsKey(stack, env)
	flowLogGroup := awslogs.NewLogGroup(stack, jsii.String("FlowLogGroup"), &awslogs.LogGroupProps{
		Retention:     retentionDays[env.LogRetentionDays],
		EncryptionKey: logsKey,
		RemovalPolicy: plainRemovalPolicy(env),
	})
	flowLogRole, flowLogPolicy := newFlowLogRole(stack, flowLogGroup)
	flowLog := vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogGroup, flowLogRole),
		TrafficType: awsec2.FlowLogTrafficType_ALL,
	})
	flowLog.Node().AddDependency(flowLogPolicy)

	routeProviderLogs(stack, env, logsKey)

	private := &awsec2.SubnetSelection{SubnetGroupName: jsii.String(privateSubnetGroup)}
	out := &NetworkStack{Stack: stack, Vpc: vpc, PrivateSubnets: private, LogsKey: logsKey}

	if env.SecretsManagerEndpoint {
		// Its own group: HTTPS from inside the VPC only (a literal CIDR, so
		// the rule packs can evaluate it).
		endpointSG := awsec2.NewSecurityGroup(stack, jsii.String("SecretsManagerEndpointSecurityGroup"), &awsec2.SecurityGroupProps{
			Vpc:              vpc,
			Description:      jsii.String("Secrets Manager endpoint: HTTPS from inside the VPC"),
			AllowAllOutbound: jsii.Bool(false),
		})
		endpointSG.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(env.VpcCidr)), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS from the VPC"), nil)
		endpoint := vpc.AddInterfaceEndpoint(jsii.String("SecretsManagerEndpoint"), &awsec2.InterfaceVpcEndpointOptions{
			Service:           awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER(),
			PrivateDnsEnabled: jsii.Bool(true),
			Subnets:           private,
			SecurityGroups:    &[]awsec2.ISecurityGroup{endpointSG},
			Open:              jsii.Bool(false),
		})
		for _, st := range secretsManagerEndpointPolicy(stack) {
			endpoint.AddToPolicy(st)
		}
		// No endpoint URL is handed to the rotation function: with private
		// DNS, secretsmanager.<region>.amazonaws.com resolves to the
		// endpoint's addresses inside the VPC ("Access AWS Secrets Manager
		// using an interface VPC endpoint",
		// https://docs.aws.amazon.com/secretsmanager/latest/userguide/vpc-endpoint-overview.html),
		// which is where the SDK's default endpoint points. Passing the
		// endpoint's DnsEntries instead would put Fn::GetStackOutput inside
		// Fn::Split/Fn::Select in the rotation stack, where CloudFormation
		// does not document it and cfn-lint rejects it.
		out.SecretsManagerEndpoint = endpoint
	}

	// Outputs for tools that join the VPC (as the original solution exported them).
	output(stack, "VpcId", vpc.VpcId(), "VPC id")
	output(stack, "PublicSubnetIds", joinSubnetIDs(vpc, publicSubnetGroup), "comma-separated public subnet ids")
	output(stack, "PrivateSubnetIds", joinSubnetIDs(vpc, privateSubnetGroup), "comma-separated private subnet ids")
	return out
}

// ResourcelessSecretsManagerActions are the Secrets Manager actions that act
// on no secret: their Resource must be "*" and their request context has no
// aws:ResourceAccount (Service Authorization Reference, "Actions defined by
// AWS Secrets Manager", the Resource types column,
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html).
// The rotation function calls GetRandomPassword; ListSecrets is for
// operators on the operator host. BatchGetSecretValue, the third such
// action, reads secret values in bulk and stays denied through the endpoint.
var ResourcelessSecretsManagerActions = []string{"secretsmanager:GetRandomPassword", "secretsmanager:ListSecrets"}

// secretsManagerEndpointPolicy returns the statements of the Secrets Manager
// interface endpoint's policy: only principals of this account
// (aws:PrincipalAccount, present in every authenticated request), acting on
// secrets of this account and region (a Resource pattern, so a principal of
// this account cannot use the endpoint to write to another account's
// secret), plus the resourceless actions, which name no secret to restrict.
//
// A single statement conditioned on aws:ResourceAccount would deny
// GetRandomPassword, whose request context lacks the key ("If the key that
// you specify in a policy condition is not present in the request context,
// the values do not match", IAM User Guide, condition operators), so the
// function could not create a password through the endpoint.
func secretsManagerEndpointPolicy(stack awscdk.Stack) []awsiam.PolicyStatement {
	thisAccount := &map[string]any{"StringEquals": map[string]any{"aws:PrincipalAccount": awscdk.Aws_ACCOUNT_ID()}}
	secrets := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("secretsmanager"), Resource: jsii.String("secret"), ResourceName: jsii.String("*"),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("ThisAccountsPrincipalsOnThisAccountsSecrets"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
			Actions:    jsii.Strings("secretsmanager:*"),
			Resources:  jsii.Strings(*secrets),
			Conditions: thisAccount,
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("ThisAccountsPrincipalsActionsWithoutSecret"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
			Actions:    jsii.Strings(ResourcelessSecretsManagerActions...),
			Resources:  jsii.Strings("*"),
			Conditions: thisAccount,
		}),
	}
}

// newFlowLogRole is the role VPC Flow Logs assume to write to the log
// group, with a customer-managed policy instead of the inline policy the
// FlowLog construct would add (the returned role ignores grants).
func newFlowLogRole(stack awscdk.Stack, logGroup awslogs.ILogGroup) (awsiam.IRole, awsiam.ManagedPolicy) {
	role := servicerole.New(stack, "FlowLogRole", "vpc-flow-logs.amazonaws.com", "VPC Flow Logs delivery to the flow log group")
	policy := awsiam.NewManagedPolicy(stack, jsii.String("FlowLogPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("VPC Flow Logs: write to the flow log group only"),
		Roles:       &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("WriteFlowLogGroup"),
				Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
				Resources: jsii.Strings(*logGroup.LogGroupArn()),
			}),
		},
	})
	return role.WithoutPolicyUpdates(nil), policy
}

func joinSubnetIDs(vpc awsec2.IVpc, group string) *string {
	ids := vpc.SelectSubnets(&awsec2.SubnetSelection{SubnetGroupName: jsii.String(group)}).SubnetIds
	return awscdk.Fn_Join(jsii.String(","), ids)
}

// output adds a CfnOutput exported as "<stack name>-<id>".
func output(stack awscdk.Stack, id string, value *string, description string) {
	awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{
		Value:       value,
		Description: jsii.String(description),
		ExportName:  jsii.String(*stack.StackName() + "-" + id),
	})
}

// restrictDefaultSGProvider is the construct id CDK gives the singleton
// custom resource provider that removes the default security group's rules.
const restrictDefaultSGProvider = "Custom::VpcRestrictDefaultSGCustomResourceProvider"

// routeProviderLogs sends the logs of CDK's restrict-default-security-group
// handler to a log group of this stack, with retention and the environment's
// removal policy. Otherwise Lambda creates /aws/lambda/<handler> on first
// use, which never expires and survives `cdk destroy`.
func routeProviderLogs(stack awscdk.Stack, env config.Environment, key awskms.IKey) {
	provider := stack.Node().TryFindChild(jsii.String(restrictDefaultSGProvider))
	if provider == nil {
		return
	}
	handler, ok := provider.Node().TryFindChild(jsii.String("Handler")).(awscdk.CfnResource)
	if !ok {
		return
	}
	logGroup := awslogs.NewLogGroup(stack, jsii.String("RestrictDefaultSGHandlerLogGroup"), &awslogs.LogGroupProps{
		Retention:     retentionDays[env.LogRetentionDays],
		EncryptionKey: key,
		RemovalPolicy: plainRemovalPolicy(env),
	})
	handler.AddPropertyOverride(jsii.String("LoggingConfig.LogGroup"), logGroup.LogGroupName())
	handler.Node().AddDependency(logGroup)
}
