package stacks_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGoldenTemplates compares every synthesized template with
// testdata/<stack name>.json, asset hashes replaced by <hash> as in the
// pipeline golden: the goldens pin the resources, not the function's code.
// Which inputs move the function's hash (and only those) is tested in
// package gobundle; that the template carries the hash of the function's
// asset, by the bundling tests. Regenerate with `go test ./stacks -update`
// and review the diff.
func TestGoldenTemplates(t *testing.T) {
	for _, env := range testEnvironments {
		for _, kind := range kindsOf(env) {
			name := stackName(env, kind)
			t.Run(name, func(t *testing.T) {
				got, err := canonical(filepath.Join(synthesized.outdir, name+".template.json"))
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", name+".json"), normalizeAssetHashes(got),
					"a change to the stack's resources; asset hashes are already normalized")
			})
		}
	}
}

// canonical re-indents a template so goldens diff line by line.
func canonical(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// assetHashRe matches asset hashes (and the CodeBuild project config hashes
// derived from them).
var assetHashRe = regexp.MustCompile(`\b[0-9a-f]{64}\b`)

// assetDestinationRe matches the short hash that cdk-assets appends to a
// destination id ("current_account-current_region-1a2b3c4d"): it is derived
// from the destination's object key, which is the asset hash.
var assetDestinationRe = regexp.MustCompile(`(current_account-current_region)-[0-9a-f]{8}\b`)

// normalizeAssetHashes replaces asset hashes (S3 object keys, and the
// CodeBuild project config hashes derived from them) and the short
// destination hashes that cdk-assets derives from them by placeholders.
func normalizeAssetHashes(template []byte) []byte {
	template = assetHashRe.ReplaceAll(template, []byte("<hash>"))
	return assetDestinationRe.ReplaceAll(template, []byte("$1-<hash>"))
}

// checkGolden compares a canonical template with the golden file at path,
// or rewrites the file under -update. intended says which change would
// make a difference expected, for the failure message.
func checkGolden(t *testing.T, path string, got []byte, intended string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; create the golden files with: go test ./stacks -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("template differs from %s (first difference %s).\n"+
			"If the change is intended (%s), regenerate with: go test ./stacks -update",
			path, firstDifference(want, got), intended)
	}
}

func firstDifference(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("at line %d: golden %q, synthesized %q", i+1, strings.TrimSpace(wl), strings.TrimSpace(gl))
		}
	}
	return "none"
}
