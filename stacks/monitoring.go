package stacks

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsconfig"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/rotationcdk"
)

// MonitoringStackProps configures [NewMonitoringStack].
type MonitoringStackProps struct {
	awscdk.StackProps
	// Environment is the validated environment configuration; its Doctor
	// block drives this stack.
	Environment config.Environment
	// Vpc and Subnets place the doctor next to the rotation function.
	Vpc     awsec2.IVpc
	Subnets *awsec2.SubnetSelection
	// LogsKey encrypts the doctor's log group.
	LogsKey awskms.IKey
	// RotationFunction is watched: its errors raise the alarm, its log
	// group is read by the doctor.
	RotationFunction *rotationcdk.RotationFunction
	// Secrets are the environment's secrets: the failure rule matches their
	// ARNs (the masters) or ARN prefixes (the application users' secrets,
	// by name), and the doctor may read and repair them.
	Secrets []rotationcdk.WatchedSecret
	// ModuleRoot and Package build the doctor ("" for the defaults, as for
	// the rotation function).
	ModuleRoot, Package string
}

// MonitoringStack holds what notices, diagnoses and repairs failed
// rotations of one environment: the topic, the rules, the alarms,
// the doctor and, when configured, the AWS Config rules.
type MonitoringStack struct {
	awscdk.Stack
	// Topic receives rotation failure events, alarm changes and the
	// doctor's reports; TopicKey encrypts it.
	Topic    awssns.Topic
	TopicKey awskms.Key
	// Doctor is the doctor function.
	Doctor *rotationcdk.DoctorFunction
	// FailureRule matches RotationFailed and RotationAbandoned of Secrets.
	FailureRule awsevents.Rule
	// ErrorsAlarm watches the rotation function's errors; AlarmRule sends
	// its ALARM state changes to the doctor.
	ErrorsAlarm awscloudwatch.Alarm
	AlarmRule   awsevents.Rule
	// DoctorErrorsAlarm tells the topic when the doctor itself fails.
	DoctorErrorsAlarm awscloudwatch.Alarm
	// SweepRule runs the doctor over every secret on a schedule: what
	// repairs a rotation once it is older than the stuck-after age.
	SweepRule awsevents.Rule
	// ConfigRules are the AWS Config managed rules, empty unless enabled.
	ConfigRules []awsconfig.ManagedRule
}

