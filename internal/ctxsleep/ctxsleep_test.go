package ctxsleep_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/ctxsleep"
)

func TestSleep(t *testing.T) {
	if err := ctxsleep.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := ctxsleep.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("cancelled sleep: %v after %v", err, time.Since(start))
	}
	if err := ctxsleep.Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("zero sleep on a cancelled context: %v", err)
	}
}
