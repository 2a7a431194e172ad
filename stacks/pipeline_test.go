package stacks_test

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/rotationcdk"
	"github.com/example/secret-rotation/stacks"
)

// pipelineCase is one synthesized pipeline app.
type pipelineCase struct {
	// findings are cdk-nag's, from the assembly or, when aws-cdk-lib's
	// validation rejected the synthesis, from its report.
	findings []compliance.Finding
	outdir   string
	stack    *stacks.PipelineStack
	cfg      *config.Config
	err      error
}

// pipelineCases are built once, lazily, after TestMain's shared synth (jsii
// is single-threaded; tests of this package do not run in parallel):
//
//   - "main": the repository's cdk.json (dev, prod), the default CodeCommit
//     source, an environment-agnostic pipeline in the environments' account,
//     an email subscription. Its template is the golden.
//   - "cross": a connection source, a pipeline in account 111111111111 that
//     deploys dev there and ext to account 222222222222 in another region,
//     both in one wave.
var (
	pipelineOnce  sync.Once
	pipelineCases map[string]*pipelineCase
)

func pipelineApps(t *testing.T) map[string]*pipelineCase {
	t.Helper()
	pipelineOnce.Do(func() {
		pipelineCases = map[string]*pipelineCase{}
		root := synthesized.moduleRoot
		ctx, err := config.StandaloneContext(root, nil)
		if err != nil {
			pipelineCases["main"] = &pipelineCase{err: err}
			return
		}
		ctx[config.ContextPipeline] = map[string]any{"notificationEmail": "ops@example.com"}
		pipelineCases["main"] = synthPipeline(ctx, nil, root)

		cross := map[string]any{}
		for k, v := range ctx {
			cross[k] = v
		}
		cross[config.ContextEnvironments] = map[string]any{
			"dev": map[string]any{},
			"ext": map[string]any{"account": "222222222222", "region": "eu-central-1",
				"caBundlePath": filepath.Join(root, "stacks", "testdata", "test-ca.pem")},
			// No NAT gateway: no post-deploy check (CodeBuild in a VPC needs egress).
			"iso": map[string]any{"natGateways": 0, "secretsManagerEndpoint": true},
		}
		cross[config.ContextPipeline] = map[string]any{
			"source": "connection", "repository": "example/secret-rotation", "branch": "release",
			"connectionArn": "arn:aws:codeconnections:eu-west-1:111111111111:connection/0123abcd-0123-4567-89ab-0123456789ab",
			"environments":  []any{"dev", "ext", "iso"},
			"waves":         map[string]any{"dev": "all", "ext": "all"},
		}
		pipelineCases["cross"] = synthPipeline(cross, map[string]string{
			config.EnvDefaultAccount: "111111111111", config.EnvDefaultRegion: "eu-west-1",
		}, root)
	})
	return pipelineCases
}

func synthPipeline(ctx map[string]any, procEnv map[string]string, root string) *pipelineCase {
	pc := &pipelineCase{}
	pc.cfg, pc.err = config.Load(config.ContextMap(ctx), procEnv)
	if pc.err != nil {
		return pc
	}
	settings, err := config.DecodePipelineSettings(pc.cfg.Pipeline.Raw, pc.cfg.Environments, procEnv)
	if err != nil {
		pc.err = err
		return pc
	}
	// Inside the shared synth's outdir, which TestMain removes.
	if pc.outdir, pc.err = os.MkdirTemp(synthesized.outdir, "pipeline-"); pc.err != nil {
		return pc
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(pc.outdir), Context: &ctx})
	pc.stack, pc.err = stacks.NewPipelineStack(app, &stacks.PipelineStackProps{
		Settings: settings, Environments: pc.cfg.Environments, ModuleRoot: root, CheckCompliance: true,
	})
	if pc.err != nil {
		return pc
	}
	// compliance.Synth is what the app runs: synthesis plus the cdk-nag
	// check. Findings of the environment stacks (checked by their own tests)
	// must not hide the pipeline's: the templates are written either way.
	assembly, err := compliance.Synth(app)
	switch {
	case err == nil:
		pc.findings = compliance.Findings(assembly)
	case errors.Is(err, compliance.ErrFindings):
		pc.findings, pc.err = compliance.ReadValidationReport(filepath.Join(pc.outdir, compliance.ValidationReportFile))
		if pc.findings == nil && pc.err == nil {
			pc.findings = compliance.Findings(assembly)
		}
	default:
		pc.err = err
	}
	return pc
}

