package stacks

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodecommit"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/rotationcdk"
)

// PipelineStackProps configures [NewPipelineStack].
type PipelineStackProps struct {
	// Settings is the validated pipeline block (config.DecodePipelineSettings).
	Settings config.PipelineSettings
	// Environments holds every environment of cdk.json by name.
	Environments map[string]config.Environment
	// ModuleRoot is the project directory: the CodeCommit seed and the
	// rotation function's sources. Empty: found from the working directory.
	ModuleRoot string
	// SynthArgs are appended to `npx cdk synth` in the synth step, e.g.
	// "-c pipeline=true" when the pipeline is enabled on the command line
	// rather than in cdk.json (the pipeline must synthesize itself to mutate).
	SynthArgs string
	// CheckCompliance adds the cdk-nag rule packs (compliance.Apply) to every
	// Stage, before BuildPipeline synthesizes them, and to the pipeline
	// stack. The app turns it on together with compliance.Apply(app); the
	// pipeline's reviewed suppressions are recorded either way.
	CheckCompliance bool
}

// PipelineStack is the self-mutating CDK Pipelines stack that tests this
// project and deploys every configured environment.
type PipelineStack struct {
	awscdk.Stack
	// Pipeline is the CDK Pipelines construct, already built.
	Pipeline pipelines.CodePipeline
	// Repository is the seeded CodeCommit repository (nil for a connection source).
	Repository awscodecommit.Repository
	// Stages are the environment stages by environment name.
	Stages map[string]*EnvironmentStage
	// Topic receives pipeline failure notifications.
	Topic awssns.Topic
}

// seedExcludes are never copied into the CodeCommit seed, on top of the
// repository's .gitignore: build output, dependencies and Git's own data.
// ".git" and "node_modules" have no trailing slash: in a `git worktree`
// checkout .git is a file (a pointer to the main checkout) and
// node_modules may be a symbolic link, which "dir/" patterns do not match.
var seedExcludes = []string{".git", "cdk.out/", "node_modules", "cdk.context.json"}

// NewPipelineStack creates the pipeline stack under scope, with one Stage
// per configured environment, and builds the pipeline (BuildPipeline, which
// synthesizes the Stages) before it returns. It returns an error for
// invalid settings and for any failure while building (jsii panics
// included).
func NewPipelineStack(scope constructs.Construct, props *PipelineStackProps) (ps *PipelineStack, err error) {
	// jsii reports construct errors as panics; return them as errors.
	defer func() {
		if r := recover(); r != nil {
			ps, err = nil, fmt.Errorf("pipeline: %v", r)
		}
	}()
	s := props.Settings
	if err := s.Validate(props.Environments); err != nil {
		return nil, err
	}
	root, err := rotationcdk.ModuleRoot(props.ModuleRoot)
	if err != nil {
		return nil, err
	}

	var env *awscdk.Environment
	if s.Account != "" || s.Region != "" {
		env = &awscdk.Environment{}
		if s.Account != "" {
			env.Account = jsii.String(s.Account)
		}
		if s.Region != "" {
			env.Region = jsii.String(s.Region)
		}
	}
	stack := awscdk.NewStack(scope, jsii.String(s.StackName), &awscdk.StackProps{
		Env:         env,
		Description: jsii.String("Delivery pipeline: tests and deploys secret-rotation to " + strings.Join(s.Environments, ", ")),
	})
	tagWith(stack, s.Tags)
	out := &PipelineStack{Stack: stack}

	source, repo, err := pipelineSource(stack, s, root)
	if err != nil {
		return nil, err
	}
	out.Repository = repo

	synth := pipelines.NewCodeBuildStep(jsii.String("Synth"), &pipelines.CodeBuildStepProps{
		Input:                  source,
		InstallCommands:        jsiiStrings(synthInstallCommands),
		Commands:               jsiiStrings(synthCommands(props.SynthArgs)),
		PrimaryOutputDirectory: jsii.String("cdk.out"),
		BuildEnvironment: &awscodebuild.BuildEnvironment{
			BuildImage:  PipelineBuildImage(),
			ComputeType: awscodebuild.ComputeType_MEDIUM,
		},
		PartialBuildSpec: synthPartialBuildSpec(),
		Cache:            synthCache(),
		Timeout:          awscdk.Duration_Minutes(jsii.Number(60)),
	})
	cliVersion, err := CLIVersion(root)
	if err != nil {
		return nil, err
	}
	// The stages first: asset publishing needs their deploy roles.
	if out.Stages, err = newEnvironmentStages(stack, props, root); err != nil {
		return nil, err
	}
	assetDefaults, err := assetPublishingDefaults(out.Stages)
	if err != nil {
		return nil, err
	}
	cross := s.CrossAccount(props.Environments)
	pipeline := pipelines.NewCodePipeline(stack, jsii.String("Pipeline"), &pipelines.CodePipelineProps{
		PipelineName: jsii.String(s.StackName),
		Synth:        synth,
		SelfMutation: jsii.Bool(true),
		// Self-mutation installs the CLI of package.json (the one the synth
		// step and developers use) instead of CDK Pipelines' floating
		// aws-cdk@2; asset publishing runs the same CLI (see
		// publishAssetsWithCLI, which replaces the cdk-assets commands).
		CliVersion: jsii.String(cliVersion),
		// Both on Node.js 22 like the synth step, not the image's default.
		SelfMutationCodeBuildDefaults:    &pipelines.CodeBuildOptions{PartialBuildSpec: nodeRuntimeBuildSpec()},
		AssetPublishingCodeBuildDefaults: assetDefaults,
		// KMS-encrypted artifacts readable by the other accounts' deploy
		// roles are needed (and billed) only when an environment is elsewhere.
		CrossAccountKeys:  jsii.Bool(cross),
		EnableKeyRotation: jsii.Bool(cross),
		PipelineType:      awscodepipeline.PipelineType_V2,
	})
	out.Pipeline = pipeline
	addWaves(stack, pipeline, props, out.Stages)

	pipeline.BuildPipeline()
	if err := publishAssetsWithCLI(pipeline, out.Stages, cliVersion); err != nil {
		return nil, err
	}
	out.Topic = notifyOnFailure(stack, pipeline.Pipeline(), s.NotificationEmail)
	// The checks apply to the finished pipeline (BuildPipeline creates its
	// resources), then the reviewed exceptions are recorded on them.
	if props.CheckCompliance {
		compliance.Apply(stack)
	}
	suppressPipelineFindings(out, cross)
	return out, nil
}

