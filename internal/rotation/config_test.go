package rotation_test

import (
	"reflect"
	"testing"

	"github.com/example/secret-rotation/internal/rotation"
)

func TestConfigFromEnv(t *testing.T) {
	def := rotation.DefaultPasswordPolicy()
	tests := []struct {
		name    string
		env     map[string]string
		want    rotation.Config
		wantErr bool
	}{
		{"defaults", nil, rotation.Config{Policy: rotation.PasswordPolicy{ExcludeCharacters: `/@"'\`, Length: 32, RequireEachIncludedType: true}}, false},
		{"all set", map[string]string{
			"EXCLUDE_CHARACTERS": "abc", "PASSWORD_LENGTH": "64", "EXCLUDE_NUMBERS": "YES", "EXCLUDE_PUNCTUATION": "1",
			"EXCLUDE_UPPERCASE": "y", "EXCLUDE_LOWERCASE": "no", "REQUIRE_EACH_INCLUDED_TYPE": "false",
			"SECRETS_MANAGER_ENDPOINT": "https://vpce.example", "DB_CA_BUNDLE": "/opt/rds.pem",
		}, rotation.Config{
			Policy:   rotation.PasswordPolicy{ExcludeCharacters: "abc", Length: 64, ExcludeNumbers: true, ExcludePunctuation: true, ExcludeUppercase: true},
			Endpoint: "https://vpce.example", CABundle: "/opt/rds.pem",
		}, false},
		{"true spelled True", map[string]string{"EXCLUDE_NUMBERS": "True"}, rotation.Config{Policy: withNumbersExcluded(def)}, false},
		{"relative CA bundle", map[string]string{"DB_CA_BUNDLE": "certs/rds.pem", "LAMBDA_TASK_ROOT": "/var/task"},
			rotation.Config{Policy: def, CABundle: "/var/task/certs/rds.pem"}, false},
		{"alternating users prefixes", map[string]string{"ALTERNATING_USERS_SECRET_PREFIXES": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/prod/"},
			rotation.Config{Policy: def, AlternatingUsersSecretPrefixes: []string{"arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/prod/"}}, false},
		{"bad alternating users prefix", map[string]string{"ALTERNATING_USERS_SECRET_PREFIXES": "app/prod/"}, rotation.Config{}, true},
		{"bad length", map[string]string{"PASSWORD_LENGTH": "long"}, rotation.Config{}, true},
		{"length zero", map[string]string{"PASSWORD_LENGTH": "0"}, rotation.Config{}, true},
		{"length too big", map[string]string{"PASSWORD_LENGTH": "4097"}, rotation.Config{}, true},
		{"everything excluded", map[string]string{"EXCLUDE_NUMBERS": "true", "EXCLUDE_PUNCTUATION": "true", "EXCLUDE_UPPERCASE": "true", "EXCLUDE_LOWERCASE": "true"}, rotation.Config{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rotation.ConfigFromEnv(func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func withNumbersExcluded(p rotation.PasswordPolicy) rotation.PasswordPolicy {
	p.ExcludeNumbers = true
	return p
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "TRUE": true, "1": true, "y": true, "Yes": true, " yes ": true,
		"false": false, "0": false, "n": false, "no": false, "": false, "on": false, "t": false} {
		if got := rotation.ParseBool(in); got != want {
			t.Errorf("ParseBool(%q) = %v, want %v", in, got, want)
		}
	}
}
