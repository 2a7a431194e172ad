package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/rotationcdk"
)

// EnvironmentStacks are the stacks of one environment, in dependency order.
type EnvironmentStacks struct {
	// Network holds the VPC; it depends on nothing.
	Network *NetworkStack
	// Rotation holds the function; it depends on Network.
	Rotation *RotationStack
	// Database holds the default database, its secrets and rotation
	// schedules; it depends on both.
	Database *DatabaseStack
	// Databases are the stacks of every database, the default (Database)
	// first, then the others of the configuration by name, each in a
	// stack of its own.
	Databases []*DatabaseStack
	// Monitoring holds the topic, rules, alarms and the doctor; it depends
	// on the network, the function and the watched databases.
	Monitoring *MonitoringStack
}

// Stacks returns the stacks in deployment order.
func (e *EnvironmentStacks) Stacks() []awscdk.Stack {
	out := []awscdk.Stack{e.Network.Stack, e.Rotation.Stack}
	for _, d := range e.Databases {
		out = append(out, d.Stack)
	}
	return append(out, e.Monitoring.Stack)
}

// options of NewEnvironmentStacks.
type options struct {
	prefix     *string
	moduleRoot string
	pkg        string
}

// Option customizes [NewEnvironmentStacks].
type Option func(*options)

// WithStackIDPrefix sets the prefix of the stack construct ids. The default is
// "<stackPrefix>-<env>-" (config.Environment.StackIDPrefix), giving stack names such as SecretRotation-dev-Network
// directly under an App; inside a pipelines Stage pass "" (the Stage name
// already prefixes the stack names).
func WithStackIDPrefix(prefix string) Option {
	return func(o *options) { o.prefix = &prefix }
}

// WithModuleRoot sets the directory holding go.mod from which the rotation
// function is built. The default is found by walking up from the working directory.
func WithModuleRoot(dir string) Option {
	return func(o *options) { o.moduleRoot = dir }
}

// WithFunctionPackage builds a different main package (relative to the module
// root) as the rotation function; tests use it to prove failures are loud.
func WithFunctionPackage(pkg string) Option {
	return func(o *options) { o.pkg = pkg }
}

// NewEnvironmentStacks creates the network, rotation, database and monitoring stacks of
// env under scope (an App or a pipelines Stage), wired through props in that
// order. It returns an error, before creating any construct, when env is
// invalid or the function's sources cannot be hashed, and an error when
// compiling the function fails.
func NewEnvironmentStacks(scope constructs.Construct, env config.Environment, opts ...Option) (*EnvironmentStacks, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := env.Validate(); err != nil {
		return nil, fmt.Errorf("environment %s: %w", env.Name, err)
	}
	prefix := env.StackIDPrefix()
	if o.prefix != nil {
		prefix = *o.prefix
	}
	stackProps := func(description string) awscdk.StackProps {
		return awscdk.StackProps{
			Env:                   stackEnv(env),
			Description:           jsii.String(description + " (secret-rotation, " + env.Name + ")"),
			TerminationProtection: jsii.Bool(env.Protected),
		}
	}
	network := NewNetworkStack(scope, prefix+"Network", &NetworkStackProps{
		StackProps:  stackProps("VPC, subnets, NAT and flow logs"),
		Environment: env,
	})
	rotation, err := NewRotationStack(scope, prefix+"Rotation", &RotationStackProps{
		StackProps:  stackProps("Secrets Manager rotation function for RDS for MySQL"),
		Environment: env,
		Vpc:         network.Vpc,
		Subnets:     network.PrivateSubnets,
		ModuleRoot:  o.moduleRoot,
		Package:     o.pkg,
		LogsKey:     network.LogsKey,
	})
	if err != nil {
		return nil, err
	}
	out := &EnvironmentStacks{Network: network, Rotation: rotation}
	// The default database keeps today's stack and logical ids; every
	// other one gets a stack of its own with the same construct ids inside,
	// so no stack approaches CloudFormation's 500 resources and adding or
	// removing a database never touches another's stack.
	for _, d := range env.DatabaseList() {
		description := "RDS for MySQL with a rotated master secret"
		switch {
		case d.Existing != nil:
			description = "Rotation of existing database " + d.Name + " (" + d.Existing.InstanceIdentifier + ")"
		case !d.IsDefault():
			description = "RDS for MySQL " + d.Name + " with a rotated master secret"
		}
		database, err := NewDatabaseStack(scope, prefix+d.StackIDSuffix(), &DatabaseStackProps{
			StackProps:       stackProps(description),
			Environment:      env,
			Database:         d,
			Vpc:              network.Vpc,
			Subnets:          network.PrivateSubnets,
			RotationFunction: rotation.Function,
			LogsKey:          network.LogsKey,
		})
		if err != nil {
			return nil, err
		}
		if d.IsDefault() {
			out.Database = database
		}
		out.Databases = append(out.Databases, database)
	}
	var watched []rotationcdk.WatchedSecret
	for _, d := range out.Databases {
		watched = append(watched, d.WatchedSecrets()...)
	}
	monitoring, err := NewMonitoringStack(scope, prefix+"Monitoring", &MonitoringStackProps{
		StackProps:       stackProps("Rotation failure alerts and the rotation doctor"),
		Environment:      env,
		Vpc:              network.Vpc,
		Subnets:          network.PrivateSubnets,
		LogsKey:          network.LogsKey,
		RotationFunction: rotation.Function,
		Secrets:          watched,
		ModuleRoot:       o.moduleRoot,
	})
	if err != nil {
		return nil, err
	}
	out.Monitoring = monitoring
	return out, nil
}
