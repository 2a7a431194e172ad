package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ContextReader returns the CDK context value for a key, or nil when unset.
// Values are what jsii hands over from cdk.json or `-c`: strings, float64,
// bools, []any and map[string]any.
type ContextReader interface {
	Context(key string) any
}

// ContextMap is a ContextReader over a plain map, for tests and tools.
type ContextMap map[string]any

// Context implements ContextReader.
func (m ContextMap) Context(key string) any { return m[key] }

// ContextFunc adapts a function (such as a wrapper around
// app.Node().TryGetContext) to a ContextReader.
type ContextFunc func(key string) any

// Context implements ContextReader.
func (f ContextFunc) Context(key string) any { return f(key) }

// Process environment variables Load reads from its env argument.
const (
	EnvDefaultAccount = "CDK_DEFAULT_ACCOUNT"
	EnvDefaultRegion  = "CDK_DEFAULT_REGION"
)

// Load builds and validates the configuration from CDK context values and
// the process environment (only CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION are
// read). When the "environments" key is absent, a single "dev" environment
// with the defaults is used. The returned error lists every problem found.
func Load(ctx ContextReader, env map[string]string) (*Config, error) {
	envs, err := decodeEnvironments(ctx.Context(ContextEnvironments))
	if err != nil {
		return nil, err
	}
	for name, e := range envs {
		if e.Account == "" {
			e.Account = env[EnvDefaultAccount]
		}
		if e.Region == "" {
			e.Region = env[EnvDefaultRegion]
		}
		envs[name] = e
	}
	selected, err := decodeSelection(ctx.Context(ContextEnv))
	if err != nil {
		return nil, err
	}
	pipeline, err := decodePipeline(ctx.Context(ContextPipeline))
	if err != nil {
		return nil, err
	}
	cfg := &Config{Selected: selected, Environments: envs, Pipeline: pipeline}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// decodeEnvironments overlays each cdk.json environment block on the defaults.
func decodeEnvironments(raw any) (map[string]Environment, error) {
	if raw == nil {
		e := DefaultEnvironment()
		e.Name = DefaultEnvironmentName
		return map[string]Environment{DefaultEnvironmentName: e}, nil
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("context key %q: cannot encode value: %w", ContextEnvironments, err)
	}
	var blocks map[string]json.RawMessage
	if err := json.Unmarshal(data, &blocks); err != nil || blocks == nil {
		return nil, &FieldError{Key: ContextEnvironments, Value: string(data), Allowed: "an object of named environment blocks, e.g. {\"dev\": {...}}"}
	}
	if len(blocks) == 0 {
		return nil, &FieldError{Key: ContextEnvironments, Value: "{}", Allowed: "at least one named environment"}
	}
	envs := make(map[string]Environment, len(blocks))
	var errs []error
	for _, name := range sortedKeys(blocks) {
		e := DefaultEnvironment()
		prefix := ContextEnvironments + "." + name
		// The "databases" key is decoded on its own, after the block: its
		// entries start from the block's settings.
		block := struct {
			*Environment
			Databases map[string]json.RawMessage `json:"databases"`
		}{Environment: &e}
		if err := decodeStrict(blocks[name], &block); err != nil {
			errs = append(errs, decodeError(prefix, err, environmentKeys()))
			continue
		}
		e.Name = name
		dbs, dbErrs := decodeDatabases(prefix+"."+ContextDatabases, e.DatabaseSettings, block.Databases)
		if len(dbErrs) > 0 {
			errs = append(errs, dbErrs...)
			continue
		}
		e.Databases = dbs
		envs[name] = e
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return envs, nil
}

// decodeStrict decodes a JSON object into v, refusing unknown keys.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// decodeDatabases decodes the "databases" entries of one environment,
// each over the environment's settings, and adds the default database
// when the entries do not name it. The result is "default" first, then
// by name.
func decodeDatabases(prefix string, defaults DatabaseSettings, raw map[string]json.RawMessage) ([]Database, []error) {
	out := []Database{{Name: DefaultDatabaseName, DatabaseSettings: defaults}}
	var errs []error
	for _, name := range sortedKeys(raw) {
		d := Database{Name: name, DatabaseSettings: defaults}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw[name], &keys); err != nil || keys == nil {
			errs = append(errs, &FieldError{Key: prefix + "." + name, Value: string(raw[name]), Allowed: "an object of database settings, users and existing"})
			continue
		}
		if err := decodeDatabase(prefix+"."+name, keys, &d); err != nil {
			errs = append(errs, err)
			continue
		}
		d.set = map[string]bool{}
		for k := range keys {
			d.set[k] = true
		}
		if name == DefaultDatabaseName {
			out[0] = d
		} else {
			out = append(out, d)
		}
	}
	return out, errs
}

// decodeDatabase decodes one "databases" entry given as its keys into d;
// users and existing are decoded one by one, so an unknown key is reported
// with its full path and the keys allowed there.
func decodeDatabase(prefix string, keys map[string]json.RawMessage, d *Database) error {
	settings := map[string]json.RawMessage{}
	for k, v := range keys {
		if k != "users" && k != "existing" {
			settings[k] = v
		}
	}
	data, _ := json.Marshal(settings)
	if err := decodeStrict(data, d); err != nil {
		return decodeError(prefix, err, databaseKeys())
	}
	if raw, ok := keys["existing"]; ok && string(raw) != "null" {
		d.Existing = &ExistingDatabase{}
		if err := decodeStrict(raw, d.Existing); err != nil {
			return decodeError(prefix+".existing", err, jsonKeys(ExistingDatabase{}))
		}
	}
	if raw, ok := keys["users"]; ok && string(raw) != "null" {
		var users []json.RawMessage
		if err := json.Unmarshal(raw, &users); err != nil {
			return &FieldError{Key: prefix + ".users", Value: string(raw), Allowed: "a list of users: {\"name\": ..., \"grants\": [...]}"}
		}
		d.Users = make([]User, len(users))
		for i, u := range users {
			if err := decodeStrict(u, &d.Users[i]); err != nil {
				return decodeError(fmt.Sprintf("%s.users[%d]", prefix, i), err, jsonKeys(User{}))
			}
		}
	}
	return nil
}

// decodeError turns encoding/json errors into messages that name the key;
// keys are the allowed keys, for the unknown-key message.
func decodeError(prefix string, err error, keys []string) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return &FieldError{Key: prefix + "." + jsonPath(typeErr.Field), Value: "a JSON " + typeErr.Value, Allowed: "a " + jsonKind(typeErr.Type.Kind().String())}
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return &FieldError{Key: prefix + "." + field, Value: "(unknown key)", Allowed: "one of the keys " + strings.Join(keys, ", ")}
	}
	return &FieldError{Key: prefix, Value: "(invalid)", Allowed: "a JSON object: " + err.Error()}
}

