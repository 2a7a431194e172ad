package stacks_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/config"
	"github.com/example/secret-rotation/stacks"
)

// The tests of this file check, on every synthesized template, what a
// rotation schedule needs when CloudFormation creates it, because Secrets
// Manager starts the first rotation right then: Secrets Manager may
// invoke the function for that very secret, the function may rotate it,
// and, for an application user, its database's master is not in the
// middle of its own first rotation.

// arnEnv are the values the pseudo parameters of one stack resolve to.
type arnEnv struct{ partition, region, account string }

// envOf is the ARN environment of a stack: its own region and account
// when known at synthesis, placeholders otherwise.
func envOf(s awscdk.Stack) arnEnv {
	e := arnEnv{partition: "aws", region: "test-region-1", account: "111111111111"}
	if r := s.Region(); !*awscdk.Token_IsUnresolved(r) {
		e.region = *r
	}
	if a := s.Account(); !*awscdk.Token_IsUnresolved(a) {
		e.account = *a
	}
	return e
}

// arnResolver turns the intrinsics the templates use for ARNs into the
// ARNs CloudFormation would produce, with each unnamed secret given the
// name CloudFormation generates from its logical id. Anything else is an
// error: the tests fail on what they cannot check.
type arnResolver struct {
	tpl map[string]any
	env arnEnv
}

func (r arnResolver) resource(id string) (map[string]any, bool) {
	res, _ := r.tpl["Resources"].(map[string]any)
	v, ok := res[id].(map[string]any)
	return v, ok
}

func (r arnResolver) pseudo(name string) (string, bool) {
	switch name {
	case "AWS::Partition":
		return r.env.partition, true
	case "AWS::Region":
		return r.env.region, true
	case "AWS::AccountId":
		return r.env.account, true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	}
	return "", false
}

// ref is what Ref returns for the template's resource id, as far as a
// secret ARN goes.
func (r arnResolver) ref(id string) (string, error) {
	if v, ok := r.pseudo(id); ok {
		return v, nil
	}
	res, ok := r.resource(id)
	if !ok {
		return "", fmt.Errorf("Ref %s: no such resource", id)
	}
	switch res["Type"] {
	case "AWS::SecretsManager::Secret":
		name, _ := props(res)["Name"].(string)
		if name == "" {
			// CloudFormation names an unnamed secret after its logical id.
			name = id + "-GeneratedByCfn"
		}
		return fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-AbCdEf", r.env.partition, r.env.region, r.env.account, name), nil
	case "AWS::SecretsManager::SecretTargetAttachment":
		// Ref of an attachment is the attached secret's ARN.
		return r.resolve(props(res)["SecretId"])
	}
	return "", fmt.Errorf("Ref %s: a %v, not a secret", id, res["Type"])
}

// resolve evaluates v, a string or the intrinsics Ref, Fn::Join and
// Fn::Sub (without a variable map) over secrets and pseudo parameters.
func (r arnResolver) resolve(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case map[string]any:
		if len(x) != 1 {
			break
		}
		if id, ok := x["Ref"].(string); ok {
			return r.ref(id)
		}
		if join, ok := x["Fn::Join"].([]any); ok && len(join) == 2 {
			sep, _ := join[0].(string)
			parts, _ := join[1].([]any)
			var out []string
			for _, p := range parts {
				s, err := r.resolve(p)
				if err != nil {
					return "", err
				}
				out = append(out, s)
			}
			return strings.Join(out, sep), nil
		}
		if sub, ok := x["Fn::Sub"].(string); ok {
			var err error
			out := regexp.MustCompile(`\$\{([^}!]+)\}`).ReplaceAllStringFunc(sub, func(m string) string {
				s, e := r.ref(m[2 : len(m)-1])
				if e != nil && err == nil {
					err = e
				}
				return s
			})
			return out, err
		}
	}
	return "", fmt.Errorf("cannot resolve %s to an ARN", asJSON(v))
}

