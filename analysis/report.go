package analysis

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"sort"
	"time"
)

//go:embed queries/*.sql
var queryFiles embed.FS

// maxExamples is how many example subjects a check or a change lists.
const maxExamples = 5

// Report is everything the report shows; report.json is this struct, a
// public output: its keys stay stable. Counts are int64 and shares are
// percentages with one decimal (0 when the base is 0).
type Report struct {
	// SchemaVersion is the dataset schema version this danescan reads
	// and writes (datasets.SchemaVersion).
	SchemaVersion string `json:"schema_version"`
	// Datasets are the scans given (a sharded scan once), oldest first by
	// start time.
	Datasets []DatasetInfo `json:"datasets"`
	// Warnings are the problems that did not stop the analysis (an
	// incomplete scan, a missing or incomplete shard, an older schema),
	// shown at the top of the report.
	Warnings []string `json:"warnings"`
	// Scan is the scan the report is about (the latest given).
	Scan DatasetInfo `json:"scan"`
	// Input counts the entries of the scan's input, from its manifests
	// (summed over the shards given); absent when no manifest has them
	// (a scan that has not ended).
	Input *InputCounts `json:"input,omitempty"`
	// Totals counts the scan in every unit.
	Totals Totals `json:"totals"`
	// Funnel is the adoption funnel per domain, its stages in order;
	// those whose name starts with "(beside)" stand beside the funnel.
	Funnel []Stage `json:"funnel"`
	// Units is failing DANE counted in every unit: domain, mx_host,
	// endpoint, tlsa_rrset and record, in that order.
	Units []UnitCount `json:"units"`
	// DNSSECFailures counts the bogus and indeterminate RRsets by type,
	// status and reason, the most frequent first.
	DNSSECFailures []DNSSECCount `json:"dnssec_failures"`
	// NearMisses counts the endpoints that fail DANE or have no usable
	// record by reason and nearest miss, the most frequent first.
	NearMisses []NearMissCount `json:"near_misses"`
	// BesideDANE counts MTA-STS and TLS-RPT beside DANE.
	BesideDANE Beside `json:"beside_dane"`
	// TLDs is DANE adoption by TLD, the TLD with most domains first.
	TLDs []TLDRow `json:"tlds"`
	// Providers are the mail providers, the one serving most domains
	// first.
	Providers []ProviderRow `json:"providers"`
	// Concentration is the share of DANE-protected domains behind the
	// top 1, 5 and 10 providers.
	Concentration []Concentration `json:"concentration"`
	// Checks is every check's outcome, by severity (worst first), then
	// id; checks that found nothing are listed with count 0.
	Checks []CheckResult `json:"checks"`
	// Trends holds the headline figures of every scan given, oldest
	// first; absent with one dataset.
	Trends []TrendPoint `json:"trends,omitempty"`
	// Changes compares the latest scan with the one before; absent with
	// one dataset.
	Changes *Changes `json:"changes,omitempty"`
}

// DatasetInfo describes one scan analysed, from its manifests: one
// dataset, or the datasets of its shards.
type DatasetInfo struct {
	// ScanID is the scan's identifier.
	ScanID string `json:"scan_id"`
	// Dir is the dataset directory's base name; for a sharded scan the
	// base name of the directory holding its shards' datasets, or their
	// base names, comma-separated, when they are in several.
	Dir string `json:"dir"`
	// Shards says which shards of a sharded scan were given; absent for a
	// scan made by one process.
	Shards *ShardsInfo `json:"shards,omitempty"`
	// SchemaVersion is the schema version the dataset was written with.
	SchemaVersion string `json:"schema_version"`
	// Started is when the scan started (its first shard).
	Started time.Time `json:"started"`
	// Ended is when the scan ended or stopped (its last shard).
	Ended time.Time `json:"ended"`
	// Complete is false for a scan that did not finish, or with a shard
	// missing or unfinished.
	Complete bool `json:"complete"`
	// DNSSECValidated is true when the scan validated DNSSEC.
	DNSSECValidated bool `json:"dnssec_validated"`
	// SMTPProbed is true when the scan probed the endpoints with STARTTLS.
	SMTPProbed bool `json:"smtp_probed"`
}

