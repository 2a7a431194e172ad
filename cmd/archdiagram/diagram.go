package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// template is the part of a CloudFormation template the diagram needs.
type template struct {
	Resources map[string]resource `json:"Resources"`
	Outputs   map[string]struct {
		Value any `json:"Value"`
	} `json:"Outputs"`
}

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

// stackTemplate is one synthesized stack.
type stackTemplate struct {
	name string
	tpl  template
}

// nodeLabels names the resource types drawn as boxes; everything else is
// plumbing (roles, routes, rules) and only contributes edges.
var nodeLabels = map[string]string{
	"AWS::EC2::VPC":                         "VPC",
	"AWS::EC2::NatGateway":                  "NAT gateway",
	"AWS::EC2::VPCEndpoint":                 "Secrets Manager endpoint",
	"AWS::EC2::FlowLog":                     "VPC flow log",
	"AWS::Lambda::Function":                 "Rotation function<br/>provided.al2023 arm64",
	"AWS::EC2::SecurityGroup":               "Security group",
	"AWS::RDS::DBInstance":                  "RDS for MySQL",
	"AWS::SecretsManager::Secret":           "Master secret",
	"AWS::SecretsManager::RotationSchedule": "Rotation schedule",
	"AWS::EC2::Instance":                    "Operator host (SSM)",
	"AWS::SNS::Topic":                       "SNS topic (KMS)",
	"AWS::Events::Rule":                     "EventBridge rule",
	"AWS::CloudWatch::Alarm":                "Errors alarm",
	"AWS::Config::ConfigRule":               "AWS Config rule",
}

// passThrough types are not drawn; a reference to one stands for the
// references it makes (the secret attachment points at the secret and the
// instance, the subnet group at the subnets).
var passThrough = map[string]bool{
	"AWS::SecretsManager::SecretTargetAttachment": true,
	"AWS::RDS::DBSubnetGroup":                     true,
}

// stackOrder sorts the stacks of an environment in deployment order.
var stackOrder = []string{"Network", "Rotation", "Database", "Monitoring"}

// loadTemplates reads every *.template.json in dir.
func loadTemplates(dir string) ([]stackTemplate, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.template.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no *.template.json in %s: run `go run .` first", dir)
	}
	var out []stackTemplate
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var t template
		if err := json.Unmarshal(data, &t); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, stackTemplate{name: strings.TrimSuffix(filepath.Base(p), ".template.json"), tpl: t})
	}
	sort.Slice(out, func(i, j int) bool { return stackRank(out[i].name) < stackRank(out[j].name) })
	return out, nil
}

// stackRank orders by environment, then network, rotation, database, monitoring.
func stackRank(name string) string {
	for i, kind := range stackOrder {
		if strings.HasSuffix(name, "-"+kind) {
			return fmt.Sprintf("%s/%d", strings.TrimSuffix(name, kind), i)
		}
	}
	return name + "/9"
}

// refsIn collects the resources a value refers to: Ref, Fn::GetAtt and
// Fn::GetStackOutput / Fn::ImportValue resolved through the producing stack's outputs.
func refsIn(v any, stack string, stacks map[string]template, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x["Ref"].(string); ok && !strings.HasPrefix(r, "AWS::") {
			out[stack+"/"+r] = true
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
			if id, ok := ga[0].(string); ok {
				out[stack+"/"+id] = true
			}
		}
		if gso, ok := x["Fn::GetStackOutput"].(map[string]any); ok {
			producer, _ := gso["StackName"].(string)
			output, _ := gso["OutputName"].(string)
			if t, ok := stacks[producer]; ok {
				refsIn(t.Outputs[output].Value, producer, stacks, out)
			}
		}
		for k, child := range x {
			if k != "Fn::GetStackOutput" {
				refsIn(child, stack, stacks, out)
			}
		}
	case []any:
		for _, child := range x {
			refsIn(child, stack, stacks, out)
		}
	}
}

