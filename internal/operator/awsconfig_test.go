package operator_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/operator"
)

// The standard AWS configuration chain is what the CLI uses: the SDK
// itself honours AWS_ENDPOINT_URL_SECRETS_MANAGER, and --profile selects
// a profile from the shared config file (here one that sets the region
// and credentials). Proven against the local endpoint: a request that
// went anywhere else would fail.
func TestDefaultSetupHonoursStandardConfiguration(t *testing.T) {
	r := newRig(t, "u_awsconfig")
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	if err := os.WriteFile(cfgFile, []byte("[profile demo]\nregion = us-east-1\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                  cfgFile,
		"AWS_SHARED_CREDENTIALS_FILE":      filepath.Join(dir, "missing-credentials"),
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": r.sm.URL(),
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_PROFILE":                      "",
		"AWS_REGION":                       "",
		"AWS_DEFAULT_REGION":               "",
		"AWS_ACCESS_KEY_ID":                "",
		"AWS_SECRET_ACCESS_KEY":            "",
		"AWS_SESSION_TOKEN":                "",
		"AWS_ENDPOINT_URL":                 "",
	} {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	cli := &operator.CLI{Stdout: &out, Stderr: &errOut}
	before := r.sm.Calls("DescribeSecret")
	code := cli.Run(ctxT(t), []string{"--profile", "demo", "--ca-bundle", db.CAFile(), "verify", r.secret})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if r.sm.Calls("DescribeSecret") == before || !strings.Contains(out.String(), "accepted") {
		t.Fatalf("the CLI did not reach the endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER: %s", out.String())
	}
}
