package grant

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want string // canonical String(), or "" for an error
	}{
		{"SELECT, INSERT, UPDATE, DELETE ON orders.*", "DELETE, INSERT, SELECT, UPDATE ON `orders`.*"},
		{"select on `orders`.`items`", "SELECT ON `orders`.`items`"},
		{"  create   temporary  tables ON app$1 . *", "CREATE TEMPORARY TABLES ON `app$1`.*"},
		{"SELECT ON on.*", "SELECT ON `on`.*"},
		{"EXECUTE ON orders.items", ""},            // routine privilege on a table
		{"ALL PRIVILEGES ON orders.*", ""},         // not in the list
		{"SELECT ON *.*", ""},                      // global
		{"SELECT, GRANT OPTION ON orders.*", ""},   // delegation
		{"SUPER ON orders.*", ""},                  // administrative
		{"SELECT ON orders", ""},                   // no table part
		{"SELECT ON orders.*; DROP USER root", ""}, // injection
		{"SELECT ON `orders`; --`.*", ""},
		{"SELECT ON `or``ders`.*", ""},
		{"SELECT ON orders.*, mysql.*", ""},
		{"SELECT, SELECT ON orders.*", ""},
		{"SELECT,, INSERT ON orders.*", ""},
		{"SELECT ON 123.*", ""},
		{"SELECT ON mysql.*", ""},              // password hashes
		{"SELECT ON `MySQL`.`user`", ""},       // any case
		{"SELECT ON information_schema.*", ""}, // server state
		{"SELECT ON performance_schema.*", ""},
		{"SELECT ON sys.*", ""},
		{"SELECT ON ordérs.*", ""},
		{"ON orders.*", ""},
		{"SELECT orders.*", ""},
		{"", ""},
		{strings.Repeat("SELECT, ", 200) + "INSERT ON a.*", ""},
	}
	for _, tt := range tests {
		g, err := Parse(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%q) = %v, %v; want an ErrInvalid error", tt.in, g, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := g.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		if again, err := Parse(g.String()); err != nil || again.String() != g.String() {
			t.Errorf("Parse(%q) does not read back: %v, %v", g.String(), again, err)
		}
	}
}

func TestParseAllRejectsTwoGrantsOnOneObject(t *testing.T) {
	if _, err := ParseAll([]string{"SELECT ON a.*", "INSERT ON `a`.*"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	gs, err := ParseAll([]string{"SELECT ON a.*", "INSERT ON a.t"})
	if err != nil || len(gs) != 2 {
		t.Fatalf("ParseAll = %v, %v", gs, err)
	}
}

func TestValidateUser(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"app", true},
		{"orders_rw", true},
		{"A1", true},
		{strings.Repeat("a", 26), true},
		{strings.Repeat("a", 27), false}, // a_clone would be 33
		{"app_clone", false},
		{"", false},
		{"1app", false},
		{"_app", false},
		{"app-rw", false},
		{"app'@'%", false},
		{"app`", false},
		{"app rw", false},
	}
	for _, tt := range tests {
		err := ValidateUser(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateUser(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	if err := ValidateAccount(strings.Repeat("a", 26) + CloneSuffix); err != nil {
		t.Errorf("a 32-character clone must be a valid account: %v", err)
	}
	if err := ValidateAccount(strings.Repeat("a", 33)); err == nil {
		t.Error("a 33-character account must be refused")
	}
}

func TestValidateHost(t *testing.T) {
	for _, h := range []string{"%", "10.0.%", "app.example.com", "10.0.0.0/255.255.0.0", "::1"} {
		if err := ValidateHost(h); err != nil {
			t.Errorf("ValidateHost(%q): %v", h, err)
		}
	}
	for _, h := range []string{"", "a'b", "a`b", "a b", strings.Repeat("a", 256)} {
		if err := ValidateHost(h); err == nil {
			t.Errorf("ValidateHost(%q) accepted", h)
		}
	}
}

func TestClone(t *testing.T) {
	if Clone("app") != "app_clone" || Clone("app_clone") != "app" {
		t.Fatalf("Clone pairs wrong: %q %q", Clone("app"), Clone("app_clone"))
	}
}
