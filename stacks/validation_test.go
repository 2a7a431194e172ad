package stacks_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/compliance"
)

// expectedWarnings are the only findings of aws-cdk-lib's built-in validation
// (CloudFormation Validate), each explained in docs/deploy.md. Keys are
// "rule: construct path prefix".
var expectedWarnings = map[string]bool{
	// Only the test environment "full" pins its zones (availabilityZones).
	"AvailabilityZone: SecretRotation-full-": true,
}

// TestBuiltinValidation proves the shared synth, which ran with aws-cdk-lib's
// built-in validation on (the default; synth fails on errors), reported no
// errors and only the expected warnings.
func TestBuiltinValidation(t *testing.T) {
	if os.Getenv("CDK_VALIDATION") == "false" {
		t.Skip("CDK_VALIDATION=false disables the built-in validation")
	}
	data, err := os.ReadFile(filepath.Join(synthesized.outdir, "validation-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var report compliance.ValidationReport
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, plugin := range report.PluginReports {
		for _, v := range plugin.Violations {
			for _, c := range v.ViolatingConstructs {
				key := ""
				for want := range expectedWarnings {
					rule, prefix, _ := strings.Cut(want, ": ")
					if strings.HasPrefix(v.Description, rule) && strings.HasPrefix(c.ConstructPath, prefix) {
						key = want
					}
				}
				switch {
				case v.Severity != "warning":
					t.Errorf("%s %s %s at %s: %s", plugin.PluginName, v.Severity, v.RuleName, c.ConstructPath, v.Description)
				case key == "":
					t.Errorf("unexpected warning %s at %s: %s (fix it or explain it in docs/deploy.md and expectedWarnings)", v.RuleName, c.ConstructPath, v.Description)
				default:
					seen[key] = true
				}
			}
		}
	}
	var missing []string
	for k := range expectedWarnings {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("expected warnings no longer reported (remove them here and from docs/deploy.md): %v", missing)
	}
}
