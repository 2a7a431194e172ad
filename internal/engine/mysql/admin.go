package mysql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/grant"
)

var (
	_ engine.Admin       = (*mysqlSession)(nil)
	_ engine.GrantProber = (*mysqlSession)(nil)
)

// maxGrantRows bounds how many privilege rows Grants reads for one
// account: an application account has a handful; far more means something
// else is going on and the rotation should stop, not loop.
const maxGrantRows = 4096

// grantOption is the pseudo-privilege Grants reports for IS_GRANTABLE.
const grantOption = "GRANT OPTION"

// accountSQL returns 'user'@'host' for a statement, after validating both
// parts (letters, digits, "_" for the user; letters, digits and . - _ % :
// / for the host): neither can hold a quote or a backslash, so the plain
// single-quoted form is safe under every sql_mode.
func accountSQL(a engine.Account) (string, error) {
	if err := a.Validate(); err != nil {
		return "", err
	}
	return "'" + a.User + "'@'" + a.Host + "'", nil
}

// AccountExists looks the account up in mysql.user, which the master user
// of RDS for MySQL and MariaDB may read (it has SELECT on *.*); on MariaDB
// 10.4+ mysql.user is a view of mysql.global_priv with the same columns.
func (s *mysqlSession) AccountExists(ctx context.Context, a engine.Account) (bool, error) {
	if err := a.Validate(); err != nil {
		return false, err
	}
	var n int
	err := s.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?", a.User, a.Host).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up account %s: %w", a, err)
	}
	return n > 0, nil
}

// EnsureAccount creates the account with the password, or, if it exists,
// sets its password with ALTER USER naming the account (MySQL 5.7.6+ and
// MariaDB 10.2+; needs CREATE USER, which the RDS master user has). The
// same statements serve both flavours. CREATE USER IF NOT EXISTS keeps a
// concurrent creator from failing the step; the password is then the
// other creator's and testSecret refuses it. The password is a literal
// escaped for the session's sql_mode, as in ChangePassword, and a server
// error is reduced to its number.
func (s *mysqlSession) EnsureAccount(ctx context.Context, a engine.Account, password string) (bool, error) {
	acct, err := accountSQL(a)
	if err != nil {
		return false, err
	}
	exists, err := s.AccountExists(ctx, a)
	if err != nil {
		return false, err
	}
	var mode string
	if err := s.conn.QueryRowContext(ctx, "SELECT @@SESSION.sql_mode").Scan(&mode); err != nil {
		return false, fmt.Errorf("read sql_mode: %w", err)
	}
	lit, err := QuoteString(password, hasMode(mode, "NO_BACKSLASH_ESCAPES"))
	if err != nil {
		return false, err
	}
	stmt, verb := "ALTER USER "+acct+" IDENTIFIED BY "+lit, "set password of"
	if !exists {
		stmt, verb = "CREATE USER IF NOT EXISTS "+acct+" IDENTIFIED BY "+lit, "create account"
	}
	if _, err := s.conn.ExecContext(ctx, stmt); err != nil {
		return false, fmt.Errorf("%s %s: %w", verb, a, redact(err))
	}
	return !exists, nil
}

