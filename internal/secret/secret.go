package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/example/secret-rotation/internal/grant"
)

// DefaultUserHost is the account host when the secret has no "userhost".
const DefaultUserHost = "%"

// ErrInvalid is matched (errors.Is) by every error [Parse] returns.
var ErrInvalid = errors.New("invalid database secret")

// FieldError reports a problem with one key of the secret. It carries the
// key name and a description of the problem, never the value.
type FieldError struct {
	Field  string // JSON key, e.g. "port"
	Reason string // what is wrong, e.g. "missing" or "must be a string"
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("invalid database secret: field %q: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true for every FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// SSLMode is the TLS policy a secret asks for.
type SSLMode int

const (
	// SSLPreferred (no "ssl" key) tries verified TLS, then plain text.
	SSLPreferred SSLMode = iota
	// SSLRequired ("ssl": true) connects with verified TLS only.
	SSLRequired
	// SSLDisabled ("ssl": false) connects in plain text only.
	SSLDisabled
)

// String returns the name used in logs.
func (m SSLMode) String() string {
	switch m {
	case SSLPreferred:
		return "preferred"
	case SSLRequired:
		return "required"
	case SSLDisabled:
		return "disabled"
	}
	return "SSLMode(" + strconv.Itoa(int(m)) + ")"
}

// Secret is a parsed database secret. The exported fields are read-only
// views of the JSON; use [Secret.WithPassword] to produce a new secret
// string. String, GoString and LogValue redact the password so a Secret
// can be printed or logged by mistake without leaking it.
type Secret struct {
	Engine   string
	Host     string
	Port     int
	Username string
	Password string
	DBName   string
	SSL      SSLMode
	// MasterARN is the optional "masterarn" key: the ARN of the secret
	// whose user changes this secret's password (alternating users).
	// Parsed and validated only; see [Secret.AlternatingUsers].
	MasterARN string
	// Grants is the optional "grants" key (a JSON array of strings): the
	// grants the alternating-users strategy makes the user hold exactly,
	// each validated by [grant.Parse]. nil when absent: the strategy then
	// copies the current user's grants, as AWS's multi-user function does.
	Grants []grant.Grant
	// UserHost is the optional "userhost" key, the host part of the
	// database account ('user'@'host'); "%" when absent.
	UserHost string

	raw map[string]json.RawMessage
}

// Parse parses and validates a secret string. The engine must be one a
// registered [Dialect] serves; a secret without "port" gets that dialect's
// default port. Errors wrap [ErrInvalid], name the field and never include
// the secret string or its values.
func Parse(secretString string) (*Secret, error) {
	return parse(secretString, &dialects)
}

func parse(secretString string, dialects *registry) (*Secret, error) {
	raw, err := decodeObject(secretString)
	if err != nil {
		return nil, err
	}
	s := &Secret{raw: raw}
	if s.Engine, err = requiredString(raw, "engine"); err != nil {
		return nil, err
	}
	dialect, reason := dialects.lookup(s.Engine)
	if reason != "" {
		return nil, &FieldError{"engine", reason}
	}
	if s.Host, err = requiredString(raw, "host"); err != nil {
		return nil, err
	}
	if strings.ContainsAny(s.Host, " \t\r\n/") {
		return nil, &FieldError{"host", "must be a host name or IP address"}
	}
	if s.Username, err = requiredString(raw, "username"); err != nil {
		return nil, err
	}
	if s.Password, err = requiredString(raw, "password"); err != nil {
		return nil, err
	}
	if s.Port, err = parsePort(raw, dialect.DefaultPort); err != nil {
		return nil, err
	}
	if s.DBName, err = optionalString(raw, "dbname"); err != nil {
		return nil, err
	}
	if s.SSL, err = parseSSL(raw); err != nil {
		return nil, err
	}
	if s.MasterARN, err = optionalString(raw, "masterarn"); err != nil {
		return nil, err
	}
	if s.Grants, err = parseGrants(raw); err != nil {
		return nil, err
	}
	if s.UserHost, err = optionalString(raw, "userhost"); err != nil {
		return nil, err
	}
	if s.UserHost == "" {
		s.UserHost = DefaultUserHost
	} else if grant.ValidateHost(s.UserHost) != nil {
		return nil, &FieldError{"userhost", "must be \"%\", a host name or an address, optionally with % or _ wildcards"}
	}
	return s, nil
}

// decodeObject decodes the top-level JSON object. json error messages can
// quote a character of the input, so they are replaced by the offset only.
func decodeObject(secretString string) (map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(secretString), &raw); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, fmt.Errorf("%w: malformed JSON near byte offset %d", ErrInvalid, syn.Offset)
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return nil, fmt.Errorf("%w: secret string must be a JSON object, not %s", ErrInvalid, typ.Value)
		}
		return nil, fmt.Errorf("%w: malformed JSON", ErrInvalid)
	}
	if raw == nil {
		return nil, fmt.Errorf("%w: secret string must be a JSON object, not null", ErrInvalid)
	}
	return raw, nil
}

// present reports whether key exists with a non-null value.
func present(raw map[string]json.RawMessage, key string) bool {
	v, ok := raw[key]
	return ok && string(bytes.TrimSpace(v)) != "null"
}

func requiredString(raw map[string]json.RawMessage, key string) (string, error) {
	if !present(raw, key) {
		return "", &FieldError{key, "missing"}
	}
	var s string
	if err := json.Unmarshal(raw[key], &s); err != nil {
		return "", &FieldError{key, "must be a string"}
	}
	if s == "" {
		return "", &FieldError{key, "must not be empty"}
	}
	return s, nil
}

