package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Doctor configures the rotation doctor of an environment: the
// SNS topic that rotation events and the doctor's reports go to, who is
// subscribed to it, what the doctor may change and which optional checks
// run. The JSON key of an environment is "doctor"; every field has a safe
// default, so an environment without the block gets the topic, the event
// rule, the alarm and a doctor that repairs what rotatectl's guard allows.
type Doctor struct {
	// Repair lets the doctor repair a stuck rotation (relabel and retry
	// once) when the guard allows it. Default true: the guard only acts on
	// a rotation older than StuckAfter whose outcome a login decided (the
	// first stored password the database accepts, in rotatectl repair's
	// order; nothing when it accepts none or a login cannot be checked).
	// false = report only.
	Repair bool `json:"repair"`
	// StuckAfter is the age (a Go duration such as "1h" or "90m") from which
	// an unfinished rotation counts as stuck. Default 1h: longer than four
	// rotation steps at Lambda's 15-minute maximum, so a slow but live
	// rotation is never repaired under its feet (operator.DefaultStuckAfter).
	StuckAfter string `json:"stuckAfter"`
	// EmailSubscriptions are addresses subscribed to the topic. Each
	// recipient must confirm the subscription from the mail SNS sends.
	EmailSubscriptions []string `json:"emailSubscriptions"`
	// HTTPSSubscriptions are https:// endpoints subscribed to the topic
	// (they must confirm the subscription, see docs/deploy.md).
	HTTPSSubscriptions []string `json:"httpsSubscriptions"`
	// ConfigRules adds the AWS Config managed rules for Secrets Manager
	// rotation. Default false: Config rules need a configuration recorder
	// in the account and region, which this app does not create.
	ConfigRules bool `json:"configRules"`
	// AlarmThreshold is how many rotation function errors in one
	// AlarmPeriodMinutes raise the alarm. Default 1: every failed rotation
	// step is worth a look.
	AlarmThreshold int `json:"alarmThreshold"`
	// AlarmPeriodMinutes is the alarm's evaluation period. Default 5.
	AlarmPeriodMinutes int `json:"alarmPeriodMinutes"`
	// SweepMinutes is how often an EventBridge schedule runs the doctor
	// over every secret of the environment. Default 60. The failure event
	// and the alarm reach the doctor minutes after a failure, while the
	// rotation is younger than StuckAfter and may still be running, so
	// those runs only report: the sweep is what repairs a stuck rotation,
	// between StuckAfter and StuckAfter+SweepMinutes after it started. It
	// publishes only when some secret needs attention.
	SweepMinutes int `json:"sweepMinutes"`
	// TimeoutSeconds is the doctor function's timeout. Default 300: a
	// diagnosis logs in with up to three credentials (5 s connect each)
	// and reads logs in seconds, but after a repair it waits for the one
	// retried rotation (up to internal/doctor.DefaultRetryTimeout, 2 min,
	// shortened to what the invocation has left) before it publishes.
	TimeoutSeconds int `json:"timeoutSeconds"`
}

// DefaultDoctor returns the doctor's defaults (see [Doctor]).
func DefaultDoctor() Doctor {
	return Doctor{
		Repair:             true,
		StuckAfter:         DefaultStuckAfter.String(),
		AlarmThreshold:     1,
		AlarmPeriodMinutes: 5,
		SweepMinutes:       DefaultSweepMinutes,
		TimeoutSeconds:     300,
	}
}

// DefaultStuckAfter is the doctor's default stuck age, the same as
// rotatectl's (operator.DefaultStuckAfter; config does not import the
// operator and its AWS SDK for one constant).
const DefaultStuckAfter = time.Hour

// DefaultSweepMinutes is the interval of the doctor's scheduled sweep:
// the minimum stuck age, so a stuck rotation is repaired at most an hour
// after it became old enough.
const DefaultSweepMinutes = 60

// Limits of the doctor's settings.
const (
	minStuckAfter    = time.Hour           // four 15-minute rotation steps: never race a live rotation
	maxStuckAfter    = 30 * 24 * time.Hour // beyond a month a rotation is simply broken
	maxSubscriptions = 10                  // per kind: a topic is for a team, not a mailing list
)

