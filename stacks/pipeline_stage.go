package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/rotationcdk"
)

// StageID returns the construct id of env's pipeline Stage. Stacks inside a
// Stage are named "<stage>-<stack id>", so with this id the pipeline deploys
// the same CloudFormation stacks (SecretRotation-dev-Network, ...) as
// `cdk deploy` of the plain app: a hand-deployed environment is taken over by
// the pipeline instead of being duplicated.
func StageID(env config.Environment) string { return env.StackPrefix + "-" + env.Name }

// EnvironmentStage is one environment as a CDK Pipelines deployment unit.
type EnvironmentStage struct {
	awscdk.Stage
	// Stacks are the environment's network, rotation and database stacks.
	Stacks *EnvironmentStacks
	// Check is the in-VPC post-deploy check, nil when disabled or impossible
	// (an environment without NAT gateways, see [NewPostDeployCheckStack]).
	Check *PostDeployCheckStack
}

// NewEnvironmentStage creates env's Stage under scope with the environment
// stacks (via [NewEnvironmentStacks]) and, when withCheck is true and the
// environment has NAT gateways, the post-deploy check stack whose starter
// role trusts pipelineAccount (empty: the environment's own account).
func NewEnvironmentStage(scope constructs.Construct, env config.Environment, withCheck bool, pipelineAccount, moduleRoot string) (*EnvironmentStage, error) {
	stage := awscdk.NewStage(scope, jsii.String(StageID(env)), &awscdk.StageProps{Env: stackEnv(env)})
	envStacks, err := NewEnvironmentStacks(stage, env, WithStackIDPrefix(""), WithModuleRoot(moduleRoot))
	if err != nil {
		return nil, err
	}
	out := &EnvironmentStage{Stage: stage, Stacks: envStacks}
	// The check rotates the default database's master secret: not when
	// that is an existing database whose master this app leaves alone.
	if withCheck && env.NatGateways > 0 && env.DefaultDatabase().RotatesMaster() {
		code, err := rotatectlAsset(moduleRoot, env.CABundlePath)
		if err != nil {
			return nil, err
		}
		out.Check = NewPostDeployCheckStack(stage, "PostDeployCheck", &PostDeployCheckStackProps{
			StackProps: awscdk.StackProps{
				Env:         stackEnv(env),
				Description: jsii.String("Post-deploy check: forces one rotation and logs in with the new secret (secret-rotation, " + env.Name + ")"),
			},
			Environment:      env,
			Vpc:              envStacks.Network.Vpc,
			Subnets:          envStacks.Network.PrivateSubnets,
			SubnetArns:       envStacks.Network.PrivateSubnetArns(),
			Secret:           envStacks.Database.Secret,
			DatabaseGroup:    envStacks.Database.SecurityGroup,
			RotationFunction: envStacks.Rotation.Function.Function,
			PipelineAccount:  pipelineAccount,
			Rotatectl:        code,
		})
		// SubnetArns are read with Fn::GetStackOutput, which CDK does not
		// see as a reference: order the stacks explicitly.
		out.Check.AddStackDependency(envStacks.Network.Stack, jsii.String("reads the private subnet ARNs"))
	}
	return out, nil
}

// PostDeployCheckStackProps configures [NewPostDeployCheckStack].
type PostDeployCheckStackProps struct {
	awscdk.StackProps
	// Environment is the validated environment configuration.
	Environment config.Environment
	// Vpc and Subnets place the check next to the database; SubnetArns are
	// the ARNs of the same subnets as finished values of the network stack
	// (see NetworkStack.PrivateSubnetArns).
	Vpc        awsec2.IVpc
	Subnets    *awsec2.SubnetSelection
	SubnetArns []*string
	// Secret is the attached master secret to rotate and log in with.
	Secret awssecretsmanager.ISecret
	// DatabaseGroup is the database's security group; the check is admitted to its port.
	DatabaseGroup awsec2.ISecurityGroup
	// RotationFunction is invoked by Secrets Manager on behalf of the caller
	// of RotateSecret, which therefore needs lambda:InvokeFunction on it.
	RotationFunction awslambda.IFunction
	// PipelineAccount may assume the starter role; empty means this account.
	PipelineAccount string
	// Rotatectl is the operator CLI compiled for linux/arm64 (see
	// [RotatectlPackage]), the check project's source.
	Rotatectl *awss3assets.AssetProps
}

// RotatectlPackage is the operator CLI's main package, relative to the module root.
const RotatectlPackage = "./cmd/rotatectl"

