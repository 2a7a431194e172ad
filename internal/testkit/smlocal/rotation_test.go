package smlocal_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

const fnARN = "arn:aws:lambda:us-east-1:123456789012:function:rotate"

// recorder is an in-process rotation function following the documented
// four-step protocol against the endpoint itself. failAt makes one step fail.
type recorder struct {
	mu     sync.Mutex
	c      *secretsmanager.Client
	events []events.SecretsManagerSecretRotationEvent
	failAt string
	hook   func(ev events.SecretsManagerSecretRotationEvent) // runs first, e.g. to block or observe
	errs   []error                                           // unexpected errors inside the function
}

func (r *recorder) steps() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, ev := range r.events {
		s = append(s, ev.Step)
	}
	return s
}

func (r *recorder) fail(err error) error {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
	return err
}

func (r *recorder) Invoke(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	if r.hook != nil {
		r.hook(ev)
	}
	if ev.Step == r.failAt {
		return fmt.Errorf("injected failure in %s", ev.Step)
	}
	id := aws.String(ev.SecretID)
	switch ev.Step {
	case smlocal.StepCreateSecret:
		cur, err := r.c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: id, VersionStage: aws.String("AWSCURRENT")})
		if err != nil {
			return r.fail(err)
		}
		if _, err := r.c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: id, ClientRequestToken: aws.String(ev.ClientRequestToken), SecretString: aws.String(aws.ToString(cur.SecretString) + "+rotated"),
			VersionStages: []string{"AWSPENDING"}, RotationToken: aws.String(ev.RotationToken),
		}); err != nil {
			return r.fail(err)
		}
	case smlocal.StepSetSecret, smlocal.StepTestSecret:
		if _, err := r.c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: id, VersionId: aws.String(ev.ClientRequestToken), VersionStage: aws.String("AWSPENDING")}); err != nil {
			return r.fail(err)
		}
	case smlocal.StepFinishSecret:
		d, err := r.c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: id})
		if err != nil {
			return r.fail(err)
		}
		var current string
		for v, stages := range d.VersionIdsToStages {
			if slices.Contains(stages, "AWSCURRENT") {
				current = v
			}
		}
		if _, err := r.c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: id, VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(ev.ClientRequestToken), RemoveFromVersionId: aws.String(current),
		}); err != nil {
			return r.fail(err)
		}
	}
	return nil
}

func startRotating(t *testing.T, r *recorder, opts ...smlocal.Option) (*smlocal.Server, *secretsmanager.Client) {
	t.Helper()
	srv, c := start(t, append([]smlocal.Option{smlocal.WithFunction(fnARN, r)}, opts...)...)
	r.c = c
	return srv, c
}

func TestRotateSecretRunsFourStepsInOrder(t *testing.T) {
	r := &recorder{}
	srv, c := startRotating(t, r, smlocal.WithSynchronousRotation())
	arn, v1 := mustCreate(t, c, "db", "pw")
	out, err := c.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{
		SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN),
		RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}, ClientRequestToken: token("rot1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.VersionId); got != *token("rot1") {
		t.Fatalf("VersionId = %s, want the ClientRequestToken", got)
	}
	want := []string{"createSecret", "setSecret", "testSecret", "finishSecret"}
	if got := r.steps(); !slices.Equal(got, want) {
		t.Fatalf("steps = %v, want %v", got, want)
	}
	if len(r.errs) > 0 || len(srv.RotationErrors()) > 0 {
		t.Fatalf("errors: function %v, server %v", r.errs, srv.RotationErrors())
	}
	for _, ev := range r.events {
		// The event names the secret by full ARN and carries one token pair.
		if ev.SecretID != arn || ev.ClientRequestToken != *token("rot1") || ev.RotationToken == "" || ev.RotationToken != r.events[0].RotationToken {
			t.Fatalf("event %+v, want SecretId %s, token %s and a stable RotationToken", ev, arn, *token("rot1"))
		}
	}
	if got := getString(t, c, "db", "AWSCURRENT"); got != "pw+rotated" {
		t.Fatalf("AWSCURRENT = %q", got)
	}
	wantStages := map[string][]string{v1: {"AWSPREVIOUS"}, *token("rot1"): {"AWSCURRENT", "AWSPENDING"}}
	if got := stagesOf(t, c, "db"); !mapsEqual(got, wantStages) {
		t.Fatalf("stages = %v, want %v", got, wantStages)
	}
	d, err := c.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(d.RotationEnabled) || aws.ToString(d.RotationLambdaARN) != fnARN || d.RotationRules == nil || aws.ToInt64(d.RotationRules.AutomaticallyAfterDays) != 30 {
		t.Fatalf("rotation config = %v %v %+v", d.RotationEnabled, d.RotationLambdaARN, d.RotationRules)
	}
	if d.LastRotatedDate == nil || d.NextRotationDate == nil {
		t.Fatalf("LastRotatedDate %v NextRotationDate %v", d.LastRotatedDate, d.NextRotationDate)
	}
	if got := d.NextRotationDate.Sub(*d.LastRotatedDate).Hours(); got != 30*24 {
		t.Fatalf("NextRotationDate - LastRotatedDate = %vh, want 720h", got)
	}

	// A second rotation reuses the stored function and rules and moves
	// AWSPENDING off the current version.
	if _, err := c.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: token("rot2")}); err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	if got := getString(t, c, "db", "AWSCURRENT"); got != "pw+rotated+rotated" {
		t.Fatalf("AWSCURRENT after second rotation = %q", got)
	}
}

