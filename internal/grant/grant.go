// Package grant is the grammar of the declared grants and account names of
// application users (alternating-users rotation) for MySQL, Aurora MySQL
// and MariaDB: what cdk.json may declare, what a user secret's "grants"
// key may hold, and the quoting every SQL statement built from them uses.
//
// The grammar is deliberately narrow so that nothing a secret or a config
// file holds can change the meaning of a statement: identifiers are
// letters, digits, "_" and "$"; privileges come from a fixed list of
// schema- and table-level keywords; a grant names exactly one schema (all
// its tables, "schema.*") or one table ("schema.table"). Global grants
// ("*.*"), grants on the server's own schemas ([SystemSchemas]), ALL
// PRIVILEGES, GRANT OPTION and administrative privileges are refused: an application user never needs them, and a master-level
// application user defeats the point of separate users. Everything is
// validated before any statement is built; [QuoteIdent] then quotes with
// backticks for defence in depth.
package grant

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every error of this package.
var ErrInvalid = errors.New("invalid grant")

// CloneSuffix is appended to an application user's name for the second
// account of the alternating-users strategy (AWS's convention).
const CloneSuffix = "_clone"

// MaxUserLen is the longest account name MySQL 5.7+/8.x and MariaDB 10.x
// accept (32 characters). The declared name must leave room for
// [CloneSuffix], so declared names are at most MaxUserLen-len(CloneSuffix).
const MaxUserLen = 32

// MaxIdentLen is the longest schema or table name MySQL accepts.
const MaxIdentLen = 64

// MaxHostLen is the longest account host MySQL 8.0.17+ accepts.
const MaxHostLen = 255

// Privileges are the privilege keywords a declared grant may hold: the
// schema- and table-level privileges of MySQL 8 and MariaDB that make
// sense for an application, in canonical spelling.
var Privileges = []string{
	"ALTER", "ALTER ROUTINE", "CREATE", "CREATE ROUTINE", "CREATE TEMPORARY TABLES",
	"CREATE VIEW", "DELETE", "DROP", "EVENT", "EXECUTE", "INDEX", "INSERT",
	"LOCK TABLES", "REFERENCES", "SELECT", "SHOW VIEW", "TRIGGER", "UPDATE",
}

// tableLevel are the privileges that may be granted on a single table.
var tableLevel = []string{
	"ALTER", "CREATE", "CREATE VIEW", "DELETE", "DROP", "INDEX", "INSERT",
	"REFERENCES", "SELECT", "SHOW VIEW", "TRIGGER", "UPDATE",
}

// Grant is a set of privileges on one object.
//
// A declared grant (what [Parse] returns) is always schema- or
// table-level. The other levels, global (*.*), column and routine, are
// never declared: they exist so that an account's privileges read from the
// server can be represented, compared and revoked.
type Grant struct {
	// Privileges are canonical keywords from [Privileges], sorted, unique.
	// Grants read from a server may hold other keywords.
	Privileges []string
	// Schema is the unquoted schema (database) name; "" when Global.
	Schema string
	// Table is the unquoted table name, or "" for every table of Schema.
	// With Routine set it is the routine's name.
	Table string
	// Global marks privileges on *.* (Schema and Table are "").
	Global bool
	// Column, when not "", is a column of Table: the privileges are
	// column privileges, "PRIV (col) ON schema.table".
	Column string
	// Routine, when not "", is the routine kind ("PROCEDURE", "FUNCTION",
	// on MariaDB also "PACKAGE" or "PACKAGE BODY") of the routine Table in
	// Schema: the privileges are routine-level.
	Routine string
}

// Declared reports whether g has the shape of a declared grant (schema- or
// table-level), whatever its privileges.
func (g Grant) Declared() bool { return !g.Global && g.Column == "" && g.Routine == "" }

// Error describes what is wrong with a declared grant or name. It quotes
// the input, which is never secret (names and grants are configuration).
type Error struct {
	Input  string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("invalid grant %q: %s", e.Input, e.Reason) }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Parse parses "PRIV[, PRIV...] ON schema.*" or "... ON schema.table".
