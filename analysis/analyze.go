package analysis

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"golang.org/x/net/publicsuffix"

	"github.com/danescan/danescan/datasets"
)

// Analysis is a finished analysis: the report and the findings.
type Analysis struct {
	// Report is the report of the latest scan.
	Report *Report
	// Findings are the checks' findings on the latest scan, in the order
	// of the checks, then by domain, host, address and evidence.
	Findings []datasets.Finding
}

// Analyze opens the datasets that paths name (datasets.FindDatasets: a dataset, or
// a directory of them), groups them into scans by scan id (the shards of a
// scan read as one scan), runs every check on the latest scan (by start
// time) and computes the report; with several scans it adds the trends
// and the changes between the last two. It returns a one-line error for a
// path that is not a readable dataset and for shards that do not make one
// scan (see OpenScans), before any query.
func Analyze(ctx context.Context, paths []string) (*Analysis, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no dataset given")
	}
	scans, err := OpenScans(paths)
	if err != nil {
		return nil, err
	}
	latest := scans[len(scans)-1]
	var prev *Scan
	if len(scans) > 1 {
		prev = scans[len(scans)-2]
	}
	db, err := openDB(ctx, []*Scan{latest}, prev, scans)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := checkShardsOverlap(ctx, db, scans); err != nil {
		return nil, err
	}

	r := &Report{SchemaVersion: datasets.SchemaVersion, Scan: info(latest), Input: inputCounts(latest)}
	for _, s := range scans {
		r.Datasets = append(r.Datasets, info(s))
		r.Warnings = append(r.Warnings, s.Warnings...)
	}
	if err := hostProviders(ctx, db); err != nil {
		return nil, err
	}
	if err := derivedViews(ctx, db); err != nil {
		return nil, err
	}
	checks, err := Checks()
	if err != nil {
		return nil, err
	}
	if err := createFindings(ctx, db); err != nil {
		return nil, err
	}
	for i, c := range checks {
		if err := c.Run(ctx, db, latest.ID, i); err != nil {
			return nil, err
		}
	}
	findings, err := readFindings(ctx, db)
	if err != nil {
		return nil, err
	}
	if err := r.compute(ctx, db, checks); err != nil {
		return nil, err
	}
	if len(scans) > 1 {
		if err := r.trends(ctx, db, scans); err != nil {
			return nil, err
		}
	}
	return &Analysis{Report: r, Findings: findings}, nil
}

// checkShardsOverlap returns an error when a domain has rows in two shards
// of one scan: every input entry belongs to one shard, so the shards of
// one scan never share a domain (they are not deduplicated, unlike MX
// hosts); if they do, they were not made as shards of one scan.
func checkShardsOverlap(ctx context.Context, db *DB, scans []*Scan) error {
	var ids []any
	var marks []string
	for _, s := range scans {
		if s.sharded() {
			ids = append(ids, s.ID)
			marks = append(marks, "?")
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var id, domain string
	var rows, n int64
	err := db.SQL.QueryRowContext(ctx, `SELECT scan_id, domain, rows, count(*) OVER () FROM (
  SELECT scan_id, domain, count(*) AS rows FROM all_domains WHERE domain <> '' AND scan_id IN (`+strings.Join(marks, ", ")+`)
  GROUP BY 1, 2 HAVING count(*) > 1) x ORDER BY 1, 2 LIMIT 1`, ids...).Scan(&id, &domain, &rows, &n)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("check the shards for overlap: %w", err)
	}
	more := ""
	if n > 1 {
		more = fmt.Sprintf(", and %d more domains have rows in several", n-1)
	}
	return fmt.Errorf("scan %s: domain %s has %d rows in its shards%s: the shards overlap, so they were not scanned as shards of one scan (same inputs, same --shard N)", id, domain, rows, more)
}

// info describes a scan for the report.
func info(s *Scan) DatasetInfo {
	first := s.Datasets[0]
	m := first.Manifest
	on := func(k string) bool { b, _ := m.Config[k].(bool); return b }
	di := DatasetInfo{ScanID: s.ID, Dir: filepath.Base(filepath.Clean(first.Dir)), SchemaVersion: m.SchemaVersion,
		Started: s.Started(), Ended: s.Ended(), Complete: s.Complete(), DNSSECValidated: on("dnssec_enabled"), SMTPProbed: on("smtp_enabled")}
	if s.ShardCount == 0 {
		return di
	}
	sh := &ShardsInfo{Count: s.ShardCount, Given: []int{}, Missing: []int{}, Incomplete: []int{}}
	sh.Missing = append(sh.Missing, s.Missing...)
	parents := map[string]bool{}
	var bases []string
	for _, d := range s.Datasets {
		k := d.Manifest.Shard.Index
		sh.Given = append(sh.Given, k)
		if !d.Manifest.Complete {
			sh.Incomplete = append(sh.Incomplete, k)
		}
		abs, err := filepath.Abs(d.Dir)
		if err != nil {
			abs = d.Dir
		}
		parents[filepath.Dir(abs)] = true
		bases = append(bases, filepath.Base(filepath.Clean(d.Dir)))
	}
	di.Shards = sh
	if len(parents) == 1 {
		for p := range parents {
			di.Dir = filepath.Base(p)
		}
	} else {
		di.Dir = strings.Join(bases, ", ")
	}
	return di
}

// inputCounts sums the input counts of the scan's manifests (of the
// shards given); nil when no manifest has them.
func inputCounts(s *Scan) *InputCounts {
	var in *InputCounts
	for _, d := range s.Datasets {
		t := d.Manifest.Counts.Totals
		if t == nil {
			continue
		}
		if in == nil {
			in = &InputCounts{}
		}
		in.Entries += t.Entries
		in.Domains += t.Domains
		in.Duplicates += t.Duplicates
		in.Invalid += t.Invalid
		in.Excluded += t.Excluded
	}
	return in
}

// hostProviders fills the table host_provider(host, provider) with the
// registrable domain of every MX host (golang.org/x/net/publicsuffix):
// the Public Suffix List is applied in Go, so on Spark or Trino this table
// must be made the same way before providers.sql runs.
func hostProviders(ctx context.Context, db *DB) error {
	rows, err := db.SQL.QueryContext(ctx, "SELECT DISTINCT host FROM mx_hosts WHERE host <> ''")
	if err != nil {
		return err
	}
	var hosts []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return err
		}
		hosts = append(hosts, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := db.SQL.ExecContext(ctx, "CREATE TABLE host_provider (host VARCHAR, provider VARCHAR)"); err != nil {
		return err
	}
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "host_provider")
		if err != nil {
			return fmt.Errorf("host_provider: %w", err)
		}
		for _, h := range hosts {
			p, err := publicsuffix.EffectiveTLDPlusOne(h)
			if err != nil {
				p = h
			}
			if err := a.AppendRow(h, p); err != nil {
				a.Close()
				return fmt.Errorf("host_provider: %w", err)
			}
		}
		return a.Close()
	})
}

// derivedViews creates the views that the checks and the report queries
// read beside the tables: domains_dane (queries/domains_dane.sql) and
// stale_endpoints (queries/stale_endpoints.sql).
func derivedViews(ctx context.Context, db *DB) error {
	for _, v := range []string{"domains_dane", "stale_endpoints"} {
		if _, err := db.SQL.ExecContext(ctx, "CREATE TEMP VIEW "+v+" AS "+query(v+".sql")); err != nil {
			return fmt.Errorf("view %s: %w", v, err)
		}
	}
	return nil
}