// newEnvironmentStages creates one Stage per environment, in the
// configured order.
func newEnvironmentStages(stack awscdk.Stack, props *PipelineStackProps, root string) (map[string]*EnvironmentStage, error) {
	s := props.Settings
	stages := map[string]*EnvironmentStage{}
	for _, name := range s.Environments {
		stage, err := NewEnvironmentStage(stack, props.Environments[name], s.PostDeployCheckEnabled(), s.Account, root)
		if err != nil {
			return nil, err
		}
		stages[name] = stage
		if props.CheckCompliance {
			// cdk-nag aspects on the App do not reach into a Stage's assembly.
			// They must be added before BuildPipeline, which synthesizes the Stages.
			compliance.Apply(stage.Stage)
		}
	}
	return stages, nil
}

// addWaves adds the Stages to the pipeline, in the configured order, each
// in its wave (waves in the order their first environment appears): a
// manual approval before protected environments, the post-deploy check
// after each environment that has one.
func addWaves(stack awscdk.Stack, pipeline pipelines.CodePipeline, props *PipelineStackProps, stages map[string]*EnvironmentStage) {
	s := props.Settings
	waves := map[string]pipelines.Wave{}
	for _, name := range s.Environments {
		e, stage := props.Environments[name], stages[name]
		waveName := s.WaveOf(name)
		wave, ok := waves[waveName]
		if !ok {
			wave = pipeline.AddWave(jsii.String(waveName), nil)
			waves[waveName] = wave
		}
		opts := &pipelines.AddStageOpts{}
		if e.Protected {
			opts.Pre = &[]pipelines.Step{pipelines.NewManualApprovalStep(jsii.String("Approve-"+name), &pipelines.ManualApprovalStepProps{
				Comment: jsii.String("Deploy secret-rotation to the protected environment " + name + "?"),
			})}
		}
		if stage.Check != nil {
			opts.Post = &[]pipelines.Step{checkStep(stack, e, stage.Check)}
		}
		wave.AddStage(stage.Stage, opts)
	}
}

// pipelineSource returns the pipeline's source: a CodeCommit repository
// seeded with root (the default) or a CodeConnections connection.
func pipelineSource(stack awscdk.Stack, s config.PipelineSettings, root string) (pipelines.CodePipelineSource, awscodecommit.Repository, error) {
	if s.Source == config.SourceConnection {
		return pipelines.CodePipelineSource_Connection(jsii.String(s.Repository), jsii.String(s.Branch), &pipelines.ConnectionSourceOptions{
			ConnectionArn: jsii.String(s.ConnectionArn),
		}), nil, nil
	}
	excludes, err := SeedExcludes(root)
	if err != nil {
		return nil, nil, err
	}
	// The seed is used only when CloudFormation creates the repository;
	// later changes to it never overwrite what was pushed.
	seed := awss3assets.NewAsset(stack, jsii.String("SeedSource"), &awss3assets.AssetProps{
		Path:       jsii.String(root),
		Exclude:    jsiiStrings(excludes),
		IgnoreMode: awscdk.IgnoreMode_GIT,
	})
	repo := awscodecommit.NewRepository(stack, jsii.String("Repository"), &awscodecommit.RepositoryProps{
		RepositoryName: jsii.String(s.RepositoryName),
		Description:    jsii.String("secret-rotation source; pushes to " + s.Branch + " run the delivery pipeline"),
		Code:           awscodecommit.Code_FromAsset(seed, jsii.String(s.Branch)),
	})
	// The repository holds everything pushed since it was seeded: deleting
	// the pipeline stack must not delete the source with it.
	repo.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN)
	return pipelines.CodePipelineSource_CodeCommit(repo, jsii.String(s.Branch), nil), repo, nil
}

