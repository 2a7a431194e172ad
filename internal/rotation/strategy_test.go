package rotation_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/internal/secret"
)

// plainEngine hides everything but engine.Session from the fake's
// sessions: a dialect without account administration.
type plainEngine struct{ db *fakeDB }

func (p plainEngine) Login(ctx context.Context, s *secret.Secret) (engine.Session, error) {
	sess, err := p.db.Login(ctx, s)
	if err != nil {
		return nil, err
	}
	return struct{ engine.Session }{sess}, nil
}

// A secret with "masterarn" on an engine whose sessions cannot manage
// accounts: setSecret fails with ErrUnsupportedStrategy after logging in
// as the master and before any statement.
func TestAlternatingUsersNeedsAdminEngine(t *testing.T) {
	e := newAltEnv(t, userJSON())
	e.h = rotation.New(e.sm, plainEngine{e.db}, rotation.WithLogger(slog.New(slog.DiscardHandler)))
	err := e.rotate()
	if !errors.Is(err, rotation.ErrUnsupportedStrategy) || !strings.Contains(err.Error(), "alternating users") {
		t.Fatalf("error = %v, want ErrUnsupportedStrategy", err)
	}
	if len(e.db.stmts) != 0 {
		t.Errorf("statements: %v", e.db.stmts)
	}
}
