package analysis

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver

	"github.com/danescan/danescan/datasets"
)

// DB is an embedded DuckDB database whose views read the Parquet parts of
// datasets: domains, mx_hosts and endpoints (and findings once the checks
// have run) over the datasets analysed, all_domains, all_mx_hosts and
// all_endpoints over every dataset given (for trends), and prev_domains,
// prev_mx_hosts and prev_endpoints over the scan before the one analysed
// (for checks across scans; empty when there is none). Every view has the
// columns of the current schema, in order: a column that an older dataset
// lacks reads as NULL, so one query serves every schema version. The
// caller closes it.
type DB struct {
	// SQL is the database, limited to one connection (the views live in
	// it).
	SQL *sql.DB
}

// duckType maps a column type of datasets.Tables to DuckDB's.
func duckType(t string) string {
	t = strings.TrimSuffix(t, " (nullable)")
	switch t {
	case "utf8":
		return "VARCHAR"
	case "bool":
		return "BOOLEAN"
	case "int32":
		return "INTEGER"
	case "int64":
		return "BIGINT"
	case "timestamp[us, UTC]":
		return "TIMESTAMP WITH TIME ZONE"
	case "list<utf8>":
		return "VARCHAR[]"
	case "list<int32>":
		return "INTEGER[]"
	case "list<binary>":
		return "BLOB[]"
	}
	return "VARCHAR"
}

// OpenDB opens an in-memory DuckDB with the views over sets (the datasets
// analysed) and all (every dataset, for trends; may equal sets); its prev_
// views are empty. It returns an error when a part cannot be read.
func OpenDB(ctx context.Context, sets, all []*Dataset) (*DB, error) {
	return openDB(ctx, sets, nil, all)
}

// openDB is OpenDB with the prev_ views over prev (the scan before sets;
// nil for none).
func openDB(ctx context.Context, sets []*Dataset, prev *Dataset, all []*Dataset) (*DB, error) {
	var prevSets []*Dataset
	if prev != nil {
		prevSets = []*Dataset{prev}
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("open DuckDB: %w", err)
	}
	// One connection: the views live in the one in-memory database.
	db.SetMaxOpenConns(1)
	d := &DB{SQL: db}
	for _, t := range datasets.Tables() {
		for _, v := range []struct {
			name string
			sets []*Dataset
		}{{t.Name, sets}, {"all_" + t.Name, all}, {"prev_" + t.Name, prevSets}} {
			q, err := d.viewQuery(ctx, t, v.sets)
			if err != nil {
				db.Close()
				return nil, err
			}
			if _, err := db.ExecContext(ctx, "CREATE VIEW "+v.name+" AS "+q); err != nil {
				db.Close()
				return nil, fmt.Errorf("create view %s: %w", v.name, err)
			}
		}
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.SQL.Close() }

// viewQuery returns the SELECT of a view of table t over sets.
func (d *DB) viewQuery(ctx context.Context, t datasets.Table, sets []*Dataset) (string, error) {
	var parts []string
	for _, s := range sets {
		files := s.Parts[t.Name]
		if len(files) == 0 {
			continue
		}
		src := "read_parquet(" + sqlList(files) + ")"
		have, err := d.columns(ctx, src)
		if err != nil {
			return "", fmt.Errorf("%s: table %s: %w", s.Dir, t.Name, err)
		}
		cols := make([]string, 0, len(t.Columns))
		for _, c := range t.Columns {
			if have[c.Name] {
				cols = append(cols, quoteIdent(c.Name))
			} else {
				cols = append(cols, "CAST(NULL AS "+duckType(c.Type)+") AS "+quoteIdent(c.Name))
			}
		}
		parts = append(parts, "SELECT "+strings.Join(cols, ", ")+" FROM "+src)
	}
	if len(parts) == 0 {
		cols := make([]string, 0, len(t.Columns))
		for _, c := range t.Columns {
			cols = append(cols, "CAST(NULL AS "+duckType(c.Type)+") AS "+quoteIdent(c.Name))
		}
		return "SELECT " + strings.Join(cols, ", ") + " WHERE false", nil
	}
	return strings.Join(parts, " UNION ALL "), nil
}

// columns returns the column names of a table expression.
func (d *DB) columns(ctx context.Context, src string) (map[string]bool, error) {
	rows, err := d.SQL.QueryContext(ctx, "DESCRIBE SELECT * FROM "+src)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		if name, ok := vals[0].(string); ok {
			out[name] = true
		}
	}
	return out, rows.Err()
}

// sqlList renders strings as a DuckDB list literal.
func sqlList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quoteString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
