package stacks_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/example/secret-rotation/stacks"
)

// TestAssetPublishingReadsTheAssembly runs the publishing tool the
// pipeline's Assets stage installs, at the version it installs (both read
// from the synthesized build specs, not assumed), against every asset
// manifest of the synthesized pipeline assemblies, offline and without AWS
// credentials, and fails when the tool cannot read them, e.g. "Cloud
// assembly schema version mismatch: Maximum schema version supported is
// 54.x.x, but found 55.0.0" (cdk-assets 4.7.3 against aws-cdk-lib 2.276.0).
//
// The dry run depends on the tool:
//   - cdk-assets (CDK Pipelines' default): `cdk-assets --path <manifest> ls`
//     for each manifest;
//   - aws-cdk (this project): `cdk -a <assembly> publish-assets --force` over
//     every stack of the assembly, with fake credentials and every AWS
//     endpoint and proxy pointed at a closed local port. The CLI reads every
//     selected stack's asset manifest into its work graph and prints
//     "Publishing assets" before its first AWS call, which then fails.
//
// It also checks that the Assets projects cover every asset and
// destination of the stages, and that the CLI is package.json's, the one
// self-mutation runs.
func TestAssetPublishingReadsTheAssembly(t *testing.T) {
	for _, name := range []string{"main", "cross"} {
		t.Run(name, func(t *testing.T) {
			pc := pipelineCaseOf(t, name)
			pub := assetPublisherOf(t, pipelineTemplate(t, pc))
			tool := npmTool(t, pub.pkg, pub.version)
			manifests := assetManifests(t, pc.outdir)
			pub.checkCoverage(t, pc.outdir, manifests)
			switch pub.pkg {
			case "cdk-assets":
				for _, m := range manifests {
					ls := exec.Command(tool, "--path", m.path, "ls")
					ls.Dir = t.TempDir()
					out, err := ls.CombinedOutput()
					if err != nil {
						t.Errorf("%s@%s cannot read %s: %v\n%s", pub.pkg, pub.version, m.rel, err, out)
					}
				}
			case stacks.AssetPublisherPackage:
				cli, err := stacks.CLIVersion(synthesized.moduleRoot)
				if err != nil || pub.version != cli {
					t.Errorf("Assets stage installs %s@%s, want package.json's CLI %s (%v), the one self-mutation runs", pub.pkg, pub.version, cli, err)
				}
				dryRunPublishAssets(t, tool, pc.outdir, allStacks(t, pc.outdir))
			default:
				t.Fatalf("Assets stage installs %s: the test knows no dry run for it", pub.pkg)
			}
		})
	}
}

// assetPublisher is what the Assets projects of a pipeline template
// install and run.
type assetPublisher struct {
	pkg, version string
	// covered are the asset manifests (cdk-assets) or stack ids (aws-cdk) the
	// build commands name, with the cdk-assets selectors when given.
	manifests map[string][]string
	stacks    []string
}

var (
	npmInstallRe   = regexp.MustCompile(`^npm install -g (cdk-assets|aws-cdk)@([0-9][0-9A-Za-z.+-]*)$`)
	cdkAssetsCmdRe = regexp.MustCompile(`^cdk-assets --path "([^"]+)" --verbose publish "([^"]+)"$`)
	cliPublishRe   = regexp.MustCompile(`^cdk -a \. publish-assets --unstable=publish-assets --exclusively --verbose((?: '[A-Za-z0-9/-]+')+)$`)
)

// assetPublisherOf reads the Assets projects' build specs (Pipeline/Assets/*).
func assetPublisherOf(t *testing.T, tpl map[string]any) assetPublisher {
	t.Helper()
	pub := assetPublisher{manifests: map[string][]string{}}
	projects := 0
	for id, p := range resourcesOfType(tpl, "AWS::CodeBuild::Project") {
		if !strings.HasPrefix(id, "PipelineAssets") {
			continue
		}
		projects++
		_, spec := projectBuildSpec(t, id, props(p))
		if got := spec.Phases["install"].RuntimeVersions["nodejs"]; got != stacks.NodeRuntimeVersion {
			t.Errorf("%s runs on Node.js %q, want %s (runtime-versions)", id, got, stacks.NodeRuntimeVersion)
		}
		install := spec.Phases["install"].Commands
		m := []string(nil)
		if len(install) == 1 {
			m = npmInstallRe.FindStringSubmatch(install[0])
		}
		if m == nil {
			t.Fatalf("%s install commands %q, want one npm install -g <publisher>@<exact version>", id, install)
		}
		if pub.pkg != "" && (pub.pkg != m[1] || pub.version != m[2]) {
			t.Fatalf("%s installs %s@%s, another Assets project %s@%s", id, m[1], m[2], pub.pkg, pub.version)
		}
		pub.pkg, pub.version = m[1], m[2]
		for _, cmd := range spec.Phases["build"].Commands {
			switch {
			case pub.pkg == "cdk-assets" && cdkAssetsCmdRe.MatchString(cmd):
				c := cdkAssetsCmdRe.FindStringSubmatch(cmd)
				pub.manifests[c[1]] = append(pub.manifests[c[1]], c[2])
			case pub.pkg == stacks.AssetPublisherPackage && cliPublishRe.MatchString(cmd):
				for _, s := range strings.Fields(cliPublishRe.FindStringSubmatch(cmd)[1]) {
					pub.stacks = append(pub.stacks, strings.Trim(s, "'"))
				}
			default:
				t.Errorf("%s runs %q, which the test cannot dry-run for %s", id, cmd, pub.pkg)
			}
		}
	}
	if projects == 0 {
		t.Fatal("no Assets projects (PipelineAssets*) in the pipeline template")
	}
	return pub
}