// ShardsInfo says which shards of a sharded scan (--shard K/N) the
// analysis read.
type ShardsInfo struct {
	// Count is N, the number of shards the scan was split into.
	Count int `json:"count"`
	// Given lists the shards given (K), in order.
	Given []int `json:"given"`
	// Missing lists the shards not given.
	Missing []int `json:"missing"`
	// Incomplete lists the shards given whose scan did not finish.
	Incomplete []int `json:"incomplete"`
}

// InputCounts counts the entries of a scan's input, as its manifests do.
type InputCounts struct {
	// Entries counts the input entries read: valid, invalid and
	// duplicate.
	Entries int64 `json:"entries"`
	// Domains counts the distinct valid names scanned.
	Domains int64 `json:"domains"`
	// Duplicates counts the names seen before in the inputs.
	Duplicates int64 `json:"duplicates"`
	// Invalid counts the entries that are not valid names.
	Invalid int64 `json:"invalid"`
	// Excluded counts the names on the exclusion list.
	Excluded int64 `json:"excluded"`
}

// Totals counts the scan in every unit.
type Totals struct {
	// Domains counts the domains with a valid name.
	Domains int64 `json:"domains"`
	// MXHosts counts the distinct MX hosts.
	MXHosts int64 `json:"mx_hosts"`
	// Endpoints counts the endpoints: MX host addresses, per certificate
	// type probed.
	Endpoints int64 `json:"endpoints"`
	// TLSARRsets counts the MX hosts with TLSA records.
	TLSARRsets int64 `json:"tlsa_rrsets"`
	// TLSARecords counts the TLSA records of all MX hosts.
	TLSARecords int64 `json:"tlsa_records"`
}

// Stage is one stage of the adoption funnel, counted in domains.
type Stage struct {
	// Name says what the stage holds.
	Name string `json:"name"`
	// Count is the number of domains in the stage.
	Count int64 `json:"count"`
}

// UnitCount is failing DANE counted in one unit.
type UnitCount struct {
	// Unit is the counting unit: domain, mx_host, endpoint, tlsa_rrset or
	// record.
	Unit string `json:"unit"`
	// Failing counts the units that fail DANE.
	Failing int64 `json:"failing"`
	// Applicable counts the units DANE applies to: secure TLSA records,
	// or a TLSA lookup that is bogus or indeterminate.
	Applicable int64 `json:"applicable"`
	// Percent is Failing as a percentage of Applicable.
	Percent float64 `json:"percent"`
}

// DNSSECCount counts bogus or indeterminate RRsets of one type by reason
// (MX per domain; A, AAAA and TLSA per MX host).
type DNSSECCount struct {
	// RRset is the RRset type: MX, A, AAAA or TLSA.
	RRset string `json:"rrset"`
	// Status is the DNSSEC status: bogus or indeterminate.
	Status string `json:"status"`
	// Reason is the validator's reason (the dnssec_reason column).
	Reason string `json:"reason"`
	// Count is the number of RRsets.
	Count int64 `json:"count"`
}

// NearMissCount counts endpoints where no usable record matched, by
// reason and nearest miss.
type NearMissCount struct {
	// Reason is the endpoint's dane_reason; empty for no usable records.
	Reason string `json:"reason"`
	// NearMiss is the endpoint's nearest miss (dane_near_miss), or
	// stale_after_rollover when it passed in the previous scan with the
	// same TLSA records and presents another certificate now.
	NearMiss string `json:"near_miss"`
	// Count is the number of endpoints.
	Count int64 `json:"count"`
}

