package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// StandaloneContext returns the context the CDK CLI would pass to the app, for
// running it without the CLI (`go run .`): the "context" object of
// dir/cdk.json, overlaid with dir/cdk.context.json (cached lookups), overlaid
// with `-c key=value` / `--context key=value` arguments. Values given as
// arguments are strings, as with the CLI.
func StandaloneContext(dir string, args []string) (map[string]any, error) {
	ctx := map[string]any{}
	var project struct {
		Context map[string]any `json:"context"`
	}
	if err := readJSON(filepath.Join(dir, "cdk.json"), &project); err != nil {
		return nil, err
	}
	for k, v := range project.Context {
		ctx[k] = v
	}
	var cached map[string]any
	if err := readJSON(filepath.Join(dir, "cdk.context.json"), &cached); err != nil {
		return nil, err
	}
	for k, v := range cached {
		ctx[k] = v
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		var kv string
		switch {
		case arg == "-c" || arg == "--context":
			if i+1 >= len(args) {
				return nil, fmt.Errorf("argument %s: missing key=value", arg)
			}
			i++
			kv = args[i]
		case strings.HasPrefix(arg, "--context="):
			kv = strings.TrimPrefix(arg, "--context=")
		default:
			return nil, fmt.Errorf("argument %q: only -c key=value is understood", arg)
		}
		key, value, ok := strings.Cut(kv, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("argument %q: want key=value", kv)
		}
		ctx[key] = value
	}
	return ctx, nil
}

// readJSON decodes path into v; a missing file leaves v untouched.
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}
