package stacks_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/compliance"
	"github.com/example/secret-rotation/rotationcdk"
)

// canaries are secret-looking values planted in the process environment
// (as a developer's shell or a CI job would have them) and in the CDK
// context before the shared synth; none may appear in cdk.out.
var canaries = map[string]string{}

// canaryContextKey is a test-only context key; the app never reads it, so
// its value must not be copied anywhere.
const canaryContextKey = "secret-rotation:test-canary"

func plantCanaries(ctx map[string]any) error {
	random := func(n int) (string, error) {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return strings.ToUpper(hex.EncodeToString(b)), nil
	}
	password, err := random(16)
	if err != nil {
		return err
	}
	keyID, err := random(8)
	if err != nil {
		return err
	}
	canaries["context"] = "ctx-" + password
	canaries["AWS_ACCESS_KEY_ID"] = "AKIA" + keyID
	canaries["AWS_SECRET_ACCESS_KEY"] = "secret/" + password
	canaries["DB_PASSWORD"] = "pw-" + password
	ctx[canaryContextKey] = canaries["context"]
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD"} {
		if err := os.Setenv(k, canaries[k]); err != nil {
			return err
		}
	}
	return nil
}

// TestComplianceClean: the shared synth (dev, prod and full, with the rule
// packs applied as the app applies them) has no unsuppressed error and no
// warning: not from cdk-nag, not from aws-cdk-lib.
func TestComplianceClean(t *testing.T) {
	if synthesized.complianceErr != nil {
		t.Fatalf("compliance.Synth: %v", synthesized.complianceErr)
	}
	for _, f := range compliance.Findings(synthesized.assembly) {
		t.Errorf("unsuppressed finding: %s", f)
	}
	// Reports of both packs for every stack land in the assembly directory.
	for _, env := range testEnvironments {
		for _, kind := range kindsOf(env) {
			for _, pack := range compliance.Packs {
				m, _ := filepath.Glob(filepath.Join(synthesized.outdir, pack+"-*"+stackName(env, kind)+"-NagReport.csv"))
				if len(m) != 1 {
					t.Errorf("no %s report for %s", pack, stackName(env, kind))
				}
			}
		}
	}
}

// suppressionsInTemplates returns every cdk-nag suppression recorded in the
// synthesized templates: rule id -> reasons.
func suppressionsInTemplates(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, env := range testEnvironments {
		for _, kind := range kindsOf(env) {
			resources, _ := templateJSON(t, env, kind)["Resources"].(map[string]any)
			for id, r := range resources {
				md, _ := r.(map[string]any)["Metadata"].(map[string]any)
				nag, _ := md["cdk_nag"].(map[string]any)
				rules, _ := nag["rules_to_suppress"].([]any)
				for _, rule := range rules {
					m := rule.(map[string]any)
					ruleID, _ := m["id"].(string)
					reason, _ := m["reason"].(string)
					if ruleID == "" || len(reason) < 20 {
						t.Errorf("%s %s: suppression %v without a rule or a reason", stackName(env, kind), id, m)
					}
					if !slices.Contains(out[ruleID], reason) {
						out[ruleID] = append(out[ruleID], reason)
					}
				}
			}
		}
	}
	return out
}

// TestSuppressionsDocumented: every suppression in the templates appears in
// docs/security.md (the Suppressions table) with its rule and its exact reason.
func TestSuppressionsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(synthesized.moduleRoot, "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(doc)
	found := suppressionsInTemplates(t)
	if len(found) == 0 {
		t.Fatal("no suppressions found in the templates; the test would not check anything")
	}
	for rule, reasons := range found {
		for _, reason := range reasons {
			if !strings.Contains(section, "`"+rule+"`") || !strings.Contains(section, reason) {
				t.Errorf("docs/security.md lacks the suppression %s with reason %q", rule, reason)
			}
		}
	}
}

var (
	privateKeyRe = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)
	accessKeyRe  = regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)
	secretNameRe = regexp.MustCompile(`(?i)password|secret|token|credential|apikey|private`)
)

