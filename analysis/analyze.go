package analysis

import (
	"context"
	"database/sql"
	"embed"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/danescan/danescan/datasets"
)

//go:embed queries/*.sql
var queryFiles embed.FS

// maxExamples is how many example subjects a check lists.
const maxExamples = 5

// Report is everything the report shows; report.json is this struct.
type Report struct {
	SchemaVersion string        `json:"schema_version"`
	Datasets      []DatasetInfo `json:"datasets"`
	Warnings      []string      `json:"warnings"`
	// Scan is the scan the report is about (the latest given).
	Scan      DatasetInfo     `json:"scan"`
	Totals    Totals          `json:"totals"`
	Funnel    []Stage         `json:"funnel"`
	Units     []UnitCount     `json:"units"`
	DNSSEC    []DNSSECCount   `json:"dnssec_failures"`
	NearMiss  []NearMissCount `json:"near_misses"`
	Beside    Beside          `json:"beside_dane"`
	TLDs      []TLDRow        `json:"tlds"`
	Providers []ProviderRow   `json:"providers"`
	Concentr  []Concentration `json:"concentration"`
	Checks    []CheckResult   `json:"checks"`
	Trends    []TrendPoint    `json:"trends,omitempty"`
	Changes   *Changes        `json:"changes,omitempty"`
}

// DatasetInfo describes one dataset analysed.
type DatasetInfo struct {
	ScanID        string    `json:"scan_id"`
	Dir           string    `json:"dir"`
	SchemaVersion string    `json:"schema_version"`
	Started       time.Time `json:"started"`
	Ended         time.Time `json:"ended"`
	Complete      bool      `json:"complete"`
	DNSSEC        bool      `json:"dnssec_validated"`
	SMTP          bool      `json:"smtp_probed"`
}

// Totals counts the scan in every unit.
type Totals struct {
	Domains     int64 `json:"domains"`
	MXHosts     int64 `json:"mx_hosts"`
	Endpoints   int64 `json:"endpoints"`
	TLSARRsets  int64 `json:"tlsa_rrsets"`
	TLSARecords int64 `json:"tlsa_records"`
}

// Stage is one stage of the adoption funnel, counted in domains.
type Stage struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// UnitCount is failing DANE counted in one unit.
type UnitCount struct {
	Unit       string  `json:"unit"`
	Failing    int64   `json:"failing"`
	Applicable int64   `json:"applicable"`
	Percent    float64 `json:"percent"`
}

