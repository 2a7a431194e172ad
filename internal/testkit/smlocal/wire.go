package smlocal

import (
	"strconv"
	"time"
)

// epoch is a timestamp on the wire: AWS JSON 1.1 sends timestamps as epoch
// seconds, a JSON number with a fractional part (e.g. 1523477145.713).
type epoch time.Time

// MarshalJSON writes seconds with millisecond precision, like the service.
func (e epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// ep converts a time to a wire timestamp, nil for the zero time so that the
// field is omitted.
func ep(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

type tag struct {
	Key   *string `json:"Key,omitempty"`
	Value *string `json:"Value,omitempty"`
}

type rotationRules struct {
	AutomaticallyAfterDays *int64  `json:"AutomaticallyAfterDays,omitempty"`
	Duration               *string `json:"Duration,omitempty"`
	ScheduleExpression     *string `json:"ScheduleExpression,omitempty"`
}

type createSecretInput struct {
	Name               string
	ClientRequestToken *string
	Description        *string
	KmsKeyId           *string
	SecretString       *string
	SecretBinary       []byte
	Tags               []tag
}

type createSecretOutput struct {
	ARN       string
	Name      string
	VersionId *string `json:",omitempty"`
}

type secretIDInput struct {
	SecretId string
}

// secretState is the part of a secret's description that stateOf derives
// from its rotation state and dates. It is embedded, so its fields are
// encoded in place, in this order, as if declared in the embedding struct.
type secretState struct {
	RotationEnabled   *bool          `json:",omitempty"`
	RotationLambdaARN *string        `json:",omitempty"`
	RotationRules     *rotationRules `json:",omitempty"`
	LastRotatedDate   *epoch         `json:",omitempty"`
	LastChangedDate   *epoch         `json:",omitempty"`
	LastAccessedDate  *epoch         `json:",omitempty"`
	NextRotationDate  *epoch         `json:",omitempty"`
	CreatedDate       *epoch         `json:",omitempty"`
	Tags              []tag          `json:",omitempty"`
}

type describeSecretOutput struct {
	ARN         string
	Name        string
	Description *string `json:",omitempty"`
	KmsKeyId    *string `json:",omitempty"`
	secretState
	VersionIdsToStages map[string][]string `json:",omitempty"`
}

type getSecretValueInput struct {
	SecretId     string
	VersionId    *string
	VersionStage *string
}

type getSecretValueOutput struct {
	ARN           string
	Name          string
	VersionId     string
	SecretString  *string `json:",omitempty"`
	SecretBinary  []byte  `json:",omitempty"`
	VersionStages []string
	CreatedDate   *epoch `json:",omitempty"`
}

type putSecretValueInput struct {
	SecretId           string
	ClientRequestToken *string
	SecretString       *string
	SecretBinary       []byte
	VersionStages      []string
	RotationToken      *string
}

type putSecretValueOutput struct {
	ARN           string
	Name          string
	VersionId     string
	VersionStages []string
}

type updateSecretVersionStageInput struct {
	SecretId            string
	VersionStage        string
	MoveToVersionId     *string
	RemoveFromVersionId *string
}

type arnNameOutput struct {
	ARN  string
	Name string
}

type listSecretVersionIdsInput struct {
	SecretId          string
	IncludeDeprecated *bool
	MaxResults        *int64
	NextToken         *string
}

type versionEntry struct {
	VersionId        string
	VersionStages    []string `json:",omitempty"`
	CreatedDate      *epoch   `json:",omitempty"`
	LastAccessedDate *epoch   `json:",omitempty"`
}

type listSecretVersionIdsOutput struct {
	ARN       string
	Name      string
	Versions  []versionEntry
	NextToken *string `json:",omitempty"`
}

type getRandomPasswordInput struct {
	PasswordLength          *int64
	ExcludeCharacters       *string
	ExcludeNumbers          *bool
	ExcludePunctuation      *bool
	ExcludeUppercase        *bool
	ExcludeLowercase        *bool
	IncludeSpace            *bool
	RequireEachIncludedType *bool
}

type getRandomPasswordOutput struct {
	RandomPassword string
}

type rotateSecretInput struct {
	SecretId           string
	ClientRequestToken *string
	RotationLambdaARN  *string
	RotationRules      *rotationRules
	RotateImmediately  *bool
}

type rotateSecretOutput struct {
	ARN       string
	Name      string
	VersionId *string `json:",omitempty"`
}

type cancelRotateSecretOutput struct {
	ARN       string
	Name      string
	VersionId *string `json:",omitempty"`
}
