package rotationcdk

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/internal/servicerole"
)

// goFunctionSpec is what the project's Go functions (the rotation function,
// the doctor) differ in; everything else about them is built the same way
// by [newGoFunction]: the reproducible linux/arm64 asset, provided.al2023,
// handler bootstrap, a role with no AWS managed policy, one managed base
// policy for the own log group and the VPC network interfaces, a security
// group without default egress, and a log group.
type goFunctionSpec struct {
	// Descriptions of the role, the base policy, the default security
	// group and the function.
	role, basePolicy, securityGroup, description string
	// baseStatements are added to the base policy; baseReason replaces
	// ReasonENIWildcard as the reason of its Resource::* suppression when
	// they need one too.
	baseStatements []awsiam.PolicyStatement
	baseReason     string
	// egress describes the default security group's one rule, HTTPS out.
	egress string
	vpc    awsec2.IVpc
	// subnets and group: nil for the defaults (private subnets with egress,
	// a new group).
	subnets *awsec2.SubnetSelection
	group   awsec2.ISecurityGroup
	logs    logSpec
	// moduleRoot, pkg and caBundlePath are GoAssetOptions' arguments;
	// with a CA bundle, environment gets DB_CA_BUNDLE naming it.
	moduleRoot, pkg, caBundlePath string
	memoryMiB                     int
	timeout                       time.Duration
	reservedConcurrency           int
	environment                   map[string]*string
	// Reasons of the suppressions every such function needs (see the
	// Reason constants): no dead-letter queue, no reserved concurrency
	// (when 0), CloudWatch Logs' own encryption (when no key).
	dlqReason, concurrencyReason, plainLogsReason string
}

// logSpec is the function's log group: group when given, else a new one
// with retention, encrypted with key when set, removed per removal.
type logSpec struct {
	group     awslogs.ILogGroup
	retention awslogs.RetentionDays
	key       awskms.IKey
	removal   awscdk.RemovalPolicy
}

// goFunction is what [newGoFunction] creates, under one construct.
type goFunction struct {
	Construct     constructs.Construct
	Function      awslambda.Function
	Role          awsiam.IRole
	BasePolicy    awsiam.ManagedPolicy
	SecurityGroup awsec2.ISecurityGroup
	LogGroup      awslogs.ILogGroup
}

