// Package cfntemplate reads synthesized CloudFormation templates as plain
// Go values for the tests of the stacks and the constructs.
package cfntemplate

import (
	"encoding/json"
	"os"
	"testing"
)

// Read reads the template file at path; a missing or malformed file fails t.
func Read(t testing.TB, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(data, &tpl); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tpl
}

// ResourcesOfType returns the template's resources of type typ by logical id.
func ResourcesOfType(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	resources, _ := tpl["Resources"].(map[string]any)
	for id, r := range resources {
		res, _ := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}
