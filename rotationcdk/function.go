package rotationcdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/rotation"
)

// RotationFunctionProps configure [NewRotationFunction]. Only Vpc is required.
type RotationFunctionProps struct {
	// Vpc is where the function runs; it must reach the databases and
	// Secrets Manager (through NAT or an interface endpoint with private DNS).
	Vpc awsec2.IVpc
	// VpcSubnets places the function. Default: the VPC's private subnets
	// with egress.
	VpcSubnets *awsec2.SubnetSelection
	// SecurityGroup is the function's group. Default: a new group whose only
	// rule is HTTPS (443) out to any IPv4 address, for Secrets Manager;
	// [NewSecretRotation] adds the database port.
	SecurityGroup awsec2.ISecurityGroup
	// LogGroup receives the function's logs. Default: a new log group with
	// LogRetention, encrypted with LogsKey when set, removed per
	// LogRemovalPolicy.
	LogGroup awslogs.ILogGroup
	// LogRetention of the default log group. Default: one month.
	LogRetention awslogs.RetentionDays
	// LogsKey encrypts the default log group. Default: CloudWatch Logs' own
	// encryption. The key must allow CloudWatch Logs to use it.
	LogsKey awskms.IKey
	// LogRemovalPolicy of the default log group. Default: RETAIN.
	LogRemovalPolicy awscdk.RemovalPolicy
	// PasswordLength of generated passwords (PASSWORD_LENGTH). Default: 32.
	// RDS for MySQL master passwords take 8..41 characters.
	PasswordLength int
	// ExcludeCharacters are never used in generated passwords
	// (EXCLUDE_CHARACTERS). Default: / @ " ' \ (RDS rejects / @ " in master
	// passwords).
	ExcludeCharacters string
	// Timeout of one rotation step, 30 s..15 min. Default: 60 s (a 5 s
	// connect with retries, and the SQL).
	Timeout time.Duration
	// MemorySizeMiB of the function. Default: 256.
	MemorySizeMiB int
	// ReservedConcurrency reserves executions for the function, 0..1000.
	// Default: 0, none. Secrets Manager never runs two rotations of one
	// secret at once, so reservation is not needed for correctness, and
	// Lambda refuses any reservation that would leave fewer than 100
	// unreserved executions, which fails in new accounts with low quotas
	// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
	ReservedConcurrency int
	// CABundlePath is a PEM file of extra CAs the function trusts for
	// database TLS, besides the system roots and the Amazon RDS CAs it
	// carries. Default: none.
	CABundlePath string
	// Description of the function. Default: "Rotates RDS for MySQL secrets
	// in Secrets Manager".
	Description string
	// ModuleRoot is the directory of the Go module that builds the function
	// (it must require this module). Default: the module containing the
	// working directory.
	ModuleRoot string
	// Package is the main package built as the function. Default:
	// [FunctionPackage].
	Package string
	// AlternatingUsersSecretPrefixes are the ARN prefixes of the secrets
	// the function may rotate with alternating users, set as its
	// ALTERNATING_USERS_SECRET_PREFIXES: a secret that names a master
	// ("masterarn") and whose ARN starts with none of them is refused
	// before the master secret is read, a password generated or any
	// login. Each is
	// "arn:<partition>:secretsmanager:<region>:<account>:secret:<name prefix>"
	// (a plain prefix, no wildcard), literal or built from the pseudo
	// parameters (awscdk.Aws_PARTITION(), Aws_REGION(), Aws_ACCOUNT_ID()),
	// not from another stack's resources (the stacks of [NewSecretRotation]
	// use them too). With them set, [SecretRotationProps]'s
	// SharedInvokePermission admits Secrets Manager only for the secrets
	// under them (SourceArn "<prefix>*", one permission per prefix), so
	// attach a secret outside them with a per-secret permission. Lambda
	// allows 4 KB for all of a function's environment variables. Single-user
	// secrets (no "masterarn") are never refused. Default: none, no
	// restriction (any secret the function is invoked for may name any
	// master its role can read), as before this property existed.
	AlternatingUsersSecretPrefixes []string
	// MasterSecretBindings bind master secrets this app cannot tag (an
	// imported one: an existing database's) to the secrets they serve:
	// complete master secret ARN (as DescribeSecret returns it) to the ARN
	// prefix of the secrets that may name it in "masterarn", set as the
	// function's MASTER_SECRET_BINDINGS. A master secret created in this
	// app is bound with [BindMasterSecret] instead. Keys are literal ARNs
	// (an imported secret's, known at synth); values are plain prefixes
	// like AlternatingUsersSecretPrefixes, and may use the pseudo
	// parameters. Default: none.
	MasterSecretBindings map[string]string
	// AllowUnboundMasterSecrets turns off the function's check that a
	// master secret binds the secret naming it
	// (REQUIRE_MASTER_SECRET_BINDING=false). By default (false) the
	// function reads a master secret, and logs in with it, only for a
	// secret whose ARN starts with the prefix the master's
	// "secret-rotation:users" tag ([BindMasterSecret]) or its
	// MasterSecretBindings entry names, so that whoever can write one
	// database's user secret cannot point it at another database's master
	// and have the function act as that master. Turning it off trusts
	// every master the role can read for every secret the function is
	// invoked for. Default: false, bindings required.
	AllowUnboundMasterSecrets bool
}

