// Package gobundle compiles a Go main package into an AWS Lambda asset at
// synth time, without Docker.
//
// [Bundler.LocalBundling] implements awscdk.ILocalBundling: CDK calls TryBundle
// with the asset's output directory and the bundler runs `go build` with reproducible
// flags for linux/arm64 (provided.al2023), writing the binary as "bootstrap"
// plus any extra files (such as a CA bundle) next to it.
//
// Asset hashing: the asset uses a CUSTOM hash computed by [Bundler.SourceHash]
// rather than hashing the bundle output. The custom hash covers only what the
// binary is built from: the build flags and target, the extra files, the main
// module's go directive (the language version), every Go source and embedded
// file of the local packages `go list -deps` reports for the function
// (identified by import path and file name, never by absolute path), and,
// for each third-party module that provides one of those dependencies, its
// path, version and go.sum checksum (and its replacement, if any). Modules
// the function does not import (the CDK, test tools) are not part of it, so
// bumping them in go.mod/go.sum does not redeploy the function. So the hash
// changes exactly when something the binary is built from changes, and it is
// identical on every machine and checkout path. A hash over the output would also be stable (the
// build is reproducible, see the tests) but would depend on the Go toolchain's
// patch version, making golden templates differ between machines, and would
// force a build on every synth; with a source hash CDK skips the build when
// cdk.out already holds the asset. The toolchain version is deliberately not
// part of the hash: upgrading Go alone does not redeploy the function.
package gobundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"
)

// Target platform and flags of every build; part of the source hash.
const (
	GOOS   = "linux"
	GOARCH = "arm64"
	// BinaryName is the file the provided.al2023 runtime executes.
	BinaryName = "bootstrap"
	// hashScheme changes when the hashing rules change, so old assets are not reused.
	hashScheme = "gobundle/v2"
)

// BuildFlags are the `go build` flags; -trimpath, -buildvcs=false and an empty
// build id make the binary independent of the checkout path and VCS state.
var BuildFlags = []string{"-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags=-s -w -buildid="}

// Bundler builds one Go main package of the module rooted at ModuleRoot.
type Bundler struct {
	// ModuleRoot is the directory holding go.mod.
	ModuleRoot string
	// Package is the main package, relative to ModuleRoot ("./lambda/rotation").
	Package string
	// ExtraFiles maps a file name inside the bundle to the source file copied there.
	ExtraFiles map[string]string
	// Stderr receives the go tool's diagnostics; nil means os.Stderr.
	Stderr io.Writer
}

// buildEnv is the environment of every go command: the cross-compilation
// target, no cgo, and GOFLAGS pinned so a user's GOFLAGS cannot change the build.
func (b *Bundler) buildEnv() []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOOS="+GOOS, "GOARCH="+GOARCH, "GOFLAGS=-mod=readonly")
}

func (b *Bundler) stderr() io.Writer {
	if b.Stderr != nil {
		return b.Stderr
	}
	return os.Stderr
}

// Build compiles the package into outputDir/bootstrap and copies the extra files.
func (b *Bundler) Build(outputDir string) error {
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", filepath.Join(outputDir, BinaryName), b.Package)
	cmd := exec.Command("go", args...)
	cmd.Dir = b.ModuleRoot
	cmd.Env = b.buildEnv()
	var stderr bytes.Buffer
	cmd.Stdout = b.stderr()
	cmd.Stderr = io.MultiWriter(b.stderr(), &stderr)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s in %s: %w: %s", b.Package, b.ModuleRoot, err, strings.TrimSpace(stderr.String()))
	}
	for _, name := range slices.Sorted(maps.Keys(b.ExtraFiles)) {
		if err := copyFile(b.ExtraFiles[name], filepath.Join(outputDir, name)); err != nil {
			return fmt.Errorf("bundle extra file %s: %w", name, err)
		}
	}
	return nil
}

// LocalBundling returns the awscdk.ILocalBundling to put in
// BundlingOptions.Local. It is a separate type without exported fields on
// purpose: jsii exposes a Go object's exported fields to JavaScript, and CDK
// mixes JSON.stringify(bundling options) into the asset hash, so exposing
// ModuleRoot would make the hash depend on the checkout path.
func (b *Bundler) LocalBundling() awscdk.ILocalBundling {
	return &localBundling{bundler: b}
}

// localBundling implements awscdk.ILocalBundling for a Bundler.
type localBundling struct {
	bundler *Bundler
}

// TryBundle implements awscdk.ILocalBundling. It always bundles locally: on
// failure it panics with the build error because the jsii interface has no
// error result; the jsii runtime turns the panic into an exception that aborts
// synth with this message. Returning false instead would make CDK fall back to
// Docker, which this app deliberately does not use.
func (l *localBundling) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	if outputDir == nil {
		panic(errors.New("gobundle: CDK passed no output directory"))
	}
	if err := l.bundler.Build(*outputDir); err != nil {
		panic(fmt.Errorf("gobundle: local bundling failed (no Docker fallback): %w", err))
	}
	return jsii.Bool(true)
}

