package smlocal_test

import (
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// ARNs are arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random characters>.
func TestCreateSecretARNHasRandomSuffix(t *testing.T) {
	_, c := start(t)
	arn, _ := mustCreate(t, c, "app/db", "v1")
	re := regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-[A-Za-z0-9]{6}$`)
	if !re.MatchString(arn) {
		t.Fatalf("ARN %q does not match %s", arn, re)
	}
}

func TestCreateSecretWithValueGetsAWSCURRENTAndTokenAsVersionID(t *testing.T) {
	_, c := start(t)
	out, err := c.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{
		Name: aws.String("s"), SecretString: aws.String("v1"), ClientRequestToken: token("create"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.VersionId); got != *token("create") {
		t.Fatalf("VersionId = %q, want the ClientRequestToken %q", got, *token("create"))
	}
	want := map[string][]string{*token("create"): {"AWSCURRENT"}}
	if got := stagesOf(t, c, "s"); !mapsEqual(got, want) {
		t.Fatalf("VersionIdsToStages = %v, want %v", got, want)
	}
}

// Without SecretString/SecretBinary CreateSecret creates no version, and
// GetSecretValue answers ResourceNotFoundException for AWSCURRENT.
func TestCreateSecretWithoutValueHasNoVersion(t *testing.T) {
	_, c := start(t)
	out, err := c.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{Name: aws.String("empty")})
	if err != nil {
		t.Fatal(err)
	}
	if out.VersionId != nil {
		t.Fatalf("VersionId = %q, want none", *out.VersionId)
	}
	if got := stagesOf(t, c, "empty"); len(got) != 0 {
		t.Fatalf("VersionIdsToStages = %v, want empty", got)
	}
	_, err = c.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("empty")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), "staging label: AWSCURRENT") {
		t.Fatalf("err = %v, want ResourceNotFoundException for staging label AWSCURRENT", err)
	}
}

func TestCreateSecretErrors(t *testing.T) {
	_, c := start(t)
	mustCreate(t, c, "taken", "v")
	tests := []struct {
		name string
		in   secretsmanager.CreateSecretInput
		want error
	}{
		{"existing name is ResourceExistsException", secretsmanager.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("x")}, &types.ResourceExistsException{}},
		{"invalid character in name", secretsmanager.CreateSecretInput{Name: aws.String("bad name!")}, &types.InvalidParameterException{}},
		{"string and binary together", secretsmanager.CreateSecretInput{Name: aws.String("both"), SecretString: aws.String("x"), SecretBinary: []byte{1}}, &types.InvalidParameterException{}},
		{"ClientRequestToken shorter than 32 characters", secretsmanager.CreateSecretInput{Name: aws.String("short"), SecretString: aws.String("x"), ClientRequestToken: aws.String("short")}, &types.InvalidParameterException{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.CreateSecret(ctxT(t), &tt.in)
			assertErrType(t, err, tt.want)
		})
	}
}

// CreateSecret ClientRequestToken: "If a version with this value already
// exists and the version SecretString and SecretBinary values are the same
// as those in the request, then the request is ignored."
func TestCreateSecretRetryWithSameTokenIsIgnored(t *testing.T) {
	_, c := start(t)
	in := &secretsmanager.CreateSecretInput{Name: aws.String("idem"), SecretString: aws.String("v"), ClientRequestToken: token("idem")}
	first, err := c.CreateSecret(ctxT(t), in)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.CreateSecret(ctxT(t), in)
	if err != nil {
		t.Fatalf("retried CreateSecret: %v", err)
	}
	if aws.ToString(first.ARN) != aws.ToString(second.ARN) {
		t.Fatalf("ARN changed: %s -> %s", aws.ToString(first.ARN), aws.ToString(second.ARN))
	}
}

// SecretId accepts the name, the full ARN, or a partial ARN without the
// six random characters.
func TestSecretIdByNameFullARNAndPartialARN(t *testing.T) {
	_, c := start(t)
	arn, _ := mustCreate(t, c, "team/app-db", "value")
	partial := arn[:len(arn)-7]
	for _, id := range []string{"team/app-db", arn, partial} {
		t.Run(id, func(t *testing.T) {
			if got := getString(t, c, id, "AWSCURRENT"); got != "value" {
				t.Fatalf("value = %q", got)
			}
		})
	}
	for _, id := range []string{"team/app", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/app-db", arn + "x"} {
		t.Run("not found "+id, func(t *testing.T) {
			_, err := c.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
			assertErrType(t, err, &types.ResourceNotFoundException{})
		})
	}
}

func TestDescribeSecretFields(t *testing.T) {
	_, c := start(t)
	out, err := c.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{
		Name: aws.String("d"), SecretString: aws.String("v"), Description: aws.String("desc"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeSecret(ctxT(t), &secretsmanager.DescribeSecretInput{SecretId: out.ARN})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.ARN) != aws.ToString(out.ARN) || aws.ToString(d.Name) != "d" || aws.ToString(d.Description) != "desc" {
		t.Fatalf("ARN/Name/Description = %s/%s/%s", aws.ToString(d.ARN), aws.ToString(d.Name), aws.ToString(d.Description))
	}
	if d.CreatedDate == nil || d.LastChangedDate == nil || d.CreatedDate.IsZero() {
		t.Fatalf("CreatedDate/LastChangedDate missing: %v %v", d.CreatedDate, d.LastChangedDate)
	}
	if aws.ToBool(d.RotationEnabled) || d.RotationLambdaARN != nil || d.LastRotatedDate != nil || d.NextRotationDate != nil {
		t.Fatalf("rotation fields set on a fresh secret: %+v", d)
	}
	if len(d.Tags) != 1 || aws.ToString(d.Tags[0].Key) != "k" {
		t.Fatalf("Tags = %+v", d.Tags)
	}
}

// SecretBinary travels base64-encoded and comes back byte for byte.
func TestSecretBinaryRoundTrip(t *testing.T) {
	_, c := start(t)
	bin := []byte{0, 1, 2, 0xff, '"', '\\'}
	if _, err := c.CreateSecret(ctxT(t), &secretsmanager.CreateSecretInput{Name: aws.String("bin"), SecretBinary: bin}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("bin")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.SecretBinary, bin) || out.SecretString != nil {
		t.Fatalf("SecretBinary = %v, SecretString = %v", out.SecretBinary, out.SecretString)
	}
}

func assertErrType(t *testing.T, err error, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %T", want)
	}
	// want is a pointer to an SDK error type; errors.As needs a pointer to
	// a variable of that type.
	if !errors.As(err, reflect.New(reflect.TypeOf(want)).Interface()) {
		t.Fatalf("err = %v (%T), want %T", err, err, want)
	}
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !slices.Equal(sorted(v), sorted(w)) {
			return false
		}
	}
	return true
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
