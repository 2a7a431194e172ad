package operator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/operator"
)

// Every command ends within its --timeout (rotate: plus
// operator.TimeoutGrace) when Secrets Manager holds a request open and
// never answers, although the rig's SDK client has no HTTP timeout and
// the caller's context allows two minutes. The bound asserted is generous
// (a busy machine must not make it flaky); what matters is that the
// command ends, with a time-limit error, after the server saw the held
// request.
func TestCommandsEndWhenSecretsManagerHangs(t *testing.T) {
	const limit = 2 * time.Second
	tests := []struct {
		name, op string
		args     []string
		grace    time.Duration
	}{
		{"status", "DescribeSecret", []string{"status"}, 0},
		{"verify", "DescribeSecret", []string{"verify"}, 0},
		{"verify, value held", "GetSecretValue", []string{"verify"}, 0},
		{"repair", "DescribeSecret", []string{"repair"}, 0},
		{"rotate --wait", "DescribeSecret", []string{"rotate", "--wait"}, operator.TimeoutGrace},
		{"rotate, RotateSecret held", "RotateSecret", []string{"rotate", "--wait"}, operator.TimeoutGrace},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, "u_hang_"+string(rune('a'+i)))
			r.enableRotation(brokenFunction)
			r.sm.HangNext(tt.op, 1000)
			held := r.sm.Calls(tt.op)
			type result struct {
				out, errOut string
				code        int
			}
			done := make(chan result, 1)
			start := time.Now()
			go func() {
				out, errOut, code := r.run(append(tt.args, "--timeout", limit.String(), r.secret)...)
				done <- result{out, errOut, code}
			}()
			bound := limit + tt.grace + 20*time.Second
			var res result
			select {
			case res = <-done:
			case <-time.After(bound):
				t.Fatalf("%v still running after %s (--timeout %s)", tt.args, bound, limit)
			}
			t.Logf("ended after %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(res.errOut))
			if res.code != operator.ExitFailed || !strings.Contains(res.errOut, "within "+limit.String()) {
				t.Fatalf("exit %d, stderr %q: want %d and the time limit named\n%s", res.code, res.errOut, operator.ExitFailed, res.out)
			}
			if r.sm.Calls(tt.op) == held {
				t.Fatalf("the server saw no %s request", tt.op)
			}
		})
	}
}