// newGoFunction creates a Go function under a new construct id of scope.
// The ids of the children (SecurityGroup, LogGroup, Role, BasePolicy,
// Default) are those the rotation function had before this building block
// existed, so its logical ids did not change. An unreadable CA bundle or
// sources that cannot be listed are errors before any construct is created.
func newGoFunction(scope constructs.Construct, id string, s *goFunctionSpec) (*goFunction, error) {
	asset, root, err := GoAssetOptions(s.moduleRoot, s.pkg, s.caBundlePath)
	if err != nil {
		return nil, err
	}
	if s.caBundlePath != "" {
		s.environment[rotation.EnvCABundle] = jsii.String(CABundleFileName)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	out := &goFunction{Construct: c, SecurityGroup: s.group, LogGroup: s.logs.group}
	if out.SecurityGroup == nil {
		sg := awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
			Vpc:              s.vpc,
			Description:      jsii.String(s.securityGroup),
			AllowAllOutbound: jsii.Bool(false),
		})
		sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String(s.egress), nil)
		out.SecurityGroup = sg
	}
	if out.LogGroup == nil {
		lg := awslogs.NewLogGroup(c, jsii.String("LogGroup"), &awslogs.LogGroupProps{
			Retention:     s.logs.retention,
			EncryptionKey: s.logs.key,
			RemovalPolicy: s.logs.removal,
		})
		if s.logs.key == nil {
			compliance.MustSuppress(lg, compliance.Suppression{Rule: "NIST.800.53.R5-CloudWatchLogGroupEncrypted", Reason: s.plainLogsReason})
		}
		out.LogGroup = lg
	}
	role := servicerole.New(c, "Role", "lambda.amazonaws.com", s.role)
	out.Role = role
	statements := append([]awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WriteOwnLogGroup"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: jsii.Strings(*out.LogGroup.LogGroupArn()),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("VpcNetworkInterfaces"),
			Actions:   jsii.Strings(eniActions...),
			Resources: jsii.Strings("*"),
		}),
	}, s.baseStatements...)
	basePolicy := awsiam.NewManagedPolicy(c, jsii.String("BasePolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String(s.basePolicy),
		Roles:       &[]awsiam.IRole{role},
		Statements:  &statements,
	})
	reason := ReasonENIWildcard
	if s.baseReason != "" {
		reason = s.baseReason
	}
	compliance.MustSuppress(basePolicy, compliance.Suppression{Rule: "AwsSolutions-IAM5", Reason: reason, AppliesTo: []string{"Resource::*"}})
	out.BasePolicy = basePolicy

	fnProps := &awslambda.FunctionProps{
		Description:    jsii.String(s.description),
		Runtime:        awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:   awslambda.Architecture_ARM_64(),
		Handler:        jsii.String("bootstrap"),
		Code:           awslambda.Code_FromAsset(jsii.String(root), asset),
		MemorySize:     jsii.Number(s.memoryMiB),
		Timeout:        awscdk.Duration_Seconds(jsii.Number(s.timeout.Seconds())),
		Vpc:            s.vpc,
		VpcSubnets:     s.subnets,
		SecurityGroups: &[]awsec2.ISecurityGroup{out.SecurityGroup},
		LogGroup:       out.LogGroup,
		Role:           role,
		Environment:    &s.environment,
	}
	if s.reservedConcurrency > 0 {
		fnProps.ReservedConcurrentExecutions = jsii.Number(s.reservedConcurrency)
	}
	// "Default" keeps the function's logical id that of a function created
	// directly under the construct's scope with the construct's id.
	if out.Function, err = newFunction(c, fnProps); err != nil {
		return nil, err
	}
	// Lambda checks the ENI permissions when it creates the function.
	out.Function.Node().AddDependency(basePolicy)
	compliance.MustSuppress(out.Function, compliance.Suppression{Rule: "NIST.800.53.R5-LambdaDLQ", Reason: s.dlqReason})
	if s.reservedConcurrency == 0 {
		compliance.MustSuppress(out.Function, compliance.Suppression{Rule: "NIST.800.53.R5-LambdaConcurrency", Reason: s.concurrencyReason})
	}
	return out, nil
}

// newFunction creates the function, whose asset is bundled (compiled) right
// here. jsii reports a failed bundling as a panic; it is returned as the
// error it is (the compiler's message), so the constructor keeps its
// error contract.
func newFunction(scope constructs.Construct, props *awslambda.FunctionProps) (fn awslambda.Function, err error) {
	defer func() {
		if r := recover(); r != nil {
			fn, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return awslambda.NewFunction(scope, jsii.String("Default"), props), nil
}

// runtimeSettings points at the props fields every Go function of this
// package has, so their defaults and limits are written once.
type runtimeSettings struct {
	timeout      *time.Duration
	memoryMiB    *int
	retention    *awslogs.RetentionDays
	removal      *awscdk.RemovalPolicy
	description  *string
	pkg          *string
	defaultDesc  string
	defaultPkg   string
	defaultLimit time.Duration
}

// apply fills the zero values with the defaults (memory [DefaultMemorySizeMiB],
// logs kept a month and retained) and returns what is out of Lambda's
// limits: timeout 30 s..15 min in whole seconds, memory 128..10240 MiB.
func (s runtimeSettings) apply() []error {
	if *s.timeout == 0 {
		*s.timeout = s.defaultLimit
	}
	if *s.memoryMiB == 0 {
		*s.memoryMiB = DefaultMemorySizeMiB
	}
	if *s.retention == "" {
		*s.retention = awslogs.RetentionDays_ONE_MONTH
	}
	if *s.removal == "" {
		*s.removal = awscdk.RemovalPolicy_RETAIN
	}
	if *s.description == "" {
		*s.description = s.defaultDesc
	}
	if *s.pkg == "" {
		*s.pkg = s.defaultPkg
	}
	var errs []error
	if t := *s.timeout; t < 30*time.Second || t > 15*time.Minute || t%time.Second != 0 {
		errs = append(errs, fmt.Errorf("Timeout %s: want whole seconds from 30s to 15m", t))
	}
	if m := *s.memoryMiB; m < 128 || m > 10240 {
		errs = append(errs, fmt.Errorf("MemorySizeMiB %d: want 128..10240", m))
	}
	return errs
}
