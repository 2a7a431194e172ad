package smlocal

import (
	"strconv"
	"time"

	secretmodel "github.com/example/secret-rotation/internal/secret"
)

// day truncates to the date, the granularity the service reports
// LastAccessedDate with.
func day(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(24 * time.Hour)
}

type pageRange struct{ start, end int }

// paginate applies MaxResults (1..100, default 100) and an opaque NextToken
// (here: the decimal offset) to a listing of n items.
func paginate(n int, maxResults *int64, nextToken *string) (pageRange, *string, *apiError) {
	limit := 100
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 100 {
			return pageRange{}, nil, newErr(errInvalidParameter, "MaxResults must be between 1 and 100.")
		}
		limit = int(*maxResults)
	}
	start := 0
	if nextToken != nil && *nextToken != "" {
		v, err := strconv.Atoi(*nextToken)
		if err != nil || v < 0 || v > n {
			return pageRange{}, nil, newErr(errInvalidNextToken, "The NextToken value is invalid.")
		}
		start = v
	}
	end := min(start+limit, n)
	var next *string
	if end < n {
		t := strconv.Itoa(end)
		next = &t
	}
	return pageRange{start, end}, next, nil
}

func (s *Server) createSecret(in createSecretInput) (any, *apiError) {
	if !validName.MatchString(in.Name) {
		return nil, newErr(errInvalidParameter, "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: /_+=.@-")
	}
	id, hasValue, err := checkWrite(in.SecretString, in.SecretBinary, in.ClientRequestToken, false)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.secrets[in.Name]; ok {
		// A retried CreateSecret (same token, same value) is ignored.
		if v, ok := old.versions[id]; ok && hasValue && v.sameValue(in.SecretString, in.SecretBinary) {
			return createSecretOutput{ARN: old.arn, Name: old.name, VersionId: &v.id}, nil
		}
		return nil, newErr(errResourceExists, "The operation failed because the secret %s already exists.", in.Name)
	}
	suffix, rerr := randomSuffix()
	if rerr != nil {
		return nil, newErr(errInternal, "random ARN suffix: %v", rerr)
	}
	now := s.now()
	sec := &secret{
		arn:         s.arnPrefix() + in.Name + "-" + suffix,
		name:        in.Name,
		description: in.Description,
		kmsKeyID:    in.KmsKeyId,
		tags:        mergeTags(nil, in.Tags),
		created:     now,
		lastChanged: now,
		versions:    map[string]*version{},
		labels:      map[string]string{},
	}
	out := createSecretOutput{ARN: sec.arn, Name: sec.name}
	if hasValue {
		// "If you include SecretString or SecretBinary, then Secrets Manager
		// creates an initial version" labelled AWSCURRENT.
		v := s.newValueVersion(id, in.SecretString, in.SecretBinary)
		sec.addVersion(v)
		sec.attach(secretmodel.StageCurrent, v.id)
		out.VersionId = &v.id
	}
	s.secrets[sec.name] = sec
	return out, nil
}

func (s *Server) describeSecret(in secretIDInput) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	return describeSecretOutput{
		ARN:                sec.arn,
		Name:               sec.name,
		Description:        sec.description,
		KmsKeyId:           sec.kmsKeyID,
		secretState:        stateOf(sec),
		VersionIdsToStages: sec.versionIDsToStages(),
	}, nil
}

// stateOf returns the rotation fields, dates and tags of a secret's
// description. The caller holds s.mu.
func stateOf(sec *secret) secretState {
	st := secretState{
		LastRotatedDate:  ep(sec.lastRotated),
		LastChangedDate:  ep(sec.lastChanged),
		LastAccessedDate: ep(day(sec.lastAccessed)),
		CreatedDate:      ep(sec.created),
		Tags:             sec.tags,
	}
	// "If the secret has never been configured for rotation, Secrets Manager
	// returns null" (DescribeSecret, RotationEnabled): a secret whose rotation
	// was configured and then cancelled reports an explicit false.
	switch {
	case sec.rotationEnabled:
		t := true
		st.RotationEnabled = &t
		st.NextRotationDate = ep(sec.nextRotation)
	case sec.rotationARN != "":
		f := false
		st.RotationEnabled = &f
	}
	if sec.rotationARN != "" {
		a := sec.rotationARN
		st.RotationLambdaARN = &a
	}
	if sec.rules != nil {
		r := *sec.rules
		st.RotationRules = &r
	}
	return st
}

// mergeTags adds or replaces tags by key.
func mergeTags(have, add []tag) []tag {
	out := append([]tag(nil), have...)
	for _, t := range add {
		if t.Key == nil {
			continue
		}
		replaced := false
		for i := range out {
			if *out[i].Key == *t.Key {
				out[i].Value = t.Value
				replaced = true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}
