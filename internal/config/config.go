// Package config is the typed configuration of the CDK app.
//
// The app reads one JSON document per named environment from the CDK context
// key "environments" (cdk.json) and selects the environments to synthesize with
// the context key "env" (a name or a comma-separated list; default "dev").
// Every environment starts from [DefaultEnvironment] and is overlaid with the
// keys set in cdk.json; unknown keys are errors, so a typo never silently falls
// back to a default. The account and region come from the environment block or,
// when it leaves them empty, from CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION;
// when both are empty the stacks are environment-agnostic.
//
// [Load] is pure: it takes a [ContextReader] and the process environment as a
// map, so it is unit-testable without jsii. Only the app's main reads the real
// CDK context and environment variables. [Config.Validate] (called by Load)
// reports every problem at once, each naming the key, the value and what is
// allowed, so a bad cdk.json fails before any construct is built.
package config

import (
	"encoding/json"
	"strings"

	"github.com/example/secret-rotation/internal/rdsca"
)

// Context keys read from cdk.json or `-c key=value`.
const (
	// ContextEnv selects the environment(s) to synthesize: "dev", "prod" or "dev,prod".
	ContextEnv = "env"
	// ContextEnvironments holds the named environment blocks.
	ContextEnvironments = "environments"
	// ContextPipeline enables and configures the delivery pipeline: true, "true" or an object.
	ContextPipeline = "pipeline"
)

// DefaultEnvironmentName is selected when the "env" context key is absent.
const DefaultEnvironmentName = "dev"

// Config is the whole app's configuration.
type Config struct {
	// Selected lists the environment names to synthesize as plain stacks, in order.
	Selected []string
	// Environments holds every environment defined in cdk.json, validated, by name.
	Environments map[string]Environment
	// Pipeline is the delivery pipeline block; the pipeline package decodes Raw itself.
	Pipeline Pipeline
}

// Pipeline is the placeholder for the pipeline configuration. The app
// synthesizes the pipeline stack only when Enabled is true; Raw is the JSON
// object given under the "pipeline" context key (nil when it was a boolean) for
// the pipeline package to decode into its own typed struct.
type Pipeline struct {
	Enabled bool
	Raw     json.RawMessage
}

// SelectedEnvironments returns the selected environments in selection order.
func (c *Config) SelectedEnvironments() []Environment {
	out := make([]Environment, 0, len(c.Selected))
	for _, name := range c.Selected {
		out = append(out, c.Environments[name])
	}
	return out
}

// Environment is one deployment target: where it goes and how it is sized.
// JSON names are the cdk.json keys documented in docs/deploy.md.
type Environment struct {
	// Name is the environment's key in cdk.json (set by Load, not a JSON key).
	Name string `json:"-"`

	// Account and Region of the deployment; empty means CDK_DEFAULT_* or agnostic.
	Account string `json:"account"`
	Region  string `json:"region"`

	// MaxAzs is the number of availability zones the VPC spans (2..6).
	MaxAzs int `json:"maxAzs"`
	// AvailabilityZones pins the zones explicitly (overrides MaxAzs; needs a region).
	AvailabilityZones []string `json:"availabilityZones"`
	// NatGateways is the number of NAT gateways (0..MaxAzs).
	NatGateways int `json:"natGateways"`
	// VpcCidr is the VPC's IPv4 range.
	VpcCidr string `json:"vpcCidr"`
	// SecretsManagerEndpoint adds an interface VPC endpoint with private DNS.
	SecretsManagerEndpoint bool `json:"secretsManagerEndpoint"`
	// LogRetentionDays applies to the flow logs and the function's log group.
	LogRetentionDays int `json:"logRetentionDays"`

	// DatabaseSettings are the settings of the default database, and the
	// defaults of every other entry of Databases (their JSON keys sit
	// directly in the environment block, as before databases existed).
	DatabaseSettings
	// Databases are the environment's databases, "default" first, then by
	// name; set by Load from the "databases" key (see database.go). Empty
	// means the default database alone, as [Environment.DatabaseList] says.
	Databases []Database `json:"-"`

	// RotationTimeoutSeconds is the function timeout (30..900).
	RotationTimeoutSeconds int `json:"rotationTimeoutSeconds"`
	// RotationReservedConcurrency reserves executions for the function
	// (1..1000); 0, the default, reserves none (see [DefaultEnvironment]).
	RotationReservedConcurrency int `json:"rotationReservedConcurrency"`
	// PasswordLength of generated passwords (RDS allows 8..41 for the master user).
	PasswordLength int `json:"passwordLength"`
	// ExcludeCharacters are never used in generated passwords.
	ExcludeCharacters string `json:"excludeCharacters"`
	// CABundlePath is a PEM file bundled with the function whose CAs it
	// trusts in addition to the shipped Amazon RDS CAs (package rdsca).
	CABundlePath string `json:"caBundlePath"`

	// StackPrefix starts the environment's stack names
	// (<StackPrefix>-<env>-Network) and its pipeline stage name.
	StackPrefix string `json:"stackPrefix"`
	// Tags are added to every resource of the environment's stacks, with
	// environment=<name>; cdk.json keys add to or replace the defaults.
	Tags map[string]string `json:"tags"`

	// OperatorAccess adds an SSM-managed host with the MySQL client.
	OperatorAccess bool `json:"operatorAccess"`
	// Protected marks production: manual approval in the pipeline, retained data.
	Protected bool `json:"protected"`

	// Doctor configures rotation failure alerts and the doctor (doctor.go).
	Doctor Doctor `json:"doctor"`
}