// CLIVersion returns the exact aws-cdk CLI version pinned in
// root/package.json (devDependencies), which self-mutation installs too.
func CLIVersion(root string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "package.json"))
	if err != nil {
		return "", fmt.Errorf("CDK CLI version: %w", err)
	}
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return "", fmt.Errorf("CDK CLI version: package.json: %w", err)
	}
	v := pkg.DevDependencies["aws-cdk"]
	if !exactVersionRe.MatchString(v) {
		return "", fmt.Errorf("CDK CLI version: package.json devDependencies.aws-cdk = %q: want an exact version such as 2.1148.1", v)
	}
	return v, nil
}

var exactVersionRe = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// SeedExcludes returns the git-style patterns left out of the CodeCommit
// seed: [seedExcludes] plus the non-comment lines of root/.gitignore, so the
// seed is what a fresh clone would contain (plus uncommitted edits).
func SeedExcludes(root string) ([]string, error) {
	out := append([]string(nil), seedExcludes...)
	f, err := os.Open(filepath.Join(root, ".gitignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("seed excludes: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("seed excludes: read .gitignore: %w", err)
	}
	return out, nil
}

// checkStep is the pipeline side of the post-deploy check: it assumes the
// stage's starter role and runs the in-VPC check project to completion.
func checkStep(stack awscdk.Stack, env config.Environment, check *PostDeployCheckStack) pipelines.Step {
	account := env.Account
	if account == "" {
		account = *stack.Account()
	}
	starterArn := stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("iam"), Region: jsii.String(""), Account: jsii.String(account),
		Resource: jsii.String("role"), ResourceName: jsii.String(CheckStarterRoleName(env.Name)),
	})
	return pipelines.NewCodeBuildStep(jsii.String("PostDeployCheck-"+env.Name), &pipelines.CodeBuildStepProps{
		Commands: jsii.Strings(startCheckScript),
		EnvFromCfnOutputs: &map[string]awscdk.CfnOutput{
			"CHECK_PROJECT":  check.ProjectNameOutput,
			"CHECK_ROLE_ARN": check.StarterRoleArnOutput,
			"CHECK_REGION":   check.RegionOutput,
		},
		BuildEnvironment: &awscodebuild.BuildEnvironment{BuildImage: PipelineBuildImage(), ComputeType: awscodebuild.ComputeType_SMALL},
		RolePolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("AssumeTheCheckStarterRole"),
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: jsii.Strings(*starterArn),
		})},
		Timeout: awscdk.Duration_Minutes(jsii.Number(45)),
	})
}

// notifyOnFailure creates the KMS-encrypted failure topic, the optional email
// subscription and the CodeStar notification rule on the built pipeline.
func notifyOnFailure(stack awscdk.Stack, pipeline awscodepipeline.Pipeline, email string) awssns.Topic {
	key := awskms.NewKey(stack, jsii.String("NotificationsKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the delivery pipeline's failure notifications topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
	})
	// CodeStar Notifications publishes to the encrypted topic through SNS.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCodeStarNotificationsThroughSNS"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("codestar-notifications.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:GenerateDataKey*", "kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": "sns." + *stack.Region() + ".amazonaws.com"}},
	}), nil)
	topic := awssns.NewTopic(stack, jsii.String("FailureTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("secret-rotation pipeline failures"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	if email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	rule := pipeline.NotifyOn(jsii.String("PipelineFailed"), topic, &awscodepipeline.PipelineNotifyOnOptions{
		Events: &[]awscodepipeline.PipelineNotificationEvents{
			awscodepipeline.PipelineNotificationEvents_PIPELINE_EXECUTION_FAILED,
			awscodepipeline.PipelineNotificationEvents_ACTION_EXECUTION_FAILED,
		},
	})
	// CodeStar Notifications checks that it may publish to the topic when
	// the rule is created; without DependsOn, CloudFormation may create the
	// rule before the topic policy that allows it, and the rule fails with
	// "Invalid request provided" (aws-cdk#29484: the construct adds no
	// such dependency). The policy exists already: EnforceSSL creates it.
	policy := topic.Node().TryFindChild(jsii.String("Policy"))
	if policy == nil {
		panic("failure topic has no topic policy to wait for")
	}
	rule.Node().AddDependency(policy)
	return topic
}
