package smlocal_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// PutSecretValue: "If you don't include VersionStages, then Secrets Manager
// automatically moves the staging label AWSCURRENT to this version" and
// "also moves the staging label AWSPREVIOUS to the version that AWSCURRENT
// was removed from".
func TestPutSecretValueMovesAWSCURRENTAndAWSPREVIOUS(t *testing.T) {
	_, c := start(t)
	_, v1 := mustCreate(t, c, "s", "one")
	put := func(value, tok string) string {
		out, err := c.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{
			SecretId: aws.String("s"), SecretString: aws.String(value), ClientRequestToken: token(tok),
		})
		if err != nil {
			t.Fatalf("PutSecretValue: %v", err)
		}
		if got := out.VersionStages; len(got) != 1 || got[0] != "AWSCURRENT" {
			t.Fatalf("VersionStages = %v, want [AWSCURRENT]", got)
		}
		return aws.ToString(out.VersionId)
	}
	v2 := put("two", "v2")
	if want := (map[string][]string{v1: {"AWSPREVIOUS"}, v2: {"AWSCURRENT"}}); !mapsEqual(stagesOf(t, c, "s"), want) {
		t.Fatalf("after v2: %v, want %v", stagesOf(t, c, "s"), want)
	}
	v3 := put("three", "v3")
	// v1 lost its last label: deprecated, so no longer in VersionIdsToStages.
	if want := (map[string][]string{v2: {"AWSPREVIOUS"}, v3: {"AWSCURRENT"}}); !mapsEqual(stagesOf(t, c, "s"), want) {
		t.Fatalf("after v3: %v, want %v", stagesOf(t, c, "s"), want)
	}
	if got := getString(t, c, "s", "AWSPREVIOUS"); got != "two" {
		t.Fatalf("AWSPREVIOUS = %q, want two", got)
	}
}

// PutSecretValue ClientRequestToken: same token and same value "the request
// is ignored"; same token and a different value "the request fails because
// you can't modify a secret version".
func TestPutSecretValueClientRequestTokenIdempotency(t *testing.T) {
	_, c := start(t)
	mustCreate(t, c, "s", "one")
	in := &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("two"), ClientRequestToken: token("v2")}
	first, err := c.PutSecretValue(ctxT(t), in)
	if err != nil {
		t.Fatal(err)
	}
	before := stagesOf(t, c, "s")
	again, err := c.PutSecretValue(ctxT(t), in)
	if err != nil {
		t.Fatalf("same token, same value: %v", err)
	}
	if aws.ToString(again.VersionId) != aws.ToString(first.VersionId) {
		t.Fatalf("repeat returned version %s, want %s", aws.ToString(again.VersionId), aws.ToString(first.VersionId))
	}
	if after := stagesOf(t, c, "s"); !mapsEqual(before, after) {
		t.Fatalf("repeat changed stages: %v -> %v", before, after)
	}
	_, err = c.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("other"), ClientRequestToken: token("v2")})
	assertErrType(t, err, &types.ResourceExistsException{})
	if got := getString(t, c, "s", "AWSCURRENT"); got != "two" {
		t.Fatalf("AWSCURRENT = %q after rejected put, want two", got)
	}
}

// PutSecretValue VersionStages: "If you specify a staging label that's
// already associated with a different version of the same secret, then
// Secrets Manager removes the label from the other version"; AWSCURRENT is
// untouched when not listed. RotationToken is accepted.
func TestPutSecretValueWithVersionStagesAWSPENDING(t *testing.T) {
	_, c := start(t)
	_, v1 := mustCreate(t, c, "s", "one")
	p1, err := c.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String("s"), SecretString: aws.String("p1"), ClientRequestToken: token("p1"),
		VersionStages: []string{"AWSPENDING"}, RotationToken: aws.String("rotation-token"),
	})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{
		SecretId: aws.String("s"), SecretString: aws.String("p2"), ClientRequestToken: token("p2"),
		VersionStages: []string{"AWSPENDING", "custom"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{v1: {"AWSCURRENT"}, aws.ToString(p2.VersionId): {"AWSPENDING", "custom"}}
	if got := stagesOf(t, c, "s"); !mapsEqual(got, want) {
		t.Fatalf("stages = %v, want %v (p1 %s deprecated)", got, want, aws.ToString(p1.VersionId))
	}
	if got := getString(t, c, "s", "AWSPENDING"); got != "p2" {
		t.Fatalf("AWSPENDING = %q", got)
	}
}

func TestPutSecretValueErrors(t *testing.T) {
	_, c := start(t)
	mustCreate(t, c, "s", "one")
	tests := []struct {
		name string
		in   secretsmanager.PutSecretValueInput
		want error
	}{
		{"unknown secret", secretsmanager.PutSecretValueInput{SecretId: aws.String("nope"), SecretString: aws.String("x")}, &types.ResourceNotFoundException{}},
		{"neither string nor binary", secretsmanager.PutSecretValueInput{SecretId: aws.String("s")}, &types.InvalidParameterException{}},
		{"both string and binary", secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("x"), SecretBinary: []byte("x")}, &types.InvalidParameterException{}},
		{"value over 65536 bytes", secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(strings.Repeat("x", 65537))}, &types.InvalidParameterException{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PutSecretValue(ctxT(t), &tt.in)
			assertErrType(t, err, tt.want)
		})
	}
}