// RotationFunction is the Go rotation function with its role, log group
// and security group.
type RotationFunction struct {
	constructs.Construct
	// Function is the Lambda function (provided.al2023, arm64, bootstrap).
	Function awslambda.Function
	// Role is the function's execution role.
	Role awsiam.IRole
	// BasePolicy is the role's policy for its log group and network
	// interfaces; the function depends on it.
	BasePolicy awsiam.ManagedPolicy
	// SecurityGroup is the function's group; databases admit it.
	SecurityGroup awsec2.ISecurityGroup
	// LogGroup receives the function's logs.
	LogGroup awslogs.ILogGroup
	// AlternatingUsersSecretPrefixes are the props' ARN prefixes of the
	// secrets it may rotate with alternating users (nil: no restriction).
	AlternatingUsersSecretPrefixes []string
	// MasterSecretBindings and AllowUnboundMasterSecrets are the props'.
	MasterSecretBindings      map[string]string
	AllowUnboundMasterSecrets bool
}

// Defaults of [RotationFunctionProps].
const (
	DefaultPasswordLength    = 32
	DefaultExcludeCharacters = `/@"'\`
	DefaultTimeout           = 60 * time.Second
	DefaultMemorySizeMiB     = 256
)

// Reasons of the cdk-nag suppressions the constructs record.
const (
	// ReasonENIWildcard: the function's base policy, AwsSolutions-IAM5 Resource::*.
	ReasonENIWildcard = "Lambda creates and deletes the function's VPC network interfaces with these EC2 actions; " +
		"Describe* have no resource-level permissions and Lambda checks CreateNetworkInterface on * when the function is created " +
		"(the same EC2 actions as AWSLambdaVPCAccessExecutionRole, without its logs:* on every log group)"
	// ReasonRotationBasePolicy: the rotation function's base policy,
	// AwsSolutions-IAM5 Resource::* (the doctor's has ReasonENIWildcard).
	ReasonRotationBasePolicy = ReasonENIWildcard + "; " +
		"secretsmanager:GetRandomPassword, which every rotation calls, has no resource-level permissions either (it reads no secret)"
	// ReasonGetRandomPassword: the rotation policy, AwsSolutions-IAM5 Resource::*.
	ReasonGetRandomPassword = "secretsmanager:GetRandomPassword has no resource-level permissions (it reads no secret); " +
		"every other Secrets Manager action is limited to the rotated secret's ARN"
	// ReasonMasterAccessInline: the policy reading a master secret,
	// NIST IAMNoInlinePolicy.
	ReasonMasterAccessInline = "one small policy per database lets the rotation function read that database's master secret, for its " +
		"application users only; a managed policy per database would exhaust the role's managed-policy quota (10 by default, 20 at most) " +
		"after a few databases"
	// ReasonNoReservedConcurrency: the function without ReservedConcurrency,
	// NIST LambdaConcurrency.
	ReasonNoReservedConcurrency = "reserving executions fails to deploy in any account whose Lambda concurrency quota is 100 or less " +
		"(Lambda keeps 100 unreserved), as new accounts' often is; Secrets Manager never runs two rotations of one secret at once " +
		"(RotateSecret fails while AWSPENDING is on another version), so the limit adds no correctness; set rotationReservedConcurrency to reserve"
	// ReasonServiceEncryptedLogs: the default log group without LogsKey,
	// NIST CloudWatchLogGroupEncrypted.
	ReasonServiceEncryptedLogs = "the rotation function never logs a password or a secret string (tested), and CloudWatch Logs encrypts " +
		"log data at rest with its own keys; pass LogsKey for a customer-managed key"
	// ReasonLambdaDLQ: the function, NIST LambdaDLQ.
	ReasonLambdaDLQ = "Secrets Manager invokes the rotation steps synchronously and retries them itself; a failed rotation is recorded " +
		"on the secret and in CloudTrail (RotationFailed), so there is no asynchronous event a dead-letter queue could capture"
)

// eniActions are what Lambda needs on the execution role to attach a
// function to a VPC: the EC2 actions of AWSLambdaVPCAccessExecutionRole.
var eniActions = []string{
	"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
	"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
}

// withDefaults validates props and returns a copy with the defaults filled in.
func (p *RotationFunctionProps) withDefaults() (RotationFunctionProps, error) {
	if p == nil || p.Vpc == nil {
		return RotationFunctionProps{}, errors.New("rotation function: Vpc is required")
	}
	c := *p
	if c.PasswordLength == 0 {
		c.PasswordLength = DefaultPasswordLength
	}
	if c.ExcludeCharacters == "" {
		c.ExcludeCharacters = DefaultExcludeCharacters
	}
	errs := runtimeSettings{
		timeout: &c.Timeout, memoryMiB: &c.MemorySizeMiB, retention: &c.LogRetention, removal: &c.LogRemovalPolicy,
		description: &c.Description, pkg: &c.Package,
		defaultLimit: DefaultTimeout, defaultDesc: "Rotates RDS for MySQL secrets in Secrets Manager", defaultPkg: FunctionPackage,
	}.apply()
	if c.PasswordLength < 1 || c.PasswordLength > 4096 {
		errs = append(errs, fmt.Errorf("PasswordLength %d: want 1..4096", c.PasswordLength))
	}
	if c.ReservedConcurrency < 0 || c.ReservedConcurrency > 1000 {
		errs = append(errs, fmt.Errorf("ReservedConcurrency %d: want 0 (none) to 1000", c.ReservedConcurrency))
	}
	for _, prefix := range c.AlternatingUsersSecretPrefixes {
		if err := checkSecretARNPrefix(prefix); err != nil {
			errs = append(errs, fmt.Errorf("AlternatingUsersSecretPrefixes %q: %w", prefix, err))
		}
	}
	for _, master := range slices.Sorted(maps.Keys(c.MasterSecretBindings)) {
		if err := checkMasterSecretARN(master); err != nil {
			errs = append(errs, fmt.Errorf("MasterSecretBindings %q: %w", master, err))
		}
		if err := checkSecretARNPrefix(c.MasterSecretBindings[master]); err != nil {
			errs = append(errs, fmt.Errorf("MasterSecretBindings %q: users %q: %w", master, c.MasterSecretBindings[master], err))
		}
	}
	if c.AllowUnboundMasterSecrets && len(c.MasterSecretBindings) > 0 {
		errs = append(errs, errors.New("MasterSecretBindings are not checked with AllowUnboundMasterSecrets"))
	}
	if err := errors.Join(errs...); err != nil {
		return RotationFunctionProps{}, fmt.Errorf("rotation function: %w", err)
	}
	return c, nil
}

// NewRotationFunction builds the Go rotation function (compiled at synth,
// see [GoAssetOptions]) in the VPC, with an execution role that has no AWS
// managed policy: one customer-managed policy grants writing to its own log
// group and the network-interface actions Lambda needs in a VPC. Access to
// secrets is added per secret by [NewSecretRotation]. Invalid props, an
// unreadable CA bundle or sources that cannot be listed are errors before
// any resource is created; a compile error stops synth.
func NewRotationFunction(scope constructs.Construct, id string, props *RotationFunctionProps) (*RotationFunction, error) {
	p, err := props.withDefaults()
	if err != nil {
		return nil, err
	}
	vars := map[string]*string{
		rotation.EnvPasswordLength:    jsii.String(strconv.Itoa(p.PasswordLength)),
		rotation.EnvExcludeCharacters: jsii.String(p.ExcludeCharacters),
	}
	if len(p.AlternatingUsersSecretPrefixes) > 0 {
		vars[rotation.EnvAlternatingUsersSecretPrefixes] = jsii.String(strings.Join(p.AlternatingUsersSecretPrefixes, ","))
	}
	if len(p.MasterSecretBindings) > 0 {
		b, err := json.Marshal(p.MasterSecretBindings) // keys sorted
		if err != nil {
			return nil, fmt.Errorf("rotation function: MasterSecretBindings: %w", err)
		}
		vars[rotation.EnvMasterSecretBindings] = jsii.String(string(b))
	}
	if p.AllowUnboundMasterSecrets {
		vars[rotation.EnvRequireMasterSecretBinding] = jsii.String("false")
	}
	parts, err := newGoFunction(scope, id, &goFunctionSpec{
		role:       "Secrets Manager rotation function for RDS for MySQL",
		basePolicy: "Rotation function: its own log group, the network interfaces of a function in a VPC, password generation",
		// Every rotation needs it, whichever way its secret is granted
		// (NewSecretRotation's ResourcePolicies adds nothing to the role).
		baseStatements: []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("GeneratePasswords"),
			Actions:   jsii.Strings("secretsmanager:GetRandomPassword"),
			Resources: jsii.Strings("*"),
		})},
		baseReason:          ReasonRotationBasePolicy,
		securityGroup:       "Rotation function: HTTPS to Secrets Manager; database ports added per secret",
		description:         p.Description,
		vpc:                 p.Vpc,
		subnets:             p.VpcSubnets,
		group:               p.SecurityGroup,
		egress:              "HTTPS to Secrets Manager",
		logs:                logSpec{group: p.LogGroup, retention: p.LogRetention, key: p.LogsKey, removal: p.LogRemovalPolicy},
		moduleRoot:          p.ModuleRoot,
		pkg:                 p.Package,
		caBundlePath:        p.CABundlePath,
		memoryMiB:           p.MemorySizeMiB,
		timeout:             p.Timeout,
		reservedConcurrency: p.ReservedConcurrency,
		environment:         vars,
		dlqReason:           ReasonLambdaDLQ,
		concurrencyReason:   ReasonNoReservedConcurrency,
		plainLogsReason:     ReasonServiceEncryptedLogs,
	})
	if err != nil {
		return nil, fmt.Errorf("rotation function: %w", err)
	}
	return &RotationFunction{
		Construct: parts.Construct, Function: parts.Function, Role: parts.Role, BasePolicy: parts.BasePolicy,
		SecurityGroup: parts.SecurityGroup, LogGroup: parts.LogGroup,
		AlternatingUsersSecretPrefixes: slices.Clone(p.AlternatingUsersSecretPrefixes),
		MasterSecretBindings:           maps.Clone(p.MasterSecretBindings),
		AllowUnboundMasterSecrets:      p.AllowUnboundMasterSecrets,
	}, nil
}

// checkSecretARNPrefix checks one of AlternatingUsersSecretPrefixes the
// way the function reads it; a value holding tokens (pseudo parameters)
// is checked once resolved, by the function at its start.
func checkSecretARNPrefix(prefix string) error {
	if prefix == "" {
		return errors.New("empty")
	}
	if strings.Contains(prefix, ",") {
		return errors.New("one prefix per element (the function's variable separates them with commas)")
	}
	if *awscdk.Token_IsUnresolved(jsii.String(prefix)) {
		return nil
	}
	_, err := rotation.ParseSecretARNPrefixes(prefix)
	return err
}

// checkMasterSecretARN checks a key of MasterSecretBindings: a literal
// complete secret ARN (the function compares it with DescribeSecret's).
func checkMasterSecretARN(arn string) error {
	if *awscdk.Token_IsUnresolved(jsii.String(arn)) {
		return errors.New("want a literal ARN (the imported secret's, known at synth), not a token")
	}
	return rotation.CheckMasterSecretARN(arn)
}
