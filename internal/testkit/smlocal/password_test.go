package smlocal_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

const (
	lower = "abcdefghijklmnopqrstuvwxyz"
	upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	nums  = "0123456789"
	// The documented punctuation set of GetRandomPassword.
	punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// GetRandomPassword: default length 32, every class allowed unless
// excluded, ExcludeCharacters removes characters, IncludeSpace adds the
// space, RequireEachIncludedType (default true) puts at least one of each
// included class into the password.
func TestGetRandomPasswordParameters(t *testing.T) {
	_, c := start(t)
	tests := []struct {
		name     string
		in       secretsmanager.GetRandomPasswordInput
		length   int
		allowed  string
		required []string // classes that must each appear
	}{
		{"defaults", secretsmanager.GetRandomPasswordInput{}, 32, lower + upper + nums + punct, []string{lower, upper, nums, punct}},
		{"length 1 without required types", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(1), RequireEachIncludedType: aws.Bool(false)}, 1, lower + upper + nums + punct, nil},
		{"length 4096", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(4096)}, 4096, lower + upper + nums + punct, []string{lower, upper, nums, punct}},
		{"exclude punctuation", secretsmanager.GetRandomPasswordInput{ExcludePunctuation: aws.Bool(true)}, 32, lower + upper + nums, []string{lower, upper, nums}},
		{"exclude numbers", secretsmanager.GetRandomPasswordInput{ExcludeNumbers: aws.Bool(true)}, 32, lower + upper + punct, []string{lower, upper, punct}},
		{"exclude uppercase", secretsmanager.GetRandomPasswordInput{ExcludeUppercase: aws.Bool(true)}, 32, lower + nums + punct, []string{lower, nums, punct}},
		{"exclude lowercase", secretsmanager.GetRandomPasswordInput{ExcludeLowercase: aws.Bool(true)}, 32, upper + nums + punct, []string{upper, nums, punct}},
		{"digits only, 4 characters", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(4), ExcludeLowercase: aws.Bool(true), ExcludeUppercase: aws.Bool(true), ExcludePunctuation: aws.Bool(true)}, 4, nums, []string{nums}},
		{"exclude characters unsafe in a MySQL URL or shell", secretsmanager.GetRandomPasswordInput{ExcludeCharacters: aws.String("/@\"'\\`$ ")}, 32, strings.NewReplacer("/", "", "@", "", "\"", "", "'", "", "\\", "", "`", "", "$", "").Replace(lower + upper + nums + punct), []string{lower, upper, nums}},
		{"include space", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(200), IncludeSpace: aws.Bool(true)}, 200, lower + upper + nums + punct + " ", []string{lower, upper, nums, punct}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 {
				out, err := c.GetRandomPassword(ctxT(t), &tt.in)
				if err != nil {
					t.Fatal(err)
				}
				pw := aws.ToString(out.RandomPassword)
				if len(pw) != tt.length {
					t.Fatalf("length %d, want %d", len(pw), tt.length)
				}
				for _, r := range pw {
					if !strings.ContainsRune(tt.allowed, r) {
						t.Fatalf("character %q not allowed", r)
					}
				}
				for _, class := range tt.required {
					if !strings.ContainsAny(pw, class) {
						t.Fatalf("no character of required class %q", class)
					}
				}
			}
		})
	}
}

// IncludeSpace really produces spaces (probability of none in 200*20
// characters from 95 symbols is negligible).
func TestGetRandomPasswordIncludeSpaceProducesSpaces(t *testing.T) {
	_, c := start(t)
	out, err := c.GetRandomPassword(ctxT(t), &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(4096), IncludeSpace: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(out.RandomPassword), " ") {
		t.Fatal("no space in 4096 characters with IncludeSpace")
	}
}

func TestGetRandomPasswordInvalidCombinations(t *testing.T) {
	_, c := start(t)
	tests := []struct {
		name string
		in   secretsmanager.GetRandomPasswordInput
	}{
		{"length 0", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(0)}},
		{"length 4097", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(4097)}},
		{"every class excluded", secretsmanager.GetRandomPasswordInput{ExcludeLowercase: aws.Bool(true), ExcludeUppercase: aws.Bool(true), ExcludeNumbers: aws.Bool(true), ExcludePunctuation: aws.Bool(true)}},
		{"every character excluded", secretsmanager.GetRandomPasswordInput{ExcludeCharacters: aws.String(lower + upper + nums + punct)}},
		{"too short for each required type", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.GetRandomPassword(ctxT(t), &tt.in)
			assertErrType(t, err, &types.InvalidParameterException{})
		})
	}
}
