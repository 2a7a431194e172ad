// Package compliance runs the cdk-nag rule packs on the CDK app and turns
// their unsuppressed findings into a failed synth.
//
// Three calls make up the whole API:
//
//   - [Apply](scope) adds the rule packs ([Packs]: AwsSolutionsChecks and
//     NIST80053R5Checks, compliance reports on) as aspects of scope. Call it
//     on the App right after creating it, and on every pipelines Stage: an
//     aspect added to the App does not reach the stacks inside a Stage,
//     because a Stage is synthesized as its own nested cloud assembly. A
//     stack directly under the App (such as the pipeline stack) is already
//     covered by Apply(app); calling Apply on it again is harmless, Apply
//     skips scopes whose Stage is already checked. The reports are written
//     as <pack>-<stack>-NagReport.csv into the (nested) cloud assembly
//     directory, i.e. cdk.out.
//   - [Suppress](resource, ...) records reviewed exceptions on exactly one
//     resource (never on a stack or a whole subtree), each with the rule,
//     a reason and, where the rule reports findings, the exact findings
//     ([Suppression.AppliesTo]).
//   - [Check](assembly) reads the error annotations of every stack of the
//     synthesized assembly, nested Stage assemblies included, and returns an
//     error naming each rule and resource; the app exits non-zero on it.
//     [Findings] returns every error and warning for tests and reports.
//
// The CDK CLI already refuses to deploy stacks with error annotations; Check
// makes `go run .` (which has no CLI) fail the same way, and names the rule
// and the construct path so the fix or the suppression is obvious.
package compliance
