package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/jsii-runtime-go"
)

// PipelineBuildImage is the CodeBuild image of the synth step and of the
// pipeline-side post-deploy steps: Ubuntu 22.04 with Node.js 22 and a
// Go >= 1.21 that can switch to the go.mod toolchain. (The in-VPC check
// itself runs rotatectl on an arm64 Amazon Linux image.)
func PipelineBuildImage() awscodebuild.IBuildImage {
	return awscodebuild.LinuxBuildImage_STANDARD_7_0()
}

// Cache directories of the synth step, set as GOMODCACHE, GOCACHE and the npm
// cache so the CodeBuild local cache (custom mode) keeps them between builds.
const (
	synthGoModCache = "/root/go/pkg/mod"
	synthGoCache    = "/root/.cache/go-build"
	synthNpmCache   = "/root/.npm"
)

// synthInstallCommands prepare a fresh standard image for `make test`:
//
//   - Go: the image's own go (any version >= 1.21) runs with
//     GOTOOLCHAIN=go<version from go.mod>, so the build uses exactly the
//     toolchain go.mod names. The toolchain is fetched as the module
//     golang.org/toolchain through the Go proxy and verified against the Go
//     checksum database (sum.golang.org), like every other module: pinned and
//     checksum-verified without a second copy of the version or its hash in
//     this file. GOTOOLCHAIN is written to the go env file (go env -w, run
//     outside the module so the image's go does not switch first) before
//     any other go command, so every later shell, phase and `go run .` of
//     the CDK CLI uses that toolchain and no other.
//   - MariaDB server and client for the integration tests (apt, the image is
//     Ubuntu; .ci/run does the same on Debian).
//   - npm ci: the CDK CLI and Node 22 pins from package-lock.json.
var synthInstallCommands = []string{
	GoVersionFromGoMod + ` && (cd / && GOTOOLCHAIN=local go env -w GOTOOLCHAIN="go$v")`,
	`go version`,
	`command -v mariadbd >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client zip >/dev/null)`,
	`npm ci --no-audit --no-fund --loglevel=error`,
	`go mod download`,
}

// GoVersionFromGoMod is the shell snippet of the synth step that sets v to
// the Go version go.mod requires: its toolchain line when present, else its
// go line (run in the module root; exported for the test that runs it).
const GoVersionFromGoMod = `v=$(sed -n 's/^toolchain go//p' go.mod) && [ -n "$v" ] || v=$(sed -n 's/^go //p' go.mod)`

// synthCommands runs the project's test command (the README's and .ci/run's)
// and then synthesizes; synthArgs carries the context that enables the
// pipeline when cdk.json does not.
func synthCommands(synthArgs string) []string {
	synth := "npx cdk synth"
	if synthArgs != "" {
		synth += " " + synthArgs
	}
	return []string{"make test", synth}
}

// synthPartialBuildSpec pins the runtimes and declares the cache paths.
func synthPartialBuildSpec() awscodebuild.BuildSpec {
	return awscodebuild.BuildSpec_FromObject(&map[string]any{
		"env": map[string]any{
			"variables": map[string]any{
				"GOMODCACHE":       synthGoModCache,
				"GOCACHE":          synthGoCache,
				"npm_config_cache": synthNpmCache,
			},
		},
		"phases": map[string]any{
			"install": map[string]any{
				"runtime-versions": map[string]any{"nodejs": NodeRuntimeVersion, "golang": "latest"},
			},
		},
		"cache": map[string]any{
			"paths": []any{synthGoModCache + "/**/*", synthGoCache + "/**/*", synthNpmCache + "/**/*"},
		},
	})
}

// synthCache keeps the cache paths on the build host between builds.
func synthCache() awscodebuild.Cache {
	return awscodebuild.Cache_Local(awscodebuild.LocalCacheMode_CUSTOM)
}

// postDeployCheckScript runs inside the environment's VPC (see
// [PostDeployCheckStack]) with the operator CLI, rotatectl, unpacked as
// ./bootstrap. It waits while a rotation is pending (the rotation schedule
// rotates once when it is created, and RotateSecret refuses to start while
// AWSPENDING is on another version), then `rotatectl rotate --wait` forces
// one rotation, follows it until AWSCURRENT has moved and logs in with the
// new AWSCURRENT; `rotatectl verify` logs in again and reports AWSPREVIOUS.
// Either failing fails the build and so the pipeline stage. rotatectl never
// prints a password.
const postDeployCheckScript = `set -eu
chmod +x ./bootstrap
waited=0
while aws secretsmanager describe-secret --secret-id "$SECRET_ARN" --query 'VersionIdsToStages' --output text | grep -qw AWSPENDING; do
  [ "$waited" -lt "$WAIT_SECONDS" ] || { echo "a rotation is still pending after $WAIT_SECONDS s; inspect with: rotatectl status $SECRET_ARN"; ./bootstrap $ROTATECTL_ARGS status "$SECRET_ARN" || true; exit 1; }
  sleep 10; waited=$((waited + 10))
done
./bootstrap $ROTATECTL_ARGS rotate --wait --timeout "${WAIT_SECONDS}s" "$SECRET_ARN"
./bootstrap $ROTATECTL_ARGS verify "$SECRET_ARN"`

// postDeployCheckBuildSpec is the buildspec of the in-VPC check project.
func postDeployCheckBuildSpec() awscodebuild.BuildSpec {
	return awscodebuild.BuildSpec_FromObject(&map[string]any{
		"version": "0.2",
		"env":     map[string]any{"shell": "bash"},
		"phases": map[string]any{
			"build": map[string]any{"commands": []any{postDeployCheckScript}},
		},
	})
}

// startCheckScript runs in the pipeline (CodeBuildStep after the stage): it
// assumes the environment's starter role, starts the in-VPC check build and
// fails unless it succeeds.
const startCheckScript = `set -eu
creds=$(aws sts assume-role --role-arn "$CHECK_ROLE_ARN" --role-session-name post-deploy-check --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
export AWS_ACCESS_KEY_ID=$(printf '%s' "$creds" | cut -f1) AWS_SECRET_ACCESS_KEY=$(printf '%s' "$creds" | cut -f2) AWS_SESSION_TOKEN=$(printf '%s' "$creds" | cut -f3)
id=$(aws codebuild start-build --region "$CHECK_REGION" --project-name "$CHECK_PROJECT" --query build.id --output text)
echo "post-deploy check: build $id in $CHECK_REGION"
while status=$(aws codebuild batch-get-builds --region "$CHECK_REGION" --ids "$id" --query 'builds[0].buildStatus' --output text) && [ "$status" = IN_PROGRESS ]; do sleep 15; done
echo "post-deploy check: $status"
[ "$status" = SUCCEEDED ]`

// jsiiStrings converts a Go slice for jsii.
func jsiiStrings(s []string) *[]*string { return jsii.Strings(s...) }
