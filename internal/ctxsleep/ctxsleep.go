// Package ctxsleep is the one context-aware sleep of the module, shared by
// the runtime packages that poll or back off (connect, operator).
package ctxsleep

import (
	"context"
	"time"
)

// Sleep waits d or until ctx ends, whichever comes first, and returns
// ctx.Err() in the second case. A d <= 0 does not wait and returns
// ctx.Err().
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
