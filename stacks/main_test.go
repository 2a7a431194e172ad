package stacks_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/internal/gobundle"
	"github.com/example/secret-rotation/internal/testkit/cfntemplate"
	"github.com/example/secret-rotation/stacks"
)

var update = flag.Bool("update", false, "rewrite the golden templates in testdata/")

// synthesized is the one shared synth of this package (jsii is slow and not
// thread-safe): the environments of the repository's cdk.json plus "full",
// which turns on every optional feature.
var synthesized struct {
	moduleRoot string
	outdir     string
	envs       map[string]*stacks.EnvironmentStacks
	context    map[string]any
	// assembly is the synthesized cloud assembly, nil when compliance.Synth failed.
	assembly cxapi.CloudAssembly
	// complianceErr is compliance.Synth's verdict (cdk-nag packs on the App).
	complianceErr error
}

// testEnvironments are synthesized by TestMain, in this order.
var testEnvironments = []string{"dev", "prod", "full", "isolated", "multi"}

// singleDatabaseEnvironments have the default database alone, as before
// databases and users existed; the tests of its exact wiring run on them
// (multi has its own, users_test.go).
var singleDatabaseEnvironments = []string{"dev", "prod", "full", "isolated"}

// multiEnvironment is the environment of testdata/databases.cdk.json: two
// databases this app creates and one existing, with three users on the
// created ones and one on the existing one.
func multiEnvironment(root string) (map[string]any, error) {
	var project struct {
		Context map[string]any `json:"context"`
	}
	data, err := os.ReadFile(filepath.Join(root, "stacks", "testdata", "databases.cdk.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &project); err != nil {
		return nil, err
	}
	envs, _ := project.Context[config.ContextEnvironments].(map[string]any)
	multi, ok := envs["multi"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("databases.cdk.json: no environment multi")
	}
	return multi, nil
}

// kindsOf returns the stack kinds of env in deployment order: "Network",
// "Rotation", one per database ("Database", "Database-<name>"),
// "Monitoring".
func kindsOf(env string) []string {
	out := append([]string{"Network", "Rotation"}, databaseKinds(env)...)
	return append(out, "Monitoring")
}

// databaseKinds returns the kinds of env's database stacks, default first.
func databaseKinds(env string) []string {
	var out []string
	for _, d := range synthesized.envs[env].Databases {
		out = append(out, strings.TrimPrefix(*d.Stack.StackName(), "SecretRotation-"+env+"-"))
	}
	return out
}

// isolatedEnvironment has no NAT gateway: isolated private subnets and the
// Secrets Manager endpoint as the function's only way out.
func isolatedEnvironment() map[string]any {
	return map[string]any{"natGateways": 0, "secretsManagerEndpoint": true}
}

// fullEnvironment enables everything that is off by default.
func fullEnvironment(root string) map[string]any {
	return map[string]any{
		"region": "eu-west-1", "availabilityZones": []any{"eu-west-1a", "eu-west-1b", "eu-west-1c"}, "natGateways": 3, "operatorAccess": true, "databasePort": 3307,
		"rotationSchedule": "cron(0 4 ? * SUN *)", "rotationWindowHours": 3,
		"rotationReservedConcurrency": 2, "logRetentionDays": 7,
		"caBundlePath":            filepath.Join(root, "stacks", "testdata", "test-ca.pem"),
		"caCertificateIdentifier": "rds-ca-ecc384-g1",
		"doctor": map[string]any{
			"repair": false, "configRules": true, "stuckAfter": "2h", "alarmThreshold": 2, "alarmPeriodMinutes": 10, "sweepMinutes": 30, "timeoutSeconds": 300,
			"emailSubscriptions": []any{"ops@example.com"}, "httpsSubscriptions": []any{"https://hooks.example.com/rotation"},
		},
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	defer jsii.Close()
	if err := synthesize(); err != nil {
		fmt.Fprintln(os.Stderr, "shared synth:", err)
		return 1
	}
	defer os.RemoveAll(synthesized.outdir)
	return m.Run()
}

func synthesize() error {
	root, err := gobundle.FindModuleRoot(".")
	if err != nil {
		return err
	}
	// The same context the app sees: cdk.json's feature flags and environments.
	ctx, err := config.StandaloneContext(root, nil)
	if err != nil {
		return err
	}
	envs, _ := ctx[config.ContextEnvironments].(map[string]any)
	multi, err := multiEnvironment(root)
	if err != nil {
		return err
	}
	withFull := map[string]any{"full": fullEnvironment(root), "isolated": isolatedEnvironment(), "multi": multi}
	for k, v := range envs {
		withFull[k] = v
	}
	ctx[config.ContextEnvironments] = withFull
	ctx[config.ContextEnv] = strings.Join(testEnvironments, ",")
	cfg, err := config.Load(config.ContextMap(ctx), nil) // no CDK_DEFAULT_*: environment-agnostic
	if err != nil {
		return err
	}
	outdir, err := os.MkdirTemp("", "stacks-test-cdk.out-")
	if err != nil {
		return err
	}
	if err := plantCanaries(ctx); err != nil {
		return err
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir), Context: &ctx})
	compliance.Apply(app) // as app.go does
	built := map[string]*stacks.EnvironmentStacks{}
	for _, env := range cfg.SelectedEnvironments() {
		s, err := stacks.NewEnvironmentStacks(app, env, stacks.WithModuleRoot(root))
		if err != nil {
			return err
		}
		built[env.Name] = s
	}
	synthesized.assembly, synthesized.complianceErr = compliance.Synth(app)
	synthesized.moduleRoot, synthesized.outdir, synthesized.envs, synthesized.context = root, outdir, built, ctx
	return nil
}

// stackName returns the CloudFormation stack name of env's stack kind.
func stackName(env, kind string) string { return "SecretRotation-" + env + "-" + kind }

// templateOf returns the assertions template of one synthesized stack.
func templateOf(t *testing.T, env, kind string) assertions.Template {
	t.Helper()
	s := synthesized.envs[env]
	if s == nil {
		t.Fatalf("environment %s not synthesized", env)
	}
	stacks := map[string]awscdk.Stack{"Network": s.Network.Stack, "Rotation": s.Rotation.Stack, "Monitoring": s.Monitoring.Stack}
	for _, d := range s.Databases {
		stacks[strings.TrimPrefix(*d.Stack.StackName(), "SecretRotation-"+env+"-")] = d.Stack
	}
	return assertions.Template_FromStack(stacks[kind], nil)
}

// templateJSON reads a synthesized template of the shared synth as plain
// Go values.
func templateJSON(t *testing.T, env, kind string) map[string]any {
	t.Helper()
	return readTemplate(t, filepath.Join(synthesized.outdir, stackName(env, kind)+".template.json"))
}

// readTemplate reads the template file at path as plain Go values.
func readTemplate(t *testing.T, path string) map[string]any { return cfntemplate.Read(t, path) }

// resourcesOfType returns the resources of the given type by logical id.
var resourcesOfType = cfntemplate.ResourcesOfType

// props returns a resource's Properties.
func props(res map[string]any) map[string]any {
	p, _ := res["Properties"].(map[string]any)
	return p
}

// assert runs a jsii assertion, which panics on failure, as a test error.
func assert(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// asJSON renders v compactly for substring checks.
func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
