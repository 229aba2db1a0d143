// Package analysis turns danescan datasets into reports: it opens the
// Parquet tables in an embedded DuckDB (views domains, mx_hosts, endpoints
// and findings; prev_ views over the scan before, for the checks across
// scans), runs the misconfiguration checks (one SQL file each, with
// an id, a severity and the RFC section or source it rests on, in the
// style of zlint), computes the adoption funnel (RFC 7672 §2.2: MX RRset
// secure, every MX host with secure TLSA, every endpoint passing DANE),
// the breakdowns by TLD and mail provider, and the trends between scans,
// and renders report.md, report.html (inline SVG charts, drawn by package
// chart) and report.json.
//
// Verdicts that need certificates or DNSSEC are made by the scanner
// (packages dane and dnssec) and stored as columns; the SQL here only
// counts them, so that the same statements run on Spark SQL or Trino over
// the same Parquet tables.
package analysis