// "During rotation, Secrets Manager creates an AWSPENDING version ID before
// creating the new secret version. To check if a secret version exists,
// call GetSecretValue": until createSecret puts a value, the AWSPENDING
// version has none and GetSecretValue answers ResourceNotFoundException.
func TestRotateSecretAWSPENDINGPlaceholderHasNoValue(t *testing.T) {
	var placeholderErr error
	var stages map[string][]string
	r := &recorder{}
	r.hook = func(ev events.SecretsManagerSecretRotationEvent) {
		if ev.Step != smlocal.StepCreateSecret {
			return
		}
		_, placeholderErr = r.c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(ev.SecretID), VersionId: aws.String(ev.ClientRequestToken), VersionStage: aws.String("AWSPENDING")})
		d, err := r.c.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(ev.SecretID)})
		if err == nil {
			stages = d.VersionIdsToStages
		}
	}
	_, c := startRotating(t, r, smlocal.WithSynchronousRotation())
	_, v1 := mustCreate(t, c, "db", "pw")
	if _, err := c.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN), ClientRequestToken: token("rot")}); err != nil {
		t.Fatal(err)
	}
	assertErrType(t, placeholderErr, &types.ResourceNotFoundException{})
	want := map[string][]string{v1: {"AWSCURRENT"}, *token("rot"): {"AWSPENDING"}}
	if !mapsEqual(stages, want) {
		t.Fatalf("stages during createSecret = %v, want %v", stages, want)
	}
}

// Rotation stops at the first failing step and leaves AWSPENDING on the new
// version; "If the AWSPENDING staging label is present but not attached to
// the same version as AWSCURRENT, then any later invocation of RotateSecret
// assumes that a previous rotation request is still in progress and returns
// an error."
func TestRotateSecretStopsAtFirstFailureThenRefusesNextRotation(t *testing.T) {
	for _, failAt := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		t.Run(failAt, func(t *testing.T) {
			r := &recorder{failAt: failAt}
			srv, c := startRotating(t, r, smlocal.WithSynchronousRotation())
			mustCreate(t, c, "db", "pw")
			if _, err := c.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN), ClientRequestToken: token("rot")}); err != nil {
				t.Fatalf("RotateSecret itself must succeed (rotation is asynchronous): %v", err)
			}
			all := []string{"createSecret", "setSecret", "testSecret", "finishSecret"}
			want := all[:slices.Index(all, failAt)+1]
			if got := r.steps(); !slices.Equal(got, want) {
				t.Fatalf("steps = %v, want %v", got, want)
			}
			errs := srv.RotationErrors()
			var rerr *smlocal.RotationError
			if len(errs) != 1 || !errors.As(errs[0], &rerr) || rerr.Step != failAt || rerr.VersionID != *token("rot") {
				t.Fatalf("RotationErrors = %v, want one *RotationError at %s", errs, failAt)
			}
			if got := getString(t, c, "db", "AWSCURRENT"); got != "pw" {
				t.Fatalf("AWSCURRENT = %q, want unchanged", got)
			}
			d, err := c.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("db")})
			if err != nil {
				t.Fatal(err)
			}
			if d.LastRotatedDate != nil {
				t.Fatalf("LastRotatedDate set after a failed rotation: %v", d.LastRotatedDate)
			}
			_, err = c.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: token("next")})
			assertErrType(t, err, &types.InvalidRequestException{})
			if !strings.Contains(err.Error(), "A previous rotation isn't complete") {
				t.Fatalf("message = %v", err)
			}
			// Removing AWSPENDING, as the troubleshooting guide says, unblocks rotation.
			if _, err := c.UpdateSecretVersionStage(ctxT(t), &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("db"), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: token("rot")}); err != nil {
				t.Fatal(err)
			}
			r.failAt = ""
			if _, err := c.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: token("next")}); err != nil {
				t.Fatalf("rotation after clearing AWSPENDING: %v", err)
			}
			if got := getString(t, c, "db", "AWSCURRENT"); got != "pw+rotated" {
				t.Fatalf("AWSCURRENT = %q", got)
			}
		})
	}
}

