package compliance

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Suppression is one reviewed exception to a rule on one resource.
type Suppression struct {
	// Rule is the rule id, e.g. "AwsSolutions-IAM5".
	Rule string
	// Reason says why the finding is acceptable; reviewers read it in the
	// template metadata and the table in docs/security.md.
	Reason string
	// AppliesTo lists the exact findings the suppression covers, as cdk-nag
	// reports them in brackets (e.g. "Resource::*" for AwsSolutions-IAM5).
	// Empty means every finding of the rule on this resource; use it only for
	// rules that report no finding ids.
	AppliesTo []string
}

// minReasonLength keeps reasons reviewable ("n/a" is not a reason); cdk-nag
// itself requires 10 characters.
const minReasonLength = 20

// Suppress records suppressions on resource only: an L1 CfnResource, or an
// L2 construct whose default child is the CfnResource to suppress. It never
// applies to children, so a new resource added later is checked in full.
// It returns an error for an unknown target or an incomplete suppression.
func Suppress(resource constructs.IConstruct, suppressions ...Suppression) error {
	if resource == nil {
		return fmt.Errorf("suppress: nil resource")
	}
	target := resource
	if !isCfnResource(target) {
		child := target.Node().DefaultChild()
		if child == nil || !isCfnResource(child) {
			return fmt.Errorf("suppress %s: not a CloudFormation resource and has no default child resource", *resource.Node().Path())
		}
		target = child
	}
	list := make([]*cdknag.NagPackSuppression, 0, len(suppressions))
	for _, s := range suppressions {
		if !strings.Contains(s.Rule, "-") {
			return fmt.Errorf("suppress %s: rule id %q: want <pack>-<rule>, e.g. AwsSolutions-IAM5", *target.Node().Path(), s.Rule)
		}
		if len(strings.TrimSpace(s.Reason)) < minReasonLength {
			return fmt.Errorf("suppress %s %s: reason %q: give a reviewer-grade reason (at least %d characters)", *target.Node().Path(), s.Rule, s.Reason, minReasonLength)
		}
		n := &cdknag.NagPackSuppression{Id: jsii.String(s.Rule), Reason: jsii.String(s.Reason)}
		if len(s.AppliesTo) > 0 {
			applies := make([]any, len(s.AppliesTo))
			for i, a := range s.AppliesTo {
				applies[i] = a
			}
			n.AppliesTo = &applies
		}
		list = append(list, n)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(target, &list, jsii.Bool(false))
	return nil
}

// MustSuppress is [Suppress] for suppressions written in code (constant rule
// ids and reasons), where an error is a programming mistake: it panics, which
// jsii-calling constructors in this project turn into a synth error.
func MustSuppress(resource constructs.IConstruct, suppressions ...Suppression) {
	if err := Suppress(resource, suppressions...); err != nil {
		panic(err)
	}
}

func isCfnResource(c constructs.IConstruct) bool {
	ok := awscdk.CfnResource_IsCfnResource(c)
	return ok != nil && *ok
}
