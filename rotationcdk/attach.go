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
	// soon as the schedule exists), e.g. the database instance, or the
	// master's own rotation schedule for an application user. The
	// schedule always waits for the policy (with ResourcePolicies, the
	// secret's resource policy and EncryptionKey), the permission and
	// Database's security groups.
	DependsOn []constructs.IDependable

	// MasterSecret makes this an alternating-users rotation: Secret names
	// it in "masterarn", and the function logs in with it to create the
	// user and set its password and grants. The function may then read it
	// (GetSecretValue, and DescribeSecret, with which it reads the
	// master's binding tag before its value) and decrypt it with
	// MasterEncryptionKey through Secrets Manager, and nothing more: one
	// policy per master secret and stack, shared by every rotation naming
	// it, so a master is readable only where it has users. Unless the
	// function has AllowUnboundMasterSecrets, the master must bind Secret:
	// a master created in this app with [BindMasterSecret] (checked here:
	// an unbound one is an error), an imported one (an existing database's)
	// with the function's MasterSecretBindings or its owner's tag.
	// Default: none (the secret is rotated as its own user).
	MasterSecret awssecretsmanager.ISecret
	// MasterEncryptionKey is MasterSecret's customer-managed KMS key.
	// Default: none, for a master under aws/secretsmanager.
	MasterEncryptionKey awskms.IKey
	// ResourcePolicies puts the function's permissions on Secret into the
	// secret's resource policy and EncryptionKey's key policy, naming the
	// function's role, instead of a managed policy on the role. Use it when
	// one function rotates many secrets: IAM attaches at most 10 managed
	// policies to a role by default (20 with a quota increase). Secret and
	// EncryptionKey must be created in this app (an imported one has no
	// policy to add to: an error). Default: false, a managed policy.
	ResourcePolicies bool
	// SharedInvokePermission lets Secrets Manager invoke the function for
	// any secret of this account through one Lambda permission per stack
	// (SourceAccount), instead of one per secret (SourceAccount and
	// SourceArn): a function's resource policy holds at most 20 KB, about
	// fifty per-secret permissions. When the function has
	// AlternatingUsersSecretPrefixes, the stack's permission admits only
	// the secrets under them instead (SourceArn "<prefix>*", one
	// permission per prefix; Lambda compares SourceArn with a wildcard
	// match), so Secret must be under one of them: a secret rotated as its
	// own user (a database's master) usually is not, and needs its own
	// permission (false). Default: false, one per secret.
	SharedInvokePermission bool
}

// SecretRotation is the rotation of one secret by a [RotationFunction].
type SecretRotation struct {
	constructs.Construct
	// Policy is the managed policy on the function's role for this secret;
	// nil with ResourcePolicies.
	Policy awsiam.ManagedPolicy
	// Permission lets Secrets Manager invoke the function for this secret
	// (or, with SharedInvokePermission, for the account's secrets, or those
	// under the function's first AlternatingUsersSecretPrefixes: the
	// stack's shared permission).
	Permission awslambda.CfnPermission
	// MasterAccess is the policy that lets the function read MasterSecret,
	// shared by the stack's rotations naming it; nil without MasterSecret.
	MasterAccess awsiam.Policy
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
	} else if databasePort(p.Database, p.Port) == nil {
		errs = append(errs, errors.New("Port is required: Database has no default port"))
	}
	if err := p.Schedule.Validate(p.Window); err != nil {
		errs = append(errs, err)
	}
	if p.MasterEncryptionKey != nil && p.MasterSecret == nil {
		errs = append(errs, errors.New("MasterEncryptionKey needs MasterSecret"))
	}
	if err := checkMasterBound(p); err != nil {
		errs = append(errs, err)
	}
	// An imported secret or key has no policy this app may change.
	if p.ResourcePolicies && p.Secret != nil && !*awscdk.Resource_IsOwnedResource(p.Secret) {
		errs = append(errs, errors.New("ResourcePolicies needs a Secret created in this app (an imported secret has no resource policy to add to)"))
	}
	if p.ResourcePolicies && p.EncryptionKey != nil && !*awscdk.Resource_IsOwnedResource(p.EncryptionKey) {
		errs = append(errs, errors.New("ResourcePolicies needs an EncryptionKey created in this app (an imported key's policy cannot be changed)"))
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

	port := databasePort(props.Database, props.Port)
	props.Database.Connections().AllowFrom(fn.SecurityGroup, port, jsii.String("Rotation function"))

	var needs []constructs.IDependable
	if props.ResourcePolicies {
		// The first rotation needs the statements in place: the secret's
		// resource policy (its own resource) and the key policy (part of
		// the key's).
		policies, err := grantOnResources(props)
		if err != nil {
			return nil, err
		}
		needs = append(needs, policies...)
	} else {
		out.Policy = newRotationPolicy(c, props)
		needs = append(needs, out.Policy)
	}
	if props.MasterSecret != nil {
		out.MasterAccess = masterAccess(c, props)
		needs = append(needs, out.MasterAccess)
	}
	if props.SharedInvokePermission {
		shared := sharedInvokePermissions(c, fn)
		out.Permission = shared[0]
		for _, p := range shared[1:] {
			needs = append(needs, p)
		}
	} else {
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
	}
	needs = append(needs, out.Permission)

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
	out.Schedule.Node().AddDependency(needs...)
	for _, sg := range *props.Database.Connections().SecurityGroups() {
		out.Schedule.Node().AddDependency(sg)
	}
	for _, d := range props.DependsOn {
		out.Schedule.Node().AddDependency(d)
	}
	return out, nil
}

