package rotationcdk

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/internal/doctor"
)

// DoctorPackage is the import path of the doctor function's main package.
const DoctorPackage = "github.com/example/secret-rotation/lambda/doctor"

// Defaults of [DoctorFunctionProps].
const (
	DefaultDoctorTimeout    = 2 * time.Minute
	DefaultDoctorStuckAfter = time.Hour
)

// DoctorFunctionProps configure [NewDoctorFunction]. Vpc, Topic and
// RotationFunction are required.
type DoctorFunctionProps struct {
	// Vpc is where the doctor runs: it must reach the databases, Secrets
	// Manager, SNS and CloudWatch Logs (NAT or interface endpoints).
	Vpc awsec2.IVpc
	// VpcSubnets places the doctor. Default: the VPC's private subnets
	// with egress; use the rotation function's subnets to see what it sees.
	VpcSubnets *awsec2.SubnetSelection
	// SecurityGroup is the doctor's group. Default: a new group whose only
	// rule is HTTPS (443) out to any IPv4 address; [DoctorFunction.Watch]
	// adds the database ports.
	SecurityGroup awsec2.ISecurityGroup
	// LogGroup, LogRetention, LogsKey, LogRemovalPolicy: as for
	// [RotationFunctionProps].
	LogGroup         awslogs.ILogGroup
	LogRetention     awslogs.RetentionDays
	LogsKey          awskms.IKey
	LogRemovalPolicy awscdk.RemovalPolicy
	// Topic receives the doctor's reports (DOCTOR_TOPIC_ARN).
	Topic awssns.ITopic
	// TopicKey is Topic's KMS key; the doctor may encrypt with it to
	// publish. Default: none, for a topic without a customer-managed key.
	TopicKey awskms.IKey
	// RotationFunction is the function whose failures the doctor diagnoses:
	// the secrets it rotates are the ones the doctor looks at, and the last
	// error lines of its log group go into the report.
	RotationFunction *RotationFunction
	// Secrets the doctor may read and repair; more can be added with
	// [DoctorFunction.Watch].
	Secrets []WatchedSecret
	// ReportOnly stops the doctor from repairing anything (DOCTOR_REPAIR
	// "false"). Default: false, it repairs what rotatectl's guard allows.
	ReportOnly bool
	// StuckAfter is the age from which an unfinished rotation is stuck
	// (DOCTOR_STUCK_AFTER), at least one hour. Default: one hour.
	StuckAfter time.Duration
	// SweepInterval is how often the caller's schedule runs the doctor's
	// scheduled sweep (internal/doctor.ScheduledSweep); the sweep reports
	// what became stuck since the previous one. Default 1h; 15m..24h in
	// whole minutes. The schedule itself is the caller's (stacks create an
	// EventBridge rule).
	SweepInterval time.Duration
	// EnvironmentName is shown in reports (DOCTOR_ENVIRONMENT). Default:
	// the stack's name.
	EnvironmentName string
	// CABundlePath: extra CAs for database TLS, as for the rotation
	// function (DB_CA_BUNDLE); pass the same file. Default: none.
	CABundlePath string
	// Timeout of one diagnosis, 30 s..15 min. Default: 2 minutes.
	Timeout time.Duration
	// MemorySizeMiB of the function. Default: 256.
	MemorySizeMiB int
	// Description of the function. Default: "Diagnoses and repairs failed
	// Secrets Manager rotations".
	Description string
	// ModuleRoot and Package: as for [RotationFunctionProps]; Package
	// defaults to [DoctorPackage].
	ModuleRoot, Package string
}

