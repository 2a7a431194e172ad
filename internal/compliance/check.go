package compliance

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
)

// Level is the severity of a finding.
type Level string

// Levels of findings; cdk-nag reports rule violations as errors or warnings.
const (
	LevelError   Level = "error"
	LevelWarning Level = "warning"
)

// Finding is one error or warning annotation of a synthesized stack.
type Finding struct {
	Level Level
	// Stack is the artifact id of the stack (its name within its assembly).
	Stack string
	// Path is the construct path of the resource, e.g.
	// /SecretRotation-dev-Database/MasterSecret/Resource.
	Path string
	// Rule is the cdk-nag rule id (e.g. AwsSolutions-IAM5), empty for
	// annotations not made by a rule pack.
	Rule string
	// FindingID is the bracketed finding (e.g. Resource::*), if any.
	FindingID string
	// Message is the whole annotation text.
	Message string
}

// String renders the finding as "error AwsSolutions-S1 at /Stack/Bucket/Resource: ...".
func (f Finding) String() string {
	rule := f.Rule
	if rule == "" {
		rule = "annotation"
	}
	if f.FindingID != "" {
		rule += "[" + f.FindingID + "]"
	}
	msg := firstLine(f.Message)
	if m := ruleRe.FindStringIndex(msg); m != nil {
		msg = msg[m[1]:]
	}
	return fmt.Sprintf("%s %s at %s: %s", f.Level, rule, f.Path, msg)
}

// ruleRe matches cdk-nag messages: "<Pack>-<Rule>[<finding>]: <text>".
var ruleRe = regexp.MustCompile(`^([A-Za-z0-9.]+-[A-Za-z0-9.]+)(?:\[([^\]]*)\])?: `)

// Findings returns the error and warning annotations of every stack in the
// assembly and in its nested (Stage) assemblies, sorted and without
// duplicates. Suppressed cdk-nag findings are not annotations, so they are
// not returned.
func Findings(assembly cxapi.CloudAssembly) []Finding {
	seen := map[Finding]bool{}
	var out []Finding
	if assembly == nil || assembly.StacksRecursively() == nil {
		return nil
	}
	for _, stack := range *assembly.StacksRecursively() {
		msgs := stack.Messages()
		if msgs == nil {
			continue
		}
		for _, m := range *msgs {
			var level Level
			switch m.Level {
			case cxapi.SynthesisMessageLevel_ERROR:
				level = LevelError
			case cxapi.SynthesisMessageLevel_WARNING:
				level = LevelWarning
			default:
				continue
			}
			f := Finding{Level: level, Stack: deref(stack.Id()), Path: deref(m.Id)}
			if m.Entry != nil {
				f.Message = fmt.Sprint(m.Entry.Data)
			}
			if sm := ruleRe.FindStringSubmatch(f.Message); sm != nil {
				f.Rule, f.FindingID = sm[1], sm[2]
			}
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Level != b.Level {
			return a.Level == LevelError
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Message < b.Message
	})
	return out
}

// ErrFindings is wrapped by the error of [Check].
var ErrFindings = errors.New("unsuppressed compliance errors")

// Check returns an error listing every error annotation of the assembly
// (rule and construct path of each), or nil when there is none. Warnings do
// not fail the check; [Findings] returns them.
func Check(assembly cxapi.CloudAssembly) error {
	var lines []string
	for _, f := range Findings(assembly) {
		if f.Level == LevelError {
			lines = append(lines, "  "+f.String())
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("%w (%d): fix the resource, or add a reviewed compliance.Suppress on it:\n%s",
		ErrFindings, len(lines), strings.Join(lines, "\n"))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
