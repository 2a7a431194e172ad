package config_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/config"
)

// pipelineEnvs are dev (default account), prod (protected) and ext (another account and region).
func pipelineEnvs(t *testing.T) map[string]config.Environment {
	t.Helper()
	cfg, err := config.Load(config.ContextMap{config.ContextEnvironments: map[string]any{
		"dev":  map[string]any{},
		"prod": map[string]any{"protected": true, "deletionProtection": true, "removalPolicy": "snapshot"},
		"ext":  map[string]any{"account": "222222222222", "region": "eu-central-1"},
	}}, map[string]string{config.EnvDefaultAccount: "111111111111", config.EnvDefaultRegion: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Environments
}

var defaultAccount = map[string]string{config.EnvDefaultAccount: "111111111111", config.EnvDefaultRegion: "eu-west-1"}

func TestPipelineSettingsDefaults(t *testing.T) {
	envs := pipelineEnvs(t)
	p, err := config.DecodePipelineSettings(nil, envs, defaultAccount)
	if err != nil {
		t.Fatal(err)
	}
	if p.StackName != config.DefaultPipelineStackName || p.Source != config.SourceCodeCommit || p.Branch != "main" || p.RepositoryName != "secret-rotation" {
		t.Errorf("defaults = %+v", p)
	}
	if p.Account != "111111111111" || p.Region != "eu-west-1" {
		t.Errorf("account/region = %s/%s, want CDK_DEFAULT_*", p.Account, p.Region)
	}
	// Unprotected environments first, protected (prod) last.
	if got := strings.Join(p.Environments, ","); got != "dev,ext,prod" {
		t.Errorf("Environments = %s, want dev,ext,prod", got)
	}
	if !p.PostDeployCheckEnabled() {
		t.Error("post-deploy check off by default")
	}
	if !p.CrossAccount(envs) {
		t.Error("ext deploys to 222222222222: CrossAccount = false")
	}
}

func TestPipelineSettingsOverlay(t *testing.T) {
	envs := pipelineEnvs(t)
	raw := json.RawMessage(`{"source":"connection","repository":"example/secret-rotation","branch":"release",
		"connectionArn":"arn:aws:codeconnections:eu-west-1:111111111111:connection/0123abcd-0123-4567-89ab-0123456789ab",
		"environments":["dev","prod"],"waves":{"dev":"first"},"notificationEmail":"ops@example.com","postDeployCheck":false}`)
	p, err := config.DecodePipelineSettings(raw, envs, defaultAccount)
	if err != nil {
		t.Fatal(err)
	}
	if p.Source != config.SourceConnection || p.Branch != "release" || p.Repository != "example/secret-rotation" {
		t.Errorf("overlay = %+v", p)
	}
	if p.WaveOf("dev") != "first" || p.WaveOf("prod") != "prod" {
		t.Errorf("waves: dev=%s prod=%s", p.WaveOf("dev"), p.WaveOf("prod"))
	}
	if p.PostDeployCheckEnabled() {
		t.Error("postDeployCheck=false ignored")
	}
	if p.CrossAccount(envs) {
		t.Error("dev and prod share the pipeline's account: CrossAccount = true")
	}
}

func TestPipelineSettingsInvalid(t *testing.T) {
	envs := pipelineEnvs(t)
	tests := []struct {
		name    string
		raw     string
		procEnv map[string]string
		want    []string // substrings of the error
	}{
		{"unknown environment", `{"environments":["dev","staging"]}`, defaultAccount,
			[]string{`pipeline.environments[1] = "staging"`, "one of the environments defined in cdk.json: dev, ext, prod"}},
		{"duplicate environment", `{"environments":["dev","dev"]}`, defaultAccount,
			[]string{`pipeline.environments[1] = "dev"`, "each environment once"}},
		{"connection without ARN", `{"source":"connection","repository":"o/r"}`, defaultAccount,
			[]string{`pipeline.connectionArn = ""`, "required when source is \"connection\""}},
		{"connection without repository", `{"source":"connection","connectionArn":"arn:aws:codeconnections:eu-west-1:111111111111:connection/0123abcd-0123-4567-89ab-0123456789ab"}`, defaultAccount,
			[]string{`pipeline.repository = ""`, "owner/repo"}},
		{"malformed connection ARN", `{"source":"connection","repository":"o/r","connectionArn":"arn:aws:iam::1:role/x"}`, defaultAccount,
			[]string{"pipeline.connectionArn", "arn:aws:codeconnections:REGION:ACCOUNT:connection/ID"}},
		{"unknown source", `{"source":"github"}`, defaultAccount,
			[]string{`pipeline.source = "github"`, "codecommit, connection"}},
		{"unknown key", `{"brnch":"main"}`, defaultAccount,
			[]string{"pipeline.brnch = (unknown key)", "branch"}},
		{"wrong type", `{"environments":"dev"}`, defaultAccount,
			[]string{"pipeline.environments", "list of strings"}},
		{"bad branch", `{"branch":"a b"}`, defaultAccount, []string{`pipeline.branch = "a b"`}},
		{"bad tag", `{"tags":{"aws:x":"y"}}`, defaultAccount, []string{`pipeline.tags = "aws:x"`, "not starting with aws:"}},
		{"bad email", `{"notificationEmail":"ops"}`, defaultAccount, []string{`pipeline.notificationEmail = "ops"`}},
		{"wave of undeployed environment", `{"environments":["dev"],"waves":{"prod":"w"}}`, defaultAccount,
			[]string{`pipeline.waves.prod = "w"`, "only for environments the pipeline deploys"}},
		{"split wave", `{"environments":["dev","prod","ext"],"waves":{"dev":"w","ext":"w"}}`, defaultAccount,
			[]string{`pipeline.waves.ext = "w"`, "next to each other"}},
		{"cross-account without pipeline account", `{}`, nil,
			[]string{`pipeline.account = ""`, "environment ext deploys to account 222222222222",
				`pipeline.region = ""`, "environment ext deploys to region eu-central-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.DecodePipelineSettings(json.RawMessage(tc.raw), envs, tc.procEnv)
			if err == nil {
				t.Fatalf("%s: no error", tc.raw)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
