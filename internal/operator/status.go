package operator

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/example/secret-rotation/internal/secret"
)

// Verdicts of [StatusReport].
const (
	VerdictHealthy    = "healthy"
	VerdictInProgress = "rotation in progress"
	VerdictStuck      = "stuck"
)

// StatusReport is what `status` prints.
type StatusReport struct {
	Name            string     `json:"name"`
	ARN             string     `json:"arn"`
	RotationEnabled bool       `json:"rotationEnabled"`
	Function        string     `json:"function,omitempty"`
	Rules           string     `json:"rules,omitempty"`
	LastRotated     *time.Time `json:"lastRotated,omitempty"`
	NextRotation    *time.Time `json:"nextRotation,omitempty"`
	Versions        []Version  `json:"versions"`
	Verdict         string     `json:"verdict"`
	Reason          string     `json:"reason"`
	// Users is set for an alternating-users secret only.
	Users *UsersReport `json:"users,omitempty"`
	// snap is what the report was made from, for
	// [Operator.PlanRepairFromStatus].
	snap *snapshot
}

// Status describes the secret's rotation configuration and versions and
// judges whether rotation is healthy, in progress or stuck. It reads
// Secrets Manager only (the rotation doctor relies on that); `verify` and
// `repair` log in to the database. [Operator.StatusWithUsers] is what
// `rotatectl status` runs.
func (o *Operator) Status(ctx context.Context, secretID string) (*StatusReport, error) {
	return o.status(ctx, secretID, false)
}

// StatusWithUsers is [Operator.Status] plus, for an alternating-users
// secret (AWSCURRENT names a master secret), which users the database
// accepts and how their grants compare with the declared ones, in
// Users (see [Operator.users]); the verdict does not depend on them. For
// other secrets it logs in nowhere.
func (o *Operator) StatusWithUsers(ctx context.Context, secretID string) (*StatusReport, error) {
	return o.status(ctx, secretID, true)
}

func (o *Operator) status(ctx context.Context, secretID string, users bool) (*StatusReport, error) {
	s, err := o.snapshot(ctx, secretID)
	if err != nil {
		return nil, err
	}
	d := s.desc
	r := &StatusReport{
		Name:            s.name(),
		ARN:             s.arn(),
		RotationEnabled: aws.ToBool(d.RotationEnabled),
		Function:        aws.ToString(d.RotationLambdaARN),
		Rules:           describeRules(d.RotationRules),
		LastRotated:     utcPtr(d.LastRotatedDate),
		NextRotation:    utcPtr(d.NextRotationDate),
		Versions:        s.versions,
		snap:            s,
	}
	r.Verdict, r.Reason = o.verdict(s)
	if users {
		r.Users = o.users(ctx, s)
	}
	return r, nil
}

// Pending is the version holding AWSPENDING when that is not the
// AWSCURRENT version (nil otherwise): the pending rotation the verdict
// judged. r must come from [Operator.Status].
func (r *StatusReport) Pending() *Version {
	p, ok := r.snap.pendingElsewhere()
	if !ok {
		return nil
	}
	v := r.snap.version(p)
	return &v
}

func (o *Operator) verdict(s *snapshot) (string, string) {
	if _, ok := s.byStage[secret.StageCurrent]; !ok {
		return VerdictStuck, "no version is labelled AWSCURRENT; applications cannot read the secret"
	}
	if p, ok := s.pendingElsewhere(); ok {
		v := s.version(p)
		age := o.now().Sub(v.Created)
		if v.Created.IsZero() || age >= o.stuckAfter {
			return VerdictStuck, fmt.Sprintf("AWSPENDING has been on version %s since %s (over %s); RotateSecret refuses to start until it is removed: run `rotatectl repair`",
				p, formatTime(v.Created), o.stuckAfter)
		}
		return VerdictInProgress, fmt.Sprintf("AWSPENDING is on version %s, created %s", p, formatTime(v.Created))
	}
	if !aws.ToBool(s.desc.RotationEnabled) {
		return VerdictHealthy, "AWSCURRENT is set and no rotation is pending; automatic rotation is off"
	}
	return VerdictHealthy, "AWSCURRENT is set and no rotation is pending"
}

func describeRules(r *types.RotationRulesType) string {
	if r == nil {
		return ""
	}
	var parts []string
	if r.AutomaticallyAfterDays != nil {
		parts = append(parts, fmt.Sprintf("every %d days", *r.AutomaticallyAfterDays))
	}
	if r.ScheduleExpression != nil {
		parts = append(parts, "schedule "+*r.ScheduleExpression)
	}
	if r.Duration != nil {
		parts = append(parts, "window "+*r.Duration)
	}
	return strings.Join(parts, ", ")
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// formatTime prints t in UTC to the second, or "unknown".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(time.RFC3339)
}