// Beside counts MTA-STS and TLS-RPT beside DANE, per domain.
type Beside struct {
	// DANEProtected counts the DANE-protected domains.
	DANEProtected int64 `json:"dane_protected"`
	// DANEWithMTASTS counts the DANE-protected domains that publish
	// MTA-STS.
	DANEWithMTASTS int64 `json:"dane_with_mta_sts"`
	// DANEWithTLSRPT counts the DANE-protected domains that publish
	// TLS-RPT.
	DANEWithTLSRPT int64 `json:"dane_with_tlsrpt"`
	// MTASTS counts the domains with MX that publish MTA-STS.
	MTASTS int64 `json:"mta_sts"`
	// TLSRPT counts the domains with MX that publish TLS-RPT.
	TLSRPT int64 `json:"tlsrpt"`
}

// TLDRow is DANE adoption under one TLD, per domain.
type TLDRow struct {
	// TLD is the top-level domain, without a dot.
	TLD string `json:"tld"`
	// Domains counts its domains.
	Domains int64 `json:"domains"`
	// WithMX counts those that receive mail (MX, or implicit MX).
	WithMX int64 `json:"with_mx"`
	// MXSecure counts those whose MX RRset is secure.
	MXSecure int64 `json:"mx_secure"`
	// DANEAll counts the DANE-protected ones.
	DANEAll int64 `json:"dane_all"`
	// DANESome counts those where some MX hosts pass DANE, not all.
	DANESome int64 `json:"dane_some"`
}

// ProviderRow is one mail provider (the registrable domain of MX hosts).
type ProviderRow struct {
	// Provider is the registrable domain of its MX hosts (Public Suffix
	// List).
	Provider string `json:"provider"`
	// Domains counts the domains it serves.
	Domains int64 `json:"domains"`
	// MXHosts counts its MX hosts.
	MXHosts int64 `json:"mx_hosts"`
	// DANEDomains counts the DANE-protected domains it serves.
	DANEDomains int64 `json:"dane_domains"`
	// HostsPassing counts its MX hosts that pass DANE.
	HostsPassing int64 `json:"hosts_passing"`
	// HostsWithTLSA counts its MX hosts with secure TLSA records
	// (tlsa_state dane).
	HostsWithTLSA int64 `json:"hosts_with_tlsa"`
	// HostsTLSAFailed counts its MX hosts whose TLSA lookup is bogus or
	// indeterminate (tlsa_state unusable): DANE senders defer delivery to
	// them, a DANE failure.
	HostsTLSAFailed int64 `json:"hosts_tlsa_lookup_failed"`
	// State sums it up: every MX host passes DANE, some MX hosts pass
	// DANE, TLSA published, DANE fails, TLSA lookup fails, DANE fails, or
	// no DANE.
	State string `json:"state"`
}

// Concentration is the share of DANE-protected domains behind the top N
// providers.
type Concentration struct {
	// Top is N, the number of providers with most DANE-protected domains.
	Top int `json:"top"`
	// Percent is their DANE-protected domains as a percentage of all.
	Percent float64 `json:"percent"`
}

// CheckResult is one check's outcome.
type CheckResult struct {
	// ID is the check's id (checks/<id>.sql).
	ID string `json:"id"`
	// Severity is delivery_fails, weakens_security or advice.
	Severity string `json:"severity"`
	// Unit is what Count counts: domain, mx_host, endpoint or record.
	Unit string `json:"unit"`
	// Source is the RFC section or source the check rests on.
	Source string `json:"source"`
	// Description says what the check finds.
	Description string `json:"description"`
	// Count is the number of findings, in Unit (distinct hosts for an
	// mx_host check).
	Count int64 `json:"count"`
	// Domains counts the distinct domains affected.
	Domains int64 `json:"domains"`
	// Examples are the first affected domains, sorted, at most five.
	Examples []string `json:"examples"`
}

