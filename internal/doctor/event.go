package doctor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Event sources and detail types the doctor is triggered by.
const (
	// Secrets Manager's rotation events are not API calls; CloudTrail
	// records them as service events, which EventBridge delivers with
	// this detail type and detail.eventName RotationFailed,
	// RotationAbandoned, ... ("Log entries for rotation",
	// https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html;
	// EventBridge matching:
	// https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html).
	SourceSecretsManager   = "aws.secretsmanager"
	DetailTypeServiceEvent = "AWS Service Event via CloudTrail"
	// CloudWatch alarm state changes ("CloudWatch Alarm State Change",
	// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html).
	SourceCloudWatch     = "aws.cloudwatch"
	DetailTypeAlarmState = "CloudWatch Alarm State Change"
)

// ScheduledSweep is the payload of the environment's schedule rule,
// {"sweep":"scheduled"}: a sweep of every secret of the environment that
// publishes only when some secret needs attention (see [Trigger]).
const ScheduledSweep = `{"sweep":"scheduled"}`

// RotationEvents are the CloudTrail service events the doctor acts on.
// The environment's failure rule (stacks.RotationFailureEvents) delivers
// only RotationFailed and RotationAbandoned, the failures AWS lists
// ("Logging AWS Secrets Manager events with AWS CloudTrail",
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieve-ct-entries.html);
// TestRotationFailed is accepted when a payload names it (an on-demand
// invocation or another rule), but no rule of this app sends it.
var RotationEvents = []string{"RotationFailed", "RotationAbandoned", "TestRotationFailed"}

// Trigger is what an invocation asks the doctor to look at.
type Trigger struct {
	// Reason describes the trigger for the log and the report.
	Reason string
	// SecretID is the one secret to diagnose; "" with All.
	SecretID string
	// All: every secret the environment's rotation function rotates.
	All bool
	// FromEvent: the secret comes from a service event, so it is only
	// diagnosed if the environment's function rotates it (the rule may
	// match other environments' secrets).
	FromEvent bool
	// Scheduled: the periodic sweep ([ScheduledSweep]), which repairs
	// rotations once they are older than the stuck-after age and publishes
	// only when some secret needs attention: no report when every secret
	// is healthy or its rotation may still be running.
	Scheduled bool
}

// ErrIgnored is matched by ParseTrigger errors for events that need no
// diagnosis (an alarm back to OK, a successful rotation).
var ErrIgnored = errors.New("nothing to diagnose")

// ParseTrigger reads an invocation's payload: an EventBridge event
// (Secrets Manager rotation failure via CloudTrail, CloudWatch alarm
// state change), {"secretId":"..."} for one secret on demand, {} for
// every secret of the environment, or [ScheduledSweep].
func ParseTrigger(payload []byte) (Trigger, error) {
	var ev struct {
		SecretID   string          `json:"secretId"`
		Sweep      *string         `json:"sweep"`
		Source     string          `json:"source"`
		DetailType string          `json:"detail-type"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&ev); err != nil {
		return Trigger{}, fmt.Errorf("payload is not a JSON object: %w", err)
	}
	switch {
	case ev.Sweep != nil:
		if *ev.Sweep != "scheduled" || ev.SecretID != "" {
			return Trigger{}, fmt.Errorf("want %s for the scheduled sweep, got sweep %q", ScheduledSweep, *ev.Sweep)
		}
		return Trigger{Reason: "the scheduled sweep, every secret of the environment", All: true, Scheduled: true}, nil
	case ev.SecretID != "":
		return Trigger{Reason: "on demand", SecretID: ev.SecretID}, nil
	case ev.Source == "" && ev.DetailType == "":
		return Trigger{Reason: "on demand, every secret of the environment", All: true}, nil
	case ev.Source == SourceSecretsManager && ev.DetailType == DetailTypeServiceEvent:
		return rotationTrigger(ev.Detail, ev.Resources)
	case ev.Source == SourceCloudWatch && ev.DetailType == DetailTypeAlarmState:
		var d struct {
			AlarmName string `json:"alarmName"`
			State     struct {
				Value string `json:"value"`
			} `json:"state"`
		}
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return Trigger{}, fmt.Errorf("alarm event: %w", err)
		}
		if d.State.Value != "ALARM" {
			return Trigger{}, fmt.Errorf("%w: alarm %s is %s", ErrIgnored, d.AlarmName, d.State.Value)
		}
		return Trigger{Reason: "alarm " + d.AlarmName + " in ALARM", All: true}, nil
	}
	return Trigger{}, fmt.Errorf("unrecognized event (source %q, detail-type %q)", ev.Source, ev.DetailType)
}

// rotationTrigger finds the secret of a rotation service event. The ARN
// is in detail.additionalEventData.SecretId in the events seen so far;
// serviceEventDetails, the event's resources and detail.resources are
// read too in case the shape moves (other CloudTrail service events put
// their subject there). Without any, every secret is checked.
func rotationTrigger(detail json.RawMessage, resources []string) (Trigger, error) {
	var d struct {
		EventName           string `json:"eventName"`
		AdditionalEventData struct {
			SecretID string `json:"SecretId"`
		} `json:"additionalEventData"`
		ServiceEventDetails map[string]any `json:"serviceEventDetails"`
		Resources           []struct {
			ARN string `json:"ARN"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(detail, &d); err != nil {
		return Trigger{}, fmt.Errorf("rotation event: %w", err)
	}
	known := false
	for _, n := range RotationEvents {
		known = known || n == d.EventName
	}
	if !known {
		return Trigger{}, fmt.Errorf("%w: Secrets Manager event %s", ErrIgnored, d.EventName)
	}
	candidates := []string{d.AdditionalEventData.SecretID}
	for _, k := range []string{"SecretId", "secretId", "secretArn", "SecretArn"} {
		if s, ok := d.ServiceEventDetails[k].(string); ok {
			candidates = append(candidates, s)
		}
	}
	for _, r := range d.Resources {
		candidates = append(candidates, r.ARN)
	}
	candidates = append(candidates, resources...)
	for _, c := range candidates {
		if c != "" && (!strings.HasPrefix(c, "arn:") || strings.Contains(c, ":secretsmanager:")) {
			return Trigger{Reason: d.EventName, SecretID: c, FromEvent: true}, nil
		}
	}
	return Trigger{Reason: d.EventName + " (the event names no secret)", All: true}, nil
}