// WatchedSecret is one secret the doctor may read, relabel and rotate, by
// ARN (Secret), or every secret whose name starts with NamePrefix.
type WatchedSecret struct {
	// Secret is the secret. Exactly one of Secret and NamePrefix is set.
	Secret awssecretsmanager.ISecret
	// NamePrefix watches every secret of the stack's account and region
	// whose name starts with it, by ARN prefix
	// (arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NamePrefix*), for
	// more secrets than a policy or an event pattern can list. It must end
	// with "/" (so "dev/" never covers "dev2/...") and hold only the
	// characters of a secret name. Several WatchedSecrets may share one
	// prefix with different keys and databases.
	NamePrefix string
	// EncryptionKey is its customer-managed key: the doctor may decrypt
	// with it through Secrets Manager only (kms:ViaService; for a
	// NamePrefix, also only for secrets under the prefix,
	// kms:EncryptionContext:SecretARN). Default: none, for the AWS managed
	// key.
	EncryptionKey awskms.IKey
	// Database is what the secret logs in to: the doctor's group is
	// allowed to its Port. Default: none (no login check possible).
	Database awsec2.IConnectable
	// Port is the database port. Default: Database's default port.
	Port awsec2.Port
	// MasterSecret is the master secret of alternating-users secrets
	// (their masterarn) when it is not watched itself: the doctor reads
	// its versions (DescribeSecret, ListSecretVersionIds; not its value)
	// to tell whether the master is mid-rotation. Default: none.
	MasterSecret awssecretsmanager.ISecret
}

// DoctorFunction is the doctor: a Go function in the VPC with its role,
// log group, security group and the policy for the secrets it watches.
type DoctorFunction struct {
	constructs.Construct
	// Function is the Lambda function (provided.al2023, arm64, bootstrap).
	Function awslambda.Function
	// Role is the execution role.
	Role awsiam.IRole
	// BasePolicy: own log group and network interfaces.
	BasePolicy awsiam.ManagedPolicy
	// Policy: the topic, the rotation function's log group and the
	// watched secrets and their keys.
	Policy awsiam.ManagedPolicy
	// SecurityGroup is the doctor's group.
	SecurityGroup awsec2.ISecurityGroup
	// LogGroup receives the doctor's logs.
	LogGroup awslogs.ILogGroup

	secrets, keys                  awsiam.PolicyStatement
	prefixed, prefixedKeys, master awsiam.PolicyStatement
	retry                          awsiam.PolicyStatement // RotateSecret on every watched secret and prefix
	prefixes, masters, reached     map[string]bool
}

// Reasons of the doctor's suppressions.
const (
	// ReasonListSecrets: the doctor's policy, AwsSolutions-IAM5 Resource::*.
	ReasonListSecrets = "secretsmanager:ListSecrets has no resource-level permissions; the doctor lists secrets to find those rotated by " +
		"the environment's rotation function and reads, relabels or rotates only the watched secrets' ARNs"
	// ReasonWatchedByName: the doctor's policy, AwsSolutions-IAM5 on the
	// watched name prefixes' ARNs.
	ReasonWatchedByName = "the environment's application-user secrets are watched by name: each is named <stackPrefix>/<env>/<database>/<user> " +
		"and its ARN ends in a hyphen and six random characters, so the one pattern arn:...:secret:<stackPrefix>/<env>/* covers exactly " +
		"this environment's user secrets (the prefix ends with a slash: no other environment's); listing up to 1,500 ARNs would exceed " +
		"the managed policy's 6,144 characters; the master secrets stay listed by ARN"
	// ReasonDoctorDLQ: the doctor, NIST LambdaDLQ.
	ReasonDoctorDLQ = "the doctor is invoked by EventBridge for events that are also on the topic (rotation failures, the error alarm); " +
		"a run that fails after Lambda's retries raises the doctor's own error alarm to the topic, and an operator runs rotatectl, " +
		"so a dead-letter queue would only hold events nobody replays"
	// ReasonDoctorConcurrency: the doctor, NIST LambdaConcurrency.
	ReasonDoctorConcurrency = "reserving executions fails to deploy in any account whose Lambda concurrency quota is 100 or less " +
		"(Lambda keeps 100 unreserved); the doctor runs only on rotation failures, and two runs on one secret are harmless: a relabel " +
		"names the version it takes the label from (Secrets Manager refuses it once that version lost the label) and RotateSecret " +
		"refuses a second rotation while one is pending"
	// ReasonDoctorPlainLogs: the default log group without LogsKey, NIST
	// CloudWatchLogGroupEncrypted.
	ReasonDoctorPlainLogs = "the doctor never logs a password or a secret string, and CloudWatch Logs encrypts log data at rest with " +
		"its own keys; pass LogsKey for a customer-managed key"
)