func optionalString(raw map[string]json.RawMessage, key string) (string, error) {
	if !present(raw, key) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw[key], &s); err != nil {
		return "", &FieldError{key, "must be a string"}
	}
	return s, nil
}

// parseGrants reads "grants": absent or null is nil; otherwise an array
// of grant strings, each valid and on a different object. The reason may
// quote a privilege or identifier of a grant: grants are configuration,
// not secret (the password is never quoted).
func parseGrants(raw map[string]json.RawMessage) ([]grant.Grant, error) {
	if !present(raw, "grants") {
		return nil, nil
	}
	var declared []string
	if err := json.Unmarshal(raw["grants"], &declared); err != nil {
		return nil, &FieldError{"grants", "must be an array of strings"}
	}
	gs, err := grant.ParseAll(declared)
	if err != nil {
		var ge *grant.Error
		if errors.As(err, &ge) {
			return nil, &FieldError{"grants", ge.Reason}
		}
		return nil, &FieldError{"grants", "invalid"}
	}
	return gs, nil
}

func parsePort(raw map[string]json.RawMessage, defaultPort int) (int, error) {
	if !present(raw, "port") {
		return defaultPort, nil
	}
	v := bytes.TrimSpace(raw["port"])
	text := string(v)
	if len(v) > 0 && v[0] == '"' {
		if err := json.Unmarshal(v, &text); err != nil {
			return 0, &FieldError{"port", "must be a number or a numeric string"}
		}
		text = strings.TrimSpace(text)
	} else if len(v) > 0 && !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
		return 0, &FieldError{"port", "must be a number or a numeric string"}
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		// Accept 3306.0, which some JSON producers emit for integers.
		f, ferr := strconv.ParseFloat(text, 64)
		if ferr != nil || f != float64(int(f)) {
			return 0, &FieldError{"port", "must be an integer"}
		}
		n = int(f)
	}
	if n < 1 || n > 65535 {
		return 0, &FieldError{"port", "must be between 1 and 65535"}
	}
	return n, nil
}

func parseSSL(raw map[string]json.RawMessage) (SSLMode, error) {
	if !present(raw, "ssl") {
		return SSLPreferred, nil
	}
	var b bool
	if err := json.Unmarshal(raw["ssl"], &b); err == nil {
		return sslMode(b), nil
	}
	var s string
	if err := json.Unmarshal(raw["ssl"], &s); err == nil {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return SSLRequired, nil
		case "false":
			return SSLDisabled, nil
		}
	}
	return 0, &FieldError{"ssl", `must be true, false, "true" or "false"`}
}

func sslMode(b bool) SSLMode {
	if b {
		return SSLRequired
	}
	return SSLDisabled
}

// AlternatingUsers reports whether the secret asks for the
// alternating-users rotation: it names a master secret ("masterarn").
func (s *Secret) AlternatingUsers() bool { return s.MasterARN != "" }

// Addr returns host:port, bracketing IPv6 literals.
func (s *Secret) Addr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// WithPassword returns the secret string with "password" set to p and
// every other key kept with its original JSON value. Keys are written in
// sorted order; HTML characters are not escaped.
func (s *Secret) WithPassword(p string) (string, error) {
	return s.withStrings("password", p)
}

// WithCredentials is [Secret.WithPassword] that also sets "username" to
// user: the secret string of the other account of an alternating pair.
func (s *Secret) WithCredentials(user, p string) (string, error) {
	return s.withStrings("password", p, "username", user)
}

// withStrings returns the secret string with each key of kv (key, value,
// key, value, ...) set to its string value and every other key kept with
// its original JSON value, keys sorted, HTML characters not escaped.
func (s *Secret) withStrings(kv ...string) (string, error) {
	out := make(map[string]json.RawMessage, len(s.raw)+len(kv)/2)
	for k, v := range s.raw {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		v, err := marshalNoEscape(kv[i+1])
		if err != nil {
			return "", fmt.Errorf("encode %s: %w", kv[i], err)
		}
		out[kv[i]] = v
	}
	b, err := marshalNoEscape(out)
	if err != nil {
		// Only reachable if a stored raw value is not valid JSON, which
		// Parse rules out; never echo the content.
		return "", errors.New("re-encode secret JSON failed")
	}
	return string(b), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// SameAccount reports whether o names the same user on the same server,
// the condition under which a pending secret may replace the current one.
func (s *Secret) SameAccount(o *Secret) bool {
	return s.Username == o.Username && strings.EqualFold(s.Host, o.Host) && s.Port == o.Port
}

// String describes the secret without its password.
func (s Secret) String() string {
	return fmt.Sprintf("%s://%s@%s/%s (ssl %s, password redacted)", s.Engine, s.Username, s.Addr(), s.DBName, s.SSL)
}

// GoString is String, so %#v does not print the password either.
func (s Secret) GoString() string { return s.String() }

// Format implements fmt.Formatter: every verb (%d and %x included, which
// would otherwise print the fields) prints String.
func (s Secret) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue implements slog.LogValuer without the password.
func (s Secret) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("engine", s.Engine),
		slog.String("host", s.Host),
		slog.Int("port", s.Port),
		slog.String("username", s.Username),
		slog.String("ssl", s.SSL.String()),
	)
}