// GetSecretValue: "If you include both this parameter and VersionStage, the
// two parameters must refer to the same secret version."
func TestGetSecretValueByVersionIdAndStage(t *testing.T) {
	_, c := start(t)
	_, v1 := mustCreate(t, c, "s", "one")
	out, err := c.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("two")})
	if err != nil {
		t.Fatal(err)
	}
	v2 := aws.ToString(out.VersionId)
	tests := []struct {
		name      string
		versionID *string
		stage     *string
		want      string
		wantErr   error
	}{
		{"default is AWSCURRENT", nil, nil, "two", nil},
		{"by stage", nil, aws.String("AWSPREVIOUS"), "one", nil},
		{"by version id", aws.String(v1), nil, "one", nil},
		{"id and matching stage", aws.String(v2), aws.String("AWSCURRENT"), "two", nil},
		{"id and stage of another version", aws.String(v1), aws.String("AWSCURRENT"), "", &types.ResourceNotFoundException{}},
		{"unknown version id", aws.String("00000000-0000-0000-0000-000000000000"), nil, "", &types.ResourceNotFoundException{}},
		{"unknown stage", nil, aws.String("AWSPENDING"), "", &types.ResourceNotFoundException{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.GetSecretValue(ctxT(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: tt.versionID, VersionStage: tt.stage})
			if tt.wantErr != nil {
				assertErrType(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(got.SecretString) != tt.want {
				t.Fatalf("value = %q, want %q", aws.ToString(got.SecretString), tt.want)
			}
			if got.CreatedDate == nil || aws.ToString(got.Name) != "s" || len(got.VersionStages) == 0 {
				t.Fatalf("incomplete response: %+v", got)
			}
		})
	}
}

// UpdateSecretVersionStage: "If the staging label is already attached to a
// different version of the secret, then you must also specify the
// RemoveFromVersionId parameter" ... "If the label is attached and you
// either do not specify this parameter, or the version ID does not match,
// then the operation fails."
func TestUpdateSecretVersionStageRules(t *testing.T) {
	type step struct {
		stage, moveTo, removeFrom string // version names: "v1", "v2", "v3" or ""
		wantErr                   error
	}
	tests := []struct {
		name  string
		steps []step
		want  map[string][]string // by version name
	}{
		{
			name:  "move AWSCURRENT with RemoveFromVersionId moves AWSPREVIOUS to the old current",
			steps: []step{{stage: "AWSCURRENT", moveTo: "v3", removeFrom: "v2"}},
			want:  map[string][]string{"v2": {"AWSPREVIOUS"}, "v3": {"AWSCURRENT", "AWSPENDING"}},
		},
		{
			name:  "move AWSCURRENT without RemoveFromVersionId fails",
			steps: []step{{stage: "AWSCURRENT", moveTo: "v3", wantErr: &types.InvalidParameterException{}}},
			want:  map[string][]string{"v1": {"AWSPREVIOUS"}, "v2": {"AWSCURRENT"}, "v3": {"AWSPENDING"}},
		},
		{
			name:  "move AWSCURRENT naming the wrong RemoveFromVersionId fails",
			steps: []step{{stage: "AWSCURRENT", moveTo: "v3", removeFrom: "v1", wantErr: &types.InvalidParameterException{}}},
			want:  map[string][]string{"v1": {"AWSPREVIOUS"}, "v2": {"AWSCURRENT"}, "v3": {"AWSPENDING"}},
		},
		{
			name:  "roll back to AWSPREVIOUS swaps the labels",
			steps: []step{{stage: "AWSCURRENT", moveTo: "v1", removeFrom: "v2"}},
			want:  map[string][]string{"v1": {"AWSCURRENT"}, "v2": {"AWSPREVIOUS"}, "v3": {"AWSPENDING"}},
		},
		{
			name:  "remove only",
			steps: []step{{stage: "AWSPENDING", removeFrom: "v3"}},
			want:  map[string][]string{"v1": {"AWSPREVIOUS"}, "v2": {"AWSCURRENT"}},
		},
		{
			name:  "remove from a version that does not hold the label fails",
			steps: []step{{stage: "AWSPENDING", removeFrom: "v2", wantErr: &types.InvalidParameterException{}}},
			want:  map[string][]string{"v1": {"AWSPREVIOUS"}, "v2": {"AWSCURRENT"}, "v3": {"AWSPENDING"}},
		},
		{
			name:  "AWSCURRENT can only be moved, not removed",
			steps: []step{{stage: "AWSCURRENT", removeFrom: "v2", wantErr: &types.InvalidParameterException{}}},
			want:  map[string][]string{"v1": {"AWSPREVIOUS"}, "v2": {"AWSCURRENT"}, "v3": {"AWSPENDING"}},
		},
		{
			name:  "a new label needs no RemoveFromVersionId",
			steps: []step{{stage: "blue", moveTo: "v1"}},
			want:  map[string][]string{"v1": {"AWSPREVIOUS", "blue"}, "v2": {"AWSCURRENT"}, "v3": {"AWSPENDING"}},
		},
		{
			name:  "moving to an unknown version fails",
			steps: []step{{stage: "blue", moveTo: "nope", wantErr: &types.InvalidParameterException{}}},
			want:  map[string][]string{"v1": {"AWSPREVIOUS"}, "v2": {"AWSCURRENT"}, "v3": {"AWSPENDING"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := start(t)
			_, v1 := mustCreate(t, c, "s", "one")
			ids := map[string]string{"v1": v1, "nope": "00000000-0000-0000-0000-000000000000"}
			for i, spec := range []struct{ value, stage string }{{"two", "AWSCURRENT"}, {"three", "AWSPENDING"}} {
				out, err := c.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(spec.value), VersionStages: []string{spec.stage}})
				if err != nil {
					t.Fatal(err)
				}
				ids[fmt.Sprintf("v%d", i+2)] = aws.ToString(out.VersionId)
			}
			for _, st := range tt.steps {
				in := &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String(st.stage)}
				if st.moveTo != "" {
					in.MoveToVersionId = aws.String(ids[st.moveTo])
				}
				if st.removeFrom != "" {
					in.RemoveFromVersionId = aws.String(ids[st.removeFrom])
				}
				_, err := c.UpdateSecretVersionStage(ctxT(t), in)
				if st.wantErr != nil {
					assertErrType(t, err, st.wantErr)
				} else if err != nil {
					t.Fatal(err)
				}
			}
			want := map[string][]string{}
			for name, stages := range tt.want {
				want[ids[name]] = stages
			}
			if got := stagesOf(t, c, "s"); !mapsEqual(got, want) {
				t.Fatalf("stages = %v, want %v (ids %v)", got, want, ids)
			}
		})
	}
}

