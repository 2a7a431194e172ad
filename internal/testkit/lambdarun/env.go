package lambdarun

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// DefaultRegion is the AWS_REGION a function sees unless Start's env says
// otherwise.
const DefaultRegion = "us-east-1"

// defaultEnv is what Lambda would provide and the function can rely on.
// The credentials are dummies: every AWS endpoint the function talks to in
// tests is local, and real credentials must never reach code under test.
func defaultEnv() map[string]string {
	return map[string]string{
		"AWS_REGION":                      DefaultRegion,
		"AWS_DEFAULT_REGION":              DefaultRegion,
		"AWS_ACCESS_KEY_ID":               "AKIDLAMBDARUNLOCAL",
		"AWS_SECRET_ACCESS_KEY":           "lambdarun-dummy-secret-access-key",
		"AWS_SESSION_TOKEN":               "lambdarun-dummy-session-token",
		"AWS_EC2_METADATA_DISABLED":       "true", // never wait for an IMDS that is not there
		"AWS_LAMBDA_FUNCTION_NAME":        "function",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     "60", // seconds; the emulator's default is 300
		"TZ":                              ":UTC",
		"PATH":                            os.Getenv("PATH"),
	}
}

// buildEnv merges env over the defaults into the emulator's environment
// (the emulator forwards all of it to the function).
func buildEnv(env map[string]string) ([]string, error) {
	merged := defaultEnv()
	for k, v := range env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("invalid environment variable %q", k)
		}
		merged[k] = v
	}
	out := make([]string, 0, len(merged))
	for k, v := range merged {
		out = append(out, k+"="+v)
	}
	sort.Strings(out) // deterministic, for debugging
	return out, nil
}