// rotatectlAsset compiles the operator CLI like the rotation function
// (reproducible linux/arm64 build, hash of its Go sources), with the
// environment's CA bundle next to it when one is configured.
func rotatectlAsset(moduleRoot, caBundlePath string) (*awss3assets.AssetProps, error) {
	opts, root, err := rotationcdk.GoAssetOptions(moduleRoot, RotatectlPackage, caBundlePath)
	if err != nil {
		return nil, err
	}
	return &awss3assets.AssetProps{
		Path:          jsii.String(root),
		AssetHashType: opts.AssetHashType,
		AssetHash:     opts.AssetHash,
		Bundling:      opts.Bundling,
	}, nil
}

// placeInVpc runs the check project in the environment's private subnets
// with its security group, and grants its role what CodeBuild needs there:
// the same statements the Project construct adds for a Vpc
// (https://docs.aws.amazon.com/codebuild/latest/userguide/auth-and-access-control-iam-identity-based-access-control.html#customer-managed-policies-example-create-vpc-network-interface),
// except that the ec2:Subnet condition lists the network stack's finished
// subnet ARNs. The construct would build each ARN here from the subnet id,
// i.e. Fn::GetStackOutput inside Fn::Join. The policy keeps the construct's
// id (Check/PolicyDocument) and the project waits for it, as CodeBuild
// checks these permissions when the project is created.
func placeInVpc(project awscodebuild.Project, role awsiam.IRole, props *PostDeployCheckStackProps, sg awsec2.ISecurityGroup) {
	subnets := props.Vpc.SelectSubnets(props.Subnets).SubnetIds
	if len(props.SubnetArns) != len(*subnets) {
		// An empty ec2:Subnet list would match nothing: CodeBuild could not
		// create its network interfaces and every check would fail.
		panic(fmt.Sprintf("post-deploy check: %d subnet ARNs for %d subnets", len(props.SubnetArns), len(*subnets)))
	}
	cfn := project.Node().DefaultChild().(awscodebuild.CfnProject)
	cfn.SetVpcConfig(&awscodebuild.CfnProject_VpcConfigProperty{
		VpcId:            props.Vpc.VpcId(),
		Subnets:          subnets,
		SecurityGroupIds: jsii.Strings(*sg.SecurityGroupId()),
	})
	arns := make([]any, len(props.SubnetArns))
	for i, a := range props.SubnetArns {
		arns[i] = a
	}
	stack := awscdk.Stack_Of(project)
	policy := awsiam.NewPolicy(project, jsii.String("PolicyDocument"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
					"ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeDhcpOptions", "ec2:DescribeVpcs"),
				Resources: jsii.Strings("*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("ec2:CreateNetworkInterfacePermission"),
				Resources: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{
					Service: jsii.String("ec2"), Resource: jsii.String("network-interface"), ResourceName: jsii.String("*"),
				})),
				Conditions: &map[string]any{"StringEquals": map[string]any{
					"ec2:Subnet":            arns,
					"ec2:AuthorizedService": "codebuild.amazonaws.com",
				}},
			}),
		},
	})
	project.Node().AddDependency(policy)
}

// PostDeployCheckStack is a CodeBuild project inside the environment's VPC
// that forces one rotation and logs in with the new AWSCURRENT, plus a role
// the pipeline assumes to start it. It lives in the environment (not in the
// pipeline stack) because a CodeBuild project's VPC is fixed when the project
// is created: the pipeline stack is deployed before the environment's VPC
// exists and may be in another account.
type PostDeployCheckStack struct {
	awscdk.Stack
	// Project runs [postDeployCheckScript] in the private subnets.
	Project awscodebuild.Project
	// SecurityGroup is the project's group (HTTPS out, database port to the database).
	SecurityGroup awsec2.SecurityGroup
	// StarterRole may only start and watch Project; the pipeline assumes it.
	StarterRole awsiam.Role
	// Outputs read by the pipeline step through envFromCfnOutputs.
	ProjectNameOutput, StarterRoleArnOutput, RegionOutput awscdk.CfnOutput
}

// CheckStarterRoleName is the fixed name of env's starter role, so the
// pipeline stack can grant sts:AssumeRole on it before the stage exists.
func CheckStarterRoleName(env string) string { return "secret-rotation-" + env + "-check-starter" }

// checkWaitSeconds bounds each wait of the check (pending rotation, AWSCURRENT move).
const checkWaitSeconds = 600

