package lambdarun_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/testkit/lambdarun"
)

func TestEnvironment(t *testing.T) {
	t.Setenv("LAMBDARUN_HOST_ONLY", "leaked")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAHOSTCREDENTIAL")
	f := startEcho(t, map[string]string{"CUSTOM": "value=with=equals", "AWS_REGION": "eu-west-1"})

	tests := []struct {
		name, variable, want string
	}{
		{"passed variable", "CUSTOM", "value=with=equals"},
		{"override of a default", "AWS_REGION", "eu-west-1"},
		{"default kept", "AWS_DEFAULT_REGION", lambdarun.DefaultRegion},
		{"dummy credentials, not the host's", "AWS_ACCESS_KEY_ID", "AKIDLAMBDARUNLOCAL"},
		{"host environment not inherited", "LAMBDARUN_HOST_ONLY", ""},
		{"runtime API set by the emulator", "AWS_LAMBDA_RUNTIME_API", "127.0.0.1:"},
		{"function name", "AWS_LAMBDA_FUNCTION_NAME", "function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.Invoke(testContext(t), map[string]string{"action": "env", "message": tt.variable})
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var resp echoResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if tt.want == "" && resp.Message != "" || !strings.HasPrefix(resp.Message, tt.want) {
				t.Errorf("%s = %q, want %q", tt.variable, resp.Message, tt.want)
			}
		})
	}
}

func TestStartRejects(t *testing.T) {
	notExecutable := t.TempDir() + "/bootstrap"
	tests := []struct {
		name      string
		bootstrap string
		env       map[string]string
		wantErr   string
	}{
		{"missing bootstrap", notExecutable, nil, "not an executable"},
		{"key with =", bootstrap, map[string]string{"A=B": "c"}, "invalid environment variable"},
		{"empty key", bootstrap, map[string]string{"": "c"}, "invalid environment variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := lambdarun.Start(testContext(t), tt.bootstrap, tt.env, lambdarun.WithEmulator(emulator))
			if err == nil {
				_ = f.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}
