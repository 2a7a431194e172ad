package smlocal

import (
	"regexp"

	"github.com/google/uuid"

	secretmodel "github.com/example/secret-rotation/internal/secret"
)

// validName is the documented character set of a secret name: ASCII letters,
// digits and /_+=.@- , at most 512 characters.
var validName = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

// clientToken returns the request's ClientRequestToken, or a new UUID when
// it is absent (the SDKs and the CLI always send one). The service requires
// 32 to 64 characters.
func clientToken(tok *string) (string, *apiError) {
	if tok == nil || *tok == "" {
		return uuid.NewString(), nil
	}
	if n := len(*tok); n < 32 || n > 64 {
		return "", newErr(errInvalidParameter, "ClientRequestToken must be 32 to 64 characters long.")
	}
	return *tok, nil
}

// checkValue validates a SecretString/SecretBinary pair. required says
// whether one of them must be present (PutSecretValue) or both may be
// absent (CreateSecret).
func checkValue(str *string, bin []byte, required bool) (has bool, err *apiError) {
	switch {
	case str != nil && bin != nil:
		return false, newErr(errInvalidParameter, "You can't specify both a binary secret value and a string secret value in the same secret.")
	case str == nil && bin == nil:
		if required {
			return false, newErr(errInvalidParameter, "You must provide either SecretString or SecretBinary.")
		}
		return false, nil
	case str != nil && len(*str) > maxSecretValueBytes, len(bin) > maxSecretValueBytes:
		return false, newErr(errInvalidParameter, "The secret value exceeds the maximum size of %d bytes.", maxSecretValueBytes)
	}
	return true, nil
}

// checkWrite validates the value and settles the version id of a request
// that may create a version (CreateSecret, PutSecretValue),
// in the service's order: the value first, then the ClientRequestToken.
// required is checkValue's.
func checkWrite(str *string, bin []byte, token *string, required bool) (id string, hasValue bool, err *apiError) {
	if hasValue, err = checkValue(str, bin, required); err != nil {
		return "", false, err
	}
	if id, err = clientToken(token); err != nil {
		return "", false, err
	}
	return id, hasValue, nil
}

// newValueVersion builds a version holding a value.
func (s *Server) newValueVersion(id string, str *string, bin []byte) *version {
	v := &version{id: id, created: s.now(), hasValue: true}
	if str != nil {
		c := *str
		v.secretString = &c
	}
	if bin != nil {
		v.secretBinary = append([]byte{}, bin...)
	}
	return v
}

// putVersion implements PutSecretValue's ClientRequestToken rule (createSecret
// applies the same rule to a retried create): a new token creates a version; the same
// token with the same value is ignored; the same token with a different
// value fails because a version can't be modified. A placeholder version
// without a value (RotateSecret's AWSPENDING) receives the value. It returns
// the version and whether the request was a repeat to ignore.
// The caller holds s.mu.
func (s *Server) putVersion(sec *secret, id string, str *string, bin []byte) (*version, bool, *apiError) {
	if v, ok := sec.versions[id]; ok {
		if !v.hasValue {
			filled := s.newValueVersion(id, str, bin)
			v.secretString, v.secretBinary, v.hasValue = filled.secretString, filled.secretBinary, true
			return v, false, nil
		}
		if v.sameValue(str, bin) {
			return v, true, nil
		}
		return nil, false, newErr(errResourceExists, "You can't modify an existing version, you can only create a new version.")
	}
	v := s.newValueVersion(id, str, bin)
	sec.addVersion(v)
	return v, false, nil
}