// arnLike is IAM's ArnLike: the six colon-separated parts of the ARN are
// matched one by one, each with * (any run) and ? (any one character).
// Lambda documents StringLike for SourceArn (one * may span colons); for
// the patterns here, a prefix ending in *, both agree, and ArnLike is the
// stricter.
func arnLike(pattern, arn string) bool {
	p, a := strings.SplitN(pattern, ":", 6), strings.SplitN(arn, ":", 6)
	if len(p) != 6 || len(a) != 6 {
		return false
	}
	for i := range p {
		if !globMatch(p[i], a[i]) {
			return false
		}
	}
	return true
}

func globMatch(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && globMatch(p[1:], s[1:])
	}
	return s != "" && s[0] == p[0] && globMatch(p[1:], s[1:])
}

func TestArnLike(t *testing.T) {
	const secret = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:SecretRotation/multi/orders/app-AbCdEf"
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{secret, true},
		{"arn:aws:secretsmanager:eu-west-1:111111111111:secret:SecretRotation/multi/*", true},
		{"arn:aws:secretsmanager:eu-west-1:111111111111:secret:SecretRotation/multi/orders/app-??????", true},
		{"arn:aws:secretsmanager:eu-west-1:111111111111:secret:SecretRotation/dev/*", false},
		{"arn:aws:secretsmanager:eu-west-1:222222222222:secret:SecretRotation/multi/*", false},
		{"arn:aws:secretsmanager:*:111111111111:secret:*", true},
		{"arn:aws:secretsmanager:eu-west-1:111111111111:secret:MasterSecretA11BF785-*", false},
	} {
		if got := arnLike(tc.pattern, secret); got != tc.want {
			t.Errorf("arnLike(%s) = %v, want %v", tc.pattern, got, tc.want)
		}
	}
}

// dependsOn returns a resource's DependsOn as a list.
func dependsOn(res map[string]any) []string {
	switch d := res["DependsOn"].(type) {
	case string:
		return []string{d}
	case []any:
		return strs(d)
	}
	return nil
}

// schedulesOf returns the rotation schedules of every template of env
// (the database stacks hold them), with the template and its resolver.
type scheduleAt struct {
	where, id string
	schedule  map[string]any
	tpl       map[string]any
	resolver  arnResolver
}

func schedulesIn(where string, tpl map[string]any, env arnEnv) []scheduleAt {
	var out []scheduleAt
	for id, s := range resourcesOfType(tpl, "AWS::SecretsManager::RotationSchedule") {
		out = append(out, scheduleAt{where: where, id: id, schedule: s, tpl: tpl, resolver: arnResolver{tpl: tpl, env: env}})
	}
	return out
}

func schedulesOf(t *testing.T, env string) []scheduleAt {
	var out []scheduleAt
	s := synthesized.envs[env]
	for _, kind := range kindsOf(env) {
		out = append(out, schedulesIn(env+"/"+kind, templateJSON(t, env, kind), envOf(s.Rotation.Stack))...)
	}
	return out
}

// checkScheduleInvokePermission: some Lambda permission of the schedule's template
// lets Secrets Manager invoke the schedule's function for the schedule's
// secret (SourceArn, if any, matches it as ArnLike does; SourceAccount,
// if any, is the stack's account), and the schedule depends on it.
func checkScheduleInvokePermission(t *testing.T, s scheduleAt) {
	t.Helper()
	p := props(s.schedule)
	secretArn, err := s.resolver.resolve(p["SecretId"])
	if err != nil {
		t.Errorf("%s %s: SecretId: %v", s.where, s.id, err)
		return
	}
	fn := p["RotationLambdaARN"]
	if fn == nil {
		t.Errorf("%s %s: no RotationLambdaARN", s.where, s.id)
		return
	}
	deps := dependsOn(s.schedule)
	var admitting, dependedOn []string
	for id, perm := range resourcesOfType(s.tpl, "AWS::Lambda::Permission") {
		pp := props(perm)
		if pp["Principal"] != "secretsmanager.amazonaws.com" || pp["Action"] != "lambda:InvokeFunction" || asJSON(pp["FunctionName"]) != asJSON(fn) {
			continue
		}
		if account, ok := pp["SourceAccount"]; ok {
			got, err := s.resolver.resolve(account)
			if err != nil {
				t.Errorf("%s %s: SourceAccount: %v", s.where, id, err)
				continue
			}
			if got != s.resolver.env.account {
				continue
			}
		}
		if source, ok := pp["SourceArn"]; ok {
			pattern, err := s.resolver.resolve(source)
			if err != nil {
				t.Errorf("%s %s: SourceArn: %v", s.where, id, err)
				continue
			}
			if !arnLike(pattern, secretArn) {
				continue
			}
		}
		admitting = append(admitting, id)
		if slices.Contains(deps, id) {
			dependedOn = append(dependedOn, id)
		}
	}
	switch {
	case len(admitting) == 0:
		t.Errorf("%s %s: no Lambda permission lets Secrets Manager invoke the function for %s: its rotations fail", s.where, s.id, secretArn)
	case len(dependedOn) == 0:
		t.Errorf("%s %s: the permissions %v for %s are not in DependsOn %v: the first rotation may run before", s.where, s.id, admitting, secretArn, deps)
	}
}

