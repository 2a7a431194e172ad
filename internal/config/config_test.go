package config_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/internal/testkit/testdb"
)

// ctxWith returns a context with one environment "dev" whose block is overlaid with kv.
func ctxWith(kv map[string]any) config.ContextMap {
	return config.ContextMap{config.ContextEnvironments: map[string]any{"dev": kv}}
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := config.Load(config.ContextMap{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Selected) != 1 || cfg.Selected[0] != "dev" {
		t.Fatalf("Selected = %v, want [dev]", cfg.Selected)
	}
	got := cfg.Environments["dev"]
	want := config.DefaultEnvironment()
	want.Name = "dev"
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w || got.Name != "dev" {
		t.Fatalf("dev = %s, want defaults %s", g, w)
	}
	if cfg.Pipeline.Enabled {
		t.Error("pipeline enabled by default")
	}
}

func TestLoadOverlayAndEnvironmentVariables(t *testing.T) {
	ctx := config.ContextMap{
		config.ContextEnv: "prod, dev",
		config.ContextEnvironments: map[string]any{
			"dev":  map[string]any{"natGateways": float64(2)},
			"prod": map[string]any{"account": "123456789012", "region": "eu-west-1", "protected": true, "deletionProtection": true, "removalPolicy": "snapshot"},
		},
		config.ContextPipeline: map[string]any{"branch": "main"},
	}
	cfg, err := config.Load(ctx, map[string]string{config.EnvDefaultAccount: "999999999999", config.EnvDefaultRegion: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Selected, ","); got != "prod,dev" {
		t.Errorf("Selected = %s", got)
	}
	dev, prod := cfg.Environments["dev"], cfg.Environments["prod"]
	if dev.NatGateways != 2 || dev.MaxAzs != 2 || dev.EngineVersion != config.DefaultEnvironment().EngineVersion {
		t.Errorf("dev overlay = %+v", dev)
	}
	if dev.Account != "999999999999" || dev.Region != "us-east-1" {
		t.Errorf("dev account/region = %s/%s, want CDK_DEFAULT_*", dev.Account, dev.Region)
	}
	if prod.Account != "123456789012" || prod.Region != "eu-west-1" {
		t.Errorf("prod account/region = %s/%s, want its own", prod.Account, prod.Region)
	}
	if !cfg.Pipeline.Enabled || string(cfg.Pipeline.Raw) != `{"branch":"main"}` {
		t.Errorf("pipeline = %+v %s", cfg.Pipeline, cfg.Pipeline.Raw)
	}
	if envs := cfg.SelectedEnvironments(); len(envs) != 2 || envs[0].Name != "prod" {
		t.Errorf("SelectedEnvironments = %v", envs)
	}
}

func TestPipelineValues(t *testing.T) {
	tests := []struct {
		value   any
		enabled bool
	}{
		{nil, false}, {true, true}, {false, false}, {"true", true}, {"false", false},
		{map[string]any{}, true}, {map[string]any{"enabled": false}, false},
	}
	for _, tc := range tests {
		cfg, err := config.Load(config.ContextMap{config.ContextPipeline: tc.value}, nil)
		if err != nil {
			t.Fatalf("pipeline=%v: %v", tc.value, err)
		}
		if cfg.Pipeline.Enabled != tc.enabled {
			t.Errorf("pipeline=%v: Enabled = %v, want %v", tc.value, cfg.Pipeline.Enabled, tc.enabled)
		}
	}
}

// TestRepositoryCDKJSON proves every environment shipped in cdk.json is valid
// and that prod is protected.
func TestRepositoryCDKJSON(t *testing.T) {
	ctx, err := config.StandaloneContext(filepath.Join("..", ".."), nil)
	if err != nil {
		t.Fatal(err)
	}
	envs, _ := ctx[config.ContextEnvironments].(map[string]any)
	names := make([]string, 0, len(envs))
	for name := range envs {
		names = append(names, name)
	}
	ctx[config.ContextEnv] = strings.Join(names, ",")
	cfg, err := config.Load(config.ContextMap(ctx), nil)
	if err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	prod, ok := cfg.Environments["prod"]
	if !ok || !prod.Protected || !prod.DeletionProtection || prod.RemovalPolicy == config.RemovalDestroy {
		t.Errorf("prod = %+v, want protected with deletion protection and no destroy", prod)
	}
	dev := cfg.Environments["dev"]
	if dev.Protected || dev.DeletionProtection || dev.RemovalPolicy != config.RemovalDestroy {
		t.Errorf("dev = %+v, want destroyable", dev)
	}
}

func TestStandaloneContextArguments(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "cdk.json"), `{"app":"x","context":{"env":"dev","a":1}}`)
	write(t, filepath.Join(dir, "cdk.context.json"), `{"a":2,"b":"cached"}`)
	ctx, err := config.StandaloneContext(dir, []string{"-c", "env=prod", "--context=pipeline=true"})
	if err != nil {
		t.Fatal(err)
	}
	if ctx["env"] != "prod" || ctx["a"] != float64(2) || ctx["b"] != "cached" || ctx["pipeline"] != "true" {
		t.Errorf("context = %v", ctx)
	}
	for _, args := range [][]string{{"-c"}, {"-c", "novalue"}, {"synth"}} {
		if _, err := config.StandaloneContext(dir, args); err == nil {
			t.Errorf("args %q: no error", args)
		}
	}
	if ctx, err := config.StandaloneContext(t.TempDir(), nil); err != nil || len(ctx) != 0 {
		t.Errorf("no cdk.json: %v %v", ctx, err)
	}
}

