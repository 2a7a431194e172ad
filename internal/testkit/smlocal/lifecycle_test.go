package smlocal_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// DeleteSecret without ForceDeleteWithoutRecovery schedules deletion (30
// days by default): the secret keeps its metadata, value operations fail
// with InvalidRequestException, the name stays taken, and RestoreSecret
// brings it back.
func TestDeleteSecretWithRecoveryWindowAndRestore(t *testing.T) {
	_, c := start(t)
	arn, _ := mustCreate(t, c, "s", "v")
	del, err := c.DeleteSecret(ctxT(t), &secretsmanager.DeleteSecretInput{SecretId: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(del.ARN) != arn || del.DeletionDate == nil || time.Until(*del.DeletionDate) < 29*24*time.Hour {
		t.Fatalf("DeleteSecret = %s %v, want the ARN and a deletion date 30 days out", aws.ToString(del.ARN), del.DeletionDate)
	}
	d, err := c.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil || d.DeletedDate == nil {
		t.Fatalf("DescribeSecret after delete: %v, DeletedDate %v", err, d.DeletedDate)
	}
	_, err = c.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
	assertErrType(t, err, &types.InvalidRequestException{})
	_, err = c.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("x")})
	assertErrType(t, err, &types.InvalidRequestException{})
	_, err = c.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{Name: aws.String("s")})
	assertErrType(t, err, &types.InvalidRequestException{})
	_, err = c.DeleteSecret(ctxT(t), &secretsmanager.DeleteSecretInput{SecretId: aws.String("s")})
	assertErrType(t, err, &types.InvalidRequestException{})
	if _, err := c.RestoreSecret(ctxT(t), &secretsmanager.RestoreSecretInput{SecretId: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if got := getString(t, c, "s", "AWSCURRENT"); got != "v" {
		t.Fatalf("value after restore = %q", got)
	}
}

func TestDeleteSecretParameters(t *testing.T) {
	_, c := start(t)
	mustCreate(t, c, "s", "v")
	tests := []struct {
		name string
		in   secretsmanager.DeleteSecretInput
	}{
		{"RecoveryWindowInDays 6", secretsmanager.DeleteSecretInput{RecoveryWindowInDays: aws.Int64(6)}},
		{"RecoveryWindowInDays 31", secretsmanager.DeleteSecretInput{RecoveryWindowInDays: aws.Int64(31)}},
		{"window and force together", secretsmanager.DeleteSecretInput{RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.SecretId = aws.String("s")
			_, err := c.DeleteSecret(ctxT(t), &in)
			assertErrType(t, err, &types.InvalidParameterException{})
		})
	}
	out, err := c.DeleteSecret(ctxT(t), &secretsmanager.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7)})
	if err != nil {
		t.Fatal(err)
	}
	if days := time.Until(*out.DeletionDate).Hours() / 24; days < 6.9 || days > 7.1 {
		t.Fatalf("DeletionDate %v is %.1f days out, want 7", out.DeletionDate, days)
	}
}

// ForceDeleteWithoutRecovery removes the secret at once, so the name can be
// reused (with a new random ARN suffix); "If you forcibly delete an already
// deleted or nonexistent secret, the operation does not return
// ResourceNotFoundException."
func TestForceDeleteWithoutRecovery(t *testing.T) {
	_, c := start(t)
	arn, _ := mustCreate(t, c, "s", "v")
	for range 2 {
		if _, err := c.DeleteSecret(ctxT(t), &secretsmanager.DeleteSecretInput{SecretId: aws.String("s"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	assertErrType(t, err, &types.ResourceNotFoundException{})
	arn2, _ := mustCreate(t, c, "s", "new")
	if arn2 == arn {
		t.Fatalf("recreated secret reuses ARN %s", arn)
	}
	_, err = c.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	assertErrType(t, err, &types.ResourceNotFoundException{})
}

// UpdateSecret changes metadata and, with a value, creates a new AWSCURRENT
// version (AWSPREVIOUS follows).
func TestUpdateSecret(t *testing.T) {
	_, c := start(t)
	_, v1 := mustCreate(t, c, "s", "one")
	if _, err := c.UpdateSecret(ctxT(t), &secretsmanager.UpdateSecretInput{SecretId: aws.String("s"), Description: aws.String("new desc")}); err != nil {
		t.Fatal(err)
	}
	if got := stagesOf(t, c, "s"); !mapsEqual(got, map[string][]string{v1: {"AWSCURRENT"}}) {
		t.Fatalf("metadata update changed versions: %v", got)
	}
	out, err := c.UpdateSecret(ctxT(t), &secretsmanager.UpdateSecretInput{SecretId: aws.String("s"), SecretString: aws.String("two")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{v1: {"AWSPREVIOUS"}, aws.ToString(out.VersionId): {"AWSCURRENT"}}
	if got := stagesOf(t, c, "s"); !mapsEqual(got, want) {
		t.Fatalf("stages = %v, want %v", got, want)
	}
	d, err := c.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil || aws.ToString(d.Description) != "new desc" {
		t.Fatalf("Description = %q, %v", aws.ToString(d.Description), err)
	}
}
