package smlocal_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// Backdate moves only the labelled version's CreatedDate, as the API
// reports it; unknown secrets and labels are errors.
func TestBackdate(t *testing.T) {
	srv, err := smlocal.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ctx := context.Background()
	sm := srv.NewClient(ctx)
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("v2"), VersionStages: []string{"AWSPENDING"}}); err != nil {
		t.Fatal(err)
	}
	created := func(stage string) time.Time {
		t.Helper()
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String(stage)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToTime(out.CreatedDate)
	}
	cur, pend := created("AWSCURRENT"), created("AWSPENDING")
	if err := srv.Backdate("s", "AWSPENDING", 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := created("AWSPENDING"); pend.Sub(got) < 2*time.Hour-time.Second || pend.Sub(got) > 2*time.Hour+time.Second {
		t.Errorf("AWSPENDING created %s, want 2h before %s", got, pend)
	}
	if got := created("AWSCURRENT"); !got.Equal(cur) {
		t.Errorf("AWSCURRENT moved: %s -> %s", cur, got)
	}
	out, err := sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out.Versions {
		if len(v.VersionStages) == 1 && v.VersionStages[0] == "AWSPENDING" && time.Since(aws.ToTime(v.CreatedDate)) < 2*time.Hour {
			t.Errorf("ListSecretVersionIds: AWSPENDING created %s", aws.ToTime(v.CreatedDate))
		}
	}
	if err := srv.Backdate("nope", "AWSPENDING", time.Hour); err == nil {
		t.Error("unknown secret: no error")
	}
	if err := srv.Backdate("s", "AWSPREVIOUS", time.Hour); err == nil {
		t.Error("unheld label: no error")
	}
}
