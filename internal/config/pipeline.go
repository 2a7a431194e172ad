package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Pipeline source kinds accepted by PipelineSettings.Source.
const (
	// SourceCodeCommit is a CodeCommit repository created by the pipeline
	// stack and seeded with this project's source (the default).
	SourceCodeCommit = "codecommit"
	// SourceConnection is a CodeConnections (CodeStar Connections) connection
	// to a hosted Git repository such as GitHub or GitLab.
	SourceConnection = "connection"
)

// PipelineSettings is the typed "pipeline" context block. JSON names are
// the cdk.json keys documented in docs/pipeline.md.
type PipelineSettings struct {
	// Enabled is accepted so `"pipeline": {"enabled": false, ...}` keeps the
	// block in cdk.json while turning the pipeline off.
	Enabled *bool `json:"enabled"`
	// StackName is the pipeline stack's name (and construct id).
	StackName string `json:"stackName"`
	// Account and Region host the pipeline; empty means CDK_DEFAULT_*.
	Account string `json:"account"`
	Region  string `json:"region"`

	// Source is "codecommit" (default) or "connection".
	Source string `json:"source"`
	// RepositoryName is the CodeCommit repository created for the codecommit source.
	RepositoryName string `json:"repositoryName"`
	// Repository is "owner/repo" of the connection source.
	Repository string `json:"repository"`
	// ConnectionArn is the CodeConnections connection of the connection source.
	ConnectionArn string `json:"connectionArn"`
	// Branch is the branch that triggers the pipeline.
	Branch string `json:"branch"`

	// Environments are deployed in this order (names from "environments").
	// Empty means every environment: unprotected ones first, then protected,
	// each group by name.
	Environments []string `json:"environments"`
	// Waves maps an environment to a wave name; environments of the same wave
	// deploy in parallel. An environment without a wave is a wave of its own.
	Waves map[string]string `json:"waves"`
	// NotificationEmail, when set, subscribes to the failure notifications topic.
	NotificationEmail string `json:"notificationEmail"`
	// PostDeployCheck runs the forced-rotation check after each environment
	// (default true; environments without NAT gateways are skipped, see docs/pipeline.md).
	PostDeployCheck *bool `json:"postDeployCheck"`
	// Tags are added to every resource of the pipeline stack.
	Tags map[string]string `json:"tags"`
}

// DefaultPipelineStackName is the pipeline stack's default name.
const DefaultPipelineStackName = "SecretRotation-Pipeline"

// DefaultPipelineSettings returns the settings every pipeline block starts from.
func DefaultPipelineSettings() PipelineSettings {
	return PipelineSettings{
		StackName:      DefaultPipelineStackName,
		Source:         SourceCodeCommit,
		RepositoryName: "secret-rotation",
		Branch:         "main",
		Tags:           map[string]string{"project": "secret-rotation"},
	}
}

// PostDeployCheckEnabled reports whether the post-deploy check runs (default true).
func (p PipelineSettings) PostDeployCheckEnabled() bool {
	return p.PostDeployCheck == nil || *p.PostDeployCheck
}

// WaveOf returns the wave environment name deploys in.
func (p PipelineSettings) WaveOf(name string) string {
	if w := p.Waves[name]; w != "" {
		return w
	}
	return name
}

// CrossAccount reports whether any pipeline environment deploys to another
// account than the pipeline's, which needs KMS-encrypted, cross-account
// artifact buckets (CodePipeline crossAccountKeys).
func (p PipelineSettings) CrossAccount(envs map[string]Environment) bool {
	for _, name := range p.Environments {
		if a := envs[name].Account; a != "" && a != p.Account {
			return true
		}
	}
	return false
}

// DecodePipelineSettings overlays the pipeline block raw (nil when the
// pipeline was enabled with a plain true) on [DefaultPipelineSettings], fills
// Account/Region from CDK_DEFAULT_* in procEnv and the environment list from
// envs, and validates the result against envs. Every problem is reported,
// each naming the key under "pipeline".
func DecodePipelineSettings(raw json.RawMessage, envs map[string]Environment, procEnv map[string]string) (PipelineSettings, error) {
	p := DefaultPipelineSettings()
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return PipelineSettings{}, pipelineDecodeError(err)
		}
	}
	if p.Account == "" {
		p.Account = procEnv[EnvDefaultAccount]
	}
	if p.Region == "" {
		p.Region = procEnv[EnvDefaultRegion]
	}
	if len(p.Environments) == 0 {
		p.Environments = defaultPipelineOrder(envs)
	}
	if err := p.Validate(envs); err != nil {
		return PipelineSettings{}, err
	}
	return p, nil
}

// defaultPipelineOrder puts unprotected environments first, then protected
// ones (each group by name), so production is deployed last.
func defaultPipelineOrder(envs map[string]Environment) []string {
	names := sortedKeys(envs)
	sort.SliceStable(names, func(i, j int) bool {
		return !envs[names[i]].Protected && envs[names[j]].Protected
	})
	return names
}

func pipelineDecodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return &FieldError{Key: ContextPipeline + "." + typeErr.Field, Value: "a JSON " + typeErr.Value, Allowed: "a " + jsonKind(typeErr.Type.Kind().String())}
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return &FieldError{Key: ContextPipeline + "." + field, Value: "(unknown key)", Allowed: "one of the keys " + strings.Join(pipelineKeys(), ", ")}
	}
	return &FieldError{Key: ContextPipeline, Value: "(invalid)", Allowed: "a JSON object: " + err.Error()}
}

func pipelineKeys() []string {
	data, _ := json.Marshal(PipelineSettings{})
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return sortedKeys(m)
}

var (
	stackNameRe    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	repoNameRe     = regexp.MustCompile(`^[\w.-]{1,100}$`)
	ownerRepoRe    = regexp.MustCompile(`^[\w.-]+(/[\w.-]+)+$`)
	branchRe       = regexp.MustCompile(`^[^\s~^:?*\[\\]+$`)
	connectionRe   = regexp.MustCompile(`^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:[0-9]{12}:connection/[0-9a-f-]{36}$`)
	emailRe        = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	waveNameRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$`)
	pipelineSource = []string{SourceCodeCommit, SourceConnection}
)

// Validate checks the settings against the environments they deploy.
func (p PipelineSettings) Validate(envs map[string]Environment) error {
	var errs []error
	bad := func(key string, value any, allowed string, args ...any) {
		errs = append(errs, fieldError(ContextPipeline+"."+key, value, allowed, args...))
	}
	if !stackNameRe.MatchString(p.StackName) {
		bad("stackName", p.StackName, "a CloudFormation stack name (letters, digits, '-', starting with a letter)")
	}
	if p.Account != "" && !accountRe.MatchString(p.Account) {
		bad("account", p.Account, "a 12-digit AWS account id, or empty for CDK_DEFAULT_ACCOUNT")
	}
	if p.Region != "" && !regionRe.MatchString(p.Region) {
		bad("region", p.Region, "an AWS region name such as eu-west-1, or empty for CDK_DEFAULT_REGION")
	}
	validateTags(bad, "tags", p.Tags)
	if !branchRe.MatchString(p.Branch) || strings.HasPrefix(p.Branch, "-") {
		bad("branch", p.Branch, "a Git branch name such as main")
	}
	switch p.Source {
	case SourceCodeCommit:
		if !repoNameRe.MatchString(p.RepositoryName) {
			bad("repositoryName", p.RepositoryName, "a CodeCommit repository name (1..100 letters, digits, '.', '_' or '-')")
		}
	case SourceConnection:
		if p.ConnectionArn == "" {
			bad("connectionArn", p.ConnectionArn, "the ARN of a CodeConnections connection (arn:aws:codeconnections:REGION:ACCOUNT:connection/ID), required when source is %q", SourceConnection)
		} else if !connectionRe.MatchString(p.ConnectionArn) {
			bad("connectionArn", p.ConnectionArn, "a CodeConnections connection ARN, arn:aws:codeconnections:REGION:ACCOUNT:connection/ID")
		}
		if !ownerRepoRe.MatchString(p.Repository) {
			bad("repository", p.Repository, "owner/repo of the hosted repository, required when source is %q", SourceConnection)
		}
	default:
		bad("source", p.Source, "one of %s", strings.Join(pipelineSource, ", "))
	}
	if p.NotificationEmail != "" && !emailRe.MatchString(p.NotificationEmail) {
		bad("notificationEmail", p.NotificationEmail, "an email address, or empty for no subscription")
	}

	known := sortedKeys(envs)
	for i, name := range p.Environments {
		key := fmt.Sprintf("environments[%d]", i)
		e, ok := envs[name]
		switch {
		case !ok:
			bad(key, name, "one of the environments defined in cdk.json: %s", strings.Join(known, ", "))
			continue
		case slices.Index(p.Environments, name) != i:
			bad(key, name, "each environment once")
			continue
		}
		// Cross-account or cross-region actions need a pipeline with a
		// concrete environment (CodePipeline places replication buckets and
		// action roles by account and region).
		if e.Account != "" && e.Account != p.Account && p.Account == "" {
			bad("account", p.Account, "a 12-digit account id (or CDK_DEFAULT_ACCOUNT) because environment %s deploys to account %s", name, e.Account)
		}
		if e.Region != "" && e.Region != p.Region && p.Region == "" {
			bad("region", p.Region, "a region (or CDK_DEFAULT_REGION) because environment %s deploys to region %s", name, e.Region)
		}
	}
	for _, name := range sortedKeys(p.Waves) {
		if !slices.Contains(p.Environments, name) {
			bad("waves."+name, p.Waves[name], "waves only for environments the pipeline deploys: %s", strings.Join(p.Environments, ", "))
		} else if !waveNameRe.MatchString(p.Waves[name]) {
			bad("waves."+name, p.Waves[name], "a wave name of letters, digits, '_' or '-'")
		}
	}
	// A wave's environments deploy together, so they must be contiguous in
	// the deployment order: dev, prod, dev2 with dev and dev2 in one wave is ambiguous.
	seen := map[string]bool{}
	prev := ""
	for _, name := range p.Environments {
		w := p.WaveOf(name)
		if w != prev && seen[w] {
			bad("waves."+name, w, "environments of one wave listed next to each other in pipeline.environments")
		}
		seen[w], prev = true, w
	}
	return errors.Join(errs...)
}
