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

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/secret"
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
	versions []Version         // with staging labels, oldest first
	byStage  map[string]string // label -> version id
	// unlabelled are the versions without staging labels (deprecated:
	// Secrets Manager keeps about 100), newest first.
	unlabelled []Version
}

// MaxVersionPages caps the ListSecretVersionIds pages one snapshot reads.
// Secrets Manager keeps the labelled versions plus about 100 deprecated
// ones, one or two pages of 100; a service that still answers with a
// NextToken after this many pages is not paginating, and the command
// fails with [ErrTooManyPages] instead of asking forever.
const MaxVersionPages = 10

// ErrTooManyPages is matched by errors of a listing that did not end
// within [MaxVersionPages] pages.
var ErrTooManyPages = errors.New("listing did not end")

func (o *Operator) snapshot(ctx context.Context, id string) (*snapshot, error) {
	desc, err := o.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("describe secret %s: %w", id, err)
	}
	s := &snapshot{desc: desc, byStage: map[string]string{}}
	created := map[string]time.Time{}
	// The SDK's paginator stops on an empty NextToken by itself, and on a
	// NextToken equal to the one it sent with StopOnDuplicateToken (off by
	// default); other services have been seen to answer both ways. Pages
	// beyond MaxVersionPages (a longer cycle of tokens) are an error.
	p := secretsmanager.NewListSecretVersionIdsPaginator(o.sm,
		&secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(id), IncludeDeprecated: aws.Bool(true), MaxResults: aws.Int32(100)},
		func(po *secretsmanager.ListSecretVersionIdsPaginatorOptions) { po.StopOnDuplicateToken = true })
	for pages := 0; p.HasMorePages(); pages++ {
		if pages == MaxVersionPages {
			return nil, fmt.Errorf("list versions of %s: %w after %d pages: Secrets Manager keeps about 100 versions (one or two pages), yet the service keeps answering with a NextToken", id, ErrTooManyPages, MaxVersionPages)
		}
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list versions of %s: %w", id, err)
		}
		for _, v := range out.Versions {
			vid := aws.ToString(v.VersionId)
			if _, seen := created[vid]; !seen && len(v.VersionStages) == 0 && desc.VersionIdsToStages[vid] == nil {
				s.unlabelled = append(s.unlabelled, Version{ID: vid, Stages: []string{}, Created: aws.ToTime(v.CreatedDate).UTC()})
			}
			created[vid] = aws.ToTime(v.CreatedDate)
		}
	}
	for vid, stages := range desc.VersionIdsToStages {
		st := append([]string(nil), stages...)
		sort.Strings(st)
		s.versions = append(s.versions, Version{ID: vid, Stages: st, Created: created[vid].UTC()})
		for _, label := range stages {
			s.byStage[label] = vid
		}
	}
	sortVersions(s.versions, false)
	sortVersions(s.unlabelled, true)
	return s, nil
}

