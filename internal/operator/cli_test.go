package operator_test

import (
	"strings"
	"testing"
	"time"
)

func TestStatusGolden(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *rig)
		code  int
	}{
		{"status_never_rotated", func(r *rig) {}, 0},
		{"status_healthy", func(r *rig) {
			r.enableRotation(goodFunction)
			if _, _, code := r.run("rotate", "--wait", r.secret); code != 0 {
				r.t.Fatalf("rotate exit %d", code)
			}
		}, 0},
		{"status_in_progress", func(r *rig) {
			r.enableRotation(goodFunction)
			r.put("pending", "pending-pw", "AWSPENDING")
		}, 0},
		{"status_stuck", func(r *rig) {
			r.enableRotation(goodFunction)
			r.put("pending", "pending-pw", "AWSPENDING")
			r.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, "u_"+tt.name[len("status_"):])
			tt.setup(r)
			out, errOut, code := r.run("status", r.secret)
			if code != tt.code {
				t.Errorf("exit = %d, want %d; stderr %s", code, tt.code, errOut)
			}
			golden(t, tt.name, out, errOut, code)
		})
	}
}

func TestRotateWaitGolden(t *testing.T) {
	r := newRig(t, "u_rotate")
	r.enableRotation(goodFunction)
	out, errOut, code := r.run("rotate", r.secret, "--wait", "--timeout", "30s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "rotate_wait", out, errOut, code)
	if r.stages()["AWSCURRENT"] != "11111111-0000-4000-8000-000000000001" {
		t.Fatalf("AWSCURRENT did not move to the new version: %v", r.stages())
	}
	// JSON, and a second rotation right after the first works.
	out, errOut, code = r.run("--output", "json", "rotate", "--wait", r.secret)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "rotate_wait_json", out, errOut, code)
}

// A rotation whose function fails: --wait times out, names the log
// group and exits 1; then status says "in progress" and a second rotate
// is refused with a pointer to repair.
func TestRotateFailureGolden(t *testing.T) {
	r := newRig(t, "u_rotfail")
	r.enableRotation(brokenFunction)
	out, errOut, code := r.run("rotate", "--wait", "--timeout", "300ms", r.secret)
	// The deployed function logs to the group its LoggingConfig names,
	// not /aws/lambda/NAME: rotatectl, without a Lambda client, says
	// where to find it instead of guessing.
	if code != 1 || !strings.Contains(errOut, "LoggingConfig.LogGroup") || strings.Contains(errOut, "/aws/lambda/") {
		t.Fatalf("exit %d, stderr %q: want 1 and where to find the log group, not a guessed /aws/lambda/NAME", code, errOut)
	}
	golden(t, "rotate_timeout", out, errOut, code)
	out, errOut, code = r.run("rotate", r.secret)
	if code != 1 {
		t.Fatalf("second rotate exit %d, want 1", code)
	}
	golden(t, "rotate_refused_previous_incomplete", out, errOut, code)
}

func TestVerifyGolden(t *testing.T) {
	r := newRig(t, "u_verify")
	out, errOut, code := r.run("verify", r.secret)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "verify_never_rotated", out, errOut, code)

	r.enableRotation(goodFunction)
	if _, errOut, code := r.run("rotate", "--wait", r.secret); code != 0 {
		t.Fatalf("rotate: %s", errOut)
	}
	out, errOut, code = r.run("verify", r.secret)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "verify_single_user", out, errOut, code)

	r.setDBPassword("changed-behind-our-back")
	out, errOut, code = r.run("--output", "json", "verify", r.secret)
	if code != 1 {
		t.Fatalf("exit %d, want 1 for a refused AWSCURRENT", code)
	}
	golden(t, "verify_refused_json", out, errOut, code)
}

func TestUsageGolden(t *testing.T) {
	r := newRig(t, "u_usage")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"usage_no_command", nil, 2},
		{"usage_unknown_command", []string{"frobnicate", "x"}, 2},
		{"usage_missing_secret", []string{"status"}, 2},
		{"usage_bad_output", []string{"--output", "yaml", "status", "x"}, 2},
		{"usage_bad_flag", []string{"repair", "--force", "x"}, 2},
		{"usage_help", []string{"-h"}, 0},
		{"usage_repair_help", []string{"repair", "-h"}, 0},
		{"status_unknown_secret", []string{"status", "app/nope"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := r.run(tt.args...)
			if code != tt.code {
				t.Errorf("exit = %d, want %d", code, tt.code)
			}
			golden(t, tt.name, out, errOut, code)
		})
	}
}