// TestEveryScheduleMayInvokeItsFunction runs checkScheduleInvokePermission over
// every rotation schedule of every environment.
func TestEveryScheduleMayInvokeItsFunction(t *testing.T) {
	n := 0
	for _, env := range testEnvironments {
		for _, s := range schedulesOf(t, env) {
			n++
			checkScheduleInvokePermission(t, s)
		}
	}
	if n == 0 {
		t.Fatal("no rotation schedule found")
	}
}

// secretOf is the logical id of the secret a schedule rotates, through
// an attachment, or "" for an imported one.
func secretOf(s scheduleAt) string {
	ref, _ := props(s.schedule)["SecretId"].(map[string]any)
	id, _ := ref["Ref"].(string)
	if res, ok := s.resolver.resource(id); ok && res["Type"] == "AWS::SecretsManager::SecretTargetAttachment" {
		ref, _ = props(res)["SecretId"].(map[string]any)
		id, _ = ref["Ref"].(string)
	}
	return id
}

// checkResourcePolicies: when the function's access to the secret is in
// the secret's resource policy (a statement naming the rotation actions),
// the schedule depends on that policy, and on the secret's key (whose
// key policy holds the function's statement) when the key is in the same
// template.
func checkResourcePolicies(t *testing.T, s scheduleAt) int {
	t.Helper()
	secret := secretOf(s)
	if secret == "" {
		return 0
	}
	deps := dependsOn(s.schedule)
	checked := 0
	for id, pol := range resourcesOfType(s.tpl, "AWS::SecretsManager::ResourcePolicy") {
		if asJSON(props(pol)["SecretId"]) != asJSON(map[string]any{"Ref": secret}) || !strings.Contains(asJSON(props(pol)["ResourcePolicy"]), "secretsmanager:PutSecretValue") {
			continue
		}
		checked++
		if !slices.Contains(deps, id) {
			t.Errorf("%s %s: the secret's resource policy %s (the function's access) is not in DependsOn %v", s.where, s.id, id, deps)
		}
		res, _ := s.resolver.resource(secret)
		key, _ := props(res)["KmsKeyId"].(map[string]any)
		var keyID string
		if ga, ok := key["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			keyID, _ = ga[0].(string)
		} else if ref, ok := key["Ref"].(string); ok {
			keyID = ref
		}
		if k, ok := s.resolver.resource(keyID); ok && k["Type"] == "AWS::KMS::Key" {
			if !strings.Contains(asJSON(props(k)["KeyPolicy"]), "RotationFunctionThroughSecretsManager") {
				t.Errorf("%s %s: key %s has no statement for the function", s.where, s.id, keyID)
			}
			if !slices.Contains(deps, keyID) {
				t.Errorf("%s %s: the secret's key %s (its key policy lets the function decrypt) is not in DependsOn %v", s.where, s.id, keyID, deps)
			}
		}
	}
	return checked
}