// pipelineCaseOf returns a synthesized case or stops the test.
func pipelineCaseOf(t *testing.T, name string) *pipelineCase {
	t.Helper()
	pc := pipelineApps(t)[name]
	if pc == nil || pc.err != nil {
		t.Fatalf("pipeline case %s: %v", name, pc.err)
	}
	return pc
}

// pipelineTemplate reads the pipeline stack's synthesized template.
func pipelineTemplate(t *testing.T, pc *pipelineCase) map[string]any {
	t.Helper()
	return readTemplate(t, filepath.Join(pc.outdir, *pc.stack.ArtifactId()+".template.json"))
}

// pipelineStages returns the CodePipeline stages: name -> action names in order.
func pipelineStages(t *testing.T, tpl map[string]any) ([]string, map[string][]map[string]any) {
	t.Helper()
	pipes := resourcesOfType(tpl, "AWS::CodePipeline::Pipeline")
	if len(pipes) != 1 {
		t.Fatalf("%d pipelines, want 1", len(pipes))
	}
	var names []string
	actions := map[string][]map[string]any{}
	for _, p := range pipes {
		stages, _ := props(p)["Stages"].([]any)
		for _, s := range stages {
			stage, _ := s.(map[string]any)
			name, _ := stage["Name"].(string)
			names = append(names, name)
			list, _ := stage["Actions"].([]any)
			for _, a := range list {
				action, _ := a.(map[string]any)
				actions[name] = append(actions[name], action)
			}
		}
	}
	return names, actions
}

// actionNamed finds an action by name in a stage.
func actionNamed(actions []map[string]any, name string) map[string]any {
	for _, a := range actions {
		if a["Name"] == name {
			return a
		}
	}
	return nil
}

func runOrder(a map[string]any) float64 {
	n, _ := a["RunOrder"].(float64)
	return n
}

func TestPipelineStageOrder(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"main", []string{"Source", "Build", "UpdatePipeline", "Assets", "SecretRotation-dev", "SecretRotation-prod"}},
		// A wave of one Stage is named after the Stage.
		{"cross", []string{"Source", "Build", "UpdatePipeline", "Assets", "all", "SecretRotation-iso"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			names, actions := pipelineStages(t, pipelineTemplate(t, pipelineCaseOf(t, tc.name)))
			if asJSON(names) != asJSON(tc.want) {
				t.Errorf("stages = %v, want %v", names, tc.want)
			}
			if a := actionNamed(actions["UpdatePipeline"], "SelfMutate"); a == nil {
				t.Error("no SelfMutate action: the pipeline does not update itself")
			}
		})
	}
	// In a wave, both environments deploy in parallel: their first actions share run order 1.
	_, actions := pipelineStages(t, pipelineTemplate(t, pipelineCaseOf(t, "cross")))
	for _, env := range []string{"dev", "ext"} {
		if a := actionNamed(actions["all"], "SecretRotation-"+env+".Network.Prepare"); a == nil || runOrder(a) != 1 {
			t.Errorf("wave all: %s network prepare = %v, want run order 1", env, a)
		}
	}
}

// TestPipelineEnvironmentStages checks each environment stage: the stacks in
// dependency order, the manual approval before protected environments only,
// and the post-deploy check after the last deployment.
func TestPipelineEnvironmentStages(t *testing.T) {
	_, actions := pipelineStages(t, pipelineTemplate(t, pipelineCaseOf(t, "main")))
	for _, tc := range []struct {
		env      string
		approval bool
	}{{"dev", false}, {"prod", true}} {
		t.Run(tc.env, func(t *testing.T) {
			stage := actions["SecretRotation-"+tc.env]
			approval := actionNamed(stage, "Approve-"+tc.env)
			if (approval != nil) != tc.approval {
				t.Fatalf("manual approval present = %v, want %v", approval != nil, tc.approval)
			}
			prev := 0.0
			if approval != nil {
				if provider := asJSON(approval["ActionTypeId"]); !strings.Contains(provider, `"Category":"Approval"`) {
					t.Errorf("Approve-%s type = %s", tc.env, provider)
				}
				prev = runOrder(approval)
			}
			for _, name := range []string{"Network.Deploy", "Rotation.Deploy", "Database.Deploy", "PostDeployCheck.Deploy", "PostDeployCheck-" + tc.env} {
				a := actionNamed(stage, name)
				if a == nil {
					t.Fatalf("no action %s in stage %s", name, tc.env)
				}
				if runOrder(a) <= prev {
					t.Errorf("%s runs at %v, not after the previous step (%v)", name, runOrder(a), prev)
				}
				prev = runOrder(a)
			}
		})
	}
}

