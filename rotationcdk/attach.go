package rotationcdk

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
)

// SecretRotationProps configure [NewSecretRotation]. Function, Secret and
// Database are required.
type SecretRotationProps struct {
	// Function rotates the secret.
	Function *RotationFunction
	// Secret is the secret to rotate, in the format the function expects
	// (for an RDS instance, the attached secret: DatabaseInstance.Secret()).
	Secret awssecretsmanager.ISecret
	// EncryptionKey is the secret's customer-managed KMS key; the function
	// may decrypt and generate data keys with it only through Secrets
	// Manager (kms:ViaService). Default: none, for a secret under the AWS
	// managed key aws/secretsmanager.
	EncryptionKey awskms.IKey
	// Database is what the function logs in to: it admits the function's
	// security group on Port.
	Database awsec2.IConnectable
	// Port is the database port. Default: Database's default port
	// (Connections().DefaultPort(), set for RDS instances).
	Port awsec2.Port
	// Schedule of the rotations. Default: every 30 days.
	Schedule Schedule
	// Window is how long each rotation may take to start, in whole hours
	// up to 24. Default: 0, Secrets Manager's default.
	Window time.Duration
	// DependsOn are more resources the first rotation needs (it runs as
	// soon as the schedule exists), e.g. the database instance. The
	// schedule always waits for the policy, the permission and Database's
	// security groups.
	DependsOn []constructs.IDependable
}

// SecretRotation is the rotation of one secret by a [RotationFunction].
type SecretRotation struct {
	constructs.Construct
	// Policy is the managed policy on the function's role for this secret.
	Policy awsiam.ManagedPolicy
	// Permission lets Secrets Manager invoke the function for this secret.
	Permission awslambda.CfnPermission
	// Schedule is the AWS::SecretsManager::RotationSchedule resource.
	Schedule awssecretsmanager.CfnRotationSchedule
}

// rotationActions are the Secrets Manager actions of the rotation steps on
// the rotated secret (GetRandomPassword acts on no resource).
var rotationActions = []string{
	"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
	"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage",
}

func (p *SecretRotationProps) validate() error {
	if p == nil {
		return errors.New("secret rotation: props are required")
	}
	var errs []error
	if p.Function == nil || p.Function.Function == nil {
		errs = append(errs, errors.New("Function is required"))
	}
	if p.Secret == nil {
		errs = append(errs, errors.New("Secret is required"))
	}
	if p.Database == nil {
		errs = append(errs, errors.New("Database is required"))
	} else if p.Port == nil && p.Database.Connections().DefaultPort() == nil {
		errs = append(errs, errors.New("Port is required: Database has no default port"))
	}
	if err := p.Schedule.Validate(p.Window); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("secret rotation: %w", err)
	}
	return nil
}

// NewSecretRotation makes Function rotate Secret on Schedule. Everything it
// creates lives under scope, and refers to the function, never the other
// way round; create it in the secret's stack (or a later one) and it works
// whether the function is in the same stack or another. See the package
// documentation for what it creates and why.
func NewSecretRotation(scope constructs.Construct, id string, props *SecretRotationProps) (*SecretRotation, error) {
	if err := props.validate(); err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	out := &SecretRotation{Construct: c}
	fn := props.Function

	port := props.Port
	if port == nil {
		port = props.Database.Connections().DefaultPort()
	}
	props.Database.Connections().AllowFrom(fn.SecurityGroup, port, jsii.String("Rotation function"))

	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("RotateThisSecret"),
			Actions:   jsii.Strings(rotationActions...),
			Resources: jsii.Strings(*props.Secret.SecretArn()),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("GeneratePasswords"),
			Actions:   jsii.Strings("secretsmanager:GetRandomPassword"),
			Resources: jsii.Strings("*"),
		}),
	}
	if props.EncryptionKey != nil {
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SecretKeyThroughSecretsManager"),
			Actions:   jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
			Resources: jsii.Strings(*props.EncryptionKey.KeyArn()),
			Conditions: &map[string]any{"StringEquals": map[string]any{
				"kms:ViaService": awscdk.Fn_Sub(jsii.String("secretsmanager.${AWS::Region}.amazonaws.com"), nil),
			}},
		}))
	}
	// A managed policy in this scope, attached to the role by name: a
	// reference from here to the function's stack only.
	out.Policy = awsiam.NewManagedPolicy(c, jsii.String("Policy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Rotation function: rotate one secret"),
		Roles:       &[]awsiam.IRole{fn.Role},
		Statements:  &statements,
	})
	compliance.MustSuppress(out.Policy, compliance.Suppression{Rule: "AwsSolutions-IAM5", Reason: ReasonGetRandomPassword, AppliesTo: []string{"Resource::*"}})

	// Secrets Manager may invoke the function for this secret only, from
	// this account (confused-deputy protection; AWS recommends SourceAccount
	// at least, SourceArn where one permission serves one secret).
	out.Permission = awslambda.NewCfnPermission(c, jsii.String("InvokePermission"), &awslambda.CfnPermissionProps{
		Action:        jsii.String("lambda:InvokeFunction"),
		FunctionName:  fn.Function.FunctionArn(),
		Principal:     jsii.String("secretsmanager.amazonaws.com"),
		SourceAccount: awscdk.Stack_Of(c).Account(),
		SourceArn:     props.Secret.SecretArn(),
	})

	rules := &awssecretsmanager.CfnRotationSchedule_RotationRulesProperty{}
	schedule := props.Schedule.orDefault()
	if schedule.expression != "" {
		rules.ScheduleExpression = jsii.String(schedule.expression)
	} else {
		rules.AutomaticallyAfterDays = jsii.Number(schedule.days)
	}
	if props.Window > 0 {
		rules.Duration = jsii.String(fmt.Sprintf("%dh", props.Window/time.Hour))
	}
	// The L1 resource: the L2 RotationSchedule adds its grants to the
	// function's stack (a cycle across stacks) and has no expressions.
	// "Default" gives it the construct's own logical id.
	out.Schedule = awssecretsmanager.NewCfnRotationSchedule(c, jsii.String("Default"), &awssecretsmanager.CfnRotationScheduleProps{
		SecretId:          props.Secret.SecretArn(),
		RotationLambdaArn: fn.Function.FunctionArn(),
		RotationRules:     rules,
	})
	// The first rotation runs on creation: the function must be allowed to
	// and able to reach the database (the database's groups hold the
	// ingress rule from the function).
	out.Schedule.Node().AddDependency(out.Policy, out.Permission)
	for _, sg := range *props.Database.Connections().SecurityGroups() {
		out.Schedule.Node().AddDependency(sg)
	}
	for _, d := range props.DependsOn {
		out.Schedule.Node().AddDependency(d)
	}
	return out, nil
}
