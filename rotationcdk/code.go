package rotationcdk

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"

	"github.com/example/secret-rotation/internal/gobundle"
)

// FunctionPackage is the import path of the rotation function's main
// package, built by default. The build runs in the app's own module, so an
// app that imports this package builds the function version its go.mod
// requires.
const FunctionPackage = "github.com/example/secret-rotation/lambda/rotation"

// CABundleFileName is the name, inside the function's package, of the
// optional extra CA bundle ([RotationFunctionProps.CABundlePath]).
const CABundleFileName = "rds-ca-bundle.pem"

// GoAssetOptions describes the asset that is the reproducible linux/arm64
// build of the Go main package pkg (an import path or a ./relative path) in
// the module at moduleRoot ("" for the module containing the working
// directory), hashed over what it is built from (see internal/gobundle),
// with caBundlePath, when set, next to the binary as [CABundleFileName].
// The returned moduleRoot is the asset's source directory.
func GoAssetOptions(moduleRoot, pkg, caBundlePath string) (opts *awss3assets.AssetOptions, root string, err error) {
	root, err = ModuleRoot(moduleRoot)
	if err != nil {
		return nil, "", err
	}
	b := &gobundle.Bundler{ModuleRoot: root, Package: pkg}
	if caBundlePath != "" {
		abs, err := filepath.Abs(caBundlePath)
		if err != nil {
			return nil, "", fmt.Errorf("CA bundle %s: %w", caBundlePath, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, "", fmt.Errorf("CA bundle: %w", err)
		}
		b.ExtraFiles = map[string]string{CABundleFileName: abs}
	}
	opts, err = b.AssetOptions()
	return opts, root, err
}

// ModuleRoot returns root, or when root is empty the root of the Go module
// containing the working directory: where a CDK app runs from (cdk synth,
// go run ., go test).
func ModuleRoot(root string) (string, error) {
	if root != "" {
		return root, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	return gobundle.FindModuleRoot(wd)
}