// render writes the Mermaid flowchart of the stacks.
func render(stacks []stackTemplate) string {
	byName := map[string]template{}
	for _, s := range stacks {
		byName[s.name] = s.tpl
	}
	nodeID := map[string]string{} // "stack/logicalId" -> mermaid id
	var b strings.Builder
	b.WriteString("```mermaid\nflowchart LR\n")
	n := 0
	for _, s := range stacks {
		fmt.Fprintf(&b, "  subgraph %s[\"%s\"]\n", mermaidID(s.name), s.name)
		subnets := map[string]int{}
		for _, id := range sortedIDs(s.tpl.Resources) {
			r := s.tpl.Resources[id]
			if r.Type == "AWS::EC2::Subnet" {
				subnets[subnetGroup(r)]++
				continue
			}
			label, ok := nodeLabels[r.Type]
			if !ok {
				continue
			}
			if r.Type == "AWS::Lambda::Function" && r.Properties["Handler"] != "bootstrap" {
				label = "CDK custom resource handler"
			}
			if r.Type == "AWS::Lambda::Function" && strings.Contains(fmt.Sprint(r.Properties["Environment"]), "DOCTOR_TOPIC_ARN") {
				label = "Rotation doctor<br/>provided.al2023 arm64"
			}
			if r.Type == "AWS::EC2::SecurityGroup" {
				label = "Security group<br/>" + strings.TrimSuffix(strings.SplitN(fmt.Sprint(r.Properties["GroupDescription"]), ":", 2)[0], ".")
			}
			n++
			mid := fmt.Sprintf("n%d", n)
			nodeID[s.name+"/"+id] = mid
			fmt.Fprintf(&b, "    %s[\"%s\"]\n", mid, label)
		}
		for _, group := range sortedIDs(subnets) {
			n++
			mid := fmt.Sprintf("n%d", n)
			nodeID[s.name+"/subnets:"+group] = mid
			fmt.Fprintf(&b, "    %s[\"%s subnets x%d\"]\n", mid, group, subnets[group])
		}
		b.WriteString("  end\n")
	}

	edges := map[string]bool{}
	for _, s := range stacks {
		for _, id := range sortedIDs(s.tpl.Resources) {
			r := s.tpl.Resources[id]
			from, isNode := nodeID[s.name+"/"+id]
			if r.Type == "AWS::EC2::SecurityGroupIngress" {
				src, dst := map[string]bool{}, map[string]bool{}
				refsIn(r.Properties["SourceSecurityGroupId"], s.name, byName, src)
				refsIn(r.Properties["GroupId"], s.name, byName, dst)
				for sk := range src {
					for dk := range dst {
						if a, b := nodeID[sk], nodeID[dk]; a != "" && b != "" {
							edges[fmt.Sprintf("  %s -- \"tcp/%v\" --> %s", a, r.Properties["FromPort"], b)] = true
						}
					}
				}
				continue
			}
			if !isNode {
				continue
			}
			refs := map[string]bool{}
			refsIn(r.Properties, s.name, byName, refs)
			expandPassThrough(refs, byName)
			for ref := range refs {
				if to := nodeID[ref]; to != "" && to != from {
					edges[fmt.Sprintf("  %s --> %s", from, to)] = true
				}
				if stack, logical, ok := strings.Cut(ref, "/"); ok {
					if t, ok := byName[stack]; ok && t.Resources[logical].Type == "AWS::EC2::Subnet" {
						if to := nodeID[stack+"/subnets:"+subnetGroup(t.Resources[logical])]; to != "" {
							edges[fmt.Sprintf("  %s --> %s", from, to)] = true
						}
					}
				}
			}
		}
	}
	for _, e := range sortedIDs(edges) {
		b.WriteString(e + "\n")
	}
	b.WriteString("```\n")
	return b.String()
}

// expandPassThrough adds the references of referenced pass-through resources.
func expandPassThrough(refs map[string]bool, stacks map[string]template) {
	for changed := true; changed; {
		changed = false
		for ref := range refs {
			stack, logical, _ := strings.Cut(ref, "/")
			r := stacks[stack].Resources[logical]
			if !passThrough[r.Type] {
				continue
			}
			more := map[string]bool{}
			refsIn(r.Properties, stack, stacks, more)
			for m := range more {
				if !refs[m] {
					refs[m], changed = true, true
				}
			}
		}
	}
}

// subnetGroup returns the CDK subnet group name from the subnet's tags.
func subnetGroup(r resource) string {
	tags, _ := r.Properties["Tags"].([]any)
	for _, t := range tags {
		if m, ok := t.(map[string]any); ok && m["Key"] == "aws-cdk:subnet-name" {
			return fmt.Sprint(m["Value"])
		}
	}
	return "Other"
}

func mermaidID(s string) string {
	return strings.NewReplacer("-", "_", ".", "_", " ", "_").Replace(s)
}

func sortedIDs[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
