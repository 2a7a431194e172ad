package rotationcdk_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/internal/testkit/cfntemplate"
)

// synthesized is one synth shared by the package's tests (a synth spawns
// Node and compiles the function): the minimal app with the cdk-nag packs,
// and the cross-stack app.
var synthesized struct {
	outdir   string
	minimal  cxapi.CloudAssembly
	findings []compliance.Finding
	cross    cxapi.CloudAssembly
	crossErr error
	// users is the alternating-users app (usersApp), with its findings.
	users         cxapi.CloudAssembly
	usersErr      error
	usersFindings []compliance.Finding
}

func TestMain(m *testing.M) {
	code := func() int {
		defer jsii.Close()
		dir, err := os.MkdirTemp("", "rotationcdk-test-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		synthesized.outdir = dir

		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(dir, "minimal"))})
		compliance.Apply(app)
		if _, err := minimalStack(app); err != nil {
			panic(err)
		}
		synthesized.minimal = app.Synth(nil)
		synthesized.findings = compliance.Findings(synthesized.minimal)

		synthesized.cross, synthesized.crossErr = crossStackApp(filepath.Join(dir, "cross"))
		synthesized.users, synthesized.usersErr = usersApp(filepath.Join(dir, "users"))
		if synthesized.usersErr == nil {
			synthesized.usersFindings = compliance.Findings(synthesized.users)
		}
		return m.Run()
	}()
	os.Exit(code)
}

// template reads a synthesized stack's template.
func template(t *testing.T, assembly cxapi.CloudAssembly, stack string) map[string]any {
	return cfntemplate.Read(t, filepath.Join(*assembly.Directory(), stack+".template.json"))
}

// resources returns the template's resources of type typ, by logical id.
var resources = cfntemplate.ResourcesOfType

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