// RotateImmediately=false "tests the rotation configuration by running the
// testSecret step of the Lambda rotation function. This test creates an
// AWSPENDING version of the secret and then removes it."
func TestRotateSecretNotImmediatelyRunsOnlyTestSecret(t *testing.T) {
	var pendingValue string
	r := &recorder{}
	r.hook = func(ev events.SecretsManagerSecretRotationEvent) {
		out, err := r.c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(ev.SecretID), VersionId: aws.String(ev.ClientRequestToken), VersionStage: aws.String("AWSPENDING")})
		if err == nil {
			pendingValue = aws.ToString(out.SecretString)
		}
	}
	srv, c := startRotating(t, r, smlocal.WithSynchronousRotation())
	_, v1 := mustCreate(t, c, "db", "pw")
	if _, err := c.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{
		SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(false),
		RotationRules: &types.RotationRulesType{ScheduleExpression: aws.String("rate(10 days)"), Duration: aws.String("3h")},
	}); err != nil {
		t.Fatal(err)
	}
	if got := r.steps(); !slices.Equal(got, []string{"testSecret"}) {
		t.Fatalf("steps = %v, want [testSecret]", got)
	}
	if pendingValue != "pw" {
		t.Fatalf("AWSPENDING during testSecret = %q, want the current value", pendingValue)
	}
	if errs := srv.RotationErrors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := stagesOf(t, c, "db"); !mapsEqual(got, map[string][]string{v1: {"AWSCURRENT"}}) {
		t.Fatalf("stages = %v, want the test version removed", got)
	}
	d, err := c.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("db")})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(d.RotationEnabled) || d.LastRotatedDate != nil || d.NextRotationDate == nil || aws.ToString(d.RotationRules.ScheduleExpression) != "rate(10 days)" {
		t.Fatalf("enabled %v last %v next %v rules %+v", d.RotationEnabled, d.LastRotatedDate, d.NextRotationDate, d.RotationRules)
	}
}

func TestRotateSecretConfigurationErrors(t *testing.T) {
	r := &recorder{}
	_, c := startRotating(t, r, smlocal.WithSynchronousRotation())
	mustCreate(t, c, "db", "pw")
	tests := []struct {
		name string
		in   secretsmanager.RotateSecretInput
		want string // error code
	}{
		// "You tried to enable rotation on a secret that doesn't already have
		// a Lambda function ARN configured and you didn't include such an ARN."
		{"no function ARN", secretsmanager.RotateSecretInput{}, "InvalidRequestException"},
		{"function not registered", secretsmanager.RotateSecretInput{RotationLambdaARN: aws.String(fnARN + "-missing")}, "AccessDeniedException"},
		{"AutomaticallyAfterDays 0", secretsmanager.RotateSecretInput{RotationLambdaARN: aws.String(fnARN), RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(0)}}, "InvalidParameterException"},
		{"AutomaticallyAfterDays 1001", secretsmanager.RotateSecretInput{RotationLambdaARN: aws.String(fnARN), RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1001)}}, "InvalidParameterException"},
		{"days and schedule together", secretsmanager.RotateSecretInput{RotationLambdaARN: aws.String(fnARN), RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1), ScheduleExpression: aws.String("rate(1 day)")}}, "InvalidParameterException"},
		{"malformed schedule", secretsmanager.RotateSecretInput{RotationLambdaARN: aws.String(fnARN), RotationRules: &types.RotationRulesType{ScheduleExpression: aws.String("every day")}}, "InvalidParameterException"},
		{"rate under 4 hours", secretsmanager.RotateSecretInput{RotationLambdaARN: aws.String(fnARN), RotationRules: &types.RotationRulesType{ScheduleExpression: aws.String("rate(2 hours)")}}, "InvalidParameterException"},
		{"duration over 24h", secretsmanager.RotateSecretInput{RotationLambdaARN: aws.String(fnARN), RotationRules: &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(2), Duration: aws.String("25h")}}, "InvalidParameterException"},
		{"unknown secret", secretsmanager.RotateSecretInput{SecretId: aws.String("nope"), RotationLambdaARN: aws.String(fnARN)}, "ResourceNotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if in.SecretId == nil {
				in.SecretId = aws.String("db")
			}
			_, err := c.RotateSecret(ctxT(t), &in)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.want {
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
		})
	}
	if got := r.steps(); len(got) != 0 {
		t.Fatalf("function invoked despite errors: %v", got)
	}
}

