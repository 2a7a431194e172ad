package stacks

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/jsii-runtime-go"
)

// Asset publishing (the pipeline's Assets stage).
//
// CDK Pipelines generates one CodeBuild project per asset that installs the
// cdk-assets CLI and runs `cdk-assets --path <asset manifest> publish
// <asset:destination>`. cdk-assets reads asset manifests only up to the cloud
// assembly schema it was built with, and the newest release npm serves
// (4.7.3) reads schema 54 while aws-cdk-lib 2.276.0 writes 55: every publish
// would fail with "Cloud assembly schema version mismatch". The Assets
// projects therefore run the CDK CLI of package.json instead, the version
// the synth step and self-mutation already run against this very assembly
// (it cannot be older than the schema, or synth fails first), with its
// `cdk publish-assets` command (marked unstable, hence
// --unstable=publish-assets). publishAssetsWithCLI rewrites each generated
// project's commands; the README's "Asset publishing" explains the choice.

// NodeRuntimeVersion is the Node.js major version (CodeBuild
// runtime-versions) of every pipeline project that runs Node.js: the synth
// step, self-mutation and asset publishing. The image's default (Node.js 18
// on standard:7.0) is past its end of life.
const NodeRuntimeVersion = "22"

// AssetPublisherPackage is the npm package whose CLI publishes the assets:
// the CDK CLI, installed at the version of package.json ([CLIVersion]).
const AssetPublisherPackage = "aws-cdk"

// AssetPublishingInstallCommand is the install command of every Assets
// project for the CLI version cliVersion.
func AssetPublishingInstallCommand(cliVersion string) string {
	return "npm install -g " + AssetPublisherPackage + "@" + cliVersion
}

// AssetPublishingCommand publishes the assets of the given stacks
// (hierarchical ids such as SecretRotation-Pipeline/SecretRotation-dev/Rotation)
// from the cloud assembly in the working directory, which is what the
// Assets projects receive as input. --exclusively leaves out the stacks
// they depend on (their assets have projects of their own).
func AssetPublishingCommand(stackPaths []string) string {
	quoted := make([]string, len(stackPaths))
	for i, p := range stackPaths {
		quoted[i] = "'" + p + "'"
	}
	return "cdk -a . publish-assets --unstable=publish-assets --exclusively --verbose " + strings.Join(quoted, " ")
}

// nodeRuntimeBuildSpec pins Node.js for a CDK Pipelines project through its
// partial build spec (merged with the generated one).
func nodeRuntimeBuildSpec() awscodebuild.BuildSpec {
	return awscodebuild.BuildSpec_FromObject(&map[string]any{
		"phases": map[string]any{
			"install": map[string]any{"runtime-versions": map[string]any{"nodejs": NodeRuntimeVersion}},
		},
	})
}

// assetPublishingDefaults are the CodeBuild options of the Assets projects:
// Node.js 22, and sts:AssumeRole on the deploy role of every stage stack.
// Like `cdk deploy`, `cdk publish-assets` checks the bootstrap stack's
// version (the SSM parameter /cdk-bootstrap/<qualifier>/version) with the
// stack's deploy role before it publishes; the file-publishing role that
// uploads is already granted by CDK Pipelines. The ARNs keep the
// synthesizer's ${AWS::AccountId}/${AWS::Region} placeholders for
// environment-agnostic stacks, which Fn::Sub resolves to the pipeline's
// account and region, as CDK Pipelines does for the publishing roles.
func assetPublishingDefaults(stages map[string]*EnvironmentStage) (*pipelines.CodeBuildOptions, error) {
	var arns []string
	for _, stage := range stages {
		for _, st := range stageStacks(stage) {
			synth, ok := st.Synthesizer().(awscdk.DefaultStackSynthesizer)
			if !ok {
				return nil, fmt.Errorf("asset publishing: stack %s does not use the DefaultStackSynthesizer, whose deploy role publishing assumes", *st.Node().Path())
			}
			if arn := *synth.DeployRoleArn(); !slices.Contains(arns, arn) {
				arns = append(arns, arn)
			}
		}
	}
	sort.Strings(arns)
	resources := make([]*string, len(arns))
	for i, a := range arns {
		resources[i] = awscdk.Fn_Sub(jsii.String(a), nil)
	}
	return &pipelines.CodeBuildOptions{
		PartialBuildSpec: nodeRuntimeBuildSpec(),
		RolePolicy: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("AssumeDeployRolesToCheckTheBootstrapVersion"),
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: &resources,
		})},
	}, nil
}

// stageStacks returns the stacks of a pipeline Stage.
func stageStacks(stage *EnvironmentStage) []awscdk.Stack {
	var out []awscdk.Stack
	for _, c := range *stage.Stage.Node().Children() {
		if is := awscdk.Stack_IsStack(c); is != nil && *is {
			out = append(out, c.(awscdk.Stack))
		}
	}
	return out
}

