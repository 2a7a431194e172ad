package mysql_test

import (
	"testing"

	"github.com/example/secret-rotation/internal/engine/mysql"
)

func TestParseServerVersionAndPasswordSQL(t *testing.T) {
	const alter = "ALTER USER CURRENT_USER() IDENTIFIED BY 'x'"
	const set = "SET PASSWORD = PASSWORD('x')"
	tests := []struct {
		in      string
		mariadb bool
		major   int
		minor   int
		patch   int
		sql     string
	}{
		{"5.6.51-log", false, 5, 6, 51, set},
		{"5.7.5-m15", false, 5, 7, 5, set},
		{"5.7.6", false, 5, 7, 6, alter},
		{"5.7.44-log", false, 5, 7, 44, alter},
		{"8.0.35", false, 8, 0, 35, alter},
		{"8.0.mysql_aurora.3.05.2", false, 8, 0, 0, alter},
		{"5.7.mysql_aurora.2.11.2", false, 5, 7, 12, alter},
		{"9.1.0-commercial", false, 9, 1, 0, alter},
		{"10.0.0", false, 10, 0, 0, alter},
		{"10.1.48-MariaDB", true, 10, 1, 48, set},
		{"10.2.0-MariaDB", true, 10, 2, 0, set},
		{"10.11.19-MariaDB-0+deb12u1", true, 10, 11, 19, set},
		{"5.5.5-10.11.6-MariaDB", true, 10, 11, 6, set},
		{"11.4.2-MariaDB-log", true, 11, 4, 2, set},
		{"5.5.68-MariaDB", true, 5, 5, 68, set},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := mysql.ParseServerVersion(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if v.MariaDB != tt.mariadb || v.Major != tt.major || v.Minor != tt.minor || v.Patch != tt.patch {
				t.Errorf("got %+v", v)
			}
			if got := v.PasswordSQL("'x'"); got != tt.sql {
				t.Errorf("PasswordSQL = %q, want %q", got, tt.sql)
			}
		})
	}
	for _, bad := range []string{"", "abc", "8", "mysql_aurora"} {
		if _, err := mysql.ParseServerVersion(bad); err == nil {
			t.Errorf("ParseServerVersion(%q) succeeded", bad)
		}
	}
}

func TestQuoteString(t *testing.T) {
	tests := []struct {
		in         string
		noBackslas bool
		want       string
		wantErr    bool
	}{
		{"plain", false, "'plain'", false},
		{`a'b`, false, `'a''b'`, false},
		{`a'b`, true, `'a''b'`, false},
		{`a\b`, false, `'a\\b'`, false},
		{`a\b`, true, `'a\b'`, false},
		{`\'`, false, `'\\'''`, false},
		{`\'`, true, `'\'''`, false},
		{`"%_;--`, false, `'"%_;--'`, false},
		{"caf\u00e9", false, "'caf\u00e9'", false},
		{"nul\x00", false, "", true},
		{"new\nline", false, "", true},
		{"del\x7f", false, "", true},
		{"bad\xff", false, "", true},
	}
	for _, tt := range tests {
		got, err := mysql.QuoteString(tt.in, tt.noBackslas)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("QuoteString(%q, %v) = %q, %v; want %q, error %v", tt.in, tt.noBackslas, got, err, tt.want, tt.wantErr)
		}
	}
}
