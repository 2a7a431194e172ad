package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/grant"
	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/internal/secret"
)

const fakeARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf"

type fakeVersion struct {
	value  string
	stages []string
}

// fakeSM is an in-memory Secrets Manager for unit tests. It embeds the
// interface so a method it does not implement fails loudly.
type fakeSM struct {
	rotation.SecretsManager
	mu              sync.Mutex
	rotationEnabled *bool
	versions        map[string]*fakeVersion
	password        string           // what GetRandomPassword returns
	fail            map[string]error // op -> error returned once
	calls           []string         // op names in order
	lastPut         *secretsmanager.PutSecretValueInput
	lastRandom      *secretsmanager.GetRandomPasswordInput
	// others are further secrets by id (a master secret), answered by
	// GetSecretValue and DescribeSecret.
	others map[string]*fakeSM
	// arn is what DescribeSecret returns (default fakeARN), tags its tags.
	arn  string
	tags map[string]string
	// beforeGet, if set, runs before GetSecretValue answers (outside the
	// lock, so it may change versions): what happens elsewhere between
	// two reads of the function.
	beforeGet func(in *secretsmanager.GetSecretValueInput)
}

func newFakeSM(current string) *fakeSM {
	return &fakeSM{
		rotationEnabled: aws.Bool(true),
		versions:        map[string]*fakeVersion{"v-current": {value: current, stages: []string{secret.StageCurrent}}},
		password:        "Gen3rated-Pa55word",
		fail:            map[string]error{},
	}
}

// addPending registers the AWSPENDING placeholder RotateSecret creates
// (value "" means no value stored yet).
func (f *fakeSM) addPending(token, value string) {
	f.versions[token] = &fakeVersion{value: value, stages: []string{secret.StagePending}}
}

func (f *fakeSM) record(op string) error {
	f.calls = append(f.calls, op)
	if err, ok := f.fail[op]; ok {
		delete(f.fail, op)
		return err
	}
	return nil
}

func (f *fakeSM) count(op string) int {
	n := 0
	for _, c := range f.calls {
		if c == op {
			n++
		}
	}
	return n
}

func (f *fakeSM) DescribeSecret(_ context.Context, in *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("DescribeSecret"); err != nil {
		return nil, err
	}
	if o, ok := f.others[aws.ToString(in.SecretId)]; ok {
		return o.DescribeSecret(context.Background(), in)
	}
	m := map[string][]string{}
	for id, v := range f.versions {
		m[id] = slices.Clone(v.stages)
	}
	arn := f.arn
	if arn == "" {
		arn = fakeARN
	}
	var tags []types.Tag
	for k, v := range f.tags {
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return &secretsmanager.DescribeSecretOutput{ARN: aws.String(arn), RotationEnabled: f.rotationEnabled, VersionIdsToStages: m, Tags: tags}, nil
}

func (f *fakeSM) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	if f.beforeGet != nil {
		f.beforeGet(in)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("GetSecretValue"); err != nil {
		return nil, err
	}
	if o, ok := f.others[aws.ToString(in.SecretId)]; ok {
		return o.GetSecretValue(context.Background(), in)
	}
	stage := aws.ToString(in.VersionStage)
	for id, v := range f.versions {
		if in.VersionId != nil && *in.VersionId != id {
			continue
		}
		if stage != "" && !slices.Contains(v.stages, stage) {
			continue
		}
		if v.value == "" {
			break
		}
		return &secretsmanager.GetSecretValueOutput{ARN: aws.String(fakeARN), VersionId: aws.String(id), SecretString: aws.String(v.value),
			VersionStages: slices.Clone(v.stages)}, nil
	}
	return nil, &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret value")}
}

func (f *fakeSM) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("PutSecretValue"); err != nil {
		return nil, err
	}
	f.lastPut = in
	id := aws.ToString(in.ClientRequestToken)
	v, ok := f.versions[id]
	if !ok {
		v = &fakeVersion{}
		f.versions[id] = v
	}
	if v.value != "" && v.value != aws.ToString(in.SecretString) {
		return nil, &types.ResourceExistsException{Message: aws.String("version exists with a different value")}
	}
	v.value = aws.ToString(in.SecretString)
	for _, st := range in.VersionStages {
		for _, o := range f.versions {
			o.stages = slices.DeleteFunc(o.stages, func(s string) bool { return s == st })
		}
		v.stages = append(v.stages, st)
	}
	return &secretsmanager.PutSecretValueOutput{VersionId: aws.String(id)}, nil
}