// newRotationPolicy is the managed policy on the function's role for one
// secret: a reference from scope to the function's stack only.
func newRotationPolicy(c constructs.Construct, props *SecretRotationProps) awsiam.ManagedPolicy {
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("RotateThisSecret"),
			Actions:   jsii.Strings(rotationActions...),
			Resources: jsii.Strings(*props.Secret.SecretArn()),
		}),
		// Also in the function's base policy; kept here so that the policies
		// of secrets attached before it was there stay as deployed.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("GeneratePasswords"),
			Actions:   jsii.Strings("secretsmanager:GetRandomPassword"),
			Resources: jsii.Strings("*"),
		}),
	}
	if props.EncryptionKey != nil {
		statements = append(statements, viaSecretsManager("SecretKeyThroughSecretsManager", nil, props.EncryptionKey.KeyArn(), "kms:Decrypt", "kms:GenerateDataKey"))
	}
	policy := awsiam.NewManagedPolicy(c, jsii.String("Policy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Rotation function: rotate one secret"),
		Roles:       &[]awsiam.IRole{props.Function.Role},
		Statements:  &statements,
	})
	compliance.MustSuppress(policy, compliance.Suppression{Rule: "AwsSolutions-IAM5", Reason: ReasonGetRandomPassword, AppliesTo: []string{"Resource::*"}})
	return policy
}

// databasePort is port, or db's default port when port is nil (nil when
// db has none either: props validation refuses that).
func databasePort(db awsec2.IConnectable, port awsec2.Port) awsec2.Port {
	if port != nil {
		return port
	}
	return db.Connections().DefaultPort()
}

// viaSecretsManager allows KMS actions on key only when Secrets Manager
// makes the call (kms:ViaService), for principal when the statement goes
// into a key policy (nil in an identity policy).
func viaSecretsManager(sid string, principal awsiam.IPrincipal, keyArn *string, actions ...string) awsiam.PolicyStatement {
	p := &awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(*keyArn),
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"kms:ViaService": awscdk.Fn_Sub(jsii.String("secretsmanager.${AWS::Region}.amazonaws.com"), nil),
		}},
	}
	if principal != nil {
		// A key policy names the key as "*".
		p.Principals = &[]awsiam.IPrincipal{principal}
		p.Resources = jsii.Strings("*")
	}
	return awsiam.NewPolicyStatement(p)
}

