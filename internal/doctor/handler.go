package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/example/secret-rotation/internal/secret"
)

// Bounds of a sweep over the environment's secrets: ListSecrets pages of
// 100 (the service's maximum), at most MaxSecretPages of them, and at
// most MaxSweepSecrets secrets diagnosed per invocation (see
// [Doctor.Handle] for which).
const (
	MaxSecretPages  = 20
	MaxSweepSecrets = 50
)

// Time kept for the report: diagnoses run within the invocation's
// deadline minus PublishBudget, none starts with less than
// MinDiagnoseTime of that left, and Publish gets up to PublishBudget,
// within the invocation's deadline.
const (
	PublishBudget   = 30 * time.Second
	MinDiagnoseTime = 10 * time.Second
)

// Result is what an invocation returns: the diagnoses and whether the
// report was published.
type Result struct {
	Trigger   string       `json:"trigger"`
	Diagnoses []*Diagnosis `json:"diagnoses"`
	Published bool         `json:"published"`
	// Skipped are the secrets not diagnosed: another environment's (an
	// event's), beyond MaxSweepSecrets, or left when the time ran out.
	Skipped []string `json:"skipped,omitempty"`
	// OutOfTime: diagnosing stopped to keep PublishBudget for the report.
	OutOfTime bool `json:"outOfTime,omitempty"`
}

// Handle is the Lambda handler: it reads the trigger (see
// [ParseTrigger]), diagnoses the secret or every secret of the
// environment, and publishes one report with all diagnoses. Ignored
// events (an alarm back to OK, a successful rotation) return without a
// report, and so does the scheduled sweep when no secret needs attention
// (see [NeedsAttention]); every other trigger, a failed rotation's event
// above all, always publishes its report.
func (d *Doctor) Handle(ctx context.Context, payload json.RawMessage) (*Result, error) {
	t, err := ParseTrigger(payload)
	if errors.Is(err, ErrIgnored) {
		d.log.Info("ignored", "reason", err.Error())
		return &Result{Trigger: err.Error()}, nil
	}
	if err != nil {
		return nil, err
	}
	res := &Result{Trigger: t.Reason}
	ctx = withProbeCache(ctx)
	ids := []string{t.SecretID}
	var later []string // beyond MaxSweepSecrets
	if t.All {
		list, err := d.environmentSecrets(ctx)
		if err != nil {
			return res, err
		}
		ids = d.sweepOrder(list)
		if len(ids) > MaxSweepSecrets {
			later = ids[MaxSweepSecrets:]
			ids = ids[:MaxSweepSecrets]
		}
	}
	dctx, cancel := diagnoseContext(ctx)
	defer cancel()
	for i, id := range ids {
		if dl, ok := dctx.Deadline(); ok && time.Until(dl) < MinDiagnoseTime {
			res.Skipped = append(res.Skipped, ids[i:]...)
			res.OutOfTime = true
			d.log.Warn("out of time: the rest is not diagnosed in this run", "not_diagnosed", len(ids)-i, "publish_budget", PublishBudget.String())
			break
		}
		if t.FromEvent && !d.ours(dctx, id) {
			res.Skipped = append(res.Skipped, id)
			d.log.Info("not this environment's secret", "secret", id)
			continue
		}
		res.Diagnoses = append(res.Diagnoses, d.Diagnose(dctx, id))
	}
	res.Skipped = append(res.Skipped, later...)
	if len(res.Diagnoses) == 0 && !res.OutOfTime {
		return res, nil
	}
	if t.All {
		// Diagnosed in priority order, reported by name.
		slices.SortStableFunc(res.Diagnoses, func(a, b *Diagnosis) int { return strings.Compare(a.Secret, b.Secret) })
	}
	if t.Scheduled && !slices.ContainsFunc(res.Diagnoses, d.newForSweep) {
		d.log.Info("scheduled sweep: nothing new needs attention, nothing published", "secrets", len(res.Diagnoses),
			"need_attention", countFunc(res.Diagnoses, NeedsAttention), "not_diagnosed", len(res.Skipped))
		return res, nil
	}
	if d.pub == nil {
		return res, nil
	}
	pctx, pcancel := publishContext(ctx)
	defer pcancel()
	_, err = d.pub.Publish(pctx, &sns.PublishInput{
		TopicArn: aws.String(d.cfg.TopicARN),
		Subject:  aws.String(Subject(d.cfg.Environment, res.Diagnoses)),
		Message:  aws.String(Message(d.cfg.Environment, t.Reason, res.Diagnoses, res.Skipped, res.OutOfTime)),
	})
	if err != nil {
		return res, fmt.Errorf("publish the report to %s: %w", d.cfg.TopicARN, err)
	}
	res.Published = true
	return res, nil
}

// diagnoseContext bounds the diagnoses to the invocation's deadline minus
// PublishBudget, so that the report is published whatever they do.
func diagnoseContext(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, dl.Add(-PublishBudget))
}

// publishContext gives Publish PublishBudget even when ctx is done, but
// never beyond the invocation's own deadline (less a second to return).
func publishContext(ctx context.Context) (context.Context, context.CancelFunc) {
	end := time.Now().Add(PublishBudget)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-time.Second).Before(end) {
		end = dl.Add(-time.Second)
	}
	return context.WithDeadline(context.WithoutCancel(ctx), end)
}

// listed is one of the environment's secrets as ListSecrets shows it.
type listed struct {
	name    string
	pending bool // AWSPENDING on a version without AWSCURRENT
}