// assetManifest is one asset manifest of an assembly and the stack it belongs to.
type assetManifest struct {
	path, rel, stack string
	// assets are "<asset id> <destination JSON>" of everything but the stack
	// template (CloudFormation reads templates from the pipeline artifact).
	assets []string
}

// assetManifests returns every asset manifest under outdir, the pipeline
// stack's and the stages'.
func assetManifests(t *testing.T, outdir string) []assetManifest {
	t.Helper()
	stackOf := map[string]string{} // manifest path -> stack display name
	for _, dir := range assemblyDirs(t, outdir) {
		var m struct {
			Artifacts map[string]struct {
				Type         string   `json:"type"`
				DisplayName  string   `json:"displayName"`
				Dependencies []string `json:"dependencies"`
				Properties   struct {
					File string `json:"file"`
				} `json:"properties"`
			} `json:"artifacts"`
		}
		readJSON(t, filepath.Join(dir, "manifest.json"), &m)
		for _, a := range m.Artifacts {
			if a.Type != "aws:cloudformation:stack" {
				continue
			}
			for _, d := range a.Dependencies {
				if dep, ok := m.Artifacts[d]; ok && dep.Type == "cdk:asset-manifest" {
					stackOf[filepath.Join(dir, dep.Properties.File)] = a.DisplayName
				}
			}
		}
	}
	var out []assetManifest
	err := filepath.WalkDir(outdir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".assets.json") {
			return err
		}
		rel, _ := filepath.Rel(outdir, path)
		m := assetManifest{path: path, rel: filepath.ToSlash(rel), stack: stackOf[path]}
		var doc struct {
			Files map[string]struct {
				Source struct {
					Path string `json:"path"`
				} `json:"source"`
				Destinations map[string]any `json:"destinations"`
			} `json:"files"`
			DockerImages map[string]struct {
				Destinations map[string]any `json:"destinations"`
			} `json:"dockerImages"`
		}
		readJSON(t, path, &doc)
		for id, f := range doc.Files {
			if strings.HasSuffix(f.Source.Path, ".template.json") {
				continue
			}
			for _, dest := range f.Destinations {
				m.assets = append(m.assets, id+" "+asJSON(dest))
			}
		}
		for id, img := range doc.DockerImages {
			for _, dest := range img.Destinations {
				m.assets = append(m.assets, id+" "+asJSON(dest))
			}
		}
		if m.stack == "" {
			t.Errorf("asset manifest %s belongs to no stack", m.rel)
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 2 {
		t.Fatalf("%d asset manifests under %s, want the pipeline's and the stages'", len(out), outdir)
	}
	return out
}

// checkCoverage: every asset of a stage (asset id and destination) is
// published by some Assets project.
func (pub assetPublisher) checkCoverage(t *testing.T, outdir string, manifests []assetManifest) {
	t.Helper()
	covered := map[string]bool{}
	for _, m := range manifests {
		if sel, ok := pub.manifests[m.rel]; ok {
			for _, a := range m.assets {
				if slices.Contains(sel, strings.SplitN(a, " ", 2)[0]+":"+destinationID(t, m.path, a)) {
					covered[a] = true
				}
			}
		}
		if slices.Contains(pub.stacks, m.stack) {
			for _, a := range m.assets {
				covered[a] = true
			}
		}
	}
	stageAssets := 0
	for _, m := range manifests {
		if !strings.Contains(m.rel, "assembly-") {
			continue // the pipeline stack's own assets are published by self-mutation's cdk deploy
		}
		for _, a := range m.assets {
			stageAssets++
			if !covered[a] {
				t.Errorf("asset %s of %s (stack %s) is published by no Assets project", a, m.rel, m.stack)
			}
		}
	}
	if stageAssets == 0 {
		t.Errorf("no stage assets under %s: the coverage check checked nothing", outdir)
	}
}

// destinationID finds the destination id of an "<asset id> <destination
// JSON>" entry in its manifest (cdk-assets selects "<asset id>:<destination id>").
func destinationID(t *testing.T, manifest, entry string) string {
	t.Helper()
	var doc struct {
		Files map[string]struct {
			Destinations map[string]any `json:"destinations"`
		} `json:"files"`
	}
	readJSON(t, manifest, &doc)
	id, dest, _ := strings.Cut(entry, " ")
	for did, d := range doc.Files[id].Destinations {
		if asJSON(d) == dest {
			return did
		}
	}
	return ""
}

// allStacks returns the display names of every stack of the assembly under
// outdir, nested stage assemblies included.
func allStacks(t *testing.T, outdir string) []string {
	t.Helper()
	var out []string
	for _, dir := range assemblyDirs(t, outdir) {
		var m struct {
			Artifacts map[string]struct {
				Type        string `json:"type"`
				DisplayName string `json:"displayName"`
			} `json:"artifacts"`
		}
		readJSON(t, filepath.Join(dir, "manifest.json"), &m)
		for _, a := range m.Artifacts {
			if a.Type == "aws:cloudformation:stack" {
				out = append(out, a.DisplayName)
			}
		}
	}
	slices.Sort(out)
	return out
}

// assemblyDirs returns outdir and its nested (stage) assembly directories.
func assemblyDirs(t *testing.T, outdir string) []string {
	t.Helper()
	nested, err := filepath.Glob(filepath.Join(outdir, "assembly-*"))
	if err != nil || len(nested) == 0 {
		t.Fatalf("no stage assemblies under %s (%v)", outdir, err)
	}
	return append([]string{outdir}, nested...)
}

// dryRunPublishAssets runs the CDK CLI's publish-assets over stackIDs of the
// assembly at outdir without reaching AWS: fake credentials, every AWS
// endpoint and HTTP(S) proxy on a closed local port, no shared config.
// --force skips the "already published?" lookups, so the CLI reads every
// asset manifest into its work graph, prints "Publishing assets" and only
// then makes its first AWS call, which fails on the closed port.
func dryRunPublishAssets(t *testing.T, cli, outdir string, stackIDs []string) {
	t.Helper()
	home := t.TempDir()
	const closed = "http://127.0.0.1:1"
	args := append([]string{"-a", outdir, "publish-assets", "--unstable=publish-assets", "--exclusively", "--force", "--no-notices"}, stackIDs...)
	cmd := exec.Command(cli, args...)
	cmd.Dir = home // the CLI writes cdk.context.json into its working directory
	cmd.Env = []string{
		"PATH=" + filepath.Join(synthesized.moduleRoot, "node_modules", ".bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=not-a-secret",
		"AWS_REGION=eu-west-1", "AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL=" + closed,
		"HTTPS_PROXY=" + closed, "HTTP_PROXY=" + closed, "https_proxy=" + closed, "http_proxy=" + closed,
		"CDK_DISABLE_VERSION_CHECK=1", "CDK_DISABLE_CLI_TELEMETRY=true",
	}
	out, _ := cmd.CombinedOutput() // it must fail at the first AWS call
	text := string(out)
	for _, bad := range []string{"Cannot read asset manifest", "schema version mismatch", "Invalid assembly manifest", "No stacks match"} {
		if strings.Contains(text, bad) {
			t.Fatalf("%s cannot read the assembly (%q):\n%s", filepath.Base(cli), bad, text)
		}
	}
	if !strings.Contains(text, "Publishing assets") {
		t.Fatalf("%s publish-assets stopped before reading every asset manifest (no \"Publishing assets\"):\n%s", filepath.Base(cli), text)
	}
}

// npmTool returns the executable of package pkg at exactly version: the
// project's node_modules copy when npm ci installed that version (the CDK
// CLI of package.json), else one installed into a temporary directory from
// the npm registry (any other publisher, e.g. cdk-assets).
func npmTool(t *testing.T, pkg, version string) string {
	t.Helper()
	bin := map[string]string{"aws-cdk": "cdk", "cdk-assets": "cdk-assets"}[pkg]
	local := filepath.Join(synthesized.moduleRoot, "node_modules", pkg)
	var meta struct {
		Version string `json:"version"`
	}
	if data, err := os.ReadFile(filepath.Join(local, "package.json")); err == nil && json.Unmarshal(data, &meta) == nil && meta.Version == version {
		return filepath.Join(synthesized.moduleRoot, "node_modules", ".bin", bin)
	}
	dir := t.TempDir()
	out, err := exec.Command("npm", "install", "--prefix", dir, "--no-save", "--no-audit", "--no-fund", pkg+"@"+version).CombinedOutput()
	if err != nil {
		t.Fatalf("npm install %s@%s: %v\n%s", pkg, version, err, out)
	}
	return filepath.Join(dir, "node_modules", ".bin", bin)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
