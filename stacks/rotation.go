package stacks

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/rotationcdk"
)

// RotationStackProps configures [NewRotationStack].
type RotationStackProps struct {
	awscdk.StackProps
	// Environment is the validated environment configuration.
	Environment config.Environment
	// Vpc and Subnets place the function; both come from the network stack.
	Vpc     awsec2.IVpc
	Subnets *awsec2.SubnetSelection
	// LogsKey encrypts the function's log group.
	LogsKey awskms.IKey
	// ModuleRoot is the Go module the function is built from ("" for the
	// module containing the working directory), Package its main package
	// ("" for rotationcdk.FunctionPackage).
	ModuleRoot, Package string
}

// RotationStack holds the rotation function.
type RotationStack struct {
	awscdk.Stack
	// Function is the rotation function construct (function, role, groups).
	Function *rotationcdk.RotationFunction
}

// NewRotationStack creates the Go rotation function (rotationcdk) in the
// private subnets. Its security group and log group are created here, under
// the ids they had before the construct existed, so their logical ids (and
// the ids of the database's rules that name the group) stay the same.
// Permissions to the secret, the invoke permission and the schedule are
// added by the database stack.
func NewRotationStack(scope constructs.Construct, id string, props *RotationStackProps) (*RotationStack, error) {
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

	fn, err := rotationcdk.NewRotationFunction(stack, "RotationFunction", &rotationcdk.RotationFunctionProps{
		Vpc:                 props.Vpc,
		VpcSubnets:          props.Subnets,
		SecurityGroup:       sg,
		LogGroup:            logGroup,
		PasswordLength:      env.PasswordLength,
		ExcludeCharacters:   env.ExcludeCharacters,
		Timeout:             time.Duration(env.RotationTimeoutSeconds) * time.Second,
		ReservedConcurrency: env.RotationReservedConcurrency,
		CABundlePath:        env.CABundlePath,
		Description:         "Rotates the RDS for MySQL master password in Secrets Manager (" + env.Name + ")",
		ModuleRoot:          props.ModuleRoot,
		Package:             props.Package,
		// Nil without application users: the template stays as it was.
		AlternatingUsersSecretPrefixes: userSecretARNPrefixes(env),
		// The existing databases' masters, which no stack of this app may
		// tag; the created ones carry the tag (NewDatabaseStack).
		MasterSecretBindings: existingMasterBindings(env),
	})
	if err != nil {
		return nil, fmt.Errorf("environment %s: %w", env.Name, err)
	}
	// Deployed before the construct existed under these logical ids:
	// keeping them makes the refactor a no-op for existing stacks.
	keepLogicalID(fn.Role, "RotationFunctionRoleC7E85CD7")
	keepLogicalID(fn.BasePolicy, "RotationFunctionBasePolicy739F4164")
	return &RotationStack{Stack: stack, Function: fn}, nil
}

// userSecretARNPrefixes is, for an environment with application users,
// the ARN prefix of every user secret it creates
// (config.Environment.UserSecretName): the only secrets its function
// rotates with alternating users, and, through the database stacks'
// shared invoke permission, the only ones Secrets Manager may invoke it
// for besides the masters' own permissions. Built from the environment's
// names and the pseudo parameters, so the Rotation stack refers to no
// database stack. Nil without users.
func userSecretARNPrefixes(env config.Environment) []string {
	if env.UserCount() == 0 {
		return nil
	}
	return []string{"arn:" + *awscdk.Aws_PARTITION() + ":secretsmanager:" + *awscdk.Aws_REGION() + ":" +
		*awscdk.Aws_ACCOUNT_ID() + ":secret:" + env.SecretNamePrefix()}
}

// userSecretARNPrefix is the ARN prefix of database d's user secrets,
// "arn:...:secret:<stackPrefix>/<env>/<database>/": the secrets d's
// master serves. The trailing slash keeps database "a" from covering
// database "ab"'s secrets.
func userSecretARNPrefix(env config.Environment, d config.Database) string {
	return userSecretARNPrefixes(env)[0] + d.Name + "/"
}

// existingMasterBindings binds the master secret of each existing
// database with users to that database's user secrets
// (rotationcdk.RotationFunctionProps.MasterSecretBindings): its ARN is in
// the configuration, so the Rotation stack needs no reference to the
// database stacks. Nil when there is none.
func existingMasterBindings(env config.Environment) map[string]string {
	var out map[string]string
	for _, d := range env.DatabaseList() {
		if d.Existing == nil || len(d.Users) == 0 {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[d.Existing.MasterSecretArn] = userSecretARNPrefix(env, d)
	}
	return out
}

// keepLogicalID gives the CloudFormation resource of c the logical id it
// was deployed with, so a refactor of the construct tree does not replace it.
func keepLogicalID(c constructs.IConstruct, id string) {
	if cfn, ok := c.(awscdk.CfnElement); ok {
		cfn.OverrideLogicalId(jsii.String(id))
		return
	}
	c.Node().DefaultChild().(awscdk.CfnElement).OverrideLogicalId(jsii.String(id))
}
