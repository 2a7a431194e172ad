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
		dec := json.NewDecoder(bytes.NewReader(blocks[name]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			errs = append(errs, decodeError(ContextEnvironments+"."+name, err))
			continue
		}
		e.Name = name
		envs[name] = e
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return envs, nil
}

// decodeError turns encoding/json errors into messages that name the key.
func decodeError(prefix string, err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return &FieldError{Key: prefix + "." + typeErr.Field, Value: "a JSON " + typeErr.Value, Allowed: "a " + jsonKind(typeErr.Type.Kind().String())}
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return &FieldError{Key: prefix + "." + field, Value: "(unknown key)", Allowed: "one of the keys " + strings.Join(environmentKeys(), ", ") +
			" (inside doctor: " + strings.Join(jsonKeys(Doctor{}), ", ") + ")"}
	}
	return &FieldError{Key: prefix, Value: "(invalid)", Allowed: "a JSON object: " + err.Error()}
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

// environmentKeys lists the JSON keys of Environment, for error messages.
func environmentKeys() []string { return jsonKeys(Environment{}) }

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