// Keywords are case-insensitive; identifiers may be backtick-quoted
// (without backticks inside). Whitespace between words is free.
func Parse(s string) (Grant, error) {
	bad := func(reason string) (Grant, error) { return Grant{}, &Error{Input: s, Reason: reason} }
	if len(s) > 1024 {
		return bad("longer than 1024 characters")
	}
	privPart, object, ok := cutWord(s, "ON")
	if !ok {
		return bad(`want "PRIVILEGE[, ...] ON schema.* | schema.table"`)
	}
	var g Grant
	for _, p := range strings.Split(privPart, ",") {
		p = strings.ToUpper(strings.Join(strings.Fields(p), " "))
		if p == "" {
			return bad("empty privilege")
		}
		if !slices.Contains(Privileges, p) {
			return bad(fmt.Sprintf("privilege %q is not allowed (allowed: %s)", p, strings.Join(Privileges, ", ")))
		}
		if slices.Contains(g.Privileges, p) {
			return bad(fmt.Sprintf("privilege %q repeated", p))
		}
		g.Privileges = append(g.Privileges, p)
	}
	slices.Sort(g.Privileges)
	schema, table, ok := strings.Cut(strings.TrimSpace(object), ".")
	if !ok {
		return bad(`the object must be schema.* or schema.table`)
	}
	var err error
	if g.Schema, err = unquote(schema); err != nil {
		return bad("schema: " + err.Error())
	}
	if IsSystemSchema(g.Schema) {
		return bad("schema " + g.Schema + " is the server's own (it holds the password hashes and server state); an application user must not get it")
	}
	if strings.TrimSpace(table) != "*" {
		if g.Table, err = unquote(table); err != nil {
			return bad("table: " + err.Error())
		}
		for _, p := range g.Privileges {
			if !slices.Contains(tableLevel, p) {
				return bad(fmt.Sprintf("privilege %q cannot be granted on a single table", p))
			}
		}
	}
	return g, nil
}

// ParseAll parses every declared grant. Two grants on the same object are
// an error (declare the privileges once), so the result maps one-to-one
// to the objects it names.
func ParseAll(declared []string) ([]Grant, error) {
	out := make([]Grant, 0, len(declared))
	seen := map[string]bool{}
	for _, d := range declared {
		g, err := Parse(d)
		if err != nil {
			return nil, err
		}
		if seen[g.Object()] {
			return nil, &Error{Input: d, Reason: "a second grant on " + g.Object() + "; list its privileges in one grant"}
		}
		seen[g.Object()] = true
		out = append(out, g)
	}
	return out, nil
}

// cutWord splits s around the first standalone word w (case-insensitive).
func cutWord(s, w string) (before, after string, ok bool) {
	fields := strings.Fields(s)
	for i, f := range fields {
		if strings.EqualFold(f, w) {
			return strings.Join(fields[:i], " "), strings.Join(fields[i+1:], " "), true
		}
	}
	return "", "", false
}

// unquote validates an identifier, optionally backtick-quoted.
func unquote(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		s = s[1 : len(s)-1]
	}
	return s, ValidateIdent(s)
}

// SystemSchemas hold the server's own data (mysql has the password
// hashes): whoever can write a user secret or cdk.json must not be able to
// grant an application account access to them.
var SystemSchemas = []string{"mysql", "information_schema", "performance_schema", "sys"}

// IsSystemSchema reports whether schema is one of [SystemSchemas]
// (case-insensitive, as schema names are on case-insensitive file systems
// and in lower_case_table_names modes).
func IsSystemSchema(schema string) bool {
	for _, sys := range SystemSchemas {
		if strings.EqualFold(schema, sys) {
			return true
		}
	}
	return false
}