func (f *fakeSM) GetRandomPassword(_ context.Context, in *secretsmanager.GetRandomPasswordInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetRandomPasswordOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("GetRandomPassword"); err != nil {
		return nil, err
	}
	f.lastRandom = in
	return &secretsmanager.GetRandomPasswordOutput{RandomPassword: aws.String(f.password)}, nil
}

func (f *fakeSM) UpdateSecretVersionStage(_ context.Context, in *secretsmanager.UpdateSecretVersionStageInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("UpdateSecretVersionStage"); err != nil {
		return nil, err
	}
	st := aws.ToString(in.VersionStage)
	to := f.versions[aws.ToString(in.MoveToVersionId)]
	if to == nil {
		return nil, &types.InvalidParameterException{Message: aws.String("no such version")}
	}
	if from := aws.ToString(in.RemoveFromVersionId); from != "" {
		fv := f.versions[from]
		if fv == nil || !slices.Contains(fv.stages, st) {
			return nil, &types.InvalidParameterException{Message: aws.String("stage not on RemoveFromVersionId")}
		}
		fv.stages = slices.DeleteFunc(fv.stages, func(s string) bool { return s == st })
		if st == secret.StageCurrent {
			for _, o := range f.versions {
				o.stages = slices.DeleteFunc(o.stages, func(s string) bool { return s == secret.StagePrevious })
			}
			fv.stages = append(fv.stages, secret.StagePrevious)
		}
	}
	to.stages = append(to.stages, st)
	return &secretsmanager.UpdateSecretVersionStageOutput{}, nil
}

// stageOf returns the version id holding stage, or "".
func (f *fakeSM) stageOf(stage string) string {
	for id, v := range f.versions {
		if slices.Contains(v.stages, stage) {
			return id
		}
	}
	return ""
}

// fakeDB is an in-memory database with user -> password.
type fakeDB struct {
	mu       sync.Mutex
	users    map[string]string
	down     bool
	blocked  bool // every login refused as blocked, as after max_password_errors
	changes  int
	checkErr error
	logins   []string // passwords tried, to assert which versions were used
	failed   int      // logins refused for a wrong password
	// Alternating users: grants per user, and every admin call made.
	grants   map[string][]grant.Grant
	stmts    []string
	probeErr error
	adminErr error // returned by every admin call once logged in
	// missingTables ("schema.table") do not exist: TableExists says so
	// and Grant on them fails as the server does.
	missingTables []string
	// schemas are the default schemas ("dbname") of the logins, in order.
	schemas []string
}

var errFakeDown = errors.New("connect: connection refused")

func (d *fakeDB) Login(_ context.Context, s *secret.Secret) (engine.Session, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.logins = append(d.logins, s.Password)
	d.schemas = append(d.schemas, s.DBName)
	if d.down {
		return nil, errFakeDown
	}
	if d.blocked {
		return nil, fmt.Errorf("%w: user %q is blocked", engine.ErrBlocked, s.Username)
	}
	if pw, ok := d.users[s.Username]; !ok || pw != s.Password {
		d.failed++
		return nil, fmt.Errorf("%w: access denied for user %q", engine.ErrAuth, s.Username)
	}
	return &fakeSession{db: d, user: s.Username}, nil
}

type fakeSession struct {
	db   *fakeDB
	user string
}

func (s *fakeSession) ChangePassword(_ context.Context, pw string) error {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	if s.db.down {
		return errFakeDown
	}
	s.db.users[s.user] = pw
	s.db.changes++
	return nil
}

func (s *fakeSession) Check(context.Context) error { return s.db.checkErr }
func (s *fakeSession) Close() error                { return nil }