func TestPipelineCodeCommitSeed(t *testing.T) {
	pc := pipelineCaseOf(t, "main")
	tpl := pipelineTemplate(t, pc)
	repos := resourcesOfType(tpl, "AWS::CodeCommit::Repository")
	if len(repos) != 1 {
		t.Fatalf("%d repositories, want 1", len(repos))
	}
	var code map[string]any
	for _, r := range repos {
		p := props(r)
		if p["RepositoryName"] != "secret-rotation" {
			t.Errorf("RepositoryName = %v", p["RepositoryName"])
		}
		if r["DeletionPolicy"] != "Retain" {
			t.Errorf("repository DeletionPolicy = %v, want Retain (it holds the pushed source)", r["DeletionPolicy"])
		}
		code, _ = p["Code"].(map[string]any)
	}
	if code["BranchName"] != "main" {
		t.Errorf("seed branch = %v, want main", code["BranchName"])
	}
	key, _ := code["S3"].(map[string]any)["Key"].(string)
	hash := strings.TrimSuffix(key, ".zip")
	if len(hash) != 64 || !strings.Contains(asJSON(code["S3"]), "cdk-hnb659fds-assets") {
		t.Fatalf("seed location = %s, want the bootstrap assets bucket and <asset hash>.zip", asJSON(code["S3"]))
	}
	// The staged seed is the project without build output, dependencies or Git data.
	seed := filepath.Join(pc.outdir, "asset."+hash)
	for _, want := range []string{"go.mod", "cdk.json", "Makefile", ".ci/run", "stacks/pipeline.go", "lambda/rotation"} {
		if _, err := os.Stat(filepath.Join(seed, want)); err != nil {
			t.Errorf("seed lacks %s: %v", want, err)
		}
	}
	err := filepath.WalkDir(seed, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch d.Name() {
		case ".git", "cdk.out", "node_modules", "cdk.context.json":
			t.Errorf("seed contains %s", strings.TrimPrefix(path, seed))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPipelineConnectionSource(t *testing.T) {
	_, actions := pipelineStages(t, pipelineTemplate(t, pipelineCaseOf(t, "cross")))
	if len(actions["Source"]) != 1 {
		t.Fatalf("source actions = %v", actions["Source"])
	}
	a := actions["Source"][0]
	if got := asJSON(a["ActionTypeId"]); !strings.Contains(got, `"Provider":"CodeStarSourceConnection"`) {
		t.Errorf("source provider = %s", got)
	}
	cfg, _ := a["Configuration"].(map[string]any)
	if cfg["ConnectionArn"] != "arn:aws:codeconnections:eu-west-1:111111111111:connection/0123abcd-0123-4567-89ab-0123456789ab" ||
		cfg["FullRepositoryId"] != "example/secret-rotation" || cfg["BranchName"] != "release" {
		t.Errorf("source configuration = %s", asJSON(cfg))
	}
	if n := len(resourcesOfType(pipelineTemplate(t, pipelineCaseOf(t, "cross")), "AWS::CodeCommit::Repository")); n != 0 {
		t.Errorf("%d CodeCommit repositories with a connection source", n)
	}
}

// synthProject returns the synth step's CodeBuild project.
func synthProject(t *testing.T, tpl map[string]any) map[string]any {
	t.Helper()
	for id, p := range resourcesOfType(tpl, "AWS::CodeBuild::Project") {
		if strings.Contains(id, "BuildSynth") {
			return props(p)
		}
	}
	t.Fatal("no synth project")
	return nil
}

func TestPipelineSynthBuildSpec(t *testing.T) {
	p := synthProject(t, pipelineTemplate(t, pipelineCaseOf(t, "main")))
	if img := asJSON(p["Environment"]); !strings.Contains(img, "aws/codebuild/standard:7.0") {
		t.Errorf("image = %s", img)
	}
	if c := asJSON(p["Cache"]); !strings.Contains(c, "LOCAL_CUSTOM_CACHE") {
		t.Errorf("cache = %s, want the local custom cache", c)
	}
	_, spec := projectBuildSpec(t, "synth", p)
	install, build := spec.Phases["install"], spec.Phases["build"]
	if install.RuntimeVersions["nodejs"] != "22" {
		t.Errorf("runtime-versions = %v, want nodejs 22", install.RuntimeVersions)
	}
	// Go comes from go.mod's go line, pinned as GOTOOLCHAIN before any other go command.
	if len(install.Commands) == 0 || !strings.Contains(install.Commands[0], "go env -w GOTOOLCHAIN=") || !strings.Contains(install.Commands[0], "go.mod") {
		t.Errorf("first install command = %q, want GOTOOLCHAIN from go.mod", install.Commands)
	}
	for _, want := range []string{"mariadb-server", "npm ci"} {
		if !strings.Contains(strings.Join(install.Commands, "\n"), want) {
			t.Errorf("install commands lack %q: %q", want, install.Commands)
		}
	}
	if asJSON(build.Commands) != asJSON([]string{"make test", "npx cdk synth"}) {
		t.Errorf("build commands = %q, want make test then npx cdk synth", build.Commands)
	}
	if spec.Artifacts.BaseDirectory != "cdk.out" {
		t.Errorf("primary output = %q, want cdk.out", spec.Artifacts.BaseDirectory)
	}
	for _, dir := range []string{spec.Env.Variables["GOMODCACHE"], spec.Env.Variables["GOCACHE"], spec.Env.Variables["npm_config_cache"]} {
		if dir == "" || !strings.Contains(asJSON(spec.Cache.Paths), dir+"/**/*") {
			t.Errorf("cache dir %q not in cache paths %v", dir, spec.Cache.Paths)
		}
	}
	// The snippet really yields go.mod's version (run here, on this checkout).
	out, err := exec.Command("sh", "-c", "cd \"$0\" && "+stacks.GoVersionFromGoMod+` && printf %s "$v"`, synthesized.moduleRoot).Output()
	if err != nil {
		t.Fatalf("GoVersionFromGoMod: %v", err)
	}
	gomod, err := os.ReadFile(filepath.Join(synthesized.moduleRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mod := "\n" + string(gomod)
	want := strings.Contains(mod, "\ntoolchain go"+string(out)+"\n") ||
		!strings.Contains(mod, "\ntoolchain ") && strings.Contains(mod, "\ngo "+string(out)+"\n")
	if len(out) == 0 || !want {
		t.Errorf("GoVersionFromGoMod = %q, want go.mod's toolchain version, or its go version without a toolchain line", out)
	}
	// The Makefile's test target is the command the synth step runs.
	mk, err := os.ReadFile(filepath.Join(synthesized.moduleRoot, "Makefile"))
	if err != nil || !strings.Contains(string(mk), "\ntest:") {
		t.Errorf("Makefile has no test target (%v)", err)
	}
}

// TestPipelineToolVersions: self-mutation and the Assets stage install the
// CLI version of package.json, never a floating tag nor cdk-assets, and run
// on Node.js 22 like the synth step, not on the image's default Node.js 18
// (end of life).
func TestPipelineToolVersions(t *testing.T) {
	cli, err := stacks.CLIVersion(synthesized.moduleRoot)
	if err != nil {
		t.Fatal(err)
	}
	tpl := pipelineTemplate(t, pipelineCaseOf(t, "main"))
	installs := 0
	for id, p := range resourcesOfType(tpl, "AWS::CodeBuild::Project") {
		text, spec := projectBuildSpec(t, id, props(p))
		install := spec.Phases["install"]
		if strings.Contains(id, "SelfMutation") || strings.HasPrefix(id, "PipelineAssets") {
			installs++
			if want := stacks.AssetPublishingInstallCommand(cli); !slices.Contains(install.Commands, want) {
				t.Errorf("%s install commands %q, want %q", id, install.Commands, want)
			}
			if got := install.RuntimeVersions["nodejs"]; got != stacks.NodeRuntimeVersion {
				t.Errorf("%s runs on Node.js %q, want %s like the synth step (runtime-versions)", id, got, stacks.NodeRuntimeVersion)
			}
		}
		if strings.Contains(text, "@latest") || strings.Contains(text, "cdk-assets") {
			t.Errorf("project %s installs a floating version or cdk-assets: %s", id, text)
		}
	}
	if installs < 2 {
		t.Errorf("found %d self-mutation/asset projects, want at least 2", installs)
	}
}

func TestPipelineCrossAccountKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys int // KMS keys: notifications, plus the artifact key when cross-account
	}{{"main", 1}, {"cross", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			tpl := pipelineTemplate(t, pipelineCaseOf(t, tc.name))
			keys := resourcesOfType(tpl, "AWS::KMS::Key")
			if len(keys) != tc.keys {
				t.Fatalf("%d KMS keys, want %d", len(keys), tc.keys)
			}
			for id, k := range keys {
				if props(k)["EnableKeyRotation"] != true {
					t.Errorf("key %s without rotation", id)
				}
			}
			bucketEncryption := ""
			for _, b := range resourcesOfType(tpl, "AWS::S3::Bucket") {
				bucketEncryption += asJSON(props(b)["BucketEncryption"])
			}
			if got := strings.Contains(bucketEncryption, "KMSMasterKeyID"); got != (tc.keys == 2) {
				t.Errorf("artifact bucket customer-managed key = %v (%s)", got, bucketEncryption)
			}
		})
	}
}

// checkTemplate reads the post-deploy check stack of env in case pc.
func checkTemplate(t *testing.T, pc *pipelineCase, env string) map[string]any {
	t.Helper()
	stage := pc.stack.Stages[env]
	if stage == nil || stage.Check == nil {
		t.Fatalf("no post-deploy check for %s", env)
	}
	dir := filepath.Join(pc.outdir, *stage.Stage.ArtifactId())
	path := filepath.Join(dir, *stage.Check.ArtifactId()+".template.json")
	if _, err := os.Stat(path); err != nil {
		// Stage assemblies live in their own directory next to the pipeline's.
		matches, _ := filepath.Glob(filepath.Join(pc.outdir, "assembly-*"+StageSuffix(stage), *stage.Check.ArtifactId()+".template.json"))
		if len(matches) != 1 {
			t.Fatal(err)
		}
		path = matches[0]
	}
	return readTemplate(t, path)
}

// StageSuffix is the end of a stage assembly's directory name.
func StageSuffix(stage *stacks.EnvironmentStage) string { return "-" + *stage.Stage.Node().Id() }

func TestPostDeployCheck(t *testing.T) {
	pc := pipelineCaseOf(t, "main")
	tpl := checkTemplate(t, pc, "dev")
	projects := resourcesOfType(tpl, "AWS::CodeBuild::Project")
	if len(projects) != 1 {
		t.Fatalf("%d check projects, want 1", len(projects))
	}
	for _, p := range projects {
		vpc, _ := props(p)["VpcConfig"].(map[string]any)
		if img := asJSON(props(p)["Environment"]); !strings.Contains(img, "aarch64") {
			t.Errorf("check image = %s, want arm64 (rotatectl is built for linux/arm64)", img)
		}
		if src := asJSON(props(p)["Source"]); !strings.Contains(src, `"Type":"S3"`) || !strings.Contains(src, ".zip") {
			t.Errorf("check source = %s, want the rotatectl asset", src)
		}
		if vpc == nil || !strings.Contains(asJSON(vpc["VpcId"]), "SecretRotation-dev-Network") || vpc["SecurityGroupIds"] == nil {
			t.Errorf("check project VpcConfig = %s, want the environment's VPC, private subnets and its group", asJSON(vpc))
		}
		if subnets := asJSON(vpc["Subnets"]); strings.Count(subnets, "PrivateSubnet") != 2 || strings.Contains(subnets, "Public") {
			t.Errorf("check subnets = %s, want the private subnets", asJSON(vpc["Subnets"]))
		}
		spec := asJSON(props(p)["Source"])
		for _, want := range []string{"rotate --wait", "verify", "AWSPENDING", "$SECRET_ARN"} {
			if !strings.Contains(spec, want) {
				t.Errorf("check buildspec lacks %q", want)
			}
		}
	}
	// Least privilege: only this secret (read, describe, rotate) and its rotation function.
	var actions []string
	for _, pol := range resourcesOfType(tpl, "AWS::IAM::Policy") {
		stmts, _ := props(pol)["PolicyDocument"].(map[string]any)["Statement"].([]any)
		for _, s := range stmts {
			st, _ := s.(map[string]any)
			acts := asJSON(st["Action"])
			if strings.Contains(acts, "secretsmanager:") {
				if res := asJSON(st["Resource"]); res == `"*"` || !strings.Contains(res, "SecretArn") && !strings.Contains(res, "Secret") {
					t.Errorf("secret statement on %s, want the secret's ARN", res)
				}
				actions = append(actions, acts)
			}
			if strings.Contains(acts, "codebuild:StartBuild") && asJSON(st["Resource"]) == `"*"` {
				t.Errorf("starter may start any project")
			}
		}
	}
	if got := strings.Join(actions, " "); !strings.Contains(got, "secretsmanager:RotateSecret") || strings.Contains(got, "PutSecretValue") ||
		strings.Contains(got, "UpdateSecretVersionStage") || strings.Contains(got, "secretsmanager:*") {
		t.Errorf("check secret permissions = %s", got)
	}
	// The check reaches the database port through an ingress rule in its own stack.
	ingress := resourcesOfType(tpl, "AWS::EC2::SecurityGroupIngress")
	if len(ingress) != 1 || asJSON(props(firstOf(ingress))["FromPort"]) != "3306" {
		t.Errorf("ingress rules = %s, want one to the database port", asJSON(ingress))
	}

	// The pipeline step reads the check's outputs and may only assume the starter role.
	_, stageActions := pipelineStages(t, pipelineTemplate(t, pc))
	step := actionNamed(stageActions["SecretRotation-dev"], "PostDeployCheck-dev")
	if cfg := asJSON(step["Configuration"]); !strings.Contains(cfg, "CHECK_PROJECT") || !strings.Contains(cfg, "CHECK_ROLE_ARN") {
		t.Errorf("check step configuration = %s, want the check outputs as variables", cfg)
	}
}

// TestPostDeployCheckCABundle: an environment's CA bundle travels with
// rotatectl and is passed to it; without one, rotatectl gets no flag.
func TestPostDeployCheckCABundle(t *testing.T) {
	pc := pipelineCaseOf(t, "cross")
	for _, tc := range []struct {
		env  string
		args string
	}{{"dev", ""}, {"ext", "--ca-bundle " + rotationcdk.CABundleFileName}} {
		t.Run(tc.env, func(t *testing.T) {
			for _, p := range resourcesOfType(checkTemplate(t, pc, tc.env), "AWS::CodeBuild::Project") {
				env := asJSON(props(p)["Environment"])
				if want := `{"Name":"ROTATECTL_ARGS","Type":"PLAINTEXT","Value":"` + tc.args + `"}`; !strings.Contains(env, want) {
					t.Errorf("check project environment = %s, want %s", env, want)
				}
				key := asJSON(props(p)["Source"])
				m := assetHashRe.FindString(key)
				_, err := os.Stat(filepath.Join(pc.outdir, "asset."+m, rotationcdk.CABundleFileName))
				if got := err == nil; got != (tc.args != "") {
					t.Errorf("rotatectl asset %s has the CA bundle: %v, want %v", m, got, tc.args != "")
				}
				if _, err := os.Stat(filepath.Join(pc.outdir, "asset."+m, "bootstrap")); err != nil {
					t.Errorf("rotatectl asset: %v", err)
				}
			}
		})
	}
}

func TestPostDeployCheckSkippedWithoutNAT(t *testing.T) {
	pc := pipelineCaseOf(t, "cross")
	if stage := pc.stack.Stages["iso"]; stage == nil || stage.Check != nil {
		t.Fatalf("iso stage = %+v, want a stage without check", stage)
	}
	_, actions := pipelineStages(t, pipelineTemplate(t, pc))
	if len(actions["SecretRotation-iso"]) == 0 {
		t.Fatal("no iso stage")
	}
	for _, a := range actions["SecretRotation-iso"] {
		if name, _ := a["Name"].(string); strings.Contains(name, "PostDeployCheck") {
			t.Errorf("iso has action %s", name)
		}
	}
}

func TestPostDeployCheckCrossAccountTrust(t *testing.T) {
	tpl := checkTemplate(t, pipelineCaseOf(t, "cross"), "ext")
	found := false
	for _, r := range resourcesOfType(tpl, "AWS::IAM::Role") {
		p := props(r)
		if p["RoleName"] == stacks.CheckStarterRoleName("ext") {
			found = true
			if trust := asJSON(p["AssumeRolePolicyDocument"]); !strings.Contains(trust, "111111111111") {
				t.Errorf("starter role trust = %s, want the pipeline account 111111111111", trust)
			}
		}
	}
	if !found {
		t.Error("no starter role")
	}
}

func TestPipelineFailureNotifications(t *testing.T) {
	tpl := pipelineTemplate(t, pipelineCaseOf(t, "main"))
	rules := resourcesOfType(tpl, "AWS::CodeStarNotifications::NotificationRule")
	if len(rules) != 1 {
		t.Fatalf("%d notification rules, want 1", len(rules))
	}
	rule := props(firstOf(rules))
	if ev := asJSON(rule["EventTypeIds"]); !strings.Contains(ev, "codepipeline-pipeline-pipeline-execution-failed") {
		t.Errorf("notification events = %s", ev)
	}
	topics := resourcesOfType(tpl, "AWS::SNS::Topic")
	if len(topics) != 1 || props(firstOf(topics))["KmsMasterKeyId"] == nil {
		t.Errorf("topic = %s, want one KMS-encrypted topic", asJSON(topics))
	}
	subs := resourcesOfType(tpl, "AWS::SNS::Subscription")
	if len(subs) != 1 || props(firstOf(subs))["Endpoint"] != "ops@example.com" {
		t.Errorf("subscriptions = %s, want ops@example.com", asJSON(subs))
	}
	if n := len(resourcesOfType(pipelineTemplate(t, pipelineCaseOf(t, "cross")), "AWS::SNS::Subscription")); n != 0 {
		t.Errorf("%d subscriptions without notificationEmail", n)
	}
}

// TestNotificationRuleWaitsForTopicPolicy: CodeStar Notifications checks
// at creation that it may publish to each SNS target, so every notification
// rule must depend on the topic policy that allows it, or CloudFormation
// may create the rule first and fail ("Invalid request provided",
// aws-cdk#29484).
func TestNotificationRuleWaitsForTopicPolicy(t *testing.T) {
	for _, name := range []string{"main", "cross"} {
		t.Run(name, func(t *testing.T) {
			tpl := pipelineTemplate(t, pipelineCaseOf(t, name))
			policies := resourcesOfType(tpl, "AWS::SNS::TopicPolicy")
			rules := resourcesOfType(tpl, "AWS::CodeStarNotifications::NotificationRule")
			if len(rules) == 0 {
				t.Fatal("no notification rule")
			}
			for id, rule := range rules {
				targets, _ := props(rule)["Targets"].([]any)
				if len(targets) == 0 {
					t.Fatalf("rule %s has no targets", id)
				}
				dependsOn := asJSON(rule["DependsOn"])
				for _, tg := range targets {
					addr := asJSON(tg.(map[string]any)["TargetAddress"])
					found := false
					for pid, p := range policies {
						if !strings.Contains(asJSON(props(p)["Topics"]), addr) {
							continue
						}
						found = true
						if !strings.Contains(asJSON(props(p)["PolicyDocument"]), "codestar-notifications.amazonaws.com") {
							t.Errorf("topic policy %s does not let CodeStar Notifications publish", pid)
						}
						if !strings.Contains(dependsOn, `"`+pid+`"`) {
							t.Errorf("rule %s DependsOn = %s, want the topic policy %s of its target %s", id, dependsOn, pid, addr)
						}
					}
					if !found {
						t.Errorf("rule %s target %s has no topic policy in the stack", id, addr)
					}
				}
			}
		})
	}
}

func firstOf(m map[string]map[string]any) map[string]any {
	for _, v := range m {
		return v
	}
	return nil
}

// TestPipelineGolden compares the pipeline stack's template with
// testdata/SecretRotation-Pipeline.json (and dev's post-deploy check stack
// with testdata/SecretRotation-Pipeline-dev-PostDeployCheck.json) with asset
// hashes normalized like the environment goldens (normalizeAssetHashes): the
// pipeline stack embeds the hash of the CodeCommit seed, i.e. of the whole
// working tree, which changes on every commit and with every untracked file.
// The seed's content is checked by TestPipelineCodeCommitSeed. Regenerate
// with `go test ./stacks -update`.
func TestPipelineGolden(t *testing.T) {
	pc := pipelineCaseOf(t, "main")
	dev := pc.stack.Stages["dev"]
	checkPath, _ := filepath.Glob(filepath.Join(pc.outdir, "assembly-*"+StageSuffix(dev), *dev.Check.ArtifactId()+".template.json"))
	if len(checkPath) != 1 {
		t.Fatalf("dev check template: %v", checkPath)
	}
	for golden, path := range map[string]string{
		config.DefaultPipelineStackName + ".json":                     filepath.Join(pc.outdir, *pc.stack.ArtifactId()+".template.json"),
		config.DefaultPipelineStackName + "-dev-PostDeployCheck.json": checkPath[0],
	} {
		t.Run(golden, func(t *testing.T) {
			got, err := canonical(path)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", golden), normalizeAssetHashes(got),
				"a change to the pipeline's resources; asset hashes are already normalized")
		})
	}
}

// TestPipelineCompliance: cdk-nag runs on the pipeline stack and inside the
// stages, and leaves nothing non-compliant and unsuppressed on the pipeline
// stack or the post-deploy check stacks (the environment stacks have their
// own tests). The rule packs' CSV reports prove the checks ran and that the
// reviewed suppressions took effect.
func TestPipelineCompliance(t *testing.T) {
	for _, name := range []string{"main", "cross"} {
		t.Run(name, func(t *testing.T) {
			pc := pipelineCaseOf(t, name)
			for _, f := range pc.findings {
				mine := strings.HasPrefix(f.Path, "/"+config.DefaultPipelineStackName+"/") && !strings.Contains(f.Path, "/SecretRotation-") ||
					strings.Contains(f.Path, "/PostDeployCheck/")
				if mine && f.Level == compliance.LevelError {
					t.Errorf("%s", f)
				}
			}
			stacksChecked := []string{"-" + config.DefaultPipelineStackName}
			for _, stage := range pc.stack.Stages {
				if stage.Check == nil {
					continue
				}
				stacksChecked = append(stacksChecked, *stage.Stage.Node().Id()+"-"+*stage.Stage.Node().Id()+"-PostDeployCheck")
			}
			for _, pack := range compliance.Packs {
				for _, st := range stacksChecked {
					rows := nagReport(t, filepath.Join(pc.outdir, pack+"-"+st+"-NagReport.csv"))
					suppressed := 0
					for _, row := range rows {
						switch row[2] {
						case "Non-Compliant":
							t.Errorf("%s on %s: non-compliant: %s", row[0], row[1], row[5])
						case "Suppressed":
							suppressed++
						}
					}
					if suppressed == 0 {
						t.Errorf("%s report of %s: no suppressed finding, so the reviewed suppressions did not apply", pack, st)
					}
				}
			}
		})
	}
}

// nagReport reads a cdk-nag CSV report: rule, resource, compliance, reason, level, info.
func nagReport(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("cdk-nag report: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("cdk-nag report %s: %d rows, %v", path, len(rows), err)
	}
	return rows[1:]
}

// buildSpec is the part of a CodeBuild build spec the tests read.
type buildSpec struct {
	Env struct {
		Variables map[string]string `json:"variables"`
	} `json:"env"`
	Phases map[string]struct {
		RuntimeVersions map[string]string `json:"runtime-versions"`
		Commands        []string          `json:"commands"`
	} `json:"phases"`
	Cache struct {
		Paths []string `json:"paths"`
	} `json:"cache"`
	Artifacts struct {
		BaseDirectory string `json:"base-directory"`
	} `json:"artifacts"`
}

// projectBuildSpec decodes the build spec of a CodeBuild project's
// properties; it returns the spec's text too.
func projectBuildSpec(t *testing.T, id string, projectProps map[string]any) (string, buildSpec) {
	t.Helper()
	text, _ := projectProps["Source"].(map[string]any)["BuildSpec"].(string)
	var spec buildSpec
	if err := json.Unmarshal([]byte(text), &spec); err != nil {
		t.Fatalf("%s build spec: %v\n%s", id, err, text)
	}
	return text, spec
}