// ValidateIdent checks a schema or table name: 1 to [MaxIdentLen] of
// ASCII letters, digits, "_" and "$", not only digits.
func ValidateIdent(s string) error {
	if s == "" || len(s) > MaxIdentLen {
		return fmt.Errorf("identifier must be 1 to %d characters", MaxIdentLen)
	}
	digits := true
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r == '$':
			digits = false
		default:
			return fmt.Errorf("identifier %q may hold only letters, digits, _ and $", s)
		}
	}
	if digits {
		return fmt.Errorf("identifier %q must not be only digits", s)
	}
	return nil
}

// ValidateUser checks a declared application user name: a letter, then
// letters, digits and "_", short enough that name+[CloneSuffix] fits
// [MaxUserLen], and not itself ending in [CloneSuffix].
func ValidateUser(name string) error {
	bad := func(reason string) error { return &Error{Input: name, Reason: "user name " + reason} }
	if max := MaxUserLen - len(CloneSuffix); name == "" || len(name) > max {
		return bad(fmt.Sprintf("must be 1 to %d characters so that %q fits the server's %d-character limit", max, name+CloneSuffix, MaxUserLen))
	}
	if strings.HasSuffix(name, CloneSuffix) {
		return bad("must not end in " + CloneSuffix + " (that name is the alternate account)")
	}
	return validateAccountChars(name, bad)
}

// ValidateAccount checks an account name as the function meets it in a
// secret: a declared name or its clone, at most [MaxUserLen].
func ValidateAccount(name string) error {
	bad := func(reason string) error { return &Error{Input: name, Reason: "user name " + reason} }
	if name == "" || len(name) > MaxUserLen {
		return bad(fmt.Sprintf("must be 1 to %d characters (the server's limit)", MaxUserLen))
	}
	return validateAccountChars(name, bad)
}

func validateAccountChars(name string, bad func(string) error) error {
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_'):
		default:
			return bad("must start with a letter and hold only letters, digits and _")
		}
	}
	return nil
}

// ValidateHost checks an account host: "%" (any), a host name, an IPv4 or
// IPv6 address, optionally with "%" or "_" wildcards or a /netmask.
func ValidateHost(host string) error {
	if host == "" || len(host) > MaxHostLen {
		return &Error{Input: host, Reason: fmt.Sprintf("host must be 1 to %d characters", MaxHostLen)}
	}
	for _, r := range host {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(".-_%:/", r):
		default:
			return &Error{Input: host, Reason: "host may hold only letters, digits and . - _ % : /"}
		}
	}
	return nil
}

// Clone returns the other account of an alternating pair: "x" for
// "x_clone" and "x_clone" for "x".
func Clone(user string) string {
	if base, ok := strings.CutSuffix(user, CloneSuffix); ok {
		return base
	}
	return user + CloneSuffix
}

// QuoteIdent backtick-quotes a validated identifier.
func QuoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// Object is the quoted object of the grant: `schema`.* or
// `schema`.`table`; *.* for a global grant, KIND `schema`.`routine` for a
// routine-level one. A column grant's object is its table.
func (g Grant) Object() string {
	switch {
	case g.Global:
		return "*.*"
	case g.Routine != "":
		return g.Routine + " " + QuoteIdent(g.Schema) + "." + QuoteIdent(g.Table)
	case g.Table == "":
		return QuoteIdent(g.Schema) + ".*"
	}
	return QuoteIdent(g.Schema) + "." + QuoteIdent(g.Table)
}

// String is the canonical form, which [Parse] reads back to the same Grant
// for a declared grant. A column grant reads "PRIV (`col`)[, ...] ON
// `schema`.`table`", as in SQL.
func (g Grant) String() string {
	return g.PrivilegeList() + " ON " + g.Object()
}

// PrivilegeList is the privileges as a GRANT or REVOKE statement lists
// them: "A, B", or "A (`col`), B (`col`)" for a column grant.
func (g Grant) PrivilegeList() string {
	if g.Column == "" {
		return strings.Join(g.Privileges, ", ")
	}
	parts := make([]string, len(g.Privileges))
	for i, p := range g.Privileges {
		parts[i] = p + " (" + QuoteIdent(g.Column) + ")"
	}
	return strings.Join(parts, ", ")
}
