package secret_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/secret"
)

const knownPassword = "S3cr3t-Pa55-Do-Not-Log"

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want secret.Secret
	}{
		{"minimal", `{"engine":"mysql","host":"db.example","username":"admin","password":"p"}`,
			secret.Secret{Engine: "mysql", Host: "db.example", Port: 3306, Username: "admin", Password: "p", SSL: secret.SSLPreferred}},
		{"port number", `{"engine":"mariadb","host":"h","username":"u","password":"p","port":3307}`,
			secret.Secret{Engine: "mariadb", Host: "h", Port: 3307, Username: "u", Password: "p"}},
		{"port string", `{"engine":"aurora-mysql","host":"h","username":"u","password":"p","port":" 3308 "}`,
			secret.Secret{Engine: "aurora-mysql", Host: "h", Port: 3308, Username: "u", Password: "p"}},
		{"port float integral", `{"engine":"mysql","host":"h","username":"u","password":"p","port":3306.0}`,
			secret.Secret{Engine: "mysql", Host: "h", Port: 3306, Username: "u", Password: "p"}},
		{"port null is default", `{"engine":"mysql","host":"h","username":"u","password":"p","port":null}`,
			secret.Secret{Engine: "mysql", Host: "h", Port: 3306, Username: "u", Password: "p"}},
		{"dbname", `{"engine":"mysql","host":"h","username":"u","password":"p","dbname":"app"}`,
			secret.Secret{Engine: "mysql", Host: "h", Port: 3306, Username: "u", Password: "p", DBName: "app"}},
		{"ssl true", `{"engine":"mysql","host":"h","username":"u","password":"p","ssl":true}`,
			secret.Secret{Engine: "mysql", Host: "h", Port: 3306, Username: "u", Password: "p", SSL: secret.SSLRequired}},
		{"ssl false", `{"engine":"mysql","host":"h","username":"u","password":"p","ssl":false}`,
			secret.Secret{Engine: "mysql", Host: "h", Port: 3306, Username: "u", Password: "p", SSL: secret.SSLDisabled}},
		{"ssl string TRUE", `{"engine":"mysql","host":"h","username":"u","password":"p","ssl":"TRUE"}`,
			secret.Secret{Engine: "mysql", Host: "h", Port: 3306, Username: "u", Password: "p", SSL: secret.SSLRequired}},
		{"ssl string false", `{"engine":"mysql","host":"h","username":"u","password":"p","ssl":"false"}`,
			secret.Secret{Engine: "mysql", Host: "h", Port: 3306, Username: "u", Password: "p", SSL: secret.SSLDisabled}},
		{"ipv6 host", `{"engine":"mysql","host":"::1","username":"u","password":"p"}`,
			secret.Secret{Engine: "mysql", Host: "::1", Port: 3306, Username: "u", Password: "p"}},
		{"unknown fields ignored", `{"engine":"mysql","host":"h","username":"u","password":"p","dbClusterIdentifier":"c","extra":{"a":[1,2]}}`,
			secret.Secret{Engine: "mysql", Host: "h", Port: 3306, Username: "u", Password: "p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := secret.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.Engine != tt.want.Engine || got.Host != tt.want.Host || got.Port != tt.want.Port ||
				got.Username != tt.want.Username || got.Password != tt.want.Password ||
				got.DBName != tt.want.DBName || got.SSL != tt.want.SSL {
				t.Errorf("Parse = %+v, want %+v (password compared too)", *got, tt.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name, in, field string // field "" means a whole-document error
	}{
		{"empty", ``, ""},
		{"not json", `engine=mysql password=` + knownPassword, ""},
		{"truncated", `{"engine":"mysql","password":"` + knownPassword, ""},
		{"array", `["` + knownPassword + `"]`, ""},
		{"string", `"` + knownPassword + `"`, ""},
		{"null", `null`, ""},
		{"missing engine", `{"host":"h","username":"u","password":"` + knownPassword + `"}`, "engine"},
		{"unsupported engine", `{"engine":"postgres","host":"h","username":"u","password":"` + knownPassword + `"}`, "engine"},
		{"engine number", `{"engine":1,"host":"h","username":"u","password":"` + knownPassword + `"}`, "engine"},
		{"missing host", `{"engine":"mysql","username":"u","password":"` + knownPassword + `"}`, "host"},
		{"empty host", `{"engine":"mysql","host":"","username":"u","password":"` + knownPassword + `"}`, "host"},
		{"host with space", `{"engine":"mysql","host":"a b","username":"u","password":"` + knownPassword + `"}`, "host"},
		{"missing username", `{"engine":"mysql","host":"h","password":"` + knownPassword + `"}`, "username"},
		{"username object", `{"engine":"mysql","host":"h","username":{},"password":"` + knownPassword + `"}`, "username"},
		{"missing password", `{"engine":"mysql","host":"h","username":"u"}`, "password"},
		{"password number", `{"engine":"mysql","host":"h","username":"u","password":12345}`, "password"},
		{"password null", `{"engine":"mysql","host":"h","username":"u","password":null}`, "password"},
		{"port bool", `{"engine":"mysql","host":"h","username":"u","password":"` + knownPassword + `","port":true}`, "port"},
		{"port word", `{"engine":"mysql","host":"h","username":"u","password":"` + knownPassword + `","port":"abc"}`, "port"},
		{"port zero", `{"engine":"mysql","host":"h","username":"u","password":"` + knownPassword + `","port":0}`, "port"},
		{"port too big", `{"engine":"mysql","host":"h","username":"u","password":"` + knownPassword + `","port":65536}`, "port"},
		{"port fraction", `{"engine":"mysql","host":"h","username":"u","password":"` + knownPassword + `","port":3306.5}`, "port"},
		{"dbname number", `{"engine":"mysql","host":"h","username":"u","password":"` + knownPassword + `","dbname":5}`, "dbname"},
		{"ssl word", `{"engine":"mysql","host":"h","username":"u","password":"` + knownPassword + `","ssl":"yes"}`, "ssl"},
		{"masterarn number", `{"engine":"mysql","host":"h","username":"u","password":"` + knownPassword + `","masterarn":5}`, "masterarn"},
		{"ssl number", `{"engine":"mysql","host":"h","username":"u","password":"` + knownPassword + `","ssl":1}`, "ssl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := secret.Parse(tt.in)
			if err == nil {
				t.Fatal("Parse succeeded, want error")
			}
			if !errors.Is(err, secret.ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if strings.Contains(err.Error(), knownPassword) || (len(tt.in) > 8 && strings.Contains(err.Error(), tt.in)) {
				t.Errorf("error leaks the secret: %v", err)
			}
			var fe *secret.FieldError
			if tt.field == "" {
				if errors.As(err, &fe) {
					t.Errorf("got field error %v, want document error", err)
				}
				return
			}
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("error %v, want a FieldError for %q", err, tt.field)
			}
			if !strings.Contains(err.Error(), `"`+tt.field+`"`) {
				t.Errorf("error %q does not name the field", err)
			}
		})
	}
}

func TestParseMasterARN(t *testing.T) {
	s, err := secret.Parse(`{"engine":"mysql","host":"h","username":"u","password":"p"}`)
	if err != nil || s.MasterARN != "" || s.AlternatingUsers() {
		t.Fatalf("without masterarn: %+v %v", s, err)
	}
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:master-AbCdEf"
	s, err = secret.Parse(`{"engine":"mysql","host":"h","username":"u","password":"p","masterarn":"` + arn + `"}`)
	if err != nil || s.MasterARN != arn || !s.AlternatingUsers() {
		t.Fatalf("with masterarn: %q %v", s.MasterARN, err)
	}
}

func TestWithPasswordPreservesOtherFields(t *testing.T) {
	in := `{"engine":"mysql","host":"h","username":"u","password":"old","port":"3306",` +
		`"ssl":"true","dbClusterIdentifier":"c-1","nested":{"b":[1,2.50,"x"],"a":null},"html":"<&>"}`
	s, err := secret.Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	newPw := `<&>"\/` + "\u00e9"
	out, err := s.WithPassword(newPw)
	if err != nil {
		t.Fatal(err)
	}
	var before, after map[string]json.RawMessage
	if err := json.Unmarshal([]byte(in), &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &after); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if len(after) != len(before) {
		t.Errorf("keys: got %d, want %d", len(after), len(before))
	}
	for k, v := range before {
		if k == "password" {
			continue
		}
		if !bytes.Equal(compact(t, after[k]), compact(t, v)) {
			t.Errorf("field %q changed: %s -> %s", k, v, after[k])
		}
	}
	var pw string
	if err := json.Unmarshal(after["password"], &pw); err != nil || pw != newPw {
		t.Errorf("password = %q (%v), want %q", pw, err, newPw)
	}
	if strings.Contains(out, `\u003c`) {
		t.Errorf("HTML escaping applied: %s", out)
	}
	again, err := secret.Parse(out)
	if err != nil || again.Password != newPw || !again.SameAccount(s) {
		t.Errorf("round trip: %v %v", again, err)
	}
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSecretNeverPrintsPassword(t *testing.T) {
	s, err := secret.Parse(`{"engine":"mysql","host":"h","username":"u","password":"` + knownPassword + `"}`)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "secret", s)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", s), "%+v": fmt.Sprintf("%+v", s), "%#v": fmt.Sprintf("%#v", s),
		"%s": fmt.Sprintf("%s", s), "slog": logBuf.String(),
		"value %+v": fmt.Sprintf("%+v", *s), "value %#v": fmt.Sprintf("%#v", *s), "%d": fmt.Sprintf("%d", s),
		"value %x": fmt.Sprintf("%x", *s), "in struct": fmt.Sprintf("%+v", struct{ S secret.Secret }{*s}),
	}
	for verb, out := range outputs {
		if strings.Contains(out, knownPassword) {
			t.Errorf("%s leaks password: %s", verb, out)
		}
		if !strings.Contains(out, "u") {
			t.Errorf("%s lost the user name: %s", verb, out)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"engine":"mysql","host":"h","username":"u","password":"p"}`,
		`{"engine":"mariadb","host":"h","username":"u","password":"p","port":"3306","ssl":"true","x":[1,{"y":null}]}`,
		`{"engine":"aurora-mysql","host":"::1","username":"u","password":"p","port":3306.0,"ssl":false,"dbname":""}`,
		`{"port":1e400}`, `{"port":-1}`, `[]`, `null`, `{`, `"x"`, `{"password":"\ud800"}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := secret.Parse(in)
		if err != nil {
			if !errors.Is(err, secret.ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			if len(in) > 8 && strings.Contains(err.Error(), in) {
				t.Fatalf("error echoes the input: %v", err)
			}
			return
		}
		if s.Port < 1 || s.Port > 65535 || s.Host == "" || s.Username == "" || s.Password == "" {
			t.Fatalf("accepted invalid secret: %v", s)
		}
		out, err := s.WithPassword("new")
		if err != nil {
			t.Fatalf("WithPassword: %v", err)
		}
		s2, err := secret.Parse(out)
		if err != nil {
			t.Fatalf("re-parse of WithPassword output: %v", err)
		}
		if s2.Password != "new" || !s2.SameAccount(s) || s2.SSL != s.SSL || s2.DBName != s.DBName || s2.Engine != s.Engine {
			t.Fatalf("round trip changed fields: %v -> %v", s, s2)
		}
	})
}

func TestParseGrantsAndUserHost(t *testing.T) {
	base := `{"engine":"mysql","host":"db","username":"app","password":"pw","masterarn":"arn:aws:secretsmanager:us-east-1:111111111111:secret:m"`
	tests := []struct {
		extra    string
		grants   string // joined canonical grants, or "!" for an error on field
		userHost string
	}{
		{``, "", "%"},
		{`,"grants":null`, "", "%"},
		{`,"grants":["select on orders.*","INSERT ON orders.items"],"userhost":"10.0.%"`, "SELECT ON `orders`.*|INSERT ON `orders`.`items`", "10.0.%"},
		{`,"grants":"SELECT ON orders.*"`, "!grants", ""},
		{`,"grants":["SELECT ON orders.*; DROP USER root"]`, "!grants", ""},
		{`,"grants":["ALL ON *.*"]`, "!grants", ""},
		{`,"userhost":"%' OR 1=1"`, "!userhost", ""},
	}
	for _, tt := range tests {
		s, err := secret.Parse(base + tt.extra + "}")
		if strings.HasPrefix(tt.grants, "!") {
			var fe *secret.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.grants[1:] {
				t.Errorf("%s: err = %v, want a FieldError on %s", tt.extra, err, tt.grants[1:])
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.extra, err)
			continue
		}
		var got []string
		for _, g := range s.Grants {
			got = append(got, g.String())
		}
		if strings.Join(got, "|") != tt.grants || s.UserHost != tt.userHost {
			t.Errorf("%s: grants %q host %q, want %q %q", tt.extra, got, s.UserHost, tt.grants, tt.userHost)
		}
	}
}
