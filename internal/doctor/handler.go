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
)

// Bounds of a sweep over the environment's secrets: ListSecrets pages of
// 100 (the service's maximum), at most MaxSecretPages of them, and at
// most MaxSweepSecrets secrets diagnosed per invocation.
const (
	MaxSecretPages  = 20
	MaxSweepSecrets = 50
)

// Result is what an invocation returns: the diagnoses and whether the
// report was published.
type Result struct {
	Trigger   string       `json:"trigger"`
	Diagnoses []*Diagnosis `json:"diagnoses"`
	Published bool         `json:"published"`
	Skipped   []string     `json:"skipped,omitempty"`
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
	ids := []string{t.SecretID}
	if t.All {
		if ids, err = d.environmentSecrets(ctx); err != nil {
			return res, err
		}
		if len(ids) > MaxSweepSecrets {
			res.Skipped = ids[MaxSweepSecrets:]
			ids = ids[:MaxSweepSecrets]
		}
	}
	for _, id := range ids {
		if t.FromEvent && !d.ours(ctx, id) {
			res.Skipped = append(res.Skipped, id)
			d.log.Info("not this environment's secret", "secret", id)
			continue
		}
		res.Diagnoses = append(res.Diagnoses, d.Diagnose(ctx, id))
	}
	if len(res.Diagnoses) == 0 {
		return res, nil
	}
	if t.Scheduled && !slices.ContainsFunc(res.Diagnoses, d.newForSweep) {
		d.log.Info("scheduled sweep: nothing new needs attention, nothing published", "secrets", len(res.Diagnoses),
			"need_attention", countFunc(res.Diagnoses, NeedsAttention), "not_diagnosed", len(res.Skipped))
		return res, nil
	}
	if d.pub == nil {
		return res, nil
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err = d.pub.Publish(pctx, &sns.PublishInput{
		TopicArn: aws.String(d.cfg.TopicARN),
		Subject:  aws.String(Subject(d.cfg.Environment, res.Diagnoses)),
		Message:  aws.String(Message(d.cfg.Environment, t.Reason, res.Diagnoses, res.Skipped)),
	})
	if err != nil {
		return res, fmt.Errorf("publish the report to %s: %w", d.cfg.TopicARN, err)
	}
	res.Published = true
	return res, nil
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
// secret.
func Message(env, trigger string, gs []*Diagnosis, skipped []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rotation doctor, environment %s, triggered by %s.\n", orNone(env), trigger)
	for _, g := range gs {
		b.WriteString("\n")
		b.WriteString(Render(env, g))
	}
	if len(skipped) > 0 {
		fmt.Fprintf(&b, "\nNot diagnosed in this run: %s\n", strings.Join(skipped, ", "))
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
func (d *Doctor) environmentSecrets(ctx context.Context) ([]string, error) {
	if d.cfg.RotationFunctionARN == "" {
		return nil, fmt.Errorf("no rotation function configured (%s) to find the environment's secrets", EnvRotationFunctionARN)
	}
	var ids []string
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
				ids = append(ids, aws.ToString(s.Name))
			}
		}
	}
	return ids, nil
}