// generatedAssetCommandRe is the publish command CDK Pipelines generates per
// asset; generatedAssetInstallRe its install command.
var (
	generatedAssetCommandRe = regexp.MustCompile(`^cdk-assets --path "([^"]+)" --verbose publish "([^"]+)"$`)
	generatedAssetInstallRe = regexp.MustCompile(`^npm install -g cdk-assets@\S+$`)
	stackPathRe             = regexp.MustCompile(`^[A-Za-z0-9/-]+$`)
)

// publishAssetsWithCLI rewrites the build spec of every Assets project of
// the built pipeline: it installs the CDK CLI of package.json
// ([AssetPublishingInstallCommand]) and publishes, with
// [AssetPublishingCommand], the stacks whose asset manifests the generated
// cdk-assets commands named. Anything CDK Pipelines generates in another
// shape (a new command, the build spec in a file of the assembly when
// publishAssetsInParallel is false) is an error, so a change in CDK
// Pipelines cannot silently bring cdk-assets back.
func publishAssetsWithCLI(pipeline pipelines.CodePipeline, stages map[string]*EnvironmentStage, cliVersion string) error {
	// Asset manifest path in the pipeline's assembly -> the stack it belongs to.
	stackOf := map[string]string{}
	for _, stage := range stages {
		for _, st := range stageStacks(stage) {
			stackOf[*stage.Stage.ArtifactId()+"/"+*st.ArtifactId()+".assets.json"] = *st.Node().Path()
		}
	}
	scope := pipeline.Node().TryFindChild(jsii.String("Assets"))
	if scope == nil {
		return nil // nothing to publish
	}
	rewritten := 0
	for _, c := range *scope.Node().Children() {
		project, ok := c.Node().DefaultChild().(awscodebuild.CfnProject)
		if !ok {
			continue // the projects' role
		}
		where := *c.Node().Path()
		source, _ := awscdk.Stack_Of(c).Resolve(project.Source()).(map[string]any)
		generated, ok := source["buildSpec"].(string)
		if !ok {
			return fmt.Errorf("asset publishing: %s: build spec %v is not inline JSON", where, source["buildSpec"])
		}
		spec, err := rewriteAssetBuildSpec(generated, stackOf, cliVersion)
		if err != nil {
			return fmt.Errorf("asset publishing: %s: %w", where, err)
		}
		project.AddPropertyOverride(jsii.String("Source.BuildSpec"), jsii.String(spec))
		rewritten++
	}
	if rewritten == 0 {
		return fmt.Errorf("asset publishing: no CodeBuild project under %s", *scope.Node().Path())
	}
	return nil
}

// rewriteAssetBuildSpec replaces the cdk-assets install and publish
// commands of one generated Assets build spec with the CDK CLI's.
func rewriteAssetBuildSpec(generated string, stackOf map[string]string, cliVersion string) (string, error) {
	var spec struct {
		Version string                    `json:"version"`
		Phases  map[string]map[string]any `json:"phases"`
	}
	if err := json.Unmarshal([]byte(generated), &spec); err != nil {
		return "", fmt.Errorf("build spec: %w", err)
	}
	var all map[string]any
	if err := json.Unmarshal([]byte(generated), &all); err != nil {
		return "", err
	}
	for k := range all {
		if k != "version" && k != "phases" {
			return "", fmt.Errorf("unexpected build spec key %q", k)
		}
	}
	install, build := spec.Phases["install"], spec.Phases["build"]
	if install == nil || build == nil || len(spec.Phases) != 2 {
		return "", fmt.Errorf("build spec phases %v, want install and build", slices.Sorted(maps.Keys(spec.Phases)))
	}
	installCmds, buildCmds := commands(install["commands"]), commands(build["commands"])
	if len(installCmds) != 1 || !generatedAssetInstallRe.MatchString(installCmds[0]) {
		return "", fmt.Errorf("install commands %q, want CDK Pipelines' npm install -g cdk-assets@<version>", installCmds)
	}
	var stackPaths []string
	for _, cmd := range buildCmds {
		m := generatedAssetCommandRe.FindStringSubmatch(cmd)
		if m == nil {
			return "", fmt.Errorf("build command %q, want CDK Pipelines' cdk-assets publish command", cmd)
		}
		path, ok := stackOf[m[1]]
		if !ok || !stackPathRe.MatchString(path) {
			return "", fmt.Errorf("asset manifest %s belongs to no stack of the pipeline's stages", m[1])
		}
		if !slices.Contains(stackPaths, path) {
			stackPaths = append(stackPaths, path)
		}
	}
	if len(stackPaths) == 0 {
		return "", fmt.Errorf("no publish command")
	}
	sort.Strings(stackPaths)
	install["commands"] = []string{AssetPublishingInstallCommand(cliVersion)}
	install["runtime-versions"] = map[string]any{"nodejs": NodeRuntimeVersion}
	build["commands"] = []string{AssetPublishingCommand(stackPaths)}
	out, err := json.MarshalIndent(map[string]any{"version": spec.Version, "phases": spec.Phases}, "", "  ")
	return string(out), err
}

func commands(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, c := range list {
		s, _ := c.(string)
		out = append(out, s)
	}
	return out
}
