package operator

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/example/secret-rotation/internal/dbsecret"
)

// Version is one version of a secret as the commands report it.
type Version struct {
	ID      string    `json:"id"`
	Stages  []string  `json:"stages"`
	Created time.Time `json:"created"`
}

// snapshot is what DescribeSecret and ListSecretVersionIds say about a
// secret at one moment.
type snapshot struct {
	desc     *secretsmanager.DescribeSecretOutput
	versions []Version
	byStage  map[string]string // label -> version id
}

func (o *Operator) snapshot(ctx context.Context, id string) (*snapshot, error) {
	desc, err := o.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("describe secret %s: %w", id, err)
	}
	s := &snapshot{desc: desc, byStage: map[string]string{}}
	created := map[string]time.Time{}
	var token *string
	for {
		out, err := o.sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(id), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("list versions of %s: %w", id, err)
		}
		for _, v := range out.Versions {
			created[aws.ToString(v.VersionId)] = aws.ToTime(v.CreatedDate)
		}
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	for vid, stages := range desc.VersionIdsToStages {
		st := append([]string(nil), stages...)
		sort.Strings(st)
		s.versions = append(s.versions, Version{ID: vid, Stages: st, Created: created[vid].UTC()})
		for _, label := range stages {
			s.byStage[label] = vid
		}
	}
	sort.Slice(s.versions, func(i, j int) bool {
		if !s.versions[i].Created.Equal(s.versions[j].Created) {
			return s.versions[i].Created.Before(s.versions[j].Created)
		}
		return s.versions[i].ID < s.versions[j].ID
	})
	return s, nil
}

func (s *snapshot) name() string { return aws.ToString(s.desc.Name) }
func (s *snapshot) arn() string  { return aws.ToString(s.desc.ARN) }

// pendingElsewhere returns the version holding AWSPENDING when it is not
// the AWSCURRENT version: the state in which RotateSecret refuses to start.
func (s *snapshot) pendingElsewhere() (string, bool) {
	p, ok := s.byStage[StagePending]
	if !ok || p == s.byStage[StageCurrent] {
		return "", false
	}
	return p, true
}

func (s *snapshot) version(id string) Version {
	for _, v := range s.versions {
		if v.ID == id {
			return v
		}
	}
	return Version{ID: id}
}

// errNoValue marks a version without a secret value (a rotation that
// never finished createSecret).
var errNoValue = errors.New("version has no value")

// value reads one version's secret string.
func (o *Operator) value(ctx context.Context, arn, versionID string) (string, error) {
	out, err := o.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(versionID)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return "", errNoValue
	}
	if err != nil {
		return "", fmt.Errorf("read version %s: %w", versionID, err)
	}
	if out.SecretString == nil {
		return "", errNoValue
	}
	return *out.SecretString, nil
}

// Login is the outcome of logging in with one version's value.
type Login struct {
	Version  string `json:"version"`
	Stage    string `json:"stage"`
	Username string `json:"username,omitempty"`
	// Result is "accepted", "refused", "no value" or "error".
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}

// Login results.
const (
	LoginAccepted = "accepted"
	LoginRefused  = "refused"
	LoginNoValue  = "no value"
	LoginError    = "error"
)

// tryLogin reads a version and logs in with it. Errors end up in Detail;
// they come from dbsecret and the SDK and never contain a password.
func (o *Operator) tryLogin(ctx context.Context, s *snapshot, stage, versionID string) Login {
	l := Login{Version: versionID, Stage: stage}
	v, err := o.value(ctx, s.arn(), versionID)
	if errors.Is(err, errNoValue) {
		l.Result = LoginNoValue
		return l
	}
	if err != nil {
		l.Result, l.Detail = LoginError, err.Error()
		return l
	}
	if sec, err := dbsecret.Parse(v); err == nil {
		l.Username = sec.Username
	}
	ok, err := o.db.CanLogin(ctx, v)
	switch {
	case err != nil:
		l.Result, l.Detail = LoginError, err.Error()
	case ok:
		l.Result = LoginAccepted
	default:
		l.Result = LoginRefused
	}
	return l
}