// StuckAfterDuration returns StuckAfter parsed; valid after Validate.
func (d Doctor) StuckAfterDuration() time.Duration {
	v, _ := time.ParseDuration(d.StuckAfter)
	return v
}

// validate checks the doctor block; keys are reported under prefix
// ("environments.<name>.doctor").
func (d Doctor) validate(bad func(string, any, string, ...any)) {
	const key = "doctor."
	if v, err := time.ParseDuration(d.StuckAfter); err != nil || v < minStuckAfter || v > maxStuckAfter {
		bad(key+"stuckAfter", d.StuckAfter, "a Go duration from %s to %s, e.g. \"1h\" or \"90m\" (a younger rotation may still be running: four steps of up to 15 minutes)", "1h", "720h")
	}
	if len(d.EmailSubscriptions) > maxSubscriptions {
		bad(key+"emailSubscriptions", len(d.EmailSubscriptions), "at most %d addresses", maxSubscriptions)
	}
	for i, e := range d.EmailSubscriptions {
		k := fmt.Sprintf("%semailSubscriptions[%d]", key, i)
		// The pipeline's notification address rule plus net/mail's syntax,
		// no display name; SNS's confirmation mail is the real check.
		addr, err := mail.ParseAddress(e)
		switch {
		case err != nil || addr.Address != e || !emailRe.MatchString(e) || len(e) > 254:
			bad(k, e, "a plain e-mail address such as ops@example.com (no display name)")
		case slices.Index(d.EmailSubscriptions, e) != i:
			bad(k, e, "each address once")
		}
	}
	if len(d.HTTPSSubscriptions) > maxSubscriptions {
		bad(key+"httpsSubscriptions", len(d.HTTPSSubscriptions), "at most %d endpoints", maxSubscriptions)
	}
	for i, u := range d.HTTPSSubscriptions {
		k := fmt.Sprintf("%shttpsSubscriptions[%d]", key, i)
		if msg := checkHTTPSEndpoint(u); msg != "" {
			bad(k, u, "%s", msg)
		} else if slices.Index(d.HTTPSSubscriptions, u) != i {
			bad(k, u, "each endpoint once")
		}
	}
	if d.AlarmThreshold < 1 || d.AlarmThreshold > 100 {
		bad(key+"alarmThreshold", d.AlarmThreshold, "1..100 rotation function errors per period")
	}
	// CloudWatch periods of standard-resolution metrics are multiples of
	// 60 seconds; a day bounds one evaluation period.
	if d.AlarmPeriodMinutes < 1 || d.AlarmPeriodMinutes > 1440 {
		bad(key+"alarmPeriodMinutes", d.AlarmPeriodMinutes, "1..1440 minutes")
	}
	// EventBridge rates are whole minutes; a sweep logs in once per
	// healthy secret, so more often than every 15 minutes buys nothing
	// while StuckAfter is at least an hour, and a day is the longest wait
	// for a repair worth having.
	if d.SweepMinutes < 15 || d.SweepMinutes > 1440 {
		bad(key+"sweepMinutes", d.SweepMinutes, "15..1440 minutes")
	}
	if d.TimeoutSeconds < 30 || d.TimeoutSeconds > 900 {
		bad(key+"timeoutSeconds", d.TimeoutSeconds, "30..900 seconds (Lambda's maximum is 15 minutes)")
	}
}

// checkHTTPSEndpoint returns why u cannot be an HTTPS subscription, or "".
// Credentials in the URL are refused: the endpoint is written into the
// template and the subscription's attributes in plain text.
func checkHTTPSEndpoint(u string) string {
	p, err := url.Parse(u)
	switch {
	case err != nil || p.Scheme != "https" || p.Host == "" || p.Opaque != "":
		return "an https:// URL with a host, e.g. https://hooks.example.com/rotation"
	case p.User != nil:
		return "a URL without user:password@ (it would be stored in the template in plain text)"
	case strings.ContainsAny(u, " \t\n"):
		return "a URL without spaces"
	case len(u) > 2048:
		return "at most 2048 characters"
	}
	return ""
}
