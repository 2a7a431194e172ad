package stacks_test

import (
	"fmt"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/example/secret-rotation/connect"
	"github.com/example/secret-rotation/internal/operator"
	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/stacks"
)

// secretsManagerCallers are the interfaces through which this project's code
// calls Secrets Manager: the rotation function, rotatectl (and the
// post-deploy check, which runs it) and the connect library. Each method is
// one API call and one IAM action of the same name.
var secretsManagerCallers = map[string]reflect.Type{
	"rotation function (internal/rotation)": reflect.TypeFor[rotation.SecretsManager](),
	"rotatectl (internal/operator)":         reflect.TypeFor[operator.SecretsManager](),
	"connect library (connect)":             reflect.TypeFor[connect.SecretsClient](),
}

// calledSecretsManagerActions returns every "secretsmanager:<Operation>" the
// code calls, with the callers of each.
func calledSecretsManagerActions() map[string][]string {
	out := map[string][]string{}
	for caller, typ := range secretsManagerCallers {
		for i := range typ.NumMethod() {
			action := "secretsmanager:" + typ.Method(i).Name
			out[action] = append(out[action], caller)
		}
	}
	return out
}

// Values the evaluator substitutes for the pseudo parameters.
const (
	evalAccount   = "111111111111"
	evalRegion    = "eu-west-1"
	otherAccount  = "222222222222"
	evalSecretArn = "arn:aws:secretsmanager:" + evalRegion + ":" + evalAccount + ":secret:SecretRotation-prod-MasterSecret-AbCdEf"
)

// TestSecretsManagerEndpointPolicyAllowsEveryCall evaluates the interface
// endpoint's policy (prod and isolated, the environments with the endpoint)
// for every Secrets Manager action the code calls, as IAM would for a
// principal of this account: a call on a secret of this account carries
// aws:PrincipalAccount and aws:ResourceAccount; GetRandomPassword (and any
// other action without a resource type) carries no resource and no
// aws:ResourceAccount, and must still be allowed, or the rotation function's
// createSecret step fails through the endpoint. Principals of other accounts
// and secrets of other accounts stay denied.
func TestSecretsManagerEndpointPolicyAllowsEveryCall(t *testing.T) {
	actions := calledSecretsManagerActions()
	if _, ok := actions["secretsmanager:GetRandomPassword"]; !ok || len(actions) < 5 {
		t.Fatalf("called actions = %v: the interfaces no longer describe the calls", actions)
	}
	names := make([]string, 0, len(actions))
	for a := range actions {
		names = append(names, a)
	}
	sort.Strings(names)
	for _, env := range []string{"prod", "isolated"} {
		t.Run(env, func(t *testing.T) {
			_, ep := onlyResource(t, templateJSON(t, env, "Network"), "AWS::EC2::VPCEndpoint")
			policy := statements(props(ep)["PolicyDocument"])
			for _, action := range names {
				resourceless := slices.Contains(stacks.ResourcelessSecretsManagerActions, action) || action == "secretsmanager:BatchGetSecretValue"
				req := iamRequest{action: action, context: map[string]string{"aws:PrincipalAccount": evalAccount}}
				if !resourceless {
					req.resource = evalSecretArn
					req.context["aws:ResourceAccount"] = evalAccount
				}
				if ok, why := evaluate(policy, req); !ok {
					t.Errorf("%s (called by %s) is denied through the endpoint: %s", action, strings.Join(actions[action], ", "), why)
				}

				other := req
				other.context = map[string]string{"aws:PrincipalAccount": otherAccount}
				if !resourceless {
					other.context["aws:ResourceAccount"] = evalAccount
				}
				if ok, _ := evaluate(policy, other); ok {
					t.Errorf("%s by a principal of another account is allowed through the endpoint", action)
				}
				if !resourceless {
					foreign := iamRequest{action: action, resource: strings.Replace(evalSecretArn, evalAccount, otherAccount, 1),
						context: map[string]string{"aws:PrincipalAccount": evalAccount, "aws:ResourceAccount": otherAccount}}
					if ok, _ := evaluate(policy, foreign); ok {
						t.Errorf("%s on another account's secret is allowed through the endpoint", action)
					}
				}
			}
		})
	}
}

