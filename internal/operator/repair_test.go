package operator_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/operator"
)

// Every stuck state a failed rotation can leave (and the ones an operator
// can create by hand), built directly through the SDK and the database.
// After a successful repair AWSCURRENT logs in and a real rotation works.
func TestRepairStuckStates(t *testing.T) {
	initial := func(r *rig) string { return r.token("initial") }
	pending := func(r *rig) string { return r.token("pending") }
	tests := []struct {
		name string
		// setup creates the state; rotation is configured with the
		// working function afterwards.
		setup func(r *rig)
		code  int
		// wantCurrent is the version AWSCURRENT must end on.
		wantCurrent func(r *rig) string
	}{
		{"repair_healthy", func(r *rig) {}, 0, initial},
		{"repair_pending_without_value", func(r *rig) {
			r.enableRotation(brokenFunction)
			if _, err := r.client.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String(r.secret), ClientRequestToken: aws.String(r.token("pending"))}); err != nil {
				r.t.Fatal(err)
			}
		}, 0, initial},
		{"repair_pending_never_applied", func(r *rig) {
			r.put("pending", "pending-pw", "AWSPENDING")
		}, 0, initial},
		{"repair_finish_never_ran", func(r *rig) {
			r.put("pending", "pending-pw", "AWSPENDING")
			r.setDBPassword("pending-pw")
		}, 0, pending},
		{"repair_pending_and_current_both_work", func(r *rig) {
			r.put("pending", "initial-pw", "AWSPENDING")
		}, 0, initial},
		{"repair_only_previous_works", func(r *rig) {
			r.put("bad-current", "never-applied", "AWSCURRENT")
		}, 0, initial},
		{"repair_only_previous_works_with_pending", func(r *rig) {
			r.put("bad-current", "never-applied", "AWSCURRENT")
			r.put("pending", "pending-pw", "AWSPENDING")
		}, 0, initial},
		{"repair_only_unlabelled_works", func(r *rig) {
			// Two values put by hand, neither applied: the database's
			// password is in the initial version, which lost its labels.
			r.put("second", "never-applied-1", "AWSCURRENT")
			r.put("third", "never-applied-2", "AWSCURRENT")
		}, 0, initial},
		{"repair_nothing_works", func(r *rig) {
			r.put("pending", "pending-pw", "AWSPENDING")
			r.setDBPassword("known-to-nobody")
		}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, "u_"+tt.name[len("repair_"):min(len(tt.name), 28)])
			r.now = afterStuck
			tt.setup(r)
			before := r.repairWithDryRun(t, tt.name, tt.code)
			if tt.wantCurrent == nil {
				if after := r.stages(); !equalMaps(before, after) {
					t.Fatalf("a failed repair changed labels: %v -> %v", before, after)
				}
				return
			}
			st := r.stages()
			if st["AWSCURRENT"] != tt.wantCurrent(r) {
				t.Fatalf("AWSCURRENT on %s, want %s (%v)", st["AWSCURRENT"], tt.wantCurrent(r), st)
			}
			if p, ok := st["AWSPENDING"]; ok && p != st["AWSCURRENT"] {
				t.Fatalf("AWSPENDING still on another version: %v", st)
			}
			// The point of repair: rotation works again.
			r.enableRotation(goodFunction)
			rep, err := r.operator().Rotate(ctxT(t), r.secret, operator.RotateOptions{Wait: true})
			if err != nil || !rep.Finished {
				t.Fatalf("rotation after repair: %v", err)
			}
		})
	}
}

// repairWithDryRun runs `repair --dry-run` and then `repair` on the
// secret: each must exit wantCode and print what the goldens name_dry_run
// and name hold, and the dry run must change no label. It returns the
// labels from before.
func (r *rig) repairWithDryRun(t *testing.T, name string, wantCode int) (before map[string]string) {
	t.Helper()
	before = r.stages()
	out, errOut, code := r.run("repair", "--dry-run", r.secret)
	if code != wantCode {
		t.Fatalf("dry run exit = %d, want %d\n%s%s", code, wantCode, out, errOut)
	}
	golden(t, name+"_dry_run", out, errOut, code)
	if after := r.stages(); !equalMaps(before, after) {
		t.Fatalf("--dry-run changed labels: %v -> %v", before, after)
	}
	out, errOut, code = r.run("repair", r.secret)
	if code != wantCode {
		t.Fatalf("exit = %d, want %d\n%s%s", code, wantCode, out, errOut)
	}
	golden(t, name, out, errOut, code)
	return before
}

// A database that cannot be reached is not evidence: repair changes
// nothing and says why.
func TestRepairUnreachableDatabase(t *testing.T) {
	r := newRig(t, "u_unreachable")
	r.now = afterStuck
	r.put("pending", "pending-pw", "AWSPENDING")
	before := r.stages()
	if err := db.Halt(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.Resume(context.Background()); err != nil {
			t.Fatal(err)
		}
	}()
	_, err := r.operator().Repair(ctxT(t), r.secret, false)
	if !errors.Is(err, operator.ErrCannotRepair) {
		t.Fatalf("err = %v, want ErrCannotRepair", err)
	}
	if after := r.stages(); !equalMaps(before, after) {
		t.Fatalf("labels changed: %v -> %v", before, after)
	}
}

func TestRepairJSONGolden(t *testing.T) {
	r := newRig(t, "u_repair_json")
	r.now = afterStuck
	r.put("pending", "pending-pw", "AWSPENDING")
	r.setDBPassword("pending-pw")
	out, errOut, code := r.run("--output", "json", "repair", r.secret)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "repair_json", out, errOut, code)
}

// afterStuck is a clock past the default stuck-after age of every version
// a test just created, so repair treats their rotations as stuck.
func afterStuck() time.Time { return time.Now().Add(2 * operator.DefaultStuckAfter) }

// A rotation younger than the stuck-after age may still be running (its
// setSecret could change the password right after repair looked), so
// repair plans but changes nothing; --stuck-after lets the operator
// declare it stuck.
func TestRepairRefusesRotationInProgress(t *testing.T) {
	r := newRig(t, "u_in_progress_repair")
	r.put("pending", "pending-pw", "AWSPENDING")
	before := r.stages()
	for _, args := range [][]string{{"repair", r.secret}, {"repair", "--dry-run", r.secret}} {
		out, errOut, code := r.run(args...)
		if code != operator.ExitFailed {
			t.Fatalf("%v: exit %d, want %d; stdout %s", args, code, operator.ExitFailed, out)
		}
		if !strings.Contains(out, "rotation in progress") || !strings.Contains(errOut, "cannot repair safely") {
			t.Errorf("%v: output does not say why nothing was changed:\n%s\n%s", args, out, errOut)
		}
		if after := r.stages(); !equalMaps(before, after) {
			t.Fatalf("%v changed labels: %v -> %v", args, before, after)
		}
	}
	if out, errOut, code := r.run("repair", "--stuck-after", "0s", r.secret); code != 0 {
		t.Fatalf("repair --stuck-after 0s: exit %d\n%s\n%s", code, out, errOut)
	}
	if p, ok := r.stages()["AWSPENDING"]; ok {
		t.Errorf("AWSPENDING still on %s after repair --stuck-after 0s", p)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