// grantOnResources writes the function's permissions on the secret into
// the secret's resource policy and its key's key policy. Within one
// account a resource-based policy that names the role is enough
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
// nothing is added to the role, so any number of secrets fit. It returns
// what holds the statements, for the schedule to depend on: the secret's
// resource policy, and the key (whose key policy is a property of the key
// resource; AddToResourcePolicy's PolicyDependable for a key is its policy
// document, not a construct).
func grantOnResources(props *SecretRotationProps) ([]constructs.IDependable, error) {
	role := awsiam.NewArnPrincipal(props.Function.Role.RoleArn())
	added := props.Secret.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("RotationFunctionRotatesThisSecret"),
		Principals: &[]awsiam.IPrincipal{role},
		Actions:    jsii.Strings(rotationActions...),
		Resources:  jsii.Strings("*"),
	}))
	if added == nil || added.StatementAdded == nil || !*added.StatementAdded || added.PolicyDependable == nil {
		return nil, errors.New("secret rotation: the secret's resource policy took no statement")
	}
	out := []constructs.IDependable{added.PolicyDependable}
	if props.EncryptionKey != nil {
		// Identical statements of the secrets sharing a key are merged
		// into one by the key policy document.
		added := props.EncryptionKey.AddToResourcePolicy(viaSecretsManager("RotationFunctionThroughSecretsManager", role, jsii.String("*"), "kms:Decrypt", "kms:GenerateDataKey"), jsii.Bool(true))
		if added == nil || added.StatementAdded == nil || !*added.StatementAdded {
			return nil, errors.New("secret rotation: the key policy took no statement")
		}
		out = append(out, props.EncryptionKey)
	}
	return out, nil
}

// masterAccess returns the stack's policy that lets the function read
// props.MasterSecret, creating it for the first rotation that names it. It
// is an identity policy because the master may be imported (an existing
// database's secret has no resource policy this app may change), and an
// inline one because the role's managed-policy quota (10 by default) would
// allow only a handful of databases.
func masterAccess(scope constructs.Construct, props *SecretRotationProps) awsiam.Policy {
	stack := awscdk.Stack_Of(scope)
	id := "RotationMasterAccess" + shortAddr(props.Function) + shortAddr(props.MasterSecret)
	if existing, ok := stack.Node().TryFindChild(jsii.String(id)).(awsiam.Policy); ok && existing != nil {
		return existing
	}
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadMasterSecret"),
			Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
			Resources: jsii.Strings(*props.MasterSecret.SecretArn()),
		}),
	}
	if props.MasterEncryptionKey != nil {
		statements = append(statements, viaSecretsManager("MasterKeyThroughSecretsManager", nil, props.MasterEncryptionKey.KeyArn(), "kms:Decrypt"))
	}
	policy := awsiam.NewPolicy(stack, jsii.String(id), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{props.Function.Role},
		Statements: &statements,
	})
	compliance.MustSuppress(policy, compliance.Suppression{Rule: "NIST.800.53.R5-IAMNoInlinePolicy", Reason: ReasonMasterAccessInline})
	return policy
}

// sharedInvokePermissions returns the stack's permissions for Secrets
// Manager to invoke fn on behalf of this account's secrets: one without
// SourceArn, or, when fn has AlternatingUsersSecretPrefixes, one per
// prefix with SourceArn "<prefix>*" (AddPermission's SourceArn is matched
// with wildcards, StringLike:
// https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html),
// so that Secrets Manager invokes fn only for the secrets the function
// accepts as alternating users. The first keeps the id the single
// permission always had.
func sharedInvokePermissions(scope constructs.Construct, fn *RotationFunction) []awslambda.CfnPermission {
	stack := awscdk.Stack_Of(scope)
	base := "RotationInvokePermission" + shortAddr(fn)
	patterns := []*string{nil}
	if len(fn.AlternatingUsersSecretPrefixes) > 0 {
		patterns = patterns[:0]
		for _, p := range fn.AlternatingUsersSecretPrefixes {
			patterns = append(patterns, jsii.String(p+"*"))
		}
	}
	out := make([]awslambda.CfnPermission, len(patterns))
	for i, pattern := range patterns {
		id := base
		if i > 0 {
			id = fmt.Sprintf("%s%d", base, i+1)
		}
		if existing, ok := stack.Node().TryFindChild(jsii.String(id)).(awslambda.CfnPermission); ok && existing != nil {
			out[i] = existing
			continue
		}
		out[i] = awslambda.NewCfnPermission(stack, jsii.String(id), &awslambda.CfnPermissionProps{
			Action:        jsii.String("lambda:InvokeFunction"),
			FunctionName:  fn.Function.FunctionArn(),
			Principal:     jsii.String("secretsmanager.amazonaws.com"),
			SourceAccount: stack.Account(),
			SourceArn:     pattern,
		})
	}
	return out
}

// shortAddr is a stable short name of a construct for singleton ids.
func shortAddr(c constructs.IConstruct) string { return (*c.Node().Addr())[:8] }
