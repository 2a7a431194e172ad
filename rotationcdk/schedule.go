package rotationcdk

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Schedule says when Secrets Manager rotates a secret: every N days, or by
// a rate() or cron() expression. Create one with [RotateEvery] or
// [RotateOn]; the zero Schedule means the default, every 30 days.
type Schedule struct {
	days       int
	expression string
}

// DefaultRotationDays is the interval of the zero [Schedule].
const DefaultRotationDays = 30

// RotateEvery rotates every days days (1..1000), counted from the last
// rotation (AutomaticallyAfterDays).
func RotateEvery(days int) Schedule { return Schedule{days: days} }

// RotateOn rotates on a schedule expression: rate(N days) with N 1..1000,
// rate(N hours) with N 4..23, or cron(minutes hours day-of-month month
// day-of-week year), as Secrets Manager accepts them
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html).
func RotateOn(expression string) Schedule { return Schedule{expression: strings.TrimSpace(expression)} }

// String returns the schedule as configured: "every 30 days" or the expression.
func (s Schedule) String() string {
	if s.expression != "" {
		return s.expression
	}
	return fmt.Sprintf("every %d days", s.orDefault().days)
}

func (s Schedule) orDefault() Schedule {
	if s.days == 0 && s.expression == "" {
		return Schedule{days: DefaultRotationDays}
	}
	return s
}

var (
	rateRe = regexp.MustCompile(`^rate\(([0-9]+) (days?|hours?)\)$`)
	cronRe = regexp.MustCompile(`^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$`)
)

// Validate reports whether Secrets Manager accepts the schedule with a
// rotation window of window (0: Secrets Manager's default, the whole
// interval up to 24 hours). The window must be whole hours, at most 24,
// and shorter than an hourly rate.
func (s Schedule) Validate(window time.Duration) error {
	s = s.orDefault()
	if window < 0 || window > 24*time.Hour || window%time.Hour != 0 {
		return fmt.Errorf("rotation window %s: want whole hours from 1 to 24 (or 0 for the Secrets Manager default)", window)
	}
	if s.expression == "" {
		if s.days < 1 || s.days > 1000 {
			return fmt.Errorf("rotation every %d days: want 1..1000 days", s.days)
		}
		return nil
	}
	const allowed = "want rate(N days) with N 1..1000, rate(N hours) with N 4..23, or cron(min hour day-of-month month day-of-week year)"
	if m := rateRe.FindStringSubmatch(s.expression); m != nil {
		n, _ := strconv.Atoi(m[1])
		hours := strings.HasPrefix(m[2], "hour")
		switch {
		case hours && (n < 4 || n > 23), !hours && (n < 1 || n > 1000):
			return fmt.Errorf("rotation schedule %q: %s", s.expression, allowed)
		case hours && window >= time.Duration(n)*time.Hour:
			return fmt.Errorf("rotation window %s: must be shorter than the rotation interval (%d hours)", window, n)
		}
		return nil
	}
	if !cronRe.MatchString(s.expression) {
		return fmt.Errorf("rotation schedule %q: %s", s.expression, allowed)
	}
	return nil
}
