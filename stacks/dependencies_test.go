package stacks_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestStackDependenciesFlowOneWay checks the cloud assembly: network has no
// stack dependency, rotation depends on network, database on both, and no
// template refers to a stack that comes later.
func TestStackDependenciesFlowOneWay(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(synthesized.outdir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Artifacts map[string]struct {
			Dependencies []string `json:"dependencies"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	for _, env := range testEnvironments {
		order := []string{stackName(env, "Network"), stackName(env, "Rotation"), stackName(env, "Database")}
		for i, name := range order {
			var stackDeps []string
			for _, d := range manifest.Artifacts[name].Dependencies {
				if !strings.HasSuffix(d, ".assets") {
					stackDeps = append(stackDeps, d)
				}
			}
			sort.Strings(stackDeps)
			want := append([]string(nil), order[:i]...)
			sort.Strings(want)
			if strings.Join(stackDeps, ",") != strings.Join(want, ",") {
				t.Errorf("%s depends on %v, want %v", name, stackDeps, want)
			}
			tpl := asJSON(templateJSON(t, env, order[i][len("SecretRotation-"+env+"-"):]))
			for _, later := range order[i+1:] {
				if strings.Contains(tpl, `"StackName":"`+later+`"`) {
					t.Errorf("%s refers to the later stack %s", name, later)
				}
			}
		}
	}
}

// TestNoOpenIngress scans every template: no security group admits 0.0.0.0/0 or ::/0.
func TestNoOpenIngress(t *testing.T) {
	for _, env := range testEnvironments {
		for _, kind := range []string{"Network", "Rotation", "Database"} {
			raw := templateJSON(t, env, kind)
			for id, sg := range resourcesOfType(raw, "AWS::EC2::SecurityGroup") {
				if in := asJSON(props(sg)["SecurityGroupIngress"]); strings.Contains(in, "0.0.0.0/0") || strings.Contains(in, "::/0") {
					t.Errorf("%s/%s: open ingress %s", stackName(env, kind), id, in)
				}
			}
			for id, r := range resourcesOfType(raw, "AWS::EC2::SecurityGroupIngress") {
				if p := asJSON(props(r)); strings.Contains(p, "0.0.0.0/0") || strings.Contains(p, "::/0") {
					t.Errorf("%s/%s: open ingress %s", stackName(env, kind), id, p)
				}
			}
		}
	}
}