// jsonPath drops the Go names of embedded structs (Environment,
// DatabaseSettings) from encoding/json's field path, leaving the JSON keys.
func jsonPath(field string) string {
	var keep []string
	for _, part := range strings.Split(field, ".") {
		if part != "" && (part[0] < 'A' || part[0] > 'Z') {
			keep = append(keep, part)
		}
	}
	return strings.Join(keep, ".")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "float64":
		return "number"
	case "slice":
		return "list of strings"
	case "bool":
		return "boolean (true or false)"
	default:
		return goKind
	}
}

// decodeSelection parses "dev", "dev,prod" or a JSON list of names.
func decodeSelection(raw any) ([]string, error) {
	var names []string
	switch v := raw.(type) {
	case nil:
		return []string{DefaultEnvironmentName}, nil
	case string:
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	case []any:
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, &FieldError{Key: ContextEnv, Value: fmt.Sprint(raw), Allowed: "environment names"}
			}
			names = append(names, s)
		}
	default:
		return nil, &FieldError{Key: ContextEnv, Value: fmt.Sprint(raw), Allowed: "an environment name or a comma-separated list of names"}
	}
	if len(names) == 0 {
		return nil, &FieldError{Key: ContextEnv, Value: fmt.Sprint(raw), Allowed: "at least one environment name"}
	}
	return names, nil
}

// decodePipeline accepts true/false, "true"/"false" or an object.
func decodePipeline(raw any) (Pipeline, error) {
	switch v := raw.(type) {
	case nil:
		return Pipeline{}, nil
	case bool:
		return Pipeline{Enabled: v}, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "1", "yes":
			return Pipeline{Enabled: true}, nil
		case "false", "0", "no", "":
			return Pipeline{}, nil
		}
	case map[string]any:
		data, err := json.Marshal(v)
		if err != nil {
			return Pipeline{}, fmt.Errorf("context key %q: cannot encode value: %w", ContextPipeline, err)
		}
		enabled := true
		if b, ok := v["enabled"].(bool); ok {
			enabled = b
		}
		return Pipeline{Enabled: enabled, Raw: data}, nil
	}
	return Pipeline{}, &FieldError{Key: ContextPipeline, Value: fmt.Sprint(raw), Allowed: "true, false or a pipeline object"}
}

// environmentKeys lists the keys of an environment block, for error
// messages (with those inside doctor).
func environmentKeys() []string {
	keys := append(jsonKeys(Environment{}), ContextDatabases)
	sort.Strings(keys)
	keys[len(keys)-1] += " (inside doctor: " + strings.Join(jsonKeys(Doctor{}), ", ") + ")"
	return keys
}

// jsonKeys lists the JSON keys of a struct value, sorted.
func jsonKeys(v any) []string {
	data, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return sortedKeys(m)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
