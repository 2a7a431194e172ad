package main_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/doctor"
)

// The deployed sequence, with the deployed stuck-after age (1h): a
// rotation crashes before finishSecret; the RotationFailed event reaches
// the doctor minutes later, while AWSPENDING is younger than the stuck
// age, so it changes nothing and says the sweep will re-check; a
// scheduled sweep while the rotation is still young publishes nothing;
// the sweep after the rotation became an hour old (smlocal's Backdate)
// repairs it, retries the rotation and publishes; the next sweep finds
// every secret healthy and publishes nothing. The secret is the only one
// of its environment (its own rotation function ARN), so the sweeps'
// reports hold only it.
func TestDoctorSweep(t *testing.T) {
	f := newFixture(t, w.db, "u_swept", 0)
	f.function = sweepFunctionARN
	w.breaker.crashOnce(f.arn, "finishSecret")
	if err := f.rotate(); err == nil {
		t.Fatal("the broken rotation succeeded")
	}
	var sweep any
	if err := json.Unmarshal([]byte(doctor.ScheduledSweep), &sweep); err != nil {
		t.Fatal(err)
	}
	stuck, loginsBefore := f.stages(), failedLogins(t, f)
	var reports []string

	// The failure event, minutes after the failure: reported, not changed.
	res, report := invokeDoctorOn(t, w.sweepDoctor, rotationFailed(f.arn), true)
	golden(t, "sweep_1_event_while_young", report)
	reports = append(reports, report)
	g := only(t, res)
	if g.Cause != doctor.CauseStuckAfterSet || !g.Waiting || g.Repaired || g.Retried || !strings.Contains(g.Action, "scheduled sweep re-checks it") {
		t.Fatalf("event while young: %+v", g)
	}
	if after := f.stages(); fmt.Sprint(after) != fmt.Sprint(stuck) {
		t.Fatalf("labels changed while young: %v -> %v", stuck, after)
	}

	// A scheduled sweep while it is still young: nothing to publish.
	res, _ = invokeDoctorOn(t, w.sweepDoctor, sweep, false)
	if g := only(t, res); !g.Waiting || g.Repaired || res.Trigger != "the scheduled sweep, every secret of the environment" {
		t.Fatalf("sweep while young: %+v %+v", res, g)
	}

	// An hour later the sweep repairs it and says so.
	f.backdatePending()
	res, report = invokeDoctorOn(t, w.sweepDoctor, sweep, true)
	golden(t, "sweep_2_an_hour_later", report)
	reports = append(reports, report)
	g = only(t, res)
	if g.Cause != doctor.CauseStuckAfterSet || g.Waiting || !g.Repaired || !g.Retried || g.Next != "" {
		t.Fatalf("sweep an hour later: %+v", g)
	}
	after := f.stages()
	if p, ok := after["AWSPENDING"]; (ok && p != after["AWSCURRENT"]) || after["AWSCURRENT"] == stuck["AWSCURRENT"] || after["AWSCURRENT"] == stuck["AWSPENDING"] {
		t.Fatalf("after the repair and the retried rotation: %v (stuck: %v)", after, stuck)
	}

	// Healthy again: the next sweep publishes nothing.
	res, _ = invokeDoctorOn(t, w.sweepDoctor, sweep, false)
	if g := only(t, res); g.Cause != doctor.CauseHealthy {
		t.Fatalf("the sweep after the repair: %+v", g)
	}
	n := failedLogins(t, f) - loginsBefore
	t.Logf("failed logins of the four runs: %d", n)
	if n > 3 {
		t.Errorf("the doctor cost %d failed logins, want at most 3 (AWSCURRENT refused once per run while stuck)", n)
	}
	out := strings.Join(reports, "\n") + string(w.sweepDoctor.Logs())
	for _, s := range f.passwords() {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("a password or secret string (%d characters) appears in the sweep doctor's reports or logs", len(s))
		}
	}
}

func only(t *testing.T, res *doctor.Result) *doctor.Diagnosis {
	t.Helper()
	if len(res.Diagnoses) != 1 {
		t.Fatalf("%d diagnoses, want 1: %+v", len(res.Diagnoses), res)
	}
	return res.Diagnoses[0]
}