// TestNothingSecretInOutput scans every file of the cloud assembly
// (templates, manifests, reports and the function asset with its binary)
// for private keys, AWS access key ids and the planted canaries, and every
// template for literal passwords and NoEcho misuse.
func TestNothingSecretInOutput(t *testing.T) {
	files := 0
	err := filepath.WalkDir(synthesized.outdir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(synthesized.outdir, path)
		if m := privateKeyRe.Find(data); m != nil {
			t.Errorf("%s contains a private key (%s)", rel, m)
		}
		if m := accessKeyRe.Find(data); m != nil {
			t.Errorf("%s contains an AWS access key id (%s)", rel, m)
		}
		for name, value := range canaries {
			if bytes.Contains(data, []byte(value)) {
				t.Errorf("%s contains the %s canary value", rel, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Fatalf("scanned only %d files in %s", files, synthesized.outdir)
	}
	if len(canaries) == 0 {
		t.Fatal("no canaries planted")
	}

	for _, env := range testEnvironments {
		for _, kind := range kindsOf(env) {
			tpl := templateJSON(t, env, kind)
			params, _ := tpl["Parameters"].(map[string]any)
			for name, p := range params {
				pm := p.(map[string]any)
				noEcho := pm["NoEcho"] == true || pm["NoEcho"] == "true"
				if noEcho && pm["Default"] != nil {
					t.Errorf("%s parameter %s: NoEcho with a Default, which the template shows anyway", stackName(env, kind), name)
				}
				if secretNameRe.MatchString(name) && !noEcho {
					t.Errorf("%s parameter %s looks secret but is not NoEcho", stackName(env, kind), name)
				}
			}
			for id, r := range tpl["Resources"].(map[string]any) {
				checkNoLiteralSecrets(t, stackName(env, kind)+"/"+id, props(r.(map[string]any)))
			}
		}
	}
	// Passwords are generated by Secrets Manager at deploy time and reach
	// RDS only as a dynamic reference.
	for _, env := range testEnvironments {
		for _, kind := range databaseKinds(env) {
			db := templateJSON(t, env, kind)
			for id, secret := range resourcesOfType(db, "AWS::SecretsManager::Secret") {
				if props(secret)["SecretString"] != nil || props(secret)["GenerateSecretString"] == nil {
					t.Errorf("%s/%s: secret value in the template: %s", env, id, asJSON(props(secret)))
				}
			}
			for _, inst := range resourcesOfType(db, "AWS::RDS::DBInstance") {
				if pw := asJSON(props(inst)["MasterUserPassword"]); !strings.Contains(pw, "{{resolve:secretsmanager:") {
					t.Errorf("%s: MasterUserPassword = %s, want a secretsmanager dynamic reference", env, pw)
				}
			}
		}
	}
}

// passwordPropRe matches property names that carry secrets.
var passwordPropRe = regexp.MustCompile(`(?i)^(masteruserpassword|password|secretstring|secretaccesskey|authtoken)$`)

// checkNoLiteralSecrets reports secret-carrying properties whose value is a
// literal string (not a dynamic reference or an intrinsic function).
func checkNoLiteralSecrets(t *testing.T, where string, v any) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		if l, ok := v.([]any); ok {
			for _, e := range l {
				checkNoLiteralSecrets(t, where, e)
			}
		}
		return
	}
	for k, val := range m {
		if s, isString := val.(string); isString && passwordPropRe.MatchString(k) && !strings.HasPrefix(s, "{{resolve:") {
			t.Errorf("%s: %s is a literal string", where, k)
		}
		checkNoLiteralSecrets(t, where, val)
	}
}

// TestBundledCAIsPublicOnly: the CA bundle shipped with the function is the
// configured certificate file, byte for byte, and holds no private key.
func TestBundledCAIsPublicOnly(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(synthesized.moduleRoot, "stacks", "testdata", "test-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(synthesized.outdir, "asset.*", rotationcdk.CABundleFileName))
	if len(matches) == 0 {
		t.Fatalf("no %s in any asset of %s (the full environment sets caBundlePath)", rotationcdk.CABundleFileName, synthesized.outdir)
	}
	for _, m := range matches {
		got, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the configured bundle", m)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(m), "bootstrap")); err != nil {
			t.Errorf("%s is not next to bootstrap: %v", m, err)
		}
	}
}
