package analysis

import (
	"context"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"sort"

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

// Analyze opens the datasets in dirs, runs every check on the latest scan
// (by start time) and computes the report; with several datasets it adds
// the trends and the changes between the last two. It returns an error
// for a directory that is not a readable dataset.
func Analyze(ctx context.Context, dirs []string) (*Analysis, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no dataset given")
	}
	var sets []*Dataset
	for _, dir := range dirs {
		d, err := OpenDataset(dir)
		if err != nil {
			return nil, err
		}
		sets = append(sets, d)
	}
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].Manifest.Started.Before(sets[j].Manifest.Started) })
	latest := sets[len(sets)-1]
	var prev *Dataset
	if len(sets) > 1 {
		prev = sets[len(sets)-2]
	}
	db, err := openDB(ctx, []*Dataset{latest}, prev, sets)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	r := &Report{SchemaVersion: datasets.SchemaVersion, Scan: info(latest)}
	for _, s := range sets {
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
		if err := c.Run(ctx, db, latest.Manifest.ScanID, i); err != nil {
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
	if len(sets) > 1 {
		if err := r.trends(ctx, db, sets); err != nil {
			return nil, err
		}
	}
	return &Analysis{Report: r, Findings: findings}, nil
}

func info(d *Dataset) DatasetInfo {
	m := d.Manifest
	on := func(k string) bool { b, _ := m.Config[k].(bool); return b }
	return DatasetInfo{ScanID: m.ScanID, Dir: filepath.Base(filepath.Clean(d.Dir)), SchemaVersion: m.SchemaVersion,
		Started: m.Started, Ended: m.Ended, Complete: m.Complete, DNSSECValidated: on("dnssec_enabled"), SMTPProbed: on("smtp_enabled")}
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