// SourceHash returns the hex SHA-256 over everything the binary is built
// from (see the package documentation).
func (b *Bundler) SourceHash() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s/%s cgo=0\nflags=%q\npackage=%s\n", hashScheme, GOOS, GOARCH, BuildFlags, filepath.ToSlash(b.Package))
	deps, err := b.dependencies()
	if err != nil {
		return "", err
	}
	for _, m := range deps.modules {
		fmt.Fprintf(h, "module %s\n", m)
	}
	for _, p := range deps.local {
		for _, f := range p.files {
			if err := hashFile(h, p.importPath+"/"+f, filepath.Join(p.dir, f)); err != nil {
				return "", err
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(b.ExtraFiles)) {
		if err := hashFile(h, "extra:"+name, b.ExtraFiles[name]); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// localPackage is a dependency whose source is not pinned by go.sum: a
// package of the main module or of a module replaced by a local directory.
type localPackage struct {
	importPath string
	dir        string
	files      []string
}

// dependencySet is what the build target is made of besides the standard
// library: local packages (hashed file by file) and the identities of the
// modules that provide every dependency (hashed as text: for a module
// downloaded through the module proxy, path, version and go.sum checksum pin
// its content).
type dependencySet struct {
	local   []localPackage
	modules []string
}

// listFormat prints one line per non-standard dependency, tab-separated:
// import path, "local" or "", directory, Go and embedded files joined by
// "|", and the providing module's identity (path, version, checksum, Go
// version, and its replacement's path, version and checksum).
const listFormat = `{{if not .Standard}}{{.ImportPath}}	` +
	`{{if .Module}}{{if .Module.Main}}local{{else if .Module.Replace}}{{if not .Module.Replace.Version}}local{{end}}{{end}}{{end}}	` +
	`{{.Dir}}	{{join .GoFiles "|"}}|{{join .EmbedFiles "|"}}	` +
	`{{with .Module}}{{.Path}} {{.Version}} {{.Sum}} go{{.GoVersion}}{{with .Replace}} => {{.Path}} {{.Version}} {{.Sum}}{{end}}{{end}}{{end}}`

// dependencies runs `go list -deps` for the build target and returns its
// local packages sorted by import path (files sorted by name) and the sorted,
// de-duplicated identities of the modules they come from. The main module's
// identity carries its go directive; its directory never enters the hash.
func (b *Bundler) dependencies() (*dependencySet, error) {
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "-f", listFormat, b.Package)
	cmd.Dir = b.ModuleRoot
	cmd.Env = b.buildEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s in %s: %w: %s", b.Package, b.ModuleRoot, err, strings.TrimSpace(stderr.String()))
	}
	deps := &dependencySet{}
	modules := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Split(line, "\t")
		if len(fields) != 5 {
			continue
		}
		if fields[4] != "" {
			modules[fields[4]] = true
		}
		if fields[1] != "local" {
			continue
		}
		var files []string
		for _, f := range strings.Split(fields[3], "|") {
			if f != "" {
				files = append(files, f)
			}
		}
		sort.Strings(files)
		deps.local = append(deps.local, localPackage{importPath: fields[0], dir: fields[2], files: files})
	}
	if len(deps.local) == 0 {
		return nil, fmt.Errorf("go list -deps %s in %s: no package of the main module found", b.Package, b.ModuleRoot)
	}
	sort.Slice(deps.local, func(i, j int) bool { return deps.local[i].importPath < deps.local[j].importPath })
	for m := range modules {
		deps.modules = append(deps.modules, m)
	}
	sort.Strings(deps.modules)
	return deps, nil
}

// hashFile writes the file's identity and content digest into h.
func hashFile(h io.Writer, identity, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("hash %s: %w", identity, err)
	}
	defer f.Close()
	fh := sha256.New()
	if _, err := io.Copy(fh, f); err != nil {
		return fmt.Errorf("hash %s: %w", identity, err)
	}
	fmt.Fprintf(h, "%s %x\n", identity, fh.Sum(nil))
	return nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// FindModuleRoot walks up from dir to the directory containing go.mod.
func FindModuleRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find module root from %s: %w", dir, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find module root: no go.mod in %s or any parent", abs)
		}
	}
}

// AssetOptions describes an asset of the module root that is this
// Bundler's build: its custom [Bundler.SourceHash] and local bundling only.
// The Docker image is a placeholder that is never pulled or run: TryBundle
// always bundles locally or fails synth.
func (b *Bundler) AssetOptions() (*awss3assets.AssetOptions, error) {
	hash, err := b.SourceHash()
	if err != nil {
		return nil, fmt.Errorf("hash the sources of %s: %w", b.Package, err)
	}
	return &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_CUSTOM,
		AssetHash:     jsii.String(hash),
		Bundling: &awscdk.BundlingOptions{
			Image: awscdk.DockerImage_FromRegistry(jsii.String("local-bundling-only")),
			Local: b.LocalBundling(),
		},
	}, nil
}