// ListSecretVersionIds lists labelled versions; IncludeDeprecated adds the
// unlabelled ones. MaxResults/NextToken paginate.
func TestListSecretVersionIds(t *testing.T) {
	_, c := start(t)
	mustCreate(t, c, "s", "v0")
	for i := 1; i <= 4; i++ {
		if _, err := c.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(fmt.Sprint("v", i))}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(deprecated bool) int {
		n := 0
		p := secretsmanager.NewListSecretVersionIdsPaginator(c, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(deprecated), MaxResults: aws.Int32(2)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range page.Versions {
				if v.CreatedDate == nil {
					t.Fatalf("version %s without CreatedDate", aws.ToString(v.VersionId))
				}
			}
			n += len(page.Versions)
		}
		return n
	}
	if got := count(false); got != 2 {
		t.Fatalf("labelled versions = %d, want 2 (AWSCURRENT, AWSPREVIOUS)", got)
	}
	if got := count(true); got != 5 {
		t.Fatalf("all versions = %d, want 5", got)
	}
}

// The service keeps labelled versions plus up to about 100 deprecated ones.
func TestDeprecatedVersionsAreCapped(t *testing.T) {
	_, c := start(t)
	mustCreate(t, c, "s", "v0")
	for i := 1; i <= 110; i++ {
		if _, err := c.PutSecretValue(ctxT(t), &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(fmt.Sprint("v", i))}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	p := secretsmanager.NewListSecretVersionIdsPaginator(c, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Versions)
	}
	if n != 102 {
		t.Fatalf("versions kept = %d, want 102 (2 labelled + 100 deprecated)", n)
	}
}