func TestInvalidConfigs(t *testing.T) {
	pem := filepath.Join(t.TempDir(), "ca.pem")
	write(t, pem, string(testdb.UnrelatedCA(t)))
	notCert := filepath.Join(t.TempDir(), "key.pem")
	write(t, notCert, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
	tests := []struct {
		name string
		ctx  config.ContextMap
		// want are substrings of the error: key, value and allowed values.
		want []string
	}{
		{"unknown environment selected", config.ContextMap{config.ContextEnv: "qa"}, []string{"env", `"qa"`, "one of dev"}},
		{"environments not an object", config.ContextMap{config.ContextEnvironments: "dev"}, []string{"environments", "object"}},
		{"unknown key", ctxWith(map[string]any{"natGateway": 1}), []string{"environments.dev.natGateway", "one of the keys", "natGateways"}},
		{"wrong type", ctxWith(map[string]any{"natGateways": "two"}), []string{"environments.dev.natGateways", "string", "number"}},
		{"bad env name", config.ContextMap{config.ContextEnv: "Dev", config.ContextEnvironments: map[string]any{"Dev": map[string]any{}}}, []string{"environments.Dev", "lowercase"}},
		{"bad account", ctxWith(map[string]any{"account": "12345"}), []string{"environments.dev.account", `"12345"`, "12-digit"}},
		{"bad region", ctxWith(map[string]any{"region": "Europe"}), []string{"environments.dev.region", "eu-west-1"}},
		{"three AZs without account", ctxWith(map[string]any{"maxAzs": 3}), []string{"environments.dev.maxAzs", "= 3", "2 unless account and region"}},
		{"one AZ", ctxWith(map[string]any{"maxAzs": 1}), []string{"environments.dev.maxAzs", "= 1", "2..6"}},
		{"AZ of another region", ctxWith(map[string]any{"region": "eu-west-1", "availabilityZones": []any{"eu-west-1a", "us-east-1b"}}), []string{"availabilityZones[1]", "us-east-1b", "zones of region eu-west-1"}},
		{"duplicate AZ", ctxWith(map[string]any{"availabilityZones": []any{"eu-west-1a", "eu-west-1a"}}), []string{"availabilityZones[1]", "each zone once"}},
		{"more NAT than AZs", ctxWith(map[string]any{"natGateways": 3}), []string{"environments.dev.natGateways", "= 3", "0..2"}},
		{"negative NAT", ctxWith(map[string]any{"natGateways": -1}), []string{"natGateways", "= -1", "0..2"}},
		{"no NAT and no endpoint", ctxWith(map[string]any{"natGateways": 0}), []string{"environments.dev.secretsManagerEndpoint", "= false", "true when natGateways is 0"}},
		{"no NAT and operator host", ctxWith(map[string]any{"natGateways": 0, "secretsManagerEndpoint": true, "operatorAccess": true}), []string{"operatorAccess", "false when natGateways is 0"}},
		{"bad CIDR", ctxWith(map[string]any{"vpcCidr": "10.0.0.0/8"}), []string{"vpcCidr", `"10.0.0.0/8"`, "/16../20"}},
		{"log retention", ctxWith(map[string]any{"logRetentionDays": 31}), []string{"logRetentionDays", "= 31", "CloudWatch"}},
		{"instance class", ctxWith(map[string]any{"instanceClass": "t4g.micro"}), []string{"instanceClass", `"t4g.micro"`, "db.t4g.micro"}},
		{"bare major engine version", ctxWith(map[string]any{"engineVersion": "8.4"}), []string{"engineVersion", `"8.4"`, "full MySQL version"}},
		{"engine 5.7", ctxWith(map[string]any{"engineVersion": "5.7.44"}), []string{"engineVersion", "8.0.N or 8.4.N"}},
		{"storage", ctxWith(map[string]any{"allocatedStorageGiB": 10}), []string{"allocatedStorageGiB", "= 10", "20..65536"}},
		{"backup retention", ctxWith(map[string]any{"backupRetentionDays": 36}), []string{"backupRetentionDays", "0..35"}},
		{"removal policy", ctxWith(map[string]any{"removalPolicy": "delete"}), []string{"removalPolicy", `"delete"`, "destroy, snapshot or retain"}},
		{"port", ctxWith(map[string]any{"databasePort": 80}), []string{"databasePort", "= 80", "1150..65535"}},
		{"username", ctxWith(map[string]any{"masterUsername": "rdsadmin"}), []string{"masterUsername", "not rdsadmin"}},
		{"rotation days", ctxWith(map[string]any{"rotationDays": 0}), []string{"rotationDays", "= 0", "1..1000"}},
		{"rotation days too many", ctxWith(map[string]any{"rotationDays": 1001}), []string{"rotationDays", "1..1000"}},
		{"rate too fast", ctxWith(map[string]any{"rotationSchedule": "rate(2 hours)"}), []string{"rotationSchedule", `"rate(2 hours)"`, "rate(N hours) with N 4..23"}},
		{"rate unit", ctxWith(map[string]any{"rotationSchedule": "rate(1 week)"}), []string{"rotationSchedule", "cron("}},
		{"cron fields", ctxWith(map[string]any{"rotationSchedule": "cron(0 4 * * ?)"}), []string{"rotationSchedule", "cron(min hour"}},
		{"window longer than rate", ctxWith(map[string]any{"rotationSchedule": "rate(6 hours)", "rotationWindowHours": 6}), []string{"rotationWindowHours", "fewer hours than the rotation interval (6)"}},
		{"window", ctxWith(map[string]any{"rotationWindowHours": 25}), []string{"rotationWindowHours", "0..24"}},
		{"timeout", ctxWith(map[string]any{"rotationTimeoutSeconds": 10}), []string{"rotationTimeoutSeconds", "= 10", "30..900"}},
		{"negative concurrency", ctxWith(map[string]any{"rotationReservedConcurrency": -1}), []string{"rotationReservedConcurrency", "= -1", "0..1000", "0 = no reservation"}},
		{"too much concurrency", ctxWith(map[string]any{"rotationReservedConcurrency": 1001}), []string{"rotationReservedConcurrency", "= 1001", "0..1000"}},
		{"password length", ctxWith(map[string]any{"passwordLength": 64}), []string{"passwordLength", "= 64", "8..41"}},
		{"exclusions", ctxWith(map[string]any{"excludeCharacters": "'"}), []string{"excludeCharacters", `/ @ and "`}},
		{"CA bundle missing", ctxWith(map[string]any{"caBundlePath": "/nonexistent/ca.pem"}), []string{"caBundlePath", "X.509 certificates only", "no such file"}},
		{"CA bundle with a key", ctxWith(map[string]any{"caBundlePath": notCert}), []string{"caBundlePath", "PRIVATE KEY", "truststore.pki.rds.amazonaws.com"}},
		{"protected without deletion protection", ctxWith(map[string]any{"protected": true, "removalPolicy": "retain"}), []string{"deletionProtection", "true when protected"}},
		{"protected destroyable", ctxWith(map[string]any{"protected": true, "deletionProtection": true}), []string{"removalPolicy", `"destroy"`, "snapshot or retain when protected"}},
		{"protected few backups", ctxWith(map[string]any{"protected": true, "deletionProtection": true, "removalPolicy": "snapshot", "backupRetentionDays": 1}), []string{"backupRetentionDays", "7..35 when protected"}},
		{"pipeline value", config.ContextMap{config.ContextPipeline: float64(3)}, []string{"pipeline", "true, false or a pipeline object"}},
		{"stack prefix", ctxWith(map[string]any{"stackPrefix": "1-acme"}), []string{"stackPrefix", `"1-acme"`, "starting with a letter"}},
		{"stack prefix characters", ctxWith(map[string]any{"stackPrefix": "acme_db"}), []string{"stackPrefix", "letters, digits and '-'"}},
		{"tag key aws:", ctxWith(map[string]any{"tags": map[string]any{"aws:owner": "x"}}), []string{"tags", `"aws:owner"`, "not starting with aws:"}},
		{"tag key environment", ctxWith(map[string]any{"tags": map[string]any{"environment": "x"}}), []string{"tags", "other than environment"}},
		{"tag value", ctxWith(map[string]any{"tags": map[string]any{"team": strings.Repeat("x", 257)}}), []string{"tags.team", "at most 256"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(tc.ctx, nil)
			wantLoadError(t, err, tc.want)
		})
	}

	// The valid counterparts of some cases above.
	valid := []map[string]any{
		{"natGateways": 0, "secretsManagerEndpoint": true},
		{"rotationSchedule": "rate(10 days)", "rotationDays": 0},
		{"rotationSchedule": "rate(4 hours)", "rotationWindowHours": 3},
		{"rotationSchedule": "cron(0 4 ? * SUN *)", "rotationWindowHours": 2},
		{"region": "eu-west-1", "availabilityZones": []any{"eu-west-1a", "eu-west-1b", "eu-west-1c"}, "natGateways": 3},
		{"account": "123456789012", "region": "eu-west-1", "maxAzs": 3, "natGateways": 3},
		{"caBundlePath": pem, "instanceClass": "db.r7g.2xlarge", "engineVersion": "8.0.40"},
		{"rotationReservedConcurrency": 0},
		{"rotationReservedConcurrency": 1},
		{"rotationReservedConcurrency": 1000},
	}
	for _, kv := range valid {
		if _, err := config.Load(ctxWith(kv), nil); err != nil {
			t.Errorf("%v: %v", kv, err)
		}
	}
}

func TestAllErrorsReported(t *testing.T) {
	_, err := config.Load(ctxWith(map[string]any{"natGateways": 5, "rotationDays": 0, "engineVersion": "8"}), nil)
	if err == nil {
		t.Fatal("no error")
	}
	if n := strings.Count(err.Error(), "allowed:"); n != 3 {
		t.Errorf("%d problems reported, want 3:\n%v", n, err)
	}
}

// TestNoReservedConcurrencyByDefault: reserving even one execution fails to
// deploy in any account whose Lambda concurrency quota is 100 or less
// (Lambda keeps 100 unreserved), so a default environment reserves none.
func TestNoReservedConcurrencyByDefault(t *testing.T) {
	cfg, err := config.Load(config.ContextMap{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Environments["dev"].RotationReservedConcurrency; got != 0 {
		t.Errorf("default rotationReservedConcurrency = %d, want 0 (no reservation)", got)
	}
}

func TestDerivedNames(t *testing.T) {
	e := config.DefaultEnvironment()
	if e.EngineMajorVersion() != "8.4" || e.InstanceTypeName() != "t4g.micro" || e.AZCount() != 2 {
		t.Errorf("derived = %s %s %d", e.EngineMajorVersion(), e.InstanceTypeName(), e.AZCount())
	}
}

// Names and tags come from config; today's values are the defaults, and
// cdk.json tags add to (or replace) the default ones.
func TestNamingFromConfig(t *testing.T) {
	cfg, err := config.Load(config.ContextMap{
		config.ContextEnv: "dev,acme",
		config.ContextEnvironments: map[string]any{
			"dev":  map[string]any{},
			"acme": map[string]any{"stackPrefix": "Acme-Db", "tags": map[string]any{"team": "payments", "project": "ledger"}},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dev, acme := cfg.Environments["dev"], cfg.Environments["acme"]
	if got := dev.StackIDPrefix(); got != "SecretRotation-dev-" {
		t.Errorf("default stack id prefix = %q", got)
	}
	if got := mustJSON(t, dev.Tags); got != `{"project":"secret-rotation"}` {
		t.Errorf("default tags = %s", got)
	}
	if got := acme.StackIDPrefix(); got != "Acme-Db-acme-" {
		t.Errorf("stack id prefix = %q", got)
	}
	if got := mustJSON(t, acme.Tags); got != `{"project":"ledger","team":"payments"}` {
		t.Errorf("tags = %s", got)
	}
	if got := mustJSON(t, config.DefaultEnvironment().Tags); got != `{"project":"secret-rotation"}` {
		t.Errorf("defaults changed by loading: %s", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// wantLoadError fails the test unless err, from a Load, is an error whose
// message contains every one of want.
func wantLoadError(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}
