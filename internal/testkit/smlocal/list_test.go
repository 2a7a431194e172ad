package smlocal_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/secret-rotation/internal/testkit/smlocal"
)

// ListSecrets pages by name with the SDK's paginator and carries each
// secret's rotation settings, which the doctor filters on.
func TestListSecretsPaginatesWithRotationSettings(t *testing.T) {
	fn := "arn:aws:lambda:us-east-1:123456789012:function:f"
	_, c := start(t, smlocal.WithFunction(fn, smlocal.InvokerFunc(func(context.Context, events.SecretsManagerSecretRotationEvent) error { return nil })))
	for _, n := range []string{"c", "a", "b"} {
		mustCreate(t, c, n, "v-"+n)
	}
	if _, err := c.RotateSecret(ctxT(t), &secretsmanager.RotateSecretInput{SecretId: aws.String("b"),
		RotationLambdaARN: aws.String(fn), RotateImmediately: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	p := secretsmanager.NewListSecretsPaginator(c, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(2)})
	var names, rotated []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range out.SecretList {
			names = append(names, aws.ToString(s.Name))
			if s.RotationLambdaARN != nil {
				rotated = append(rotated, aws.ToString(s.Name))
			}
		}
	}
	if pages != 2 || !slices.Equal(names, []string{"a", "b", "c"}) || !slices.Equal(rotated, []string{"b"}) {
		t.Fatalf("pages %d, names %v, with a rotation function %v; want 2 pages, [a b c], [b]", pages, names, rotated)
	}
}