// TestSchedulesWaitForResourcePolicies runs checkResourcePolicies over
// every schedule; every user secret's must have been checked.
func TestSchedulesWaitForResourcePolicies(t *testing.T) {
	users := 0
	for _, env := range testEnvironments {
		for _, s := range schedulesOf(t, env) {
			n := checkResourcePolicies(t, s)
			if strings.HasPrefix(s.id, "Users") {
				if n != 1 {
					t.Errorf("%s %s: %d resource policies of its secret with the function's access, want 1", s.where, s.id, n)
				}
				users++
			}
		}
	}
	if users == 0 {
		t.Fatal("no user rotation schedule found")
	}
}

// checkUsersAfterMaster: every user's schedule of db depends on the
// master's schedule when the master is rotated in the same stack.
func checkUsersAfterMaster(t *testing.T, where string, tpl map[string]any, db *stacks.DatabaseStack) int {
	t.Helper()
	if db.Rotation == nil {
		return 0
	}
	master := *db.Stack.GetLogicalId(db.Rotation.Schedule)
	schedules := resourcesOfType(tpl, "AWS::SecretsManager::RotationSchedule")
	if schedules[master] == nil {
		t.Errorf("%s: master schedule %s not in the template", where, master)
		return 0
	}
	for _, u := range db.Users {
		id := *db.Stack.GetLogicalId(u.Rotation.Schedule)
		if deps := dependsOn(schedules[id]); !slices.Contains(deps, master) {
			t.Errorf("%s %s: DependsOn %v lacks the master's schedule %s", where, id, deps, master)
		}
	}
	return len(db.Users)
}

// TestUserRotationsAfterMasterRotation runs checkUsersAfterMaster over
// every database stack.
func TestUserRotationsAfterMasterRotation(t *testing.T) {
	checked := 0
	for _, env := range testEnvironments {
		for i, kind := range databaseKinds(env) {
			checked += checkUsersAfterMaster(t, env+"/"+kind, templateJSON(t, env, kind), synthesized.envs[env].Databases[i])
		}
	}
	if checked == 0 {
		t.Fatal("no user of a database with a master rotation checked")
	}
}

// TestExistingMasterRotationWiring synthesizes an environment whose
// existing database's master is rotated (rotateMaster) and has a user,
// which the shared synth lacks, and runs the checks above on it.
func TestExistingMasterRotationWiring(t *testing.T) {
	if testing.Short() {
		t.Skip("a synth of its own")
	}
	ctx := map[string]any{}
	for k, v := range synthesized.context {
		ctx[k] = v
	}
	ctx[config.ContextEnvironments] = map[string]any{"xm": map[string]any{
		"databases": map[string]any{
			"crm": map[string]any{
				"existing": map[string]any{
					"instanceIdentifier": "legacy-crm",
					"endpoint":           "legacy-crm.abcdefghijkl.eu-west-1.rds.amazonaws.com",
					"securityGroupId":    "sg-0123456789abcdef0",
					"masterSecretArn":    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:legacy/crm/master-AbCdEf",
					"rotateMaster":       true,
				},
				"users": []any{map[string]any{"name": "crm_app", "grants": []any{"SELECT ON crm.*"}}},
			},
		},
	}}
	ctx[config.ContextEnv] = "xm"
	cfg, err := config.Load(config.ContextMap(ctx), nil)
	if err != nil {
		t.Fatal(err)
	}
	outdir, err := os.MkdirTemp("", "stacks-xm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(outdir)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir), Context: &ctx})
	s, err := stacks.NewEnvironmentStacks(app, cfg.Environments["xm"], stacks.WithModuleRoot(synthesized.moduleRoot))
	if err != nil {
		t.Fatal(err)
	}
	app.Synth(nil)
	users := 0
	for _, db := range s.Databases {
		if db.Rotation == nil || len(db.Users) == 0 {
			continue
		}
		name := *db.Stack.StackName()
		tpl := readTemplate(t, filepath.Join(outdir, *db.Stack.ArtifactId()+".template.json"))
		for _, sch := range schedulesIn(name, tpl, envOf(db.Stack)) {
			checkScheduleInvokePermission(t, sch)
			checkResourcePolicies(t, sch)
		}
		users += checkUsersAfterMaster(t, name, tpl, db)
	}
	if users != 1 {
		t.Fatalf("%d users of an existing database with rotateMaster checked, want 1", users)
	}
}