// Grants reads the account's privileges from information_schema
// USER_PRIVILEGES (global), SCHEMA_PRIVILEGES, TABLE_PRIVILEGES and
// COLUMN_PRIVILEGES, which MySQL and MariaDB both have with the same
// columns and GRANTEE format ('user'@'host'). They show every account's
// rows to a user who may read the mysql schema (the RDS master user,
// without SUPER) and an account's own rows to the account itself. Unlike
// SHOW GRANTS there is no statement text to parse and no flavour-specific
// output (MariaDB's IDENTIFIED BY PASSWORD, MySQL's roles). Global USAGE
// (no privilege) is left out; a column privilege held WITH GRANT OPTION
// reports GRANT OPTION on its table, where the server keeps it.
func (s *mysqlSession) Grants(ctx context.Context, a engine.Account) ([]grant.Grant, error) {
	acct, err := accountSQL(a)
	if err != nil {
		return nil, err
	}
	const q = `SELECT 'g', '', '', '', PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?
UNION ALL
SELECT 's', TABLE_SCHEMA, '', '', PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ?
UNION ALL
SELECT 't', TABLE_SCHEMA, TABLE_NAME, '', PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ?
UNION ALL
SELECT 'c', TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE = ?`
	rows, err := s.conn.QueryContext(ctx, q, acct, acct, acct, acct)
	if err != nil {
		return nil, fmt.Errorf("read grants of %s: %w", a, err)
	}
	defer rows.Close()
	var gs grantSet
	n := 0
	for rows.Next() {
		if n++; n > maxGrantRows {
			return nil, fmt.Errorf("read grants of %s: more than %d privilege rows", a, maxGrantRows)
		}
		var level, schema, table, column, priv, grantable string
		if err := rows.Scan(&level, &schema, &table, &column, &priv, &grantable); err != nil {
			return nil, fmt.Errorf("read grants of %s: %w", a, err)
		}
		priv = normPrivilege(priv)
		obj := grant.Grant{Schema: schema, Table: table}
		switch level {
		case "g":
			obj = grant.Grant{Global: true}
		case "c":
			obj.Column = column
		}
		if priv != "USAGE" {
			gs.add(obj, priv)
		}
		if strings.EqualFold(grantable, "YES") {
			obj.Column = ""
			gs.add(obj, grantOption)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read grants of %s: %w", a, err)
	}
	return gs.sorted(), nil
}

// RoutineGrants reads the account's routine-level privileges from
// mysql.procs_priv, which MySQL 5.7/8.x and MariaDB 10.x have with the same
// columns (Db, Routine_name, Routine_type, Proc_priv; MariaDB's
// Routine_type also has PACKAGE and PACKAGE BODY). Reading it needs SELECT
// on the mysql schema, which the RDS master user has and an application
// account has not: information_schema has no view of these privileges.
// Proc_priv is a set of Execute, Alter Routine and Grant (reported as
// GRANT OPTION).
func (s *mysqlSession) RoutineGrants(ctx context.Context, a engine.Account) ([]grant.Grant, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	rows, err := s.conn.QueryContext(ctx, "SELECT Db, Routine_name, Routine_type, Proc_priv FROM mysql.procs_priv WHERE User = ? AND Host = ?", a.User, a.Host)
	if err != nil {
		return nil, fmt.Errorf("read routine privileges of %s: %w", a, err)
	}
	defer rows.Close()
	var gs grantSet
	n := 0
	for rows.Next() {
		if n++; n > maxGrantRows {
			return nil, fmt.Errorf("read routine privileges of %s: more than %d rows", a, maxGrantRows)
		}
		var db, name, kind, privs string
		if err := rows.Scan(&db, &name, &kind, &privs); err != nil {
			return nil, fmt.Errorf("read routine privileges of %s: %w", a, err)
		}
		obj := grant.Grant{Schema: db, Table: name, Routine: normPrivilege(kind)}
		for _, p := range strings.Split(privs, ",") {
			switch p = normPrivilege(p); p {
			case "":
			case "GRANT":
				gs.add(obj, grantOption)
			default:
				gs.add(obj, p)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read routine privileges of %s: %w", a, err)
	}
	return gs.sorted(), nil
}

// normPrivilege is a privilege or routine kind as the server reported it,
// upper case with single spaces.
func normPrivilege(p string) string { return strings.ToUpper(strings.Join(strings.Fields(p), " ")) }

// grantSet collects privileges per object, in first-seen order.
type grantSet struct {
	out   []grant.Grant
	index map[objKey]int
}

type objKey struct {
	global                         bool
	schema, table, column, routine string
}

func (gs *grantSet) add(obj grant.Grant, priv string) {
	if gs.index == nil {
		gs.index = map[objKey]int{}
	}
	k := objKey{obj.Global, obj.Schema, obj.Table, obj.Column, obj.Routine}
	i, ok := gs.index[k]
	if !ok {
		i = len(gs.out)
		gs.index[k] = i
		gs.out = append(gs.out, obj)
	}
	if !slices.Contains(gs.out[i].Privileges, priv) {
		gs.out[i].Privileges = append(gs.out[i].Privileges, priv)
	}
}

// sorted returns the grants with sorted privileges, global first, then by
// schema, table (routine), column.
func (gs *grantSet) sorted() []grant.Grant {
	for i := range gs.out {
		slices.Sort(gs.out[i].Privileges)
	}
	slices.SortFunc(gs.out, func(x, y grant.Grant) int {
		return strings.Compare(sortKey(x), sortKey(y))
	})
	return gs.out
}

func sortKey(g grant.Grant) string {
	if g.Global {
		return ""
	}
	return "\x01" + g.Schema + "\x00" + g.Routine + "\x00" + g.Table + "\x00" + g.Column
}

// TableExists looks the table (or view) up in information_schema.TABLES,
// where the RDS master user (SELECT on *.*) sees every schema's tables.
func (s *mysqlSession) TableExists(ctx context.Context, schema, table string) (bool, error) {
	var n int
	err := s.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", schema, table).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up table %s.%s: %w", schema, table, err)
	}
	return n > 0, nil
}

// Grant sends GRANT privileges ON object TO account for a grant valid in
// the grammar of package grant. A table-level grant needs the table to
// exist: MariaDB 10.11 answers 1146 otherwise (its schema missing too),
// reported as an [engine.UnknownTableError]. A schema-level one does not:
// GRANT ON s.* is accepted before CREATE DATABASE s.
func (s *mysqlSession) Grant(ctx context.Context, a engine.Account, g grant.Grant) error {
	acct, err := accountSQL(a)
	if err != nil {
		return err
	}
	if err := engine.ValidateGrant(g); err != nil {
		return err
	}
	if _, err := s.conn.ExecContext(ctx, "GRANT "+strings.Join(g.Privileges, ", ")+" ON "+g.Object()+" TO "+acct); err != nil {
		var me *gomysql.MySQLError
		if g.Table != "" && errors.As(err, &me) && (me.Number == erNoSuchTable || me.Number == erBadDB) {
			err = &engine.UnknownTableError{Schema: g.Schema, Table: g.Table, Err: err}
		}
		return fmt.Errorf("grant %s to %s: %w", g, a, err)
	}
	return nil
}

// Revoke sends REVOKE privileges ON object FROM account: ON *.* for a
// global grant, "PRIV (`col`)" for a column grant, ON PROCEDURE (FUNCTION,
// ...) for a routine grant. It accepts what Grants and RoutineGrants read
// and the grammar refuses (see [engine.Admin]), but only privilege
// keywords (upper-case words, "_" allowed as in MySQL 8's dynamic
// privileges), a routine kind from a fixed list and identifiers of at
// most 64 characters without backticks or control characters,
// backtick-quoted: nothing that can end the statement.
func (s *mysqlSession) Revoke(ctx context.Context, a engine.Account, g grant.Grant) error {
	acct, err := accountSQL(a)
	if err != nil {
		return err
	}
	if err := revocable(g); err != nil {
		return err
	}
	if _, err := s.conn.ExecContext(ctx, "REVOKE "+g.PrivilegeList()+" ON "+g.Object()+" FROM "+acct); err != nil {
		return fmt.Errorf("revoke %s from %s: %w", g, a, err)
	}
	return nil
}

func revocable(g grant.Grant) error {
	bad := func(reason string) error { return &grant.Error{Input: g.String(), Reason: reason} }
	if len(g.Privileges) == 0 {
		return bad("no privileges")
	}
	for _, p := range g.Privileges {
		if !isKeyword(p) {
			return bad("privilege is not a keyword")
		}
	}
	if g.Global {
		if g.Schema != "" || g.Table != "" || g.Column != "" || g.Routine != "" {
			return bad("a global grant names no object")
		}
		return nil
	}
	if !revocableIdent(g.Schema) || (g.Table != "" && !revocableIdent(g.Table)) {
		return bad("object name is empty, too long or not valid text")
	}
	if g.Column != "" && (g.Table == "" || g.Routine != "" || !revocableIdent(g.Column)) {
		return bad("a column grant names a table and a valid column")
	}
	if g.Routine != "" && (g.Table == "" || !slices.Contains(routineKinds, g.Routine)) {
		return bad("a routine grant names a routine of a known kind")
	}
	return nil
}

// routineKinds are the Routine_type values of mysql.procs_priv.
var routineKinds = []string{"FUNCTION", "PROCEDURE", "PACKAGE", "PACKAGE BODY"}

// isKeyword: upper-case ASCII words (letters and "_", as in BACKUP_ADMIN
// or READ_ONLY ADMIN) separated by single spaces.
func isKeyword(p string) bool {
	if p == "" || len(p) > 64 {
		return false
	}
	for _, w := range strings.Split(p, " ") {
		if w == "" || strings.Trim(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != "" {
			return false
		}
	}
	return true
}

// revocableIdent accepts a name the server reported, wildcards and
// escapes of schema patterns included, but no backtick or control
// character: QuoteIdent would make even those safe, but no account this
// function manages has a reason to hold a grant on such a name, and
// refusing it keeps anything odd from reaching the server.
func revocableIdent(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > grant.MaxIdentLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '`' {
			return false
		}
	}
	return true
}
