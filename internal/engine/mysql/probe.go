package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/example/secret-rotation/internal/engine"
	"github.com/example/secret-rotation/internal/grant"
)

// ProbeGrant checks, logged in as the grantee, that the data privileges of
// g work, with statements that change nothing:
//
//   - SELECT: SELECT 1 FROM t LIMIT 0 (reads no row);
//   - INSERT: EXPLAIN INSERT INTO t () VALUES ();
//   - DELETE: EXPLAIN DELETE FROM t;
//   - UPDATE, when SELECT is granted too: EXPLAIN UPDATE t SET c = c
//     WHERE FALSE (c = c reads the column, which needs SELECT).
//
// EXPLAIN plans a statement without running it but checks the privileges
// the statement needs (verified on MariaDB 10.11: error 1142 without them;
// MySQL documents the same requirement for EXPLAIN). t is g's table or,
// for schema.*, the first base table of the schema the account can see.
// Nothing is run, and skipped says why, when the schema or the table does
// not exist as the account sees it in information_schema (which shows it
// every schema and table it holds a privilege on, so a declared grant's
// object is visible once it exists) or a schema has no table yet.
// Privileges without a side-effect-free statement (CREATE, DROP, ALTER,
// ...) are not probed: the caller compares the account's own view of its
// grants instead.
func (s *mysqlSession) ProbeGrant(ctx context.Context, g grant.Grant) (string, error) {
	if err := engine.ValidateGrant(g); err != nil {
		return "", err
	}
	var n int
	if err := s.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", g.Schema).Scan(&n); err != nil {
		return "", fmt.Errorf("probe %s: look up schema: %w", g, err)
	}
	if n == 0 {
		return "schema " + g.Schema + " does not exist yet", nil
	}
	table := g.Table
	if table == "" {
		err := s.conn.QueryRowContext(ctx, `SELECT TABLE_NAME FROM information_schema.TABLES
WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME LIMIT 1`, g.Schema).Scan(&table)
		if errors.Is(err, sql.ErrNoRows) {
			return "schema " + g.Schema + " has no table yet", nil
		}
		if err != nil {
			return "", fmt.Errorf("probe %s: find a table: %w", g, err)
		}
	} else {
		ok, err := s.TableExists(ctx, g.Schema, table)
		if err != nil {
			return "", fmt.Errorf("probe %s: %w", g, err)
		}
		if !ok {
			return "table " + g.Schema + "." + table + " does not exist", nil
		}
	}
	obj := grant.QuoteIdent(g.Schema) + "." + grant.QuoteIdent(table)
	has := func(p string) bool { return slices.Contains(g.Privileges, p) }
	var stmts []string
	if has("SELECT") {
		stmts = append(stmts, "SELECT 1 FROM "+obj+" LIMIT 0")
	}
	if has("INSERT") {
		stmts = append(stmts, "EXPLAIN INSERT INTO "+obj+" () VALUES ()")
	}
	if has("DELETE") {
		stmts = append(stmts, "EXPLAIN DELETE FROM "+obj)
	}
	if has("UPDATE") && has("SELECT") {
		var col string
		err := s.conn.QueryRowContext(ctx, `SELECT COLUMN_NAME FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND EXTRA NOT LIKE '%GENERATED%' ORDER BY ORDINAL_POSITION LIMIT 1`, g.Schema, table).Scan(&col)
		switch {
		case err == nil:
			stmts = append(stmts, "EXPLAIN UPDATE "+obj+" SET "+grant.QuoteIdent(col)+" = "+grant.QuoteIdent(col)+" WHERE FALSE")
		case !errors.Is(err, sql.ErrNoRows):
			return "", fmt.Errorf("probe %s: find a column: %w", g, err)
		}
	}
	for _, q := range stmts {
		if err := s.execDiscard(ctx, q); err != nil {
			return "", fmt.Errorf("probe %s on table %s: %w", g, table, err)
		}
	}
	return "", nil
}

// execDiscard runs q and drains its result rows (EXPLAIN returns a plan).
func (s *mysqlSession) execDiscard(ctx context.Context, q string) error {
	rows, err := s.conn.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for n := 0; rows.Next(); n++ {
		if n > 1000 {
			return errors.New("unexpectedly many result rows")
		}
	}
	return rows.Err()
}