// NewPostDeployCheckStack creates the check project, its least-privilege
// role (read, describe and rotate this one secret; invoke its rotation
// function) and the starter role.
func NewPostDeployCheckStack(scope constructs.Construct, id string, props *PostDeployCheckStackProps) *PostDeployCheckStack {
	env := props.Environment
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	tagStack(stack, env)

	sg := awsec2.NewSecurityGroup(stack, jsii.String("CheckSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String("Post-deploy check: HTTPS to AWS APIs, database port"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS to AWS APIs"), nil)
	// From this side, both rules (egress here, ingress on the database
	// group) are created in this stack, so the database stack is unchanged.
	sg.Connections().AllowTo(props.DatabaseGroup, awsec2.Port_Tcp(jsii.Number(env.DatabasePort)), jsii.String("Post-deploy check login"))

	role := awsiam.NewRole(stack, jsii.String("CheckRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil),
		Description: jsii.String("Post-deploy check of " + env.Name + ": rotates and reads one secret"),
	})
	// What `rotatectl rotate --wait` and `verify` call, on this secret only
	// (no PutSecretValue or UpdateSecretVersionStage: the check never
	// repairs). GrantRead adds kms:Decrypt through Secrets Manager when the
	// secret has a customer-managed key.
	props.Secret.GrantRead(role, nil)
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("RotateThisSecret"),
		Actions:   jsii.Strings("secretsmanager:ListSecretVersionIds", "secretsmanager:RotateSecret"),
		Resources: jsii.Strings(*props.Secret.SecretArn()),
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("InvokeThisRotationFunction"),
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: jsii.Strings(*props.RotationFunction.FunctionArn()),
	}))

	bundle := awss3assets.NewAsset(stack, jsii.String("Rotatectl"), props.Rotatectl)
	bundle.GrantRead(role)
	caFlag := ""
	if env.CABundlePath != "" {
		caFlag = "--ca-bundle " + rotationcdk.CABundleFileName
	}
	project := awscodebuild.NewProject(stack, jsii.String("Check"), &awscodebuild.ProjectProps{
		Description: jsii.String(fmt.Sprintf("Forces one rotation of the %s master secret and logs in with the new AWSCURRENT (rotatectl)", env.Name)),
		Role:        role,
		Source:      awscodebuild.Source_S3(&awscodebuild.S3SourceProps{Bucket: bundle.Bucket(), Path: bundle.S3ObjectKey()}),
		// No Vpc here: placeInVpc sets the VPC configuration and its
		// permissions itself.
		// arm64, like the rotatectl build (and the rotation function).
		Environment: &awscodebuild.BuildEnvironment{BuildImage: awscodebuild.LinuxArmBuildImage_AMAZON_LINUX_2023_STANDARD_3_0(), ComputeType: awscodebuild.ComputeType_SMALL},
		BuildSpec:   postDeployCheckBuildSpec(),
		EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
			"SECRET_ARN":     {Value: props.Secret.SecretArn()},
			"WAIT_SECONDS":   {Value: jsii.String(fmt.Sprint(checkWaitSeconds))},
			"ROTATECTL_ARGS": {Value: jsii.String(caFlag)},
		},
		Timeout: awscdk.Duration_Minutes(jsii.Number(30)),
		// Explicit KMS key for build output and logs: the account's
		// AWS-managed S3 key (the service default, made visible).
		EncryptionKey: awskms.Alias_FromAliasName(stack, jsii.String("S3ManagedKey"), jsii.String("alias/aws/s3")),
	})

	placeInVpc(project, role, props, sg)

	var trusted awsiam.IPrincipal = awsiam.NewAccountRootPrincipal()
	if props.PipelineAccount != "" {
		trusted = awsiam.NewAccountPrincipal(jsii.String(props.PipelineAccount))
	}
	starter := awsiam.NewRole(stack, jsii.String("StarterRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(CheckStarterRoleName(env.Name)),
		AssumedBy:   trusted,
		Description: jsii.String("Assumed by the delivery pipeline to start the post-deploy check of " + env.Name),
	})
	starter.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("StartAndWatchTheCheck"),
		Actions:   jsii.Strings("codebuild:StartBuild", "codebuild:BatchGetBuilds"),
		Resources: jsii.Strings(*project.ProjectArn()),
	}))

	out := &PostDeployCheckStack{Stack: stack, Project: project, SecurityGroup: sg, StarterRole: starter}
	out.ProjectNameOutput = awscdk.NewCfnOutput(stack, jsii.String("CheckProjectName"), &awscdk.CfnOutputProps{
		Value: project.ProjectName(), Description: jsii.String("CodeBuild project of the post-deploy check"),
	})
	out.StarterRoleArnOutput = awscdk.NewCfnOutput(stack, jsii.String("CheckStarterRoleArn"), &awscdk.CfnOutputProps{
		Value: starter.RoleArn(), Description: jsii.String("role the pipeline assumes to start the check"),
	})
	out.RegionOutput = awscdk.NewCfnOutput(stack, jsii.String("CheckRegion"), &awscdk.CfnOutputProps{
		Value: stack.Region(), Description: jsii.String("region of the check project"),
	})
	suppressCheckFindings(stack)
	return out
}
