package rotation

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Environment variable names the function reads. The password settings
// use the names and defaults of AWS's own rotation functions.
const (
	EnvExcludeCharacters       = "EXCLUDE_CHARACTERS"
	EnvPasswordLength          = "PASSWORD_LENGTH"
	EnvExcludeNumbers          = "EXCLUDE_NUMBERS"
	EnvExcludePunctuation      = "EXCLUDE_PUNCTUATION"
	EnvExcludeUppercase        = "EXCLUDE_UPPERCASE"
	EnvExcludeLowercase        = "EXCLUDE_LOWERCASE"
	EnvRequireEachIncludedType = "REQUIRE_EACH_INCLUDED_TYPE"
	EnvSecretsManagerEndpoint  = "SECRETS_MANAGER_ENDPOINT"
	EnvCABundle                = "DB_CA_BUNDLE"
	EnvTaskRoot                = "LAMBDA_TASK_ROOT"
	// EnvAlternatingUsersSecretPrefixes lists, separated by commas, the
	// ARN prefixes of the secrets the function may rotate with alternating
	// users (secrets naming a master in "masterarn"); see
	// [ParseSecretARNPrefixes]. Unset or empty: any secret may.
	EnvAlternatingUsersSecretPrefixes = "ALTERNATING_USERS_SECRET_PREFIXES"
	// EnvMasterSecretBindings binds master secrets that carry no
	// [MasterBindingTag] (an existing database's) to the ARN prefix of the
	// secrets that may name them: a JSON object, see
	// [ParseMasterSecretBindings]. Unset or empty: tags only.
	EnvMasterSecretBindings = "MASTER_SECRET_BINDINGS"
	// EnvRequireMasterSecretBinding: unset, empty or true (the default),
	// a secret naming a master is rotated only if that master binds it
	// (its [MasterBindingTag] or MASTER_SECRET_BINDINGS); false (any other
	// value than those [ParseBool] reads as true) turns the check off.
	EnvRequireMasterSecretBinding = "REQUIRE_MASTER_SECRET_BINDING"
)

// DefaultExcludeCharacters are the characters AWS's functions exclude by
// default: slash, at-sign, double quote, single quote, backslash.
const DefaultExcludeCharacters = `/@"'\`

// DefaultPasswordLength is the default generated password length.
const DefaultPasswordLength = 32

// PasswordPolicy is the GetRandomPassword request the function makes.
type PasswordPolicy struct {
	ExcludeCharacters       string
	Length                  int64
	ExcludeNumbers          bool
	ExcludePunctuation      bool
	ExcludeUppercase        bool
	ExcludeLowercase        bool
	RequireEachIncludedType bool
}

// DefaultPasswordPolicy returns the policy used when no variable is set.
func DefaultPasswordPolicy() PasswordPolicy {
	return PasswordPolicy{
		ExcludeCharacters:       DefaultExcludeCharacters,
		Length:                  DefaultPasswordLength,
		RequireEachIncludedType: true,
	}
}

// Config is everything the function reads from its environment.
type Config struct {
	Policy PasswordPolicy
	// Endpoint overrides the Secrets Manager endpoint URL (interface VPC
	// endpoints with private DNS off, local tests). Empty: SDK default.
	Endpoint string
	// CABundle is the absolute path of a PEM file whose CAs database TLS
	// trusts in addition to the system roots and the Amazon RDS CAs built
	// into the function (package rdsca). Empty: those only.
	CABundle string
	// AlternatingUsersSecretPrefixes are the ARN prefixes of the secrets
	// that may name a master secret (ALTERNATING_USERS_SECRET_PREFIXES);
	// an alternating-users secret under none of them is refused before its
	// master is read ([WithAlternatingUsersSecretPrefixes]). Nil: no limit.
	AlternatingUsersSecretPrefixes []string
	// MasterSecretBindings bind masters without a [MasterBindingTag]
	// (MASTER_SECRET_BINDINGS, [WithMasterSecretBindings]). Nil: none.
	MasterSecretBindings map[string]string
	// MasterSecretBindingOptional turns the binding check off
	// (REQUIRE_MASTER_SECRET_BINDING=false,
	// [WithMasterSecretBindingRequired]). Default false: required.
	MasterSecretBindingOptional bool
}

// ConfigFromEnv reads the configuration through getenv (os.Getenv in
// main). An unset or empty variable takes its default; an unparsable one
// is an error naming the variable. A relative DB_CA_BUNDLE is resolved
// against LAMBDA_TASK_ROOT (the directory holding bootstrap).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Policy: DefaultPasswordPolicy()}
	if v, ok := lookup(getenv, EnvExcludeCharacters); ok {
		c.Policy.ExcludeCharacters = v
	}
	if v, ok := lookup(getenv, EnvPasswordLength); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 1 || n > 4096 {
			return Config{}, fmt.Errorf("%s: want an integer between 1 and 4096", EnvPasswordLength)
		}
		c.Policy.Length = n
	}
	bools := []struct {
		name string
		dst  *bool
	}{
		{EnvExcludeNumbers, &c.Policy.ExcludeNumbers},
		{EnvExcludePunctuation, &c.Policy.ExcludePunctuation},
		{EnvExcludeUppercase, &c.Policy.ExcludeUppercase},
		{EnvExcludeLowercase, &c.Policy.ExcludeLowercase},
		{EnvRequireEachIncludedType, &c.Policy.RequireEachIncludedType},
	}
	for _, b := range bools {
		if v, ok := lookup(getenv, b.name); ok {
			*b.dst = ParseBool(v)
		}
	}
	if c.Policy.ExcludeNumbers && c.Policy.ExcludePunctuation && c.Policy.ExcludeUppercase && c.Policy.ExcludeLowercase {
		return Config{}, fmt.Errorf("the EXCLUDE_* variables exclude every character class")
	}
	c.Endpoint = strings.TrimSpace(getenv(EnvSecretsManagerEndpoint))
	c.CABundle = CABundleFromEnv(getenv)
	if v, ok := lookup(getenv, EnvAlternatingUsersSecretPrefixes); ok {
		prefixes, err := ParseSecretARNPrefixes(v)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w", EnvAlternatingUsersSecretPrefixes, err)
		}
		c.AlternatingUsersSecretPrefixes = prefixes
	}
	if v, ok := lookup(getenv, EnvMasterSecretBindings); ok {
		b, err := ParseMasterSecretBindings(v)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %w", EnvMasterSecretBindings, err)
		}
		c.MasterSecretBindings = b
	}
	if v, ok := lookup(getenv, EnvRequireMasterSecretBinding); ok {
		c.MasterSecretBindingOptional = !ParseBool(v)
	}
	return c, nil
}

// CABundleFromEnv returns the absolute path DB_CA_BUNDLE names, "" when
// it is unset or empty: a relative path is resolved against
// LAMBDA_TASK_ROOT (the directory holding bootstrap; "." when unset).
// The doctor function reads the variable the same way.
func CABundleFromEnv(getenv func(string) string) string {
	p := strings.TrimSpace(getenv(EnvCABundle))
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	root := getenv(EnvTaskRoot)
	if root == "" {
		root = "."
	}
	return filepath.Join(root, p)
}

// lookup treats an empty variable as unset, which is what a CloudFormation
// template that always emits the key with an empty default needs.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// ParseBool reports whether v means true the way AWS's rotation functions
// read their flags: true, 1, y or yes, case-insensitive. Anything else is
// false.
func ParseBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "y", "yes":
		return true
	}
	return false
}
