package rotation_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/rotation"
)

// missingFields wraps fakeSM and blanks optional output fields the SDK
// models as pointers or maps, as a Secrets Manager answer may leave them
// unset (a binary secret has no SecretString, an unrotated secret may
// describe no versions).
type missingFields struct {
	*fakeSM
	noStages, noSecretString, noRandomPassword bool
}

func (m missingFields) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	out, err := m.fakeSM.DescribeSecret(ctx, in, o...)
	if err == nil && m.noStages {
		out.VersionIdsToStages = nil
	}
	return out, err
}

func (m missingFields) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	out, err := m.fakeSM.GetSecretValue(ctx, in, o...)
	if err == nil && m.noSecretString {
		out.SecretString = nil
		out.SecretBinary = []byte("binary")
	}
	return out, err
}

func (m missingFields) GetRandomPassword(ctx context.Context, in *secretsmanager.GetRandomPasswordInput, o ...func(*secretsmanager.Options)) (*secretsmanager.GetRandomPasswordOutput, error) {
	out, err := m.fakeSM.GetRandomPassword(ctx, in, o...)
	if err == nil && m.noRandomPassword {
		out.RandomPassword = nil
	}
	return out, err
}

// TestMissingSDKFields: unset pointer and map fields in Secrets Manager
// answers are refusals or errors, never a nil dereference, and nothing is
// written.
func TestMissingSDKFields(t *testing.T) {
	tests := []struct {
		name    string
		wrap    missingFields
		step    string
		wantErr string
	}{
		{"VersionIdsToStages unset", missingFields{noStages: true}, rotation.StepSetSecret, "is not a version"},
		{"binary secret (SecretString unset) in createSecret", missingFields{noSecretString: true}, rotation.StepCreateSecret, "no SecretString"},
		{"binary secret (SecretString unset) in setSecret", missingFields{noSecretString: true}, rotation.StepSetSecret, "no SecretString"},
		{"binary secret (SecretString unset) in testSecret", missingFields{noSecretString: true}, rotation.StepTestSecret, "no SecretString"},
		{"RandomPassword unset", missingFields{noRandomPassword: true}, rotation.StepCreateSecret, "empty password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sm.addPending(token, "")
			if tt.step != rotation.StepCreateSecret {
				e.sm.versions[token].value = secretJSON("admin", "Pending-Pa55word")
			}
			tt.wrap.fakeSM = e.sm
			h := rotation.New(tt.wrap, e.db, rotation.WithLogger(slog.New(slog.NewJSONHandler(e.log, nil))))
			err := h.Handle(context.Background(), event(tt.step))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want containing %q", err, tt.wantErr)
			}
			if tt.name == "VersionIdsToStages unset" && !errors.Is(err, rotation.ErrGuard) {
				t.Errorf("error = %v, want ErrGuard", err)
			}
			if n := e.sm.count("PutSecretValue") + e.sm.count("UpdateSecretVersionStage"); n != 0 {
				t.Errorf("%d writing calls: %v", n, e.sm.calls)
			}
			if e.db.changes != 0 {
				t.Errorf("database changed %d times", e.db.changes)
			}
		})
	}
}
