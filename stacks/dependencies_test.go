package stacks_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestStackDependenciesFlowOneWay checks the cloud assembly: network has no
// stack dependency, rotation depends on network, database on both,
// monitoring on all three, and no template refers to a stack that comes
// later.
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
		kinds := kindsOf(env)
		order := make([]string, len(kinds))
		for i, kind := range kinds {
			order[i] = stackName(env, kind)
		}
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
			if slices.Contains(singleDatabaseEnvironments, env) {
				if strings.Join(stackDeps, ",") != strings.Join(want, ",") {
					t.Errorf("%s depends on %v, want %v", name, stackDeps, want)
				}
			} else {
				// Databases depend on the network and the function, not on
				// each other; everything depends on earlier stacks only.
				for _, d := range stackDeps {
					if !slices.Contains(want, d) {
						t.Errorf("%s depends on %s, not an earlier stack of %v", name, d, want)
					}
				}
				// (An existing database's stack needs no VPC reference.)
				if i >= 2 && !slices.Contains(stackDeps, order[1]) {
					t.Errorf("%s depends on %v, want at least the rotation stack", name, stackDeps)
				}
			}
			refs := referencedStacks(templateJSON(t, env, order[i][len("SecretRotation-"+env+"-"):]), exporters(t, env))
			for _, later := range order[i+1:] {
				if refs[later] {
					t.Errorf("%s refers to the later stack %s", name, later)
				}
			}
		}
	}
}

// exporters maps every export name of env's templates to its stack.
func exporters(t *testing.T, env string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, kind := range kindsOf(env) {
		outputs, _ := templateJSON(t, env, kind)["Outputs"].(map[string]any)
		for _, o := range outputs {
			export, _ := o.(map[string]any)["Export"].(map[string]any)
			if name, ok := export["Name"].(string); ok {
				out[name] = stackName(env, kind)
			}
		}
	}
	return out
}

// referencedStacks returns the stacks a template refers to, whatever the
// mechanism: weak references (Fn::GetStackOutput's StackName) and exports
// (Fn::ImportValue of a name another stack exports).
func referencedStacks(tpl map[string]any, exporters map[string]string) map[string]bool {
	refs := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if g, ok := v["Fn::GetStackOutput"].(map[string]any); ok {
				if name, ok := g["StackName"].(string); ok {
					refs[name] = true
				}
			}
			if name, ok := v["Fn::ImportValue"].(string); ok {
				refs[exporters[name]] = true
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(tpl)
	return refs
}

// The reference check sees both mechanisms, so it keeps working if the
// app switches from weak references to exports.
func TestReferencedStacks(t *testing.T) {
	var tpl map[string]any
	if err := json.Unmarshal([]byte(`{"Resources":{"A":{"Properties":{
		"X":{"Fn::GetStackOutput":{"StackName":"Weak","OutputName":"O"}},
		"Y":[{"Fn::Join":["",[{"Fn::ImportValue":"Exported:Out"}]]}],
		"Z":{"Ref":"Local"}}}}}`), &tpl); err != nil {
		t.Fatal(err)
	}
	got := referencedStacks(tpl, map[string]string{"Exported:Out": "Exporter"})
	if len(got) != 2 || !got["Weak"] || !got["Exporter"] {
		t.Errorf("referenced stacks = %v, want Weak and Exporter", got)
	}
}

// TestNoOpenIngress scans every template: no security group admits 0.0.0.0/0 or ::/0.
func TestNoOpenIngress(t *testing.T) {
	for _, env := range testEnvironments {
		for _, kind := range kindsOf(env) {
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

// TestGetStackOutputOnlyAsWholeValue walks every synthesized template, the
// environments of the shared synth and the pipeline stack with the stacks
// of every pipeline stage, and fails where Fn::GetStackOutput (the weak
// cross-stack reference, cdk.json's "@aws-cdk/core:defaultCrossStackReferences":
// "weak") is the argument of another intrinsic function. CloudFormation
// documents it as a value of its own
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getstackoutput.html),
// and cfn-lint rejects it inside Fn::Join, Fn::Split, Fn::Select and the like.
// A consumer needing a derived value (an ARN, a host name) must get it
// finished from the producer's own output.
func TestGetStackOutputOnlyAsWholeValue(t *testing.T) {
	pipelineApps(t) // the pipeline cases synthesize under the shared outdir
	var templates, stageTemplates, references int
	err := filepath.WalkDir(synthesized.outdir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".template.json") {
			return err
		}
		templates++
		if strings.Contains(path, string(filepath.Separator)+"assembly-") {
			stageTemplates++
		}
		rel, _ := filepath.Rel(synthesized.outdir, path)
		walkIntrinsics(readTemplate(t, path), "", nil, func(at string, inside []string) {
			references++
			if len(inside) > 0 {
				t.Errorf("%s: Fn::GetStackOutput at %s is inside %s", rel, at, strings.Join(inside, " > "))
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The walk must have seen the stage stacks and some weak references,
	// or it proves nothing.
	if stageTemplates == 0 || references == 0 {
		t.Fatalf("walked %d templates (%d of pipeline stages) with %d Fn::GetStackOutput: want both", templates, stageTemplates, references)
	}
}

// walkIntrinsics calls found for every Fn::GetStackOutput under v, with its
// JSON path and the intrinsic functions (outermost first) it is an argument of.
func walkIntrinsics(v any, at string, inside []string, found func(at string, inside []string)) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Fn::GetStackOutput" {
					found(at, inside)
					return
				}
				if strings.HasPrefix(k, "Fn::") || k == "Ref" {
					walkIntrinsics(arg, at+"/"+k, append(inside[:len(inside):len(inside)], k), found)
					return
				}
			}
		}
		for k, e := range x {
			walkIntrinsics(e, at+"/"+k, inside, found)
		}
	case []any:
		for i, e := range x {
			walkIntrinsics(e, fmt.Sprintf("%s/%d", at, i), inside, found)
		}
	}
}
