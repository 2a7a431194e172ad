package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// The demo as `make demo` runs it, shortened to one rotation before the
// broken one: it must end with a report and no failed query.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the rotation function and the emulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, 1, 2); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"got no further than \"createSecret\"",
		"Verdict: stuck",
		"A previous rotation isn't complete",
		"Result: repaired",
		"Cause:       stuck after setSecret",
		"retried the rotation once: finished",
		"rotations done:   3",
		"queries failed:   0",
		// Application users: two rotations of each, one more after the
		// drift, no failed query and no refused login.
		"Users (alternating users):",
		"extra DROP ON `appdata`.*",
		"AWSCURRENT   as declared",
		"rotations done: 3",
		"queries failed: 0",
		"refused logins: 0",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
