package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/jsii-runtime-go"
)

// PipelineBuildImage is the CodeBuild image of the synth step and the
// post-deploy checks: Ubuntu 22.04 with Node.js 22 and a Go >= 1.21 that can
// switch to the go.mod toolchain.
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
	`v=$(sed -n 's/^go //p' go.mod) && (cd / && GOTOOLCHAIN=local go env -w GOTOOLCHAIN="go$v")`,
	`go version`,
	`command -v mariadbd >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client zip >/dev/null)`,
	`npm ci --no-audit --no-fund --loglevel=error`,
	`go mod download`,
}

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
				"GOFLAGS":          "-mod=readonly",
			},
		},
		"phases": map[string]any{
			"install": map[string]any{
				"runtime-versions": map[string]any{"nodejs": "22", "golang": "latest"},
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
// [PostDeployCheckStack]). It waits for any rotation in progress (the
// rotation schedule rotates once when it is created), forces one rotation,
// waits until AWSCURRENT has moved to a new version, and then logs in to the
// database with the new AWSCURRENT credentials. The password only ever lives
// in MYSQL_PWD of the one mysql process; nothing prints it.
const postDeployCheckScript = `set -eu
pending() { aws secretsmanager describe-secret --secret-id "$SECRET_ARN" --query 'VersionIdsToStages' --output text | grep -qw AWSPENDING; }
waited=0
while pending; do
  [ "$waited" -lt "$WAIT_SECONDS" ] || { echo "a rotation is still pending after $WAIT_SECONDS s (failed rotation? see the rotation function's log group)"; exit 1; }
  sleep 10; waited=$((waited + 10))
done
before=$(aws secretsmanager get-secret-value --secret-id "$SECRET_ARN" --version-stage AWSCURRENT --query VersionId --output text)
echo "AWSCURRENT before: $before; forcing a rotation"
aws secretsmanager rotate-secret --secret-id "$SECRET_ARN" --query VersionId --output text
waited=0
while :; do
  now=$(aws secretsmanager get-secret-value --secret-id "$SECRET_ARN" --version-stage AWSCURRENT --query VersionId --output text)
  [ "$now" != "$before" ] && break
  [ "$waited" -lt "$WAIT_SECONDS" ] || { echo "AWSCURRENT did not move within $WAIT_SECONDS s: rotation failed"; exit 1; }
  sleep 10; waited=$((waited + 10))
done
echo "AWSCURRENT after: $now"
secret=$(aws secretsmanager get-secret-value --secret-id "$SECRET_ARN" --version-stage AWSCURRENT --query SecretString --output text)
host=$(printf '%s' "$secret" | jq -r .host); port=$(printf '%s' "$secret" | jq -r .port); user=$(printf '%s' "$secret" | jq -r .username)
MYSQL_PWD=$(printf '%s' "$secret" | jq -r .password) mysql --host="$host" --port="$port" --user="$user" --ssl --connect-timeout=10 --batch --skip-column-names -e 'SELECT CURRENT_USER()'
echo "logged in to $host:$port as $user with the new AWSCURRENT"`

// postDeployCheckBuildSpec is the buildspec of the in-VPC check project.
func postDeployCheckBuildSpec() awscodebuild.BuildSpec {
	return awscodebuild.BuildSpec_FromObject(&map[string]any{
		"version": "0.2",
		"env":     map[string]any{"shell": "bash"},
		"phases": map[string]any{
			"install": map[string]any{
				"commands": []any{
					`command -v mysql >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-client jq >/dev/null)`,
				},
			},
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