// iamRequest is one request as IAM evaluates it: the action, the resource
// ARN ("" for actions without a resource type) and the condition keys present.
type iamRequest struct {
	action, resource string
	context          map[string]string
}

// evaluate decides a request against resource-policy statements the way IAM
// does for the subset this project writes: an explicit Deny wins, otherwise
// some Allow must match action, resource and every condition. Anything
// outside that subset fails the decision with a reason rather than guessing.
func evaluate(statements []map[string]any, req iamRequest) (bool, string) {
	allowed, why := false, "no statement allows it"
	for i, st := range statements {
		match, reason := statementMatches(st, req)
		if reason != "" && strings.HasPrefix(reason, "unsupported") {
			return false, fmt.Sprintf("statement %d: %s", i, reason)
		}
		if !match {
			if reason != "" {
				why = fmt.Sprintf("statement %d (%v): %s", i, st["Sid"], reason)
			}
			continue
		}
		if st["Effect"] == "Deny" {
			return false, fmt.Sprintf("statement %d denies it", i)
		}
		allowed = true
	}
	if allowed {
		return true, ""
	}
	return false, why
}

func statementMatches(st map[string]any, req iamRequest) (bool, string) {
	for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
		if _, ok := st[k]; ok {
			return false, "unsupported " + k
		}
	}
	if p := asJSON(st["Principal"]); p != `"*"` && p != `{"AWS":"*"}` {
		return false, "unsupported Principal " + p
	}
	if !anyMatch(policyValues(st["Action"]), strings.ToLower(req.action), true) {
		return false, ""
	}
	resources := policyValues(st["Resource"])
	if req.resource == "" {
		// An action without a resource type matches only Resource "*".
		if !slices.Contains(resources, "*") {
			return false, "the action names no resource and Resource is not \"*\""
		}
	} else if !anyMatch(resources, req.resource, false) {
		return false, fmt.Sprintf("resource %s not in %v", req.resource, resources)
	}
	conds, _ := st["Condition"].(map[string]any)
	for op, kv := range conds {
		keys, _ := kv.(map[string]any)
		for key, want := range keys {
			got, present := req.context[key]
			switch op {
			case "StringEquals":
				// A key absent from the request context never matches.
				if !present || !slices.Contains(policyValues(want), got) {
					return false, fmt.Sprintf("condition %s %s = %v, request has %q (present: %v)", op, key, policyValues(want), got, present)
				}
			case "StringEqualsIfExists":
				if present && !slices.Contains(policyValues(want), got) {
					return false, fmt.Sprintf("condition %s %s = %v, request has %q", op, key, policyValues(want), got)
				}
			default:
				return false, "unsupported condition operator " + op
			}
		}
	}
	return true, ""
}

// anyMatch reports whether value matches one of the IAM wildcard patterns
// (* and ?); actions compare case-insensitively.
func anyMatch(patterns []string, value string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p = strings.ToLower(p)
		}
		// path.Match's * stops at "/", IAM's does not: match with "/" swapped out.
		if ok, err := path.Match(strings.ReplaceAll(p, "/", "\x00"), strings.ReplaceAll(value, "/", "\x00")); err == nil && ok {
			return true
		}
	}
	return false
}

// policyValues resolves a policy value (a string, a list, or an intrinsic function
// over the pseudo parameters) into strings, with the evaluator's account,
// region and partition.
func policyValues(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, policyValues(e)...)
		}
		return out
	}
	return []string{resolveString(v)}
}

func resolveString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			switch ref {
			case "AWS::AccountId":
				return evalAccount
			case "AWS::Region":
				return evalRegion
			case "AWS::Partition":
				return "aws"
			}
		}
		if join, ok := x["Fn::Join"].([]any); ok && len(join) == 2 {
			sep, _ := join[0].(string)
			parts, _ := join[1].([]any)
			out := make([]string, len(parts))
			for i, p := range parts {
				out[i] = resolveString(p)
			}
			return strings.Join(out, sep)
		}
	}
	// Something the evaluator does not model: a value no request can match.
	return "<unresolved " + asJSON(v) + ">"
}