// TrendPoint is one scan's headline figures, per domain.
type TrendPoint struct {
	// ScanID is the scan's identifier.
	ScanID string `json:"scan_id"`
	// Started is when the scan started.
	Started time.Time `json:"started"`
	// Domains counts the domains with a valid name.
	Domains int64 `json:"domains"`
	// WithMX counts those that receive mail.
	WithMX int64 `json:"with_mx"`
	// MXSecure counts those whose MX RRset is secure.
	MXSecure int64 `json:"mx_secure"`
	// DANEAll counts the DANE-protected ones.
	DANEAll int64 `json:"dane_all"`
}

// Changes compares the latest scan with the one before.
type Changes struct {
	// From is the scan id of the scan before the latest.
	From string `json:"from"`
	// To is the scan id of the latest scan.
	To string `json:"to"`
	// GainedDANE counts the domains DANE-protected in To, not in From.
	GainedDANE int64 `json:"gained_dane"`
	// LostDANE counts the domains DANE-protected in From, not in To.
	LostDANE int64 `json:"lost_dane"`
	// NewFailingHosts counts the MX hosts that fail DANE in To, not in
	// From.
	NewFailingHosts int64 `json:"new_failing_hosts"`
	// FixedHosts counts the MX hosts that fail DANE in From and pass in
	// To.
	FixedHosts int64 `json:"fixed_hosts"`
	// GainedExamples are the first domains of GainedDANE, sorted, at
	// most five.
	GainedExamples []string `json:"gained_examples"`
	// LostExamples are the first domains of LostDANE.
	LostExamples []string `json:"lost_examples"`
	// NewFailingExamples are the first hosts of NewFailingHosts.
	NewFailingExamples []string `json:"new_failing_examples"`
	// FixedExamples are the first hosts of FixedHosts.
	FixedExamples []string `json:"fixed_examples"`
}

// query returns the text of an embedded report query.
func query(name string) string {
	b, err := queryFiles.ReadFile("queries/" + name)
	if err != nil {
		panic("analysis: missing embedded query " + name) // a build defect, caught by every test
	}
	return string(b)
}

