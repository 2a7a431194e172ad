package compliance

import (
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Packs names the rule packs [Apply] adds, in order.
var Packs = []string{"AwsSolutions", "NIST.800.53.R5"}

// newPacks builds the rule packs. Reports (CSV, the cdk-nag default) land in
// the cloud assembly directory of the stack's Stage; suppressed findings are
// not logged (docs/security.md lists every suppression).
func newPacks() []awscdk.IAspect {
	props := func() *cdknag.NagPackProps {
		return &cdknag.NagPackProps{Reports: jsii.Bool(true), Verbose: jsii.Bool(false)}
	}
	return []awscdk.IAspect{
		cdknag.NewAwsSolutionsChecks(props()),
		cdknag.NewNIST80053R5Checks(props()),
	}
}

// applied remembers the scopes the packs were added to, so that a second
// Apply on the same scope or on a construct below it (within the same Stage)
// does not check, and report, every resource twice.
var applied = struct {
	sync.Mutex
	scopes map[constructs.IConstruct]bool
}{scopes: map[constructs.IConstruct]bool{}}

// Apply adds the rule packs of [Packs] to scope (an App, a Stage or a Stack)
// as aspects, with compliance reports on. Call it on the App and on every
// pipelines Stage before synthesis. It does nothing when scope, or an
// ancestor of scope within the same Stage, already has them.
func Apply(scope constructs.IConstruct) {
	applied.Lock()
	defer applied.Unlock()
	for c := scope; c != nil; c = c.Node().Scope() {
		if applied.scopes[c] {
			return
		}
		if awscdk.Stage_IsStage(c) != nil && *awscdk.Stage_IsStage(c) {
			break // aspects above a Stage do not reach into it
		}
	}
	applied.scopes[scope] = true
	for _, pack := range newPacks() {
		awscdk.Aspects_Of(scope).Add(pack, nil)
	}
}