// blockingRecorder starts an asynchronous rotation that blocks in
// createSecret until release is closed.
func blockingRotation(t *testing.T) (*smlocal.Server, *secretsmanager.Client, *recorder, chan struct{}, chan struct{}) {
	t.Helper()
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	r := &recorder{}
	r.hook = func(ev events.SecretsManagerSecretRotationEvent) {
		if ev.Step == smlocal.StepCreateSecret {
			once.Do(func() { close(entered) })
			<-release
		}
	}
	srv, c := startRotating(t, r)
	mustCreate(t, c, "db", "pw")
	if _, err := c.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN), ClientRequestToken: token("async")}); err != nil {
		t.Fatal(err)
	}
	<-entered
	return srv, c, r, entered, release
}

// RotateSecret "starts the asynchronous process of rotating the secret":
// it returns while the function still runs; WaitForRotations waits for it.
func TestRotateSecretIsAsynchronous(t *testing.T) {
	srv, c, r, _, release := blockingRotation(t)
	if got := r.steps(); !slices.Equal(got, []string{"createSecret"}) {
		t.Fatalf("steps while blocked = %v", got)
	}
	// A retry of the same request (same token) is the same rotation.
	out, err := c.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: token("async")})
	if err != nil || aws.ToString(out.VersionId) != *token("async") {
		t.Fatalf("retried RotateSecret = %v, %v", out, err)
	}
	// A different request is refused while AWSPENDING is on the new version.
	_, err = c.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: token("other")})
	assertErrType(t, err, &types.InvalidRequestException{})
	close(release)
	if err := srv.WaitForRotations(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := r.steps(); len(got) != 4 {
		t.Fatalf("steps = %v, want all four", got)
	}
	if got := getString(t, c, "db", "AWSCURRENT"); got != "pw+rotated" {
		t.Fatalf("AWSCURRENT = %q", got)
	}
}

// CancelRotateSecret turns rotation off; "If you cancel a rotation in
// progress, it can leave the VersionStage labels in an unexpected state":
// AWSPENDING stays and the response names the partially created version.
func TestCancelRotateSecret(t *testing.T) {
	srv, c, r, _, release := blockingRotation(t)
	out, err := c.CancelRotateSecret(ctxT(t), &secretsmanager.CancelRotateSecretInput{SecretId: aws.String("db")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.VersionId) != *token("async") {
		t.Fatalf("VersionId = %q, want the pending version", aws.ToString(out.VersionId))
	}
	close(release)
	if err := srv.WaitForRotations(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := r.steps(); !slices.Equal(got, []string{"createSecret"}) {
		t.Fatalf("steps = %v, want the rotation to stop after the running step", got)
	}
	d, err := c.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("db")})
	if err != nil {
		t.Fatal(err)
	}
	// A cancelled rotation reports RotationEnabled=false, not null: null means
	// "never been configured for rotation" (DescribeSecret, RotationEnabled).
	if d.RotationEnabled == nil || *d.RotationEnabled || d.LastRotatedDate != nil {
		t.Fatalf("RotationEnabled %v LastRotatedDate %v", d.RotationEnabled, d.LastRotatedDate)
	}
	if got := d.VersionIdsToStages[*token("async")]; !slices.Equal(got, []string{"AWSPENDING"}) {
		t.Fatalf("pending version stages = %v", got)
	}
}
