package config_test

import (
	"testing"
	"time"

	"github.com/example/secret-rotation/internal/config"
)

// TestDoctorDefaults: an environment without a doctor block repairs, with
// rotatectl's stuck age, no subscriptions and no Config rules; a partial
// block keeps the defaults of the keys it leaves out.
func TestDoctorDefaults(t *testing.T) {
	cfg, err := config.Load(ctxWith(map[string]any{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Environments["dev"].Doctor
	if !d.Repair || d.StuckAfterDuration() != time.Hour || d.ConfigRules || len(d.EmailSubscriptions)+len(d.HTTPSSubscriptions) != 0 ||
		d.AlarmThreshold != 1 || d.AlarmPeriodMinutes != 5 || d.TimeoutSeconds != 300 {
		t.Errorf("default doctor = %+v", d)
	}

	cfg, err = config.Load(ctxWith(map[string]any{"doctor": map[string]any{"repair": false, "emailSubscriptions": []any{"ops@example.com"}}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	d = cfg.Environments["dev"].Doctor
	if d.Repair || d.StuckAfter != "1h0m0s" || len(d.EmailSubscriptions) != 1 || d.TimeoutSeconds != 300 {
		t.Errorf("overlaid doctor = %+v, want repair off and the other defaults kept", d)
	}
}

func TestDoctorInvalid(t *testing.T) {
	doctor := func(kv map[string]any) config.ContextMap { return ctxWith(map[string]any{"doctor": kv}) }
	tests := []struct {
		name string
		ctx  config.ContextMap
		want []string
	}{
		{"stuck after not a duration", doctor(map[string]any{"stuckAfter": "1 hour"}), []string{"environments.dev.doctor.stuckAfter", `"1 hour"`, "Go duration"}},
		{"stuck after too short", doctor(map[string]any{"stuckAfter": "30m"}), []string{"doctor.stuckAfter", `"30m"`, "from 1h"}},
		{"stuck after too long", doctor(map[string]any{"stuckAfter": "1000h"}), []string{"doctor.stuckAfter", "720h"}},
		{"email without domain", doctor(map[string]any{"emailSubscriptions": []any{"ops"}}), []string{"doctor.emailSubscriptions[0]", `"ops"`, "e-mail address"}},
		{"email with display name", doctor(map[string]any{"emailSubscriptions": []any{"Ops <ops@example.com>"}}), []string{"emailSubscriptions[0]", "no display name"}},
		{"email twice", doctor(map[string]any{"emailSubscriptions": []any{"a@example.com", "a@example.com"}}), []string{"emailSubscriptions[1]", "each address once"}},
		{"http endpoint", doctor(map[string]any{"httpsSubscriptions": []any{"http://hooks.example.com/x"}}), []string{"doctor.httpsSubscriptions[0]", "https:// URL"}},
		{"https without host", doctor(map[string]any{"httpsSubscriptions": []any{"https:///x"}}), []string{"httpsSubscriptions[0]", "with a host"}},
		{"https with credentials", doctor(map[string]any{"httpsSubscriptions": []any{"https://user:pw@hooks.example.com/x"}}), []string{"httpsSubscriptions[0]", "without user:password@"}},
		{"https twice", doctor(map[string]any{"httpsSubscriptions": []any{"https://h.example.com", "https://h.example.com"}}), []string{"httpsSubscriptions[1]", "each endpoint once"}},
		{"threshold", doctor(map[string]any{"alarmThreshold": 0}), []string{"doctor.alarmThreshold", "= 0", "1..100"}},
		{"period", doctor(map[string]any{"alarmPeriodMinutes": 0}), []string{"doctor.alarmPeriodMinutes", "1..1440"}},
		{"timeout", doctor(map[string]any{"timeoutSeconds": 901}), []string{"doctor.timeoutSeconds", "30..900"}},
		{"sweep too often", doctor(map[string]any{"sweepMinutes": 14}), []string{"doctor.sweepMinutes", "= 14", "15..1440"}},
		{"sweep too rare", doctor(map[string]any{"sweepMinutes": 1441}), []string{"doctor.sweepMinutes", "15..1440"}},
		{"unknown doctor key", doctor(map[string]any{"repairs": false}), []string{"repairs", "inside doctor", "repair"}},
		{"wrong type", doctor(map[string]any{"repair": "no"}), []string{"doctor.repair", "boolean"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(tc.ctx, nil)
			wantLoadError(t, err, tc.want)
		})
	}

	// The valid counterparts.
	valid := []map[string]any{
		{"stuckAfter": "1h"}, {"stuckAfter": "720h"}, {"stuckAfter": "90m"},
		{"emailSubscriptions": []any{"ops@example.com", "oncall+db@team.example.co.uk"}},
		{"httpsSubscriptions": []any{"https://hooks.example.com/rotation?team=db", "https://h.example.com:8443/x"}},
		{"repair": false, "configRules": true, "alarmThreshold": 100, "alarmPeriodMinutes": 1440, "timeoutSeconds": 30},
		{"sweepMinutes": 15}, {"sweepMinutes": 1440},
	}
	for _, kv := range valid {
		if _, err := config.Load(doctor(kv), nil); err != nil {
			t.Errorf("%v: %v", kv, err)
		}
	}
}