// eachRow runs the embedded query name with args and calls scan on every
// row; errors name the query.
func eachRow(ctx context.Context, db *DB, name string, args []any, scan func(rows *sql.Rows) error) error {
	rows, err := db.SQL.QueryContext(ctx, query(name), args...)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// oneRow runs the embedded query name, which returns one row, with args
// and scans it into dest.
func oneRow(ctx context.Context, db *DB, name string, args []any, dest ...any) error {
	if err := db.SQL.QueryRowContext(ctx, query(name), args...).Scan(dest...); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// compute fills the report's sections from the latest scan, one method
// and one query file (or a few) per section.
func (r *Report) compute(ctx context.Context, db *DB, checks []Check) error {
	for _, section := range []func(context.Context, *DB) error{
		r.totals, r.funnel, r.units, r.dnssecFailures, r.nearMisses, r.besideDANE, r.tlds, r.providers,
	} {
		if err := section(ctx, db); err != nil {
			return err
		}
	}
	return r.checkResults(ctx, db, checks)
}

// totals counts the scan in every unit (totals.sql).
func (r *Report) totals(ctx context.Context, db *DB) error {
	t := &r.Totals
	return oneRow(ctx, db, "totals.sql", nil, &t.Domains, &t.MXHosts, &t.Endpoints, &t.TLSARRsets, &t.TLSARecords)
}

// funnel computes the adoption funnel and the stages beside it
// (funnel.sql).
func (r *Report) funnel(ctx context.Context, db *DB) error {
	var f struct{ scanned, resolved, withMX, nullMX, secure, tlsaAll, daneAll, tlsaSome, tlsaFailed, behind int64 }
	if err := oneRow(ctx, db, "funnel.sql", nil, nullInt(&f.scanned), nullInt(&f.resolved), nullInt(&f.withMX), nullInt(&f.nullMX),
		nullInt(&f.secure), nullInt(&f.tlsaAll), nullInt(&f.daneAll), nullInt(&f.tlsaSome), nullInt(&f.tlsaFailed), nullInt(&f.behind)); err != nil {
		return err
	}
	r.Funnel = []Stage{
		{"domains scanned", f.scanned},
		{"resolved", f.resolved},
		{"with MX (null MX apart)", f.withMX},
		{"MX RRset secure", f.secure},
		{"every MX host with secure TLSA or a failed TLSA lookup", f.tlsaAll},
		{"every MX endpoint passing DANE", f.daneAll},
		{"(beside) some but not all MX hosts with secure TLSA or a failed TLSA lookup", f.tlsaSome},
		{"(beside) a failed TLSA lookup at some MX host (DANE senders defer)", f.tlsaFailed},
		{"(beside) DANE-passing MX hosts behind an insecure MX RRset", f.behind},
		{"(beside) null MX", f.nullMX},
	}
	return nil
}

// units counts failing DANE in every unit (units.sql).
func (r *Report) units(ctx context.Context, db *DB) error {
	return eachRow(ctx, db, "units.sql", nil, func(rows *sql.Rows) error {
		var u UnitCount
		if err := rows.Scan(&u.Unit, nullInt(&u.Failing), nullInt(&u.Applicable)); err != nil {
			return err
		}
		u.Percent = pct(u.Failing, u.Applicable)
		r.Units = append(r.Units, u)
		return nil
	})
}

// dnssecFailures counts the bogus and indeterminate RRsets (dnssec.sql).
func (r *Report) dnssecFailures(ctx context.Context, db *DB) error {
	return eachRow(ctx, db, "dnssec.sql", nil, func(rows *sql.Rows) error {
		var c DNSSECCount
		var reason sql.NullString
		if err := rows.Scan(&c.RRset, &c.Status, &reason, &c.Count); err != nil {
			return err
		}
		c.Reason = reason.String
		r.DNSSECFailures = append(r.DNSSECFailures, c)
		return nil
	})
}

// nearMisses counts the endpoints where no usable record matched, by
// reason and nearest miss (nearmiss.sql).
func (r *Report) nearMisses(ctx context.Context, db *DB) error {
	return eachRow(ctx, db, "nearmiss.sql", nil, func(rows *sql.Rows) error {
		var c NearMissCount
		var reason, miss sql.NullString
		if err := rows.Scan(&reason, &miss, &c.Count); err != nil {
			return err
		}
		c.Reason, c.NearMiss = reason.String, miss.String
		r.NearMisses = append(r.NearMisses, c)
		return nil
	})
}

// besideDANE counts MTA-STS and TLS-RPT beside DANE (beside.sql).
func (r *Report) besideDANE(ctx context.Context, db *DB) error {
	b := &r.BesideDANE
	return oneRow(ctx, db, "beside.sql", nil, nullInt(&b.DANEProtected), nullInt(&b.DANEWithMTASTS), nullInt(&b.DANEWithTLSRPT), nullInt(&b.MTASTS), nullInt(&b.TLSRPT))
}

// tlds computes DANE adoption by TLD (tld.sql).
func (r *Report) tlds(ctx context.Context, db *DB) error {
	return eachRow(ctx, db, "tld.sql", nil, func(rows *sql.Rows) error {
		var t TLDRow
		if err := rows.Scan(&t.TLD, &t.Domains, &t.WithMX, &t.MXSecure, &t.DANEAll, &t.DANESome); err != nil {
			return err
		}
		r.TLDs = append(r.TLDs, t)
		return nil
	})
}

// providers computes the mail providers and their states (providers.sql)
// and the concentration of DANE-protected domains behind the top ones
// (dane_protected.sql).
func (r *Report) providers(ctx context.Context, db *DB) error {
	if err := eachRow(ctx, db, "providers.sql", nil, func(rows *sql.Rows) error {
		var p ProviderRow
		if err := rows.Scan(&p.Provider, &p.Domains, &p.MXHosts, &p.DANEDomains, &p.HostsPassing, &p.HostsWithTLSA, &p.HostsTLSAFailed); err != nil {
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
		return nil
	}); err != nil {
		return err
	}
	var protected int64
	if err := oneRow(ctx, db, "dane_protected.sql", nil, &protected); err != nil {
		return err
	}
	byDANE := append([]ProviderRow(nil), r.Providers...)
	sort.SliceStable(byDANE, func(i, j int) bool { return byDANE[i].DANEDomains > byDANE[j].DANEDomains })
	for _, n := range []int{1, 5, 10} {
		var sum int64
		for i := 0; i < n && i < len(byDANE); i++ {
			sum += byDANE[i].DANEDomains
		}
		r.Concentration = append(r.Concentration, Concentration{Top: n, Percent: pct(sum, protected)})
	}
	return nil
}

// checkResults computes every check's count, affected domains and
// examples from the findings, in three passes over them instead of three
// per check (affected.sql, check_counts.sql, check_domains.sql,
// check_examples.sql).
func (r *Report) checkResults(ctx context.Context, db *DB, checks []Check) error {
	if _, err := db.SQL.ExecContext(ctx, "CREATE TEMP TABLE affected AS "+query("affected.sql")); err != nil {
		return fmt.Errorf("affected.sql: %w", err)
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
		name string
		args []any
		scan func(rows *sql.Rows) error
	}{
		{"check_counts.sql", nil, func(rows *sql.Rows) error {
			var id string
			var n, h int64
			err := rows.Scan(&id, &n, &h)
			at(id).count, at(id).hosts = n, h
			return err
		}},
		{"check_domains.sql", nil, func(rows *sql.Rows) error {
			var id string
			var n int64
			err := rows.Scan(&id, &n)
			at(id).domains = n
			return err
		}},
		{"check_examples.sql", []any{maxExamples}, func(rows *sql.Rows) error {
			var id, d string
			err := rows.Scan(&id, &d)
			examples[id] = append(examples[id], d)
			return err
		}},
	} {
		if err := eachRow(ctx, db, x.name, x.args, x.scan); err != nil {
			return err
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

// trends computes the headline figures of every scan (trend.sql) and the
// changes between the last two (changes.sql).
func (r *Report) trends(ctx context.Context, db *DB, scans []*Scan) error {
	for _, s := range scans {
		p := TrendPoint{ScanID: s.ID, Started: s.Started()}
		if err := oneRow(ctx, db, "trend.sql", []any{p.ScanID}, &p.Domains, nullInt(&p.WithMX), nullInt(&p.MXSecure), nullInt(&p.DANEAll)); err != nil {
			return fmt.Errorf("trend of %s: %w", p.ScanID, err)
		}
		r.Trends = append(r.Trends, p)
	}
	c := &Changes{From: scans[len(scans)-2].ID, To: scans[len(scans)-1].ID,
		GainedExamples: []string{}, LostExamples: []string{}, NewFailingExamples: []string{}, FixedExamples: []string{}}
	kinds := map[string]struct {
		n  *int64
		ex *[]string
	}{
		"gained":      {&c.GainedDANE, &c.GainedExamples},
		"lost":        {&c.LostDANE, &c.LostExamples},
		"new_failing": {&c.NewFailingHosts, &c.NewFailingExamples},
		"fixed":       {&c.FixedHosts, &c.FixedExamples},
	}
	if err := eachRow(ctx, db, "changes.sql", []any{c.From, c.To, maxExamples}, func(rows *sql.Rows) error {
		var kind, subject string
		var n int64
		if err := rows.Scan(&kind, &n, &subject); err != nil {
			return err
		}
		k, ok := kinds[kind]
		if !ok {
			return fmt.Errorf("unknown kind of change %q", kind)
		}
		*k.n, *k.ex = n, append(*k.ex, subject)
		return nil
	}); err != nil {
		return err
	}
	r.Changes = c
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

// pct returns n as a percentage of of, rounded to one decimal; 0 when of
// is 0.
func pct(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(int64(1000*float64(n)/float64(of)+0.5)) / 10
}
