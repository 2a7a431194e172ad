package stacks

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/gobundle"
)

// RotationPackage is the rotation function's main package, relative to the module root.
const RotationPackage = "./lambda/rotation"

// CABundleFileName is the name of the caBundlePath override inside the
// function package; the Amazon RDS CAs themselves are built into the binary
// (package rdsca).
const CABundleFileName = "rds-ca-bundle.pem"

// FunctionCode compiles the Go main package pkg of the module at moduleRoot
// into a Lambda asset (see package gobundle for the hashing rules). A non-empty
// caBundlePath is copied next to bootstrap as [CABundleFileName].
func FunctionCode(moduleRoot, pkg, caBundlePath string) (awslambda.Code, error) {
	opts, err := goAssetOptions(moduleRoot, pkg, caBundlePath)
	if err != nil {
		return nil, err
	}
	return awslambda.Code_FromAsset(jsii.String(moduleRoot), opts), nil
}

// goAssetOptions describes an asset of moduleRoot that is the reproducible linux/arm64 build of
// the Go main package pkg, hashed over its Go sources (package gobundle), with
// the CA bundle next to the binary when caBundlePath is set. The rotation
// function and the pipeline's post-deploy check (rotatectl) share it.
func goAssetOptions(moduleRoot, pkg, caBundlePath string) (*awss3assets.AssetOptions, error) {
	b := &gobundle.Bundler{ModuleRoot: moduleRoot, Package: pkg}
	if caBundlePath != "" {
		abs, err := filepath.Abs(caBundlePath)
		if err != nil {
			return nil, fmt.Errorf("CA bundle %s: %w", caBundlePath, err)
		}
		b.ExtraFiles = map[string]string{CABundleFileName: abs}
	}
	return b.AssetOptions()
}

// moduleRootOrWorkingDir returns root, or when root is empty the root of the
// Go module containing the working directory: where the app runs from
// (cdk synth, go test) unless WithModuleRoot or ModuleRoot says otherwise.
func moduleRootOrWorkingDir(root string) (string, error) {
	if root != "" {
		return root, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	return gobundle.FindModuleRoot(wd)
}
