package doctor_test

import (
	"errors"
	"testing"

	"github.com/example/secret-rotation/internal/doctor"
)

const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf"

func TestParseTrigger(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    doctor.Trigger
		err     error // errors.Is target; nil: no error
		anyErr  bool
	}{
		{"on demand", `{"secretId":"app/db"}`, doctor.Trigger{Reason: "on demand", SecretID: "app/db"}, nil, false},
		{"sweep", `{}`, doctor.Trigger{Reason: "on demand, every secret of the environment", All: true}, nil, false},
		{"scheduled sweep", doctor.ScheduledSweep, doctor.Trigger{Reason: "the scheduled sweep, every secret of the environment", All: true, Scheduled: true}, nil, false},
		{"unknown sweep", `{"sweep":"hourly"}`, doctor.Trigger{}, nil, true},
		{"rotation failed", `{"source":"aws.secretsmanager","detail-type":"AWS Service Event via CloudTrail","detail":{"eventName":"RotationFailed","additionalEventData":{"SecretId":"` + arn + `"}}}`,
			doctor.Trigger{Reason: "RotationFailed", SecretID: arn, FromEvent: true}, nil, false},
		{"abandoned, ARN in resources", `{"source":"aws.secretsmanager","detail-type":"AWS Service Event via CloudTrail","resources":["` + arn + `"],"detail":{"eventName":"RotationAbandoned"}}`,
			doctor.Trigger{Reason: "RotationAbandoned", SecretID: arn, FromEvent: true}, nil, false},
		{"ARN in serviceEventDetails", `{"source":"aws.secretsmanager","detail-type":"AWS Service Event via CloudTrail","detail":{"eventName":"RotationFailed","serviceEventDetails":{"secretId":"` + arn + `"}}}`,
			doctor.Trigger{Reason: "RotationFailed", SecretID: arn, FromEvent: true}, nil, false},
		{"no secret named: sweep", `{"source":"aws.secretsmanager","detail-type":"AWS Service Event via CloudTrail","detail":{"eventName":"RotationFailed","resources":[{"ARN":"arn:aws:kms:us-east-1:1:key/x"}]}}`,
			doctor.Trigger{Reason: "RotationFailed (the event names no secret)", All: true}, nil, false},
		{"success ignored", `{"source":"aws.secretsmanager","detail-type":"AWS Service Event via CloudTrail","detail":{"eventName":"RotationSucceeded","additionalEventData":{"SecretId":"` + arn + `"}}}`,
			doctor.Trigger{}, doctor.ErrIgnored, false},
		{"alarm", `{"source":"aws.cloudwatch","detail-type":"CloudWatch Alarm State Change","detail":{"alarmName":"rotation-errors","state":{"value":"ALARM"}}}`,
			doctor.Trigger{Reason: "alarm rotation-errors in ALARM", All: true}, nil, false},
		{"alarm back to OK", `{"source":"aws.cloudwatch","detail-type":"CloudWatch Alarm State Change","detail":{"alarmName":"rotation-errors","state":{"value":"OK"}}}`,
			doctor.Trigger{}, doctor.ErrIgnored, false},
		{"other event", `{"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","detail":{}}`, doctor.Trigger{}, nil, true},
		{"not JSON", `secretId=x`, doctor.Trigger{}, nil, true},
		{"array", `[1]`, doctor.Trigger{}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := doctor.ParseTrigger([]byte(tt.payload))
			switch {
			case tt.err != nil && !errors.Is(err, tt.err):
				t.Fatalf("err = %v, want %v", err, tt.err)
			case tt.anyErr && err == nil:
				t.Fatalf("no error, want one (got %+v)", got)
			case tt.err == nil && !tt.anyErr && err != nil:
				t.Fatalf("err = %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	base := map[string]string{doctor.EnvTopicARN: "arn:aws:sns:us-east-1:1:t", doctor.EnvRotationFunctionARN: "arn:aws:lambda:us-east-1:1:function:rot"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for bk, bv := range base {
			if _, ok := m[bk]; !ok {
				m[bk] = bv
			}
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		ok   bool
		want func(c doctor.Config) bool
	}{
		{"defaults: report only, 1h, log group from the function", base, true, func(c doctor.Config) bool {
			return !c.Repair && c.StuckAfter.String() == "1h0m0s" && c.LogGroup == "/aws/lambda/rot" && c.RetryTimeout == doctor.DefaultRetryTimeout
		}},
		{"repair on", with(doctor.EnvRepair, "true"), true, func(c doctor.Config) bool { return c.Repair }},
		{"repair typo is an error", with(doctor.EnvRepair, "ture"), false, nil},
		{"stuck after", with(doctor.EnvStuckAfter, "15m"), true, func(c doctor.Config) bool { return c.StuckAfter.Minutes() == 15 }},
		{"negative stuck after", with(doctor.EnvStuckAfter, "-1m"), false, nil},
		{"bad retry timeout", with(doctor.EnvRetryTimeout, "soon"), false, nil},
		{"relative CA bundle", with(doctor.EnvCABundle, "ca.pem"), true, func(c doctor.Config) bool { return c.CABundle == "ca.pem" }},
		{"topic required", map[string]string{doctor.EnvRotationFunctionARN: "f"}, false, nil},
		{"function required", map[string]string{doctor.EnvTopicARN: "t"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := doctor.ConfigFromEnv(func(k string) string { return tt.env[k] })
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && !tt.want(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}