// doctorSecretActions are what diagnosis and repair need on a watched
// secret: read it and its versions, and move stage labels.
// GetRandomPassword and PutSecretValue are not among them: the doctor
// never creates a password. RotateSecret, for the one retry, is in a
// statement of its own with [retryConditions].
var doctorSecretActions = []string{
	"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:ListSecretVersionIds",
	"secretsmanager:UpdateSecretVersionStage",
}

// retryConditions let RotateSecret start a rotation with the settings
// the secret has, never change them: RotateSecret with RotationLambdaARN
// or RotationRules also reconfigures the secret. Secrets Manager's
// condition keys for RotateSecret ("Actions, resources, and condition
// keys for AWS Secrets Manager",
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html#awssecretsmanager-policy-keys):
// secretsmanager:RotationLambdaARN, "the ARN of the rotation Lambda
// function in the request" (ARN), and secretsmanager:ModifyRotationRules,
// "whether the rotation rules of the secret are to be modified" (Bool).
// The doctor's retry (operator.Rotate without RotateOptions.Function)
// sends SecretId, ClientRequestToken and RotateImmediately only. The
// IfExists forms allow a request without the parameter, so the retry is
// allowed whether or not Secrets Manager sets the keys when they are
// absent; a request that names a function may name only the
// environment's own (the one the watched secrets already have), and one
// that sets rules is refused. (ExternalSecretRotationRoleArn needs
// iam:PassRole, which the doctor has for no role.)
func retryConditions(fn awslambda.IFunction) *map[string]any {
	return &map[string]any{
		"ArnEqualsIfExists": map[string]any{"secretsmanager:RotationLambdaARN": fn.FunctionArn()},
		"BoolIfExists":      map[string]any{"secretsmanager:ModifyRotationRules": "false"},
	}
}