// DefaultEnvironment returns the values every environment starts from: a
// cheap, fully destroyable development setup that deploys into a fresh
// account.
//
// RotationReservedConcurrency is 0 (no reservation): Lambda keeps at least
// 100 executions of the account unreserved, so any reservation fails to
// deploy in an account whose concurrency quota is 100 or less, as new
// accounts' often is ("You can reserve up to the Unreserved account
// concurrency value that is shown, minus 100",
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
// Correctness does not need it: Secrets Manager never runs two rotations of
// one secret at once (RotateSecret returns an error while AWSPENDING is on
// another version than AWSCURRENT,
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html).
func DefaultEnvironment() Environment {
	return Environment{
		MaxAzs:           2,
		NatGateways:      1,
		VpcCidr:          "10.0.0.0/16",
		LogRetentionDays: 30,
		DatabaseSettings: DatabaseSettings{
			InstanceClass:           "db.t4g.micro",
			EngineVersion:           "8.4.10", // newest 8.4 of aws-cdk-lib's MysqlEngineVersion, see README
			AllocatedStorageGiB:     20,
			BackupRetentionDays:     7,
			RemovalPolicy:           RemovalDestroy,
			DatabasePort:            3306,
			MasterUsername:          "admin",
			RotationDays:            30,
			CACertificateIdentifier: rdsca.DefaultIdentifier,
		},
		RotationTimeoutSeconds:      60,
		RotationReservedConcurrency: 0, // none, see above
		PasswordLength:              32,
		ExcludeCharacters:           `/@"'\`,
		StackPrefix:                 DefaultStackPrefix,
		Tags:                        map[string]string{"project": "secret-rotation"},
		Doctor:                      DefaultDoctor(),
	}
}

// DefaultStackPrefix starts the stack names: SecretRotation-dev-Network.
const DefaultStackPrefix = "SecretRotation"

// StackIDPrefix is the prefix of the environment's stack ids directly
// under an App: "SecretRotation-dev-".
func (e Environment) StackIDPrefix() string { return e.StackPrefix + "-" + e.Name + "-" }

// Removal policy names accepted by RemovalPolicy.
const (
	RemovalDestroy  = "destroy"
	RemovalSnapshot = "snapshot"
	RemovalRetain   = "retain"
)

// AZCount returns the number of availability zones the VPC spans.
func (e Environment) AZCount() int {
	if len(e.AvailabilityZones) > 0 {
		return len(e.AvailabilityZones)
	}
	return e.MaxAzs
}

// EngineMajorVersion returns "8.4" for "8.4.7".
func (d DatabaseSettings) EngineMajorVersion() string {
	parts := strings.Split(d.EngineVersion, ".")
	if len(parts) < 2 {
		return d.EngineVersion
	}
	return parts[0] + "." + parts[1]
}

// InstanceTypeName returns the instance class without the "db." prefix, as
// awsec2.InstanceType expects it ("t4g.micro").
func (d DatabaseSettings) InstanceTypeName() string {
	if len(d.InstanceClass) > 3 && d.InstanceClass[:3] == "db." {
		return d.InstanceClass[3:]
	}
	return d.InstanceClass
}
