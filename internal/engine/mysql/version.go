package mysql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ServerVersion is a parsed SELECT VERSION() result.
type ServerVersion struct {
	MariaDB             bool
	Major, Minor, Patch int
}

// ParseServerVersion parses strings such as "8.0.35", "9.1.0-commercial",
// "8.0.mysql_aurora.3.05.2", "10.11.6-MariaDB-0+deb12u1" and the
// replication-compatible "5.5.5-10.11.6-MariaDB". Components are compared
// as numbers, so 9.x and 10.x sort after 8.x.
func ParseServerVersion(v string) (ServerVersion, error) {
	sv := ServerVersion{MariaDB: strings.Contains(strings.ToLower(v), "mariadb")}
	s := v
	if sv.MariaDB {
		s = strings.TrimPrefix(s, "5.5.5-")
	}
	nums := make([]int, 0, 3)
	for _, part := range strings.SplitN(s, ".", 3) {
		end := 0
		for end < len(part) && part[end] >= '0' && part[end] <= '9' {
			end++
		}
		if end == 0 {
			break
		}
		n, err := strconv.Atoi(part[:end])
		if err != nil {
			return ServerVersion{}, fmt.Errorf("unrecognized server version %q", v)
		}
		nums = append(nums, n)
		if end < len(part) {
			break
		}
	}
	if len(nums) < 2 {
		return ServerVersion{}, fmt.Errorf("unrecognized server version %q", v)
	}
	for len(nums) < 3 {
		nums = append(nums, 0)
	}
	sv.Major, sv.Minor, sv.Patch = nums[0], nums[1], nums[2]
	if strings.Contains(v, "mysql_aurora") && sv.Major == 5 && sv.Minor == 7 && sv.Patch == 0 {
		// Aurora MySQL 2 reports "5.7.mysql_aurora.2.x" without a patch
		// level; every Aurora 2 release is compatible with 5.7.12.
		sv.Patch = 12
	}
	return sv, nil
}

// AtLeast reports whether v >= major.minor.patch.
func (v ServerVersion) AtLeast(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

// String formats the version for logs.
func (v ServerVersion) String() string {
	f := "MySQL"
	if v.MariaDB {
		f = "MariaDB"
	}
	return fmt.Sprintf("%s %d.%d.%d", f, v.Major, v.Minor, v.Patch)
}

// PasswordSQL returns the statement that sets the logged-in account's
// password to the string literal lit (already quoted and escaped).
//
//   - MySQL 5.7.6 and later (8.x, 9.x, Aurora MySQL 2 and 3):
//     ALTER USER CURRENT_USER() IDENTIFIED BY lit, which hashes with the
//     account's own authentication plugin (SET PASSWORD = PASSWORD() was
//     removed in 8.0).
//   - MySQL before 5.7.6: SET PASSWORD = PASSWORD(lit).
//   - MariaDB, every version: SET PASSWORD = PASSWORD(lit). MariaDB
//     refuses ALTER USER on one's own account without the CREATE USER
//     privilege (verified on 10.11: error 1227), while SET PASSWORD needs
//     no privilege and, since 10.4, hashes for the account's plugin
//     (verified with mysql_native_password and ed25519 accounts).
//
// Neither statement accepts a ? placeholder for the password (verified on
// MariaDB 10.11: error 1064 at prepare; the MySQL grammar also takes a
// string literal there), so the password is sent as an escaped literal;
// see [QuoteString].
func (v ServerVersion) PasswordSQL(lit string) string {
	if !v.MariaDB && v.AtLeast(5, 7, 6) {
		return "ALTER USER CURRENT_USER() IDENTIFIED BY " + lit
	}
	return "SET PASSWORD = PASSWORD(" + lit + ")"
}

// QuoteString returns s as a single-quoted SQL string literal. Quotes are
// doubled (valid in every sql_mode); backslashes are doubled only when the
// session does not have NO_BACKSLASH_ESCAPES, where a backslash is an
// ordinary character. Control characters and invalid UTF-8 are refused:
// no generated password contains them and they have no safe literal form
// in both modes.
func QuoteString(s string, noBackslashEscapes bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("password is not valid UTF-8")
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f:
			return "", fmt.Errorf("password contains a control character")
		case r == '\'':
			b.WriteString("''")
		case r == '\\' && !noBackslashEscapes:
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String(), nil
}
