package smlocal

import (
	"bytes"
	"crypto/rand"
	"math/big"
	"strings"
	"time"

	secretmodel "github.com/example/secret-rotation/internal/secret"
)

// Staging labels with a meaning to the service.
// maxDeprecatedVersions caps the unlabelled versions a secret keeps. The
// service keeps every labelled version plus about 100 deprecated ones and
// removes the oldest deprecated versions beyond that.
const maxDeprecatedVersions = 100

// maxSecretValueBytes is the service's quota for one secret value (65,536 bytes).
const maxSecretValueBytes = 65536

// version is one version of a secret. A version without a value is the
// placeholder RotateSecret creates for AWSPENDING.
type version struct {
	id           string
	secretString *string
	secretBinary []byte
	hasValue     bool
	created      time.Time
	lastAccessed time.Time
	stages       []string // in the order they were attached
}

func (v *version) hasStage(stage string) bool {
	for _, s := range v.stages {
		if s == stage {
			return true
		}
	}
	return false
}

func (v *version) removeStage(stage string) {
	out := v.stages[:0]
	for _, s := range v.stages {
		if s != stage {
			out = append(out, s)
		}
	}
	v.stages = out
}

// sameValue reports whether the version holds exactly this value, the test
// the service applies to a repeated ClientRequestToken.
func (v *version) sameValue(str *string, bin []byte) bool {
	if !v.hasValue {
		return false
	}
	if (v.secretString == nil) != (str == nil) || (v.secretBinary == nil) != (bin == nil) {
		return false
	}
	if str != nil && *v.secretString != *str {
		return false
	}
	return bytes.Equal(v.secretBinary, bin)
}

// secret is one secret with its versions and metadata.
type secret struct {
	arn          string
	name         string
	description  *string
	kmsKeyID     *string
	tags         []tag
	created      time.Time
	lastChanged  time.Time
	lastAccessed time.Time

	rotationEnabled bool
	rotationARN     string
	rules           *rotationRules
	lastRotated     time.Time
	nextRotation    time.Time

	versions map[string]*version
	order    []string          // version ids, oldest first
	labels   map[string]string // staging label -> version id
}

// addVersion stores a new version without labels.
func (s *secret) addVersion(v *version) {
	s.versions[v.id] = v
	s.order = append(s.order, v.id)
}

// attach moves a staging label to version id, removing it from the version
// that held it. Moving AWSCURRENT also moves AWSPREVIOUS to the version
// AWSCURRENT was removed from, as PutSecretValue and UpdateSecretVersionStage
// document.
func (s *secret) attach(stage, id string) {
	old := s.labels[stage]
	if old == id {
		return
	}
	if ov, ok := s.versions[old]; ok {
		ov.removeStage(stage)
	}
	v := s.versions[id]
	v.stages = append(v.stages, stage)
	s.labels[stage] = id
	if stage == secretmodel.StageCurrent && old != "" {
		if _, ok := s.versions[old]; ok {
			s.attach(secretmodel.StagePrevious, old)
		}
	}
	s.pruneDeprecated()
}

// detach removes a staging label from whichever version holds it.
func (s *secret) detach(stage string) {
	id, ok := s.labels[stage]
	if !ok {
		return
	}
	if v, ok := s.versions[id]; ok {
		v.removeStage(stage)
	}
	delete(s.labels, stage)
	s.pruneDeprecated()
}

// removeVersion deletes a version and any labels it holds.
func (s *secret) removeVersion(id string) {
	v, ok := s.versions[id]
	if !ok {
		return
	}
	for _, st := range v.stages {
		delete(s.labels, st)
	}
	delete(s.versions, id)
	for i, o := range s.order {
		if o == id {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}

// pruneDeprecated drops the oldest unlabelled versions beyond the cap.
func (s *secret) pruneDeprecated() {
	var deprecated []string
	for _, id := range s.order {
		if len(s.versions[id].stages) == 0 {
			deprecated = append(deprecated, id)
		}
	}
	for len(deprecated) > maxDeprecatedVersions {
		s.removeVersion(deprecated[0])
		deprecated = deprecated[1:]
	}
}

// versionIDsToStages lists the labelled versions, as DescribeSecret does.
func (s *secret) versionIDsToStages() map[string][]string {
	m := map[string][]string{}
	for _, id := range s.order {
		v := s.versions[id]
		if len(v.stages) > 0 {
			m[id] = append([]string(nil), v.stages...)
		}
	}
	return m
}

// pendingInProgress reports the version holding AWSPENDING when that is not
// the AWSCURRENT version: the service's sign of an unfinished rotation.
func (s *secret) pendingInProgress() (string, bool) {
	p, ok := s.labels[secretmodel.StagePending]
	if !ok || p == s.labels[secretmodel.StageCurrent] {
		return "", false
	}
	return p, true
}

const suffixAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomSuffix returns the 6 random characters the service appends to a
// secret's ARN so that a new secret with an old name gets a new ARN.
func randomSuffix() (string, error) {
	var b strings.Builder
	max := big.NewInt(int64(len(suffixAlphabet)))
	for range 6 {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b.WriteByte(suffixAlphabet[n.Int64()])
	}
	return b.String(), nil
}

// arnPrefix is the part of every secret ARN before the name.
func (s *Server) arnPrefix() string {
	return "arn:aws:secretsmanager:" + s.cfg.region + ":" + s.cfg.accountID + ":secret:"
}

// lookup finds a secret by name, full ARN or partial ARN (the ARN without the
// "-" and 6 random characters), the three forms SecretId accepts.
// The caller holds s.mu.
func (s *Server) lookup(id string) (*secret, *apiError) {
	if id == "" {
		return nil, newErr(errInvalidParameter, "You must specify a SecretId.")
	}
	if strings.HasPrefix(id, "arn:") {
		for _, sec := range s.secrets {
			if sec.arn == id {
				return sec, nil
			}
		}
		name, ok := strings.CutPrefix(id, s.arnPrefix())
		if !ok {
			return nil, notFoundSecret()
		}
		id = name
	}
	if sec, ok := s.secrets[id]; ok {
		return sec, nil
	}
	return nil, notFoundSecret()
}