// sortVersions orders by creation time (then id), newest first if asked.
func sortVersions(vs []Version, newestFirst bool) {
	sort.Slice(vs, func(i, j int) bool {
		a, b := vs[i], vs[j]
		if newestFirst {
			a, b = b, a
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		return a.ID < b.ID
	})
}

func (s *snapshot) name() string { return aws.ToString(s.desc.Name) }
func (s *snapshot) arn() string  { return aws.ToString(s.desc.ARN) }

// pendingElsewhere returns the version holding AWSPENDING when it is not
// the AWSCURRENT version: the state in which RotateSecret refuses to start.
func (s *snapshot) pendingElsewhere() (string, bool) {
	p, ok := s.byStage[secret.StagePending]
	if !ok || p == s.byStage[secret.StageCurrent] {
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
	// Result is one of the Login* constants.
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
	// Err is the error behind a LoginError or LoginBlocked result, for
	// errors.Is (e.g. engine.ErrCertificate); Detail is its text.
	Err error `json:"-"`
}

// Login results.
const (
	LoginAccepted = "accepted"
	LoginRefused  = "refused"
	LoginNoValue  = "no value"
	LoginError    = "error"
	// LoginBlocked: the server refuses every login of the account after
	// too many failed ones (MariaDB max_password_errors, MySQL
	// FAILED_LOGIN_ATTEMPTS); it says nothing about the password.
	LoginBlocked = "blocked"
	// LoginNotTried: the value was read, but no login was made with it,
	// because it would cost a failed login and decide nothing.
	LoginNotTried = "not tried"
)

// NoStage is the Stage of a [Login] with a version that has no staging
// label.
const NoStage = "(no label)"

// credential is one version's value, read but not yet used.
type credential struct {
	value  string
	secret *secret.Secret // nil if the value does not parse
}

// same reports whether c and d log in as the same account with the same
// password, so that a refusal of one is a refusal of the other.
func (c credential) same(d credential) bool {
	return c.secret != nil && d.secret != nil && c.secret.SameAccount(d.secret) && c.secret.Password == d.secret.Password
}

// read reads a version's value for a login: the Login record carries the
// user name, or its final Result when there is nothing to log in with
// (no value, or the value could not be read).
func (o *Operator) read(ctx context.Context, s *snapshot, stage, versionID string) (Login, credential) {
	l := Login{Version: versionID, Stage: stage}
	v, err := o.value(ctx, s.arn(), versionID)
	if errors.Is(err, errNoValue) {
		l.Result = LoginNoValue
		return l, credential{}
	}
	if err != nil {
		l.Result, l.Detail, l.Err = LoginError, err.Error(), err
		return l, credential{}
	}
	c := credential{value: v}
	if sec, err := secret.Parse(v); err == nil {
		l.Username, c.secret = sec.Username, sec
	}
	return l, c
}

// login logs in with c and records the outcome in l. Errors end up in
// Detail; they come from the engine's dialer and never contain a password.
func (o *Operator) login(ctx context.Context, l *Login, c credential) {
	ok, err := o.db.CanLogin(ctx, c.value)
	switch {
	case errors.Is(err, engine.ErrBlocked):
		l.Result, l.Detail, l.Err = LoginBlocked, err.Error(), err
	case err != nil:
		l.Result, l.Detail, l.Err = LoginError, err.Error(), err
	case ok:
		l.Result = LoginAccepted
	default:
		l.Result = LoginRefused
	}
}

// tryLogin reads a version and logs in with it.
func (o *Operator) tryLogin(ctx context.Context, s *snapshot, stage, versionID string) Login {
	l, c := o.read(ctx, s, stage, versionID)
	if l.Result == "" {
		o.login(ctx, &l, c)
	}
	return l
}

// ErrAccountBlocked is matched by errors of commands that found the
// database account blocked after too many failed logins.
var ErrAccountBlocked = errors.New("the database account is blocked after too many failed logins")

// blockedAdvice says how to get out of a blocked account.
const blockedAdvice = "applications cannot log in either; unblock it (MariaDB: FLUSH PRIVILEGES or ALTER USER; MySQL: ALTER USER ... ACCOUNT UNLOCK) and find the client that made the failed logins"

// Current reads and parses a secret's AWSCURRENT value, for callers that
// need where its database is (host, port, TLS policy) or its master
// secret. The returned Secret redacts its password when printed or
// logged; callers must not copy the password anywhere.
func (o *Operator) Current(ctx context.Context, secretID string) (*secret.Secret, error) {
	out, err := o.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID), VersionStage: aws.String(secret.StageCurrent)})
	if err != nil {
		return nil, fmt.Errorf("read AWSCURRENT of %s: %w", secretID, err)
	}
	s, err := secret.Parse(aws.ToString(out.SecretString))
	if err != nil {
		return nil, fmt.Errorf("AWSCURRENT of %s: %w", secretID, err)
	}
	return s, nil
}