func (s *Server) getSecretValue(in getSecretValueInput) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	var v *version
	switch {
	case in.VersionId != nil:
		v = sec.versions[*in.VersionId]
		if v == nil {
			return nil, newErr(errResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", *in.VersionId)
		}
		// Both given: "the two parameters must refer to the same secret version".
		if in.VersionStage != nil && !v.hasStage(*in.VersionStage) {
			return nil, newErr(errResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s and staging label: %s", *in.VersionId, *in.VersionStage)
		}
		if !v.hasValue {
			if in.VersionStage != nil {
				return nil, newErr(errResourceNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", *in.VersionStage)
			}
			return nil, newErr(errResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", *in.VersionId)
		}
	default:
		stage := secretmodel.StageCurrent
		if in.VersionStage != nil {
			stage = *in.VersionStage
		}
		v = sec.versions[sec.labels[stage]]
		if v == nil || !v.hasValue {
			return nil, newErr(errResourceNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", stage)
		}
	}
	now := s.now()
	v.lastAccessed, sec.lastAccessed = now, now
	return getSecretValueOutput{
		ARN:           sec.arn,
		Name:          sec.name,
		VersionId:     v.id,
		SecretString:  v.secretString,
		SecretBinary:  v.secretBinary,
		VersionStages: append([]string{}, v.stages...),
		CreatedDate:   ep(v.created),
	}, nil
}

func (s *Server) putSecretValue(in putSecretValueInput) (any, *apiError) {
	id, _, err := checkWrite(in.SecretString, in.SecretBinary, in.ClientRequestToken, true)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	v, repeat, err := s.putVersion(sec, id, in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	if !repeat {
		// "If you don't include VersionStages, then Secrets Manager
		// automatically moves the staging label AWSCURRENT to this version."
		stages := in.VersionStages
		if stages == nil {
			stages = []string{secretmodel.StageCurrent}
		}
		for _, st := range stages {
			sec.attach(st, v.id)
		}
		sec.lastChanged = s.now()
	}
	return putSecretValueOutput{ARN: sec.arn, Name: sec.name, VersionId: v.id, VersionStages: append([]string{}, v.stages...)}, nil
}

func (s *Server) updateSecretVersionStage(in updateSecretVersionStageInput) (any, *apiError) {
	if in.VersionStage == "" {
		return nil, newErr(errInvalidParameter, "You must specify a VersionStage.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	holder, attached := sec.labels[in.VersionStage]
	removeFrom := ""
	if in.RemoveFromVersionId != nil {
		removeFrom = *in.RemoveFromVersionId
		if _, ok := sec.versions[removeFrom]; !ok {
			return nil, newErr(errInvalidParameter, "The secret version %s doesn't exist.", removeFrom)
		}
	}
	if in.MoveToVersionId == nil {
		// Removing only.
		if removeFrom == "" {
			return nil, newErr(errInvalidParameter, "You must specify MoveToVersionId, RemoveFromVersionId or both.")
		}
		if !attached || holder != removeFrom {
			return nil, newErr(errInvalidParameter, "The staging label %s isn't attached to version %s.", in.VersionStage, removeFrom)
		}
		if in.VersionStage == secretmodel.StageCurrent {
			return nil, newErr(errInvalidParameter, "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.")
		}
		sec.detach(in.VersionStage)
		sec.lastChanged = s.now()
		return arnNameOutput{ARN: sec.arn, Name: sec.name}, nil
	}
	moveTo := *in.MoveToVersionId
	if _, ok := sec.versions[moveTo]; !ok {
		return nil, newErr(errInvalidParameter, "The secret version %s doesn't exist.", moveTo)
	}
	// "If the staging label is already attached to a different version of the
	// secret, then you must also specify the RemoveFromVersionId parameter" -
	// and it must name that version.
	if attached && holder != moveTo && holder != removeFrom {
		return nil, newErr(errInvalidParameter, "The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", in.VersionStage, holder)
	}
	if removeFrom != "" && holder != removeFrom {
		return nil, newErr(errInvalidParameter, "The staging label %s isn't attached to version %s.", in.VersionStage, removeFrom)
	}
	sec.attach(in.VersionStage, moveTo)
	sec.lastChanged = s.now()
	return arnNameOutput{ARN: sec.arn, Name: sec.name}, nil
}

func (s *Server) listSecretVersionIds(in listSecretVersionIdsInput) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	var all []versionEntry
	for _, id := range sec.order {
		v := sec.versions[id]
		if len(v.stages) == 0 && (in.IncludeDeprecated == nil || !*in.IncludeDeprecated) {
			continue
		}
		all = append(all, versionEntry{
			VersionId:        v.id,
			VersionStages:    append([]string(nil), v.stages...),
			CreatedDate:      ep(v.created),
			LastAccessedDate: ep(day(v.lastAccessed)),
		})
	}
	page, next, err := paginate(len(all), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := listSecretVersionIdsOutput{ARN: sec.arn, Name: sec.name, Versions: all[page.start:page.end], NextToken: next}
	if out.Versions == nil {
		out.Versions = []versionEntry{}
	}
	return out, nil
}