// DNSSECCount counts bogus or indeterminate RRsets of one type by reason
// (MX per domain; A, AAAA and TLSA per MX host).
type DNSSECCount struct {
	RRset  string `json:"rrset"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// NearMissCount counts endpoints where no usable record matched, by
// reason and nearest miss.
type NearMissCount struct {
	Reason   string `json:"reason"`
	NearMiss string `json:"near_miss"`
	Count    int64  `json:"count"`
}

// Beside counts MTA-STS and TLS-RPT beside DANE, per domain.
type Beside struct {
	DANE       int64 `json:"dane_protected"`
	DANEMTASTS int64 `json:"dane_with_mta_sts"`
	DANETLSRPT int64 `json:"dane_with_tlsrpt"`
	MTASTS     int64 `json:"mta_sts"`
	TLSRPT     int64 `json:"tlsrpt"`
}

// TLDRow is DANE adoption under one TLD, per domain.
type TLDRow struct {
	TLD      string `json:"tld"`
	Domains  int64  `json:"domains"`
	WithMX   int64  `json:"with_mx"`
	MXSecure int64  `json:"mx_secure"`
	DANEAll  int64  `json:"dane_all"`
	DANESome int64  `json:"dane_some"`
}

// ProviderRow is one mail provider (the registrable domain of MX hosts).
type ProviderRow struct {
	Provider      string `json:"provider"`
	Domains       int64  `json:"domains"`
	MXHosts       int64  `json:"mx_hosts"`
	DANEDomains   int64  `json:"dane_domains"`
	HostsPassing  int64  `json:"hosts_passing"`
	HostsWithTLSA int64  `json:"hosts_with_tlsa"`
	// HostsTLSAFailed counts the MX hosts whose TLSA lookup is bogus or
	// indeterminate (tlsa_state unusable): DANE senders defer delivery to
	// them, a DANE failure.
	HostsTLSAFailed int64  `json:"hosts_tlsa_lookup_failed"`
	State           string `json:"state"` // all hosts pass, some, TLSA but failing, TLSA lookup failing, no TLSA
}

// Concentration is the share of DANE-protected domains behind the top N
// providers.
type Concentration struct {
	Top     int     `json:"top"`
	Percent float64 `json:"percent"`
}

// CheckResult is one check's outcome.
type CheckResult struct {
	ID          string   `json:"id"`
	Severity    string   `json:"severity"`
	Unit        string   `json:"unit"`
	Source      string   `json:"source"`
	Description string   `json:"description"`
	Count       int64    `json:"count"`   // findings, in Unit
	Domains     int64    `json:"domains"` // distinct domains affected
	Examples    []string `json:"examples"`
}

// TrendPoint is one scan's headline figures.
type TrendPoint struct {
	ScanID   string    `json:"scan_id"`
	Started  time.Time `json:"started"`
	Domains  int64     `json:"domains"`
	WithMX   int64     `json:"with_mx"`
	MXSecure int64     `json:"mx_secure"`
	DANEAll  int64     `json:"dane_all"`
}

// Changes compares the latest scan with the one before.
type Changes struct {
	From          string   `json:"from"`
	To            string   `json:"to"`
	GainedDANE    int64    `json:"gained_dane"`
	LostDANE      int64    `json:"lost_dane"`
	NewFailures   int64    `json:"new_failing_hosts"`
	FixedFailures int64    `json:"fixed_hosts"`
	GainedExample []string `json:"gained_examples"`
	LostExample   []string `json:"lost_examples"`
	NewExample    []string `json:"new_failing_examples"`
	FixedExample  []string `json:"fixed_examples"`
}

// Analysis is a finished analysis: the report and the findings.
type Analysis struct {
	Report   *Report
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
	var findings []datasets.Finding
	for _, c := range checks {
		fs, err := c.Run(ctx, db, latest.Manifest.ScanID)
		if err != nil {
			return nil, err
		}
		findings = append(findings, fs...)
	}
	if err := loadFindings(ctx, db, findings); err != nil {
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
		Started: m.Started, Ended: m.Ended, Complete: m.Complete, DNSSEC: on("dnssec_enabled"), SMTP: on("smtp_enabled")}
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
	f, err := os.CreateTemp("", "danescan-providers-*.csv")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	w := csv.NewWriter(f)
	w.Write([]string{"host", "provider"})
	for _, h := range hosts {
		p, err := publicsuffix.EffectiveTLDPlusOne(h)
		if err != nil {
			p = h
		}
		w.Write([]string{h, p})
	}
	w.Flush()
	if err := f.Close(); err != nil {
		return err
	}
	_, err = db.SQL.ExecContext(ctx, "CREATE TABLE host_provider AS SELECT * FROM read_csv("+quoteString(f.Name())+
		", header = true, columns = {'host': 'VARCHAR', 'provider': 'VARCHAR'})")
	return err
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

// loadFindings makes the findings view hold the findings just computed.
func loadFindings(ctx context.Context, db *DB, fs []datasets.Finding) error {
	if _, err := db.SQL.ExecContext(ctx, `CREATE TABLE findings_now (scan_id VARCHAR, "check" VARCHAR, severity VARCHAR, unit VARCHAR, domain VARCHAR, host VARCHAR, address VARCHAR, evidence VARCHAR)`); err != nil {
		return err
	}
	if len(fs) > 0 {
		f, err := os.CreateTemp("", "danescan-findings-*.csv")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		w := csv.NewWriter(f)
		for _, x := range fs {
			w.Write([]string{x.ScanID, x.Check, x.Severity, x.Unit, x.Domain, x.Host, x.Address, x.Evidence})
		}
		w.Flush()
		if err := f.Close(); err != nil {
			return err
		}
		if _, err := db.SQL.ExecContext(ctx, "INSERT INTO findings_now SELECT * FROM read_csv("+quoteString(f.Name())+
			", header = false, all_varchar = true, quote = '\"', escape = '\"')"); err != nil {
			return fmt.Errorf("load findings: %w", err)
		}
	}
	_, err := db.SQL.ExecContext(ctx, "CREATE OR REPLACE VIEW findings AS SELECT * FROM findings_now")
	return err
}

// query returns the text of an embedded report query.
func query(name string) string {
	b, err := queryFiles.ReadFile("queries/" + name)
	if err != nil {
		panic("analysis: missing embedded query " + name) // a build defect, caught by every test
	}
	return string(b)
}

func (r *Report) compute(ctx context.Context, db *DB, checks []Check) error {
	q := db.SQL
	if err := q.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM domains WHERE domain <> ''),
		(SELECT count(*) FROM mx_hosts),
		(SELECT count(*) FROM endpoints),
		(SELECT count(*) FROM mx_hosts WHERE len(tlsa_records) > 0),
		(SELECT coalesce(sum(len(tlsa_records)), 0) FROM mx_hosts)`).Scan(
		&r.Totals.Domains, &r.Totals.MXHosts, &r.Totals.Endpoints, &r.Totals.TLSARRsets, &r.Totals.TLSARecords); err != nil {
		return fmt.Errorf("totals: %w", err)
	}
	var f struct{ scanned, resolved, withMX, nullMX, secure, tlsaAll, daneAll, tlsaSome, tlsaFailed, behind sql.NullInt64 }
	if err := q.QueryRowContext(ctx, query("funnel.sql")).Scan(&f.scanned, &f.resolved, &f.withMX, &f.nullMX, &f.secure,
		&f.tlsaAll, &f.daneAll, &f.tlsaSome, &f.tlsaFailed, &f.behind); err != nil {
		return fmt.Errorf("funnel: %w", err)
	}
	r.Funnel = []Stage{
		{"domains scanned", f.scanned.Int64},
		{"resolved", f.resolved.Int64},
		{"with MX (null MX apart)", f.withMX.Int64},
		{"MX RRset secure", f.secure.Int64},
		{"every MX host with secure TLSA or a failed TLSA lookup", f.tlsaAll.Int64},
		{"every MX endpoint passing DANE", f.daneAll.Int64},
	}
	r.Funnel = append(r.Funnel, Stage{"(beside) some but not all MX hosts with secure TLSA or a failed TLSA lookup", f.tlsaSome.Int64},
		Stage{"(beside) a failed TLSA lookup at some MX host (DANE senders defer)", f.tlsaFailed.Int64},
		Stage{"(beside) DANE-passing MX hosts behind an insecure MX RRset", f.behind.Int64},
		Stage{"(beside) null MX", f.nullMX.Int64})

	rows, err := q.QueryContext(ctx, query("units.sql"))
	if err != nil {
		return fmt.Errorf("units: %w", err)
	}
	for rows.Next() {
		var u UnitCount
		var fail, app sql.NullInt64
		if err := rows.Scan(&u.Unit, &fail, &app); err != nil {
			rows.Close()
			return err
		}
		u.Failing, u.Applicable = fail.Int64, app.Int64
		u.Percent = pct(u.Failing, u.Applicable)
		r.Units = append(r.Units, u)
	}
	rows.Close()

	rows, err = q.QueryContext(ctx, query("dnssec.sql"))
	if err != nil {
		return fmt.Errorf("dnssec: %w", err)
	}
	for rows.Next() {
		var c DNSSECCount
		var reason sql.NullString
		if err := rows.Scan(&c.RRset, &c.Status, &reason, &c.Count); err != nil {
			rows.Close()
			return err
		}
		c.Reason = reason.String
		r.DNSSEC = append(r.DNSSEC, c)
	}
	rows.Close()

	rows, err = q.QueryContext(ctx, query("nearmiss.sql"))
	if err != nil {
		return fmt.Errorf("near misses: %w", err)
	}
	for rows.Next() {
		var c NearMissCount
		var reason, miss sql.NullString
		if err := rows.Scan(&reason, &miss, &c.Count); err != nil {
			rows.Close()
			return err
		}
		c.Reason, c.NearMiss = reason.String, miss.String
		r.NearMiss = append(r.NearMiss, c)
	}
	rows.Close()
	b := &r.Beside
	if err := q.QueryRowContext(ctx, query("beside.sql")).Scan(nullInt(&b.DANE), nullInt(&b.DANEMTASTS), nullInt(&b.DANETLSRPT), nullInt(&b.MTASTS), nullInt(&b.TLSRPT)); err != nil {
		return fmt.Errorf("beside: %w", err)
	}

	rows, err = q.QueryContext(ctx, query("tld.sql"))
	if err != nil {
		return fmt.Errorf("tlds: %w", err)
	}
	for rows.Next() {
		var t TLDRow
		if err := rows.Scan(&t.TLD, &t.Domains, &t.WithMX, &t.MXSecure, &t.DANEAll, &t.DANESome); err != nil {
			rows.Close()
			return err
		}
		r.TLDs = append(r.TLDs, t)
	}
	rows.Close()

	rows, err = q.QueryContext(ctx, query("providers.sql"))
	if err != nil {
		return fmt.Errorf("providers: %w", err)
	}
	var daneTotal int64
	for rows.Next() {
		var p ProviderRow
		if err := rows.Scan(&p.Provider, &p.Domains, &p.MXHosts, &p.DANEDomains, &p.HostsPassing, &p.HostsWithTLSA, &p.HostsTLSAFailed); err != nil {
			rows.Close()
			return err
		}
		switch {
		case p.HostsPassing == p.MXHosts:
			p.State = "every MX host passes DANE"
		case p.HostsPassing > 0:
			p.State = "some MX hosts pass DANE"
		case p.HostsWithTLSA > 0:
			p.State = "TLSA published, DANE fails"
		case p.HostsTLSAFailed > 0:
			p.State = "TLSA lookup fails, DANE fails"
		default:
			p.State = "no DANE"
		}
		r.Providers = append(r.Providers, p)
	}
	rows.Close()
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM domains WHERE mx_secure AND tlsa_all_mx AND dane = 'all'").Scan(&daneTotal); err != nil {
		return err
	}
	byDANE := append([]ProviderRow(nil), r.Providers...)
	sort.SliceStable(byDANE, func(i, j int) bool { return byDANE[i].DANEDomains > byDANE[j].DANEDomains })
	for _, n := range []int{1, 5, 10} {
		var sum int64
		for i := 0; i < n && i < len(byDANE); i++ {
			sum += byDANE[i].DANEDomains
		}
		r.Concentr = append(r.Concentr, Concentration{Top: n, Percent: pct(sum, daneTotal)})
	}

	// Every check's counts, affected domains and examples, in three passes
	// over the findings instead of three per check.
	if _, err := q.ExecContext(ctx, "CREATE TEMP TABLE affected AS "+query("affected.sql")); err != nil {
		return fmt.Errorf("affected domains: %w", err)
	}
	type tally struct{ count, hosts, domains int64 }
	tallies := map[string]*tally{}
	at := func(id string) *tally {
		if tallies[id] == nil {
			tallies[id] = &tally{}
		}
		return tallies[id]
	}
	examples := map[string][]string{}
	for _, x := range []struct {
		q    string
		scan func(rows *sql.Rows) error
	}{
		{`SELECT "check", count(*), count(DISTINCT host) FROM findings GROUP BY 1`, func(rows *sql.Rows) error {
			var id string
			var n, h int64
			err := rows.Scan(&id, &n, &h)
			at(id).count, at(id).hosts = n, h
			return err
		}},
		{`SELECT "check", count(*) FROM affected GROUP BY 1`, func(rows *sql.Rows) error {
			var id string
			var n int64
			err := rows.Scan(&id, &n)
			at(id).domains = n
			return err
		}},
		{`SELECT "check", domain FROM (SELECT "check", domain, row_number() OVER (PARTITION BY "check" ORDER BY domain) AS k FROM affected) a
			WHERE k <= ` + fmt.Sprint(maxExamples) + ` ORDER BY 1, 2`, func(rows *sql.Rows) error {
			var id, d string
			err := rows.Scan(&id, &d)
			examples[id] = append(examples[id], d)
			return err
		}},
	} {
		rows, err := q.QueryContext(ctx, x.q)
		if err != nil {
			return fmt.Errorf("check results: %w", err)
		}
		for rows.Next() {
			if err := x.scan(rows); err != nil {
				rows.Close()
				return fmt.Errorf("check results: %w", err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("check results: %w", err)
		}
	}
	for _, c := range checks {
		res := CheckResult{ID: c.ID, Severity: c.Severity, Unit: c.Unit, Source: c.Source, Description: c.Description,
			Examples: examples[c.ID]}
		if t := tallies[c.ID]; t != nil {
			res.Count, res.Domains = t.count, t.domains
			if c.Unit == UnitMXHost {
				res.Count = t.hosts
			}
		}
		if res.Examples == nil {
			res.Examples = []string{}
		}
		r.Checks = append(r.Checks, res)
	}
	return nil
}

// hostFailing is the condition on an mx_hosts row that the host fails
// DANE: secure TLSA records that do not authenticate what it presents, or
// a TLSA lookup that is bogus or indeterminate, where DANE senders defer
// (RFC 7672 §2.2).
const hostFailing = `(tlsa_state = 'unusable' OR (tlsa_state = 'dane' AND dane_status IN ('fail', 'no_usable_records', 'transport_failed')))`

// trends computes the headline figures per scan and the changes between
// the last two scans.
func (r *Report) trends(ctx context.Context, db *DB, sets []*Dataset) error {
	q := db.SQL
	for _, s := range sets {
		p := TrendPoint{ScanID: s.Manifest.ScanID, Started: s.Manifest.Started}
		if err := q.QueryRowContext(ctx, `SELECT count(*),
			sum(CASE WHEN mx_kind IN ('mx', 'mixed_null_mx', 'implicit') THEN 1 ELSE 0 END),
			sum(CASE WHEN mx_secure THEN 1 ELSE 0 END),
			sum(CASE WHEN mx_secure AND tlsa_all_mx AND dane = 'all' THEN 1 ELSE 0 END)
			FROM all_domains WHERE scan_id = ? AND domain <> ''`, p.ScanID).Scan(&p.Domains, nullInt(&p.WithMX), nullInt(&p.MXSecure), nullInt(&p.DANEAll)); err != nil {
			return fmt.Errorf("trend %s: %w", p.ScanID, err)
		}
		r.Trends = append(r.Trends, p)
	}
	from, to := sets[len(sets)-2].Manifest.ScanID, sets[len(sets)-1].Manifest.ScanID
	ch := &Changes{From: from, To: to}
	protected := `SELECT domain FROM all_domains WHERE scan_id = ? AND mx_secure AND tlsa_all_mx AND dane = 'all'`
	failing := `SELECT host FROM all_mx_hosts WHERE scan_id = ? AND ` + hostFailing
	diff := func(a, b string, args []any, n *int64, ex *[]string) error {
		d := "(" + a + ") EXCEPT (" + b + ")"
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM ("+d+") x", args...).Scan(n); err != nil {
			return err
		}
		rows, err := q.QueryContext(ctx, "SELECT * FROM ("+d+") x ORDER BY 1 LIMIT "+fmt.Sprint(maxExamples), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		*ex = []string{}
		for rows.Next() {
			var s string
			rows.Scan(&s)
			*ex = append(*ex, s)
		}
		return rows.Err()
	}
	for _, x := range []struct {
		a, b string
		args []any
		n    *int64
		ex   *[]string
	}{
		{protected, protected, []any{to, from}, &ch.GainedDANE, &ch.GainedExample},
		{protected, protected, []any{from, to}, &ch.LostDANE, &ch.LostExample},
		{failing, failing, []any{to, from}, &ch.NewFailures, &ch.NewExample},
	} {
		if err := diff(x.a, x.b, x.args, x.n, x.ex); err != nil {
			return fmt.Errorf("changes: %w", err)
		}
	}
	// Fixed: hosts failing before that pass now.
	fixed := `SELECT host FROM all_mx_hosts WHERE scan_id = ? AND ` + hostFailing + `
		INTERSECT SELECT host FROM all_mx_hosts WHERE scan_id = ? AND dane_status = 'pass'`
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM ("+fixed+") x", from, to).Scan(&ch.FixedFailures); err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	rows, err := q.QueryContext(ctx, "SELECT * FROM ("+fixed+") x ORDER BY 1 LIMIT "+fmt.Sprint(maxExamples), from, to)
	if err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	ch.FixedExample = []string{}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		ch.FixedExample = append(ch.FixedExample, s)
	}
	rows.Close()
	r.Changes = ch
	return nil
}

// nullInt scans a nullable integer into n (0 for NULL).
func nullInt(n *int64) sql.Scanner { return &nullIntScanner{n} }

type nullIntScanner struct{ n *int64 }

func (s *nullIntScanner) Scan(v any) error {
	var x sql.NullInt64
	if err := x.Scan(v); err != nil {
		return err
	}
	*s.n = x.Int64
	return nil
}

func pct(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(int64(1000*float64(n)/float64(of)+0.5)) / 10
}
