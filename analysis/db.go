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
// scans: domains, mx_hosts and endpoints (and findings once the checks
// have run) over the scans analysed, all_domains, all_mx_hosts and
// all_endpoints over every scan given (for trends), and prev_domains,
// prev_mx_hosts and prev_endpoints over the scan before the one analysed
// (for checks across scans; empty when there is none). Every view has the
// columns of the current schema, in order: a column that an older dataset
// lacks reads as NULL, so one query serves every schema version. The
// shards of a scan read as one scan: their domains rows side by side (a
// domain belongs to one shard), their mx_hosts rows deduplicated by
// (scan_id, host) and their endpoints rows by (scan_id, host, address,
// sigalgs), since a host used by domains of several shards has its rows in
// each (see dedupKeys; the tables shard_rows_* list the rows kept). The
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

// dedupKeys are the key columns of the tables whose rows repeat across the
// shards of one scan: an MX host used by domains of several shards is
// probed, and has its mx_hosts and endpoints rows, in each of them. The
// views keep one row per key: the one with most evidence (not interrupted,
// then probed: an mx_hosts row with a dane_status, an endpoints row whose
// dane_status is not not_probed), then the one of the lowest shard index.
// Rows of one shard are the same in their verdict columns, as they would be
// in a single-process scan, which probes every host once.
var dedupKeys = map[string]struct {
	key    []string
	prefer string
}{
	datasets.TableMXHosts: {[]string{"scan_id", "host"},
		`coalesce(failure = 'interrupted', false), coalesce(dane_status IN ('', 'not_probed'), true)`},
	datasets.TableEndpoints: {[]string{"scan_id", "host", "address", "sigalgs"},
		`coalesce(failure = 'interrupted', false), coalesce(dane_status = 'not_probed', false)`},
}

// shardColumn is the hidden column the views of a sharded scan number the
// shards' rows by, to prefer one shard's row over another's.
const shardColumn = "danescan_shard"

// OpenDB opens an in-memory DuckDB with the views over scans (the scans
// analysed) and all (every scan, for trends; may equal scans); its prev_
// views are empty. It returns an error when a part cannot be read.
func OpenDB(ctx context.Context, scans, all []*Scan) (*DB, error) {
	return openDB(ctx, scans, nil, all)
}

// openDB is OpenDB with the prev_ views over prev (the scan before scans;
// nil for none).
func openDB(ctx context.Context, scans []*Scan, prev *Scan, all []*Scan) (*DB, error) {
	var prevScans []*Scan
	if prev != nil {
		prevScans = []*Scan{prev}
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
			name  string
			scans []*Scan
		}{{t.Name, scans}, {"all_" + t.Name, all}, {"prev_" + t.Name, prevScans}} {
			q, err := d.viewQuery(ctx, t, v.name, v.scans)
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

// viewQuery returns the SELECT of the view name of table t over scans.
// For a sharded scan whose rows repeat across shards (dedupKeys) it first
// makes the table shard_rows_<name>_<i> of the rows to keep, by key and
// shard, from the key and preference columns alone; the view keeps the
// rows it lists (a semi-join), so the queries that read the view do not
// sort whole rows again.
func (d *DB) viewQuery(ctx context.Context, t datasets.Table, name string, scans []*Scan) (string, error) {
	var parts []string
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = quoteIdent(c.Name)
	}
	dk, dedup := dedupKeys[t.Name]
	for i, s := range scans {
		var sets []*Dataset
		for _, set := range s.Datasets {
			if len(set.Parts[t.Name]) > 0 {
				sets = append(sets, set)
			}
		}
		merge := dedup && len(sets) > 1
		var shards []string
		for _, set := range sets {
			src := "read_parquet(" + sqlList(set.Parts[t.Name]) + ")"
			have, err := d.columns(ctx, src)
			if err != nil {
				return "", fmt.Errorf("%s: table %s: %w", set.Dir, t.Name, err)
			}
			cols := make([]string, 0, len(t.Columns)+1)
			for i, c := range t.Columns {
				if have[c.Name] {
					cols = append(cols, names[i])
				} else {
					cols = append(cols, "CAST(NULL AS "+duckType(c.Type)+") AS "+names[i])
				}
			}
			if merge {
				cols = append(cols, fmt.Sprintf("%d AS %s", set.Manifest.Shard.Index, shardColumn))
			}
			shards = append(shards, "SELECT "+strings.Join(cols, ", ")+" FROM "+src)
		}
		if !merge {
			parts = append(parts, shards...)
			continue
		}
		union := "(" + strings.Join(shards, " UNION ALL ") + ")"
		keep := fmt.Sprintf("shard_rows_%s_%d", name, i)
		key := strings.Join(dk.key, ", ")
		if _, err := d.SQL.ExecContext(ctx, "CREATE TABLE "+keep+" AS SELECT "+key+", "+shardColumn+" FROM "+union+
			" QUALIFY row_number() OVER (PARTITION BY "+key+" ORDER BY "+dk.prefer+", "+shardColumn+") = 1"); err != nil {
			return "", fmt.Errorf("scan %s: deduplicate %s across shards: %w", s.ID, t.Name, err)
		}
		on := make([]string, 0, len(dk.key)+1)
		for _, k := range append(append([]string(nil), dk.key...), shardColumn) {
			on = append(on, "u."+k+" = k."+k)
		}
		cols := make([]string, len(names))
		for i, n := range names {
			cols[i] = "u." + n
		}
		parts = append(parts, "SELECT "+strings.Join(cols, ", ")+" FROM "+union+" u SEMI JOIN "+keep+" k ON "+strings.Join(on, " AND "))
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