// NewMonitoringStack creates the environment's monitoring. It is deployed
// after the network, rotation and database stacks and refers to them only
// (the doctor's security-group rules into the database included), so no
// earlier stack changes when it is added.
func NewMonitoringStack(scope constructs.Construct, id string, props *MonitoringStackProps) (*MonitoringStack, error) {
	env := props.Environment
	if props.RotationFunction == nil || len(props.Secrets) == 0 {
		return nil, fmt.Errorf("environment %s: monitoring needs the rotation function and at least one secret", env.Name)
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	tagStack(stack, env)
	out := &MonitoringStack{Stack: stack}
	out.TopicKey, out.Topic = newRotationTopic(stack, env)

	doctorSG := awsec2.NewSecurityGroup(stack, jsii.String("DoctorSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Vpc,
		Description:      jsii.String("Rotation doctor: HTTPS to AWS APIs; database port added per watched secret"),
		AllowAllOutbound: jsii.Bool(false),
	})
	if env.NatGateways == 0 {
		// Isolated subnets: every AWS API is an interface endpoint in the VPC.
		doctorSG.AddEgressRule(awsec2.Peer_Ipv4(jsii.String(env.VpcCidr)), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS to the VPC's interface endpoints"), nil)
		newDoctorEndpoints(stack, props.Vpc, props.Subnets, doctorSG)
	} else {
		doctorSG.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS to Secrets Manager, SNS and CloudWatch Logs"), nil)
	}

	doctor, err := rotationcdk.NewDoctorFunction(stack, "Doctor", &rotationcdk.DoctorFunctionProps{
		Vpc:              props.Vpc,
		VpcSubnets:       props.Subnets,
		SecurityGroup:    doctorSG,
		LogRetention:     retentionDays[env.LogRetentionDays],
		LogsKey:          props.LogsKey,
		LogRemovalPolicy: plainRemovalPolicy(env),
		Topic:            out.Topic,
		TopicKey:         out.TopicKey,
		RotationFunction: props.RotationFunction,
		Secrets:          props.Secrets,
		ReportOnly:       !env.Doctor.Repair,
		StuckAfter:       env.Doctor.StuckAfterDuration(),
		SweepInterval:    time.Duration(env.Doctor.SweepMinutes) * time.Minute,
		EnvironmentName:  env.Name,
		CABundlePath:     env.CABundlePath,
		Timeout:          time.Duration(env.Doctor.TimeoutSeconds) * time.Second,
		Description:      "Diagnoses failed Secrets Manager rotations and repairs what the guard allows (" + env.Name + ")",
		ModuleRoot:       props.ModuleRoot,
		Package:          props.Package,
	})
	if err != nil {
		return nil, fmt.Errorf("environment %s: %w", env.Name, err)
	}
	out.Doctor = doctor

	out.FailureRule = newRotationFailureRule(stack, env, secretIDFilter(stack, props.Secrets), doctor, out.Topic)
	out.ErrorsAlarm, out.AlarmRule, out.DoctorErrorsAlarm = newRotationAlarms(stack, env, props.RotationFunction, doctor, out.Topic)
	out.SweepRule = newDoctorSweepRule(stack, env, doctor)
	if env.Doctor.ConfigRules {
		out.ConfigRules = newRotationConfigRules(stack, env)
	}
	output(stack, "TopicArn", out.Topic.TopicArn(), "SNS topic of rotation failures and doctor reports")
	output(stack, "DoctorFunctionName", doctor.Function.FunctionName(), "doctor function (aws lambda invoke it to diagnose on demand)")
	return out, nil
}

// newDoctorEndpoints adds the interface endpoints the doctor needs besides
// Secrets Manager's (the network stack's) in an environment without NAT:
// SNS to publish its report and CloudWatch Logs to read the rotation
// function's errors. Private DNS makes the SDK's default host names reach
// them, as for the Secrets Manager endpoint.
func newDoctorEndpoints(stack awscdk.Stack, vpc awsec2.IVpc, subnets *awsec2.SubnetSelection, doctorSG awsec2.ISecurityGroup) {
	sg := awsec2.NewSecurityGroup(stack, jsii.String("DoctorEndpointSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("SNS and CloudWatch Logs endpoints: HTTPS from the rotation doctor only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddIngressRule(doctorSG, awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS from the rotation doctor"), nil)
	for _, e := range []struct {
		id      string
		service awsec2.InterfaceVpcEndpointAwsService
	}{
		{"SnsEndpoint", awsec2.InterfaceVpcEndpointAwsService_SNS()},
		{"LogsEndpoint", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS()},
	} {
		awsec2.NewInterfaceVpcEndpoint(stack, jsii.String(e.id), &awsec2.InterfaceVpcEndpointProps{
			Vpc:               vpc,
			Service:           e.service,
			PrivateDnsEnabled: jsii.Bool(true),
			Subnets:           subnets,
			SecurityGroups:    &[]awsec2.ISecurityGroup{sg},
			Open:              jsii.Bool(false),
		})
	}
}

// secretIDFilter is the failure rule's filter on
// detail.additionalEventData.SecretId: each watched secret's ARN, then
// {"prefix": ARN prefix} once per watched name prefix (EventBridge content
// filtering, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#eb-filtering-prefix-matching;
// the values of one field's array are alternatives).
func secretIDFilter(stack awscdk.Stack, secrets []rotationcdk.WatchedSecret) []any {
	var out []any
	seen := map[string]bool{}
	for _, s := range secrets {
		if s.Secret != nil {
			out = append(out, *s.Secret.SecretArn())
		}
	}
	for _, s := range secrets {
		if s.NamePrefix != "" && !seen[s.NamePrefix] {
			seen[s.NamePrefix] = true
			out = append(out, map[string]any{"prefix": *rotationcdk.SecretARNPrefix(stack, s.NamePrefix)})
		}
	}
	return out
}

// WatchedSecrets are the database stack's secrets as the doctor watches
// them: the master secret with its key and database, when the function
// rotates it (not an existing database's without rotateMaster), and the
// application users' secrets by their name prefix
// (config.Environment.SecretNamePrefix), with the key that encrypts them,
// the database they log in to and, when the master is not watched, the
// master secret whose versions the doctor reads. Up to 100 users on each
// of 15 databases would not fit as ARNs into the failure rule's event
// pattern (2,048 characters) or the doctor's managed policy (6,144).
func (d *DatabaseStack) WatchedSecrets() []rotationcdk.WatchedSecret {
	port := awsec2.Port_Tcp(jsii.Number(d.Port))
	var out []rotationcdk.WatchedSecret
	if d.Rotation != nil {
		out = append(out, rotationcdk.WatchedSecret{
			Secret:        d.Secret,
			EncryptionKey: d.SecretKey,
			Database:      d.Connections,
			Port:          port,
		})
	}
	if len(d.Users) > 0 {
		users := rotationcdk.WatchedSecret{
			NamePrefix:    d.UserSecretNamePrefix,
			EncryptionKey: d.Key,
			Database:      d.Connections,
			Port:          port,
		}
		if d.Rotation == nil {
			users.MasterSecret = d.Secret
		}
		out = append(out, users)
	}
	return out
}