func (p *DoctorFunctionProps) withDefaults() (DoctorFunctionProps, error) {
	if p == nil {
		return DoctorFunctionProps{}, errors.New("doctor function: props are required")
	}
	c := *p
	if c.StuckAfter == 0 {
		c.StuckAfter = DefaultDoctorStuckAfter
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = doctor.DefaultSweepInterval
	}
	errs := runtimeSettings{
		timeout: &c.Timeout, memoryMiB: &c.MemorySizeMiB, retention: &c.LogRetention, removal: &c.LogRemovalPolicy,
		description: &c.Description, pkg: &c.Package,
		defaultLimit: DefaultDoctorTimeout, defaultDesc: "Diagnoses and repairs failed Secrets Manager rotations", defaultPkg: DoctorPackage,
	}.apply()
	if c.Vpc == nil {
		errs = append(errs, errors.New("Vpc is required"))
	}
	if c.Topic == nil {
		errs = append(errs, errors.New("Topic is required"))
	}
	if c.RotationFunction == nil || c.RotationFunction.Function == nil || c.RotationFunction.LogGroup == nil {
		errs = append(errs, errors.New("RotationFunction is required"))
	}
	// Four rotation steps of up to 15 minutes: a younger pending version
	// may belong to a rotation that is still running.
	if c.StuckAfter < time.Hour || c.StuckAfter%time.Minute != 0 {
		errs = append(errs, fmt.Errorf("StuckAfter %s: want whole minutes, at least 1h", c.StuckAfter))
	}
	if c.SweepInterval < 15*time.Minute || c.SweepInterval > 24*time.Hour || c.SweepInterval%time.Minute != 0 {
		errs = append(errs, fmt.Errorf("SweepInterval %s: want whole minutes from 15m to 24h", c.SweepInterval))
	}
	for i, s := range c.Secrets {
		if err := s.validate(); err != nil {
			errs = append(errs, fmt.Errorf("Secrets[%d]: %w", i, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return DoctorFunctionProps{}, fmt.Errorf("doctor function: %w", err)
	}
	return c, nil
}

// namePrefixRe: characters of a secret name (CreateSecret: ASCII letters,
// numbers and /_+=.@-), ending with "/".
var namePrefixRe = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{0,510}/$`)

func (s WatchedSecret) validate() error {
	switch {
	case (s.Secret == nil) == (s.NamePrefix == ""):
		return errors.New("exactly one of Secret and NamePrefix is required")
	case s.NamePrefix != "" && !namePrefixRe.MatchString(s.NamePrefix):
		return fmt.Errorf("NamePrefix %q: want characters of a secret name (letters, digits, /_+=.@-), ending with /", s.NamePrefix)
	case s.Database != nil && databasePort(s.Database, s.Port) == nil:
		return errors.New("Port is required: Database has no default port")
	}
	return nil
}

// NewDoctorFunction builds the doctor (lambda/doctor, compiled at synth
// exactly like the rotation function) in the VPC. Its role may publish to
// Topic, read the rotation function's log group, list secrets, and read,
// relabel and rotate the watched secrets, decrypting their keys only
// through Secrets Manager; nothing else. Invalid props are errors before
// any resource is created; a compile error stops synth.
//
// Create it in the secrets' stack or a later one: its policy and security
// group rules refer to the secrets and databases, never the other way.
func NewDoctorFunction(scope constructs.Construct, id string, props *DoctorFunctionProps) (*DoctorFunction, error) {
	p, err := props.withDefaults()
	if err != nil {
		return nil, err
	}
	envName := p.EnvironmentName
	if envName == "" {
		envName = *awscdk.Stack_Of(scope).StackName()
	}
	vars := map[string]*string{
		doctor.EnvTopicARN:            p.Topic.TopicArn(),
		doctor.EnvRepair:              jsii.String(strconv.FormatBool(!p.ReportOnly)),
		doctor.EnvStuckAfter:          jsii.String(p.StuckAfter.String()),
		doctor.EnvSweepInterval:       jsii.String(p.SweepInterval.String()),
		doctor.EnvRotationFunctionARN: p.RotationFunction.Function.FunctionArn(),
		doctor.EnvRotationLogGroup:    p.RotationFunction.LogGroup.LogGroupName(),
		doctor.EnvEnvironment:         jsii.String(envName),
	}
	parts, err := newGoFunction(scope, id, &goFunctionSpec{
		role:              "Rotation doctor: diagnoses and repairs failed Secrets Manager rotations",
		basePolicy:        "Rotation doctor: its own log group, and the network interfaces of a function in a VPC",
		securityGroup:     "Rotation doctor: HTTPS to AWS APIs; database ports added per watched secret",
		egress:            "HTTPS to Secrets Manager, SNS and CloudWatch Logs",
		description:       p.Description,
		vpc:               p.Vpc,
		subnets:           p.VpcSubnets,
		group:             p.SecurityGroup,
		logs:              logSpec{group: p.LogGroup, retention: p.LogRetention, key: p.LogsKey, removal: p.LogRemovalPolicy},
		moduleRoot:        p.ModuleRoot,
		pkg:               p.Package,
		caBundlePath:      p.CABundlePath,
		memoryMiB:         p.MemorySizeMiB,
		timeout:           p.Timeout,
		environment:       vars,
		dlqReason:         ReasonDoctorDLQ,
		concurrencyReason: ReasonDoctorConcurrency,
		plainLogsReason:   ReasonDoctorPlainLogs,
	})
	if err != nil {
		return nil, fmt.Errorf("doctor function: %w", err)
	}
	out := &DoctorFunction{
		Construct: parts.Construct, Function: parts.Function, Role: parts.Role, BasePolicy: parts.BasePolicy,
		SecurityGroup: parts.SecurityGroup, LogGroup: parts.LogGroup,
	}
	out.Policy = newDoctorPolicy(out, p)
	out.retry = awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("RetryRotationUnchanged"),
		Actions:    jsii.Strings("secretsmanager:RotateSecret"),
		Conditions: retryConditions(p.RotationFunction.Function),
	})
	for _, s := range p.Secrets {
		out.mustWatch(s)
	}
	return out, nil
}

// newDoctorPolicy is the doctor's managed policy without the watched
// secrets, which Watch adds.
func newDoctorPolicy(d *DoctorFunction, p DoctorFunctionProps) awsiam.ManagedPolicy {
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("PublishReports"),
			Actions:   jsii.Strings("sns:Publish"),
			Resources: jsii.Strings(*p.Topic.TopicArn()),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadRotationLogs"),
			Actions:   jsii.Strings("logs:FilterLogEvents"),
			Resources: jsii.Strings(*p.RotationFunction.LogGroup.LogGroupArn()),
		}),
		// RotateSecret needs lambda:InvokeFunction on the rotation function
		// besides secretsmanager:RotateSecret ("You also need
		// lambda:InvokeFunction permissions on the rotation function",
		// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html).
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("RetryRotation"),
			Actions:   jsii.Strings("lambda:InvokeFunction"),
			Resources: jsii.Strings(*p.RotationFunction.Function.FunctionArn()),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("FindRotatedSecrets"),
			Actions:   jsii.Strings("secretsmanager:ListSecrets"),
			Resources: jsii.Strings("*"),
		}),
	}
	if p.TopicKey != nil {
		// What a publisher to an encrypted topic needs on its key
		// (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("EncryptReports"),
			Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
			Resources: jsii.Strings(*p.TopicKey.KeyArn()),
		}))
	}
	policy := awsiam.NewManagedPolicy(d.Construct, jsii.String("Policy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("Rotation doctor: publish reports, read the rotation logs, read and repair the watched secrets"),
		Roles:       &[]awsiam.IRole{d.Role},
		Statements:  &statements,
	})
	compliance.MustSuppress(policy, compliance.Suppression{Rule: "AwsSolutions-IAM5", Reason: ReasonListSecrets, AppliesTo: []string{"Resource::*"}})
	return policy
}

// Watch lets the doctor read, relabel and rotate one more secret (and
// decrypt it through Secrets Manager), and reach its database. All
// watched secrets share one statement, and all their keys another.
func (d *DoctorFunction) Watch(s WatchedSecret) error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("doctor function: watch: %w", err)
	}
	d.mustWatch(s)
	return nil
}

func (d *DoctorFunction) mustWatch(s WatchedSecret) {
	if s.NamePrefix != "" {
		d.watchPrefix(s)
	} else {
		d.watchSecret(s)
	}
	if s.MasterSecret != nil {
		d.readMaster(s.MasterSecret)
	}
	if s.Database != nil {
		port := databasePort(s.Database, s.Port)
		// From the doctor's side: with the database in an earlier stack,
		// CDK puts both the egress and the ingress rule into the doctor's
		// stack, so the reference points back only. One database watched
		// twice (its master and its users) gets its rules once.
		key := databaseKey(s.Database, port)
		if !d.reached[key] {
			if d.reached == nil {
				d.reached = map[string]bool{}
			}
			d.reached[key] = true
			d.Function.Connections().AllowTo(s.Database, port, jsii.String("Rotation doctor"))
		}
	}
}

// watchSecret adds one secret by ARN, and its key.
func (d *DoctorFunction) watchSecret(s WatchedSecret) {
	if d.secrets == nil {
		d.secrets = awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:     jsii.String("ReadAndRepairWatchedSecrets"),
			Actions: jsii.Strings(doctorSecretActions...),
		})
		d.Policy.AddStatements(d.secrets)
	}
	d.secrets.AddResources(s.Secret.SecretArn())
	d.addRetry(s.Secret.SecretArn())
	if s.EncryptionKey != nil {
		if d.keys == nil {
			d.keys = viaSecretsManager("SecretKeysThroughSecretsManager", nil, s.EncryptionKey.KeyArn(), "kms:Decrypt")
			d.Policy.AddStatements(d.keys)
		} else {
			d.keys.AddResources(s.EncryptionKey.KeyArn())
		}
	}
}

// watchPrefix adds every secret under s.NamePrefix (one ARN pattern per
// prefix) and s's key, usable through Secrets Manager for secrets under
// the prefix only: Secrets Manager calls KMS with the encryption context
// {"SecretARN": <the secret's ARN>, "SecretVersionId": ...}
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
func (d *DoctorFunction) watchPrefix(s WatchedSecret) {
	arn := SecretARNPattern(d.Policy, s.NamePrefix)
	if d.prefixed == nil {
		d.prefixed = awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:     jsii.String("ReadAndRepairSecretsByName"),
			Actions: jsii.Strings(doctorSecretActions...),
		})
		d.Policy.AddStatements(d.prefixed)
		d.prefixes = map[string]bool{}
	}
	if !d.prefixes[s.NamePrefix] {
		d.prefixes[s.NamePrefix] = true
		d.prefixed.AddResources(arn)
		d.addRetry(arn)
		compliance.MustSuppress(d.Policy, compliance.Suppression{
			Rule: "AwsSolutions-IAM5", Reason: ReasonWatchedByName,
			AppliesTo: []string{"Resource::" + nagString(awscdk.Stack_Of(d.Policy), arn)},
		})
	}
	if s.EncryptionKey != nil {
		if d.prefixedKeys == nil {
			d.prefixedKeys = viaSecretsManager("NamedSecretKeysThroughSecretsManager", nil, s.EncryptionKey.KeyArn(), "kms:Decrypt")
			d.Policy.AddStatements(d.prefixedKeys)
		} else {
			d.prefixedKeys.AddResources(s.EncryptionKey.KeyArn())
		}
		d.prefixedKeys.AddCondition(jsii.String("StringLike"), map[string]any{
			"kms:EncryptionContext:SecretARN": d.prefixPatterns(),
		})
	}
}

// addRetry lets the doctor start a rotation of arn (a secret's ARN or a
// prefix's pattern), with the conditions of [retryConditions]. The
// statement joins the policy with its first resource.
func (d *DoctorFunction) addRetry(arn *string) {
	if len(*d.retry.Resources()) == 0 {
		d.Policy.AddStatements(d.retry)
	}
	d.retry.AddResources(arn)
}

// prefixPatterns are the ARN patterns of every watched prefix, in the
// order they were added.
func (d *DoctorFunction) prefixPatterns() []*string {
	var out []*string
	for _, st := range *d.prefixed.Resources() {
		out = append(out, st)
	}
	return out
}

// readMaster lets the doctor read a master secret's versions (not its
// value): what it needs to tell whether the master is mid-rotation.
func (d *DoctorFunction) readMaster(master awssecretsmanager.ISecret) {
	if d.master == nil {
		d.master = awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:     jsii.String("ReadMastersOfWatchedSecrets"),
			Actions: jsii.Strings("secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"),
		})
		d.Policy.AddStatements(d.master)
		d.masters = map[string]bool{}
	}
	key := *awscdk.Stack_Of(d.Policy).ToJsonString(master.SecretArn(), nil)
	if !d.masters[key] {
		d.masters[key] = true
		d.master.AddResources(master.SecretArn())
	}
}

// databaseKey identifies a database and port for deduplication.
func databaseKey(db awsec2.IConnectable, port awsec2.Port) string {
	var groups []string
	for _, g := range *db.Connections().SecurityGroups() {
		groups = append(groups, *g.Node().Path())
	}
	return fmt.Sprint(groups, *port.ToString())
}

// SecretARNPattern is the IAM resource pattern of every secret whose name
// starts with prefix in scope's stack's account and region: the secret ARN
// (arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX) with
// "*" after the prefix.
func SecretARNPattern(scope constructs.IConstruct, prefix string) *string {
	return jsii.String(*SecretARNPrefix(scope, prefix) + "*")
}

// SecretARNPrefix is the start of the ARN of every secret whose name
// starts with prefix in scope's stack's account and region, for an
// EventBridge prefix filter.
func SecretARNPrefix(scope constructs.IConstruct, prefix string) *string {
	return awscdk.Stack_Of(scope).FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("secretsmanager"),
		Resource:     jsii.String("secret"),
		ResourceName: jsii.String(prefix),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

// nagString renders a resolved string as cdk-nag names it in findings:
// Fn::Join flattened, {"Ref": X} as <X>.
func nagString(stack awscdk.Stack, v *string) string {
	var render func(any) string
	render = func(x any) string {
		switch y := x.(type) {
		case string:
			return y
		case map[string]any:
			if ref, ok := y["Ref"].(string); ok {
				return "<" + ref + ">"
			}
			if join, ok := y["Fn::Join"].([]any); ok && len(join) == 2 {
				sep, _ := join[0].(string)
				parts, _ := join[1].([]any)
				out := make([]string, len(parts))
				for i, p := range parts {
					out[i] = render(p)
				}
				return strings.Join(out, sep)
			}
		}
		return fmt.Sprint(x)
	}
	return render(stack.Resolve(v))
}
