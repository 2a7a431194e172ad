package rotation_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/rotation"
)

// A secret with "masterarn" asks for the alternating-users strategy, which
// is not there yet: createSecret, setSecret and testSecret refuse it with
// ErrUnsupportedStrategy before writing anything or logging in.
func TestAlternatingUsersNotSupportedYet(t *testing.T) {
	b, _ := json.Marshal(map[string]any{
		"engine": "mysql", "host": "db.internal", "username": "app", "password": oldPassword,
		"masterarn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:master-AbCdEf",
	})
	for _, step := range []string{rotation.StepCreateSecret, rotation.StepSetSecret, rotation.StepTestSecret} {
		t.Run(step, func(t *testing.T) {
			sm := newFakeSM(string(b))
			sm.addPending(token, string(b))
			db := &fakeDB{users: map[string]string{"app": oldPassword}}
			h := rotation.New(sm, db, rotation.WithLogger(slog.New(slog.DiscardHandler)))
			err := h.Handle(context.Background(), event(step))
			if !errors.Is(err, rotation.ErrUnsupportedStrategy) || !strings.Contains(err.Error(), "masterarn") {
				t.Fatalf("error = %v, want ErrUnsupportedStrategy naming masterarn", err)
			}
			if sm.lastPut != nil || sm.lastRandom != nil || len(db.logins) != 0 {
				t.Errorf("did work: put %v, random %v, logins %d", sm.lastPut != nil, sm.lastRandom != nil, len(db.logins))
			}
		})
	}
}