// sweepOrder is the order a sweep diagnoses in: first the secrets with a
// rotation pending (stuck or failing ones are among them), then the
// others; each group starts at an offset that moves on every sweep
// interval by as many as a sweep diagnoses of it, so without keeping state an
// environment with more secrets than one invocation diagnoses has every
// secret diagnosed within a few sweeps.
func (d *Doctor) sweepOrder(list []listed) []string {
	every := d.cfg.SweepInterval
	if every <= 0 {
		every = DefaultSweepInterval
	}
	n := d.now().UnixNano() / int64(every)
	var pending, others []string
	for _, l := range list {
		if l.pending {
			pending = append(pending, l.name)
		} else {
			others = append(others, l.name)
		}
	}
	// The others fill what the pending ones leave of MaxSweepSecrets, so
	// their offset moves on by that much.
	step := int64(max(1, MaxSweepSecrets-len(pending)))
	return append(rotateBy(pending, n*MaxSweepSecrets), rotateBy(others, n*step)...)
}

func rotateBy(s []string, by int64) []string {
	if len(s) == 0 {
		return nil
	}
	k := int(by % int64(len(s)))
	if k < 0 {
		k += len(s)
	}
	return append(slices.Clone(s[k:]), s[:k]...)
}

// NeedsAttention reports whether a diagnosis is worth a report from the
// scheduled sweep: anything but a healthy secret or a rotation that may
// still be running ([Diagnosis.Waiting]; the next sweep looks again and
// repairs it once it is older than the stuck-after age).
func NeedsAttention(g *Diagnosis) bool { return g.Cause != CauseHealthy && !g.Waiting }

// newForSweep decides, without keeping state between runs, whether the
// scheduled sweep publishes: when the doctor changed something (repaired,
// retried), when a rotation became stuck since the previous sweep (its
// stuck-after age passed within the last [Config.SweepInterval]), and once
// a day, at the first sweep after 00:00 UTC, for every secret that still
// needs attention. So a secret that stays broken (repairs off, rotation
// disabled, a password changed by hand) is reported by its failure event,
// when it becomes stuck and then daily, not at every sweep.
func (d *Doctor) newForSweep(g *Diagnosis) bool {
	if g.Repaired || g.Retried {
		return true
	}
	if !NeedsAttention(g) {
		return false
	}
	now, every := d.now().UTC(), d.cfg.SweepInterval
	if every <= 0 {
		every = DefaultSweepInterval
	}
	if !g.stuckSince.IsZero() && !now.Before(g.stuckSince) && now.Sub(g.stuckSince) < every {
		return true
	}
	return now.Sub(now.Truncate(24*time.Hour)) < every
}

func countFunc[T any](s []T, f func(T) bool) int {
	n := 0
	for _, v := range s {
		if f(v) {
			n++
		}
	}
	return n
}

// Message is the published text: the trigger, then one report per
// secret, then the secrets not diagnosed (outOfTime: diagnosing stopped
// to keep the time to publish).
func Message(env, trigger string, gs []*Diagnosis, skipped []string, outOfTime bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rotation doctor, environment %s, triggered by %s.\n", orNone(env), trigger)
	for _, g := range gs {
		b.WriteString("\n")
		b.WriteString(Render(env, g))
	}
	if len(skipped) > 0 {
		why := ""
		if outOfTime {
			why = fmt.Sprintf(" (the invocation's time ran out: the doctor keeps %s to publish; the next sweep starts elsewhere)", PublishBudget)
		}
		fmt.Fprintf(&b, "\nNot diagnosed in this run%s: %s\n", why, strings.Join(skipped, ", "))
	}
	return b.String()
}

// ours reports whether the environment's rotation function rotates id.
func (d *Doctor) ours(ctx context.Context, id string) bool {
	out, err := d.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		return true // let the diagnosis report the error
	}
	return d.cfg.RotationFunctionARN == "" || aws.ToString(out.RotationLambdaARN) == d.cfg.RotationFunctionARN
}

// environmentSecrets lists the secrets whose rotation function is the
// environment's, by name.
func (d *Doctor) environmentSecrets(ctx context.Context) ([]listed, error) {
	if d.cfg.RotationFunctionARN == "" {
		return nil, fmt.Errorf("no rotation function configured (%s) to find the environment's secrets", EnvRotationFunctionARN)
	}
	var ids []listed
	p := secretsmanager.NewListSecretsPaginator(d.sm, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(100)},
		func(o *secretsmanager.ListSecretsPaginatorOptions) { o.StopOnDuplicateToken = true })
	for pages := 0; p.HasMorePages(); pages++ {
		if pages == MaxSecretPages {
			return ids, fmt.Errorf("list secrets: still more after %d pages of 100", MaxSecretPages)
		}
		lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		out, err := p.NextPage(lctx)
		cancel()
		if err != nil {
			return ids, fmt.Errorf("list secrets: %w", err)
		}
		for _, s := range out.SecretList {
			if aws.ToString(s.RotationLambdaARN) == d.cfg.RotationFunctionARN {
				ids = append(ids, listed{name: aws.ToString(s.Name), pending: hasPending(s.SecretVersionsToStages)})
			}
		}
	}
	return ids, nil
}

// hasPending reports whether AWSPENDING is on a version without
// AWSCURRENT, from ListSecrets' SecretVersionsToStages.
func hasPending(versions map[string][]string) bool {
	for _, stages := range versions {
		if slices.Contains(stages, secret.StagePending) && !slices.Contains(stages, secret.StageCurrent) {
			return true
		}
	}
	return false
}
