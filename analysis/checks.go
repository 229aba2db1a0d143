package analysis

import (
	"bufio"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed checks/*.sql
var checkFiles embed.FS

// Severities of checks, from the worst.
const (
	SeverityDeliveryFails   = "delivery_fails"   // a DANE sender does not deliver (or cannot route) mail
	SeverityWeakensSecurity = "weakens_security" // mail flows but DANE does not protect all of it
	SeverityAdvice          = "advice"           // an operator tip: nothing fails today
)

// Counting units of checks.
const (
	UnitDomain   = "domain"
	UnitMXHost   = "mx_host"
	UnitEndpoint = "endpoint"
	UnitRecord   = "record"
)

// Check is one misconfiguration check: a SQL statement over the views
// domains, mx_hosts and endpoints (a check across scans also reads
// prev_mx_hosts, prev_endpoints or the views Analyze derives from them)
// that returns one row per finding with the columns domain, host, address
// and evidence (VARCHAR, NULL where the unit has no such part).
type Check struct {
	ID          string // the check's id, its file's name without .sql
	Unit        string // what a finding counts: UnitDomain, UnitMXHost, UnitEndpoint or UnitRecord
	Severity    string // SeverityDeliveryFails, SeverityWeakensSecurity or SeverityAdvice
	Source      string // the RFC section or source it rests on
	Description string // what the check finds, one sentence or two
	SQL         string // the statement, without its header
	File        string // checks/<id>.sql
}

// Checks returns the built-in checks, ordered by severity and id. It
// returns an error when a check file's header is incomplete.
func Checks() ([]Check, error) {
	names, err := fs.Glob(checkFiles, "checks/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Check
	for _, name := range names {
		data, err := checkFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		c, err := parseCheck(name, string(data))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := severityRank(out[i].Severity), severityRank(out[j].Severity); a != b {
			return a < b
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func severityRank(s string) int {
	switch s {
	case SeverityDeliveryFails:
		return 0
	case SeverityWeakensSecurity:
		return 1
	}
	return 2
}

// parseCheck reads the "-- key: value" header of a check file.
func parseCheck(name, text string) (Check, error) {
	c := Check{File: name}
	var body strings.Builder
	sc := bufio.NewScanner(strings.NewReader(text))
	header := true
	for sc.Scan() {
		line := sc.Text()
		if header {
			if k, v, ok := strings.Cut(strings.TrimPrefix(line, "-- "), ": "); ok && strings.HasPrefix(line, "-- ") {
				switch k {
				case "id":
					c.ID = v
				case "unit":
					c.Unit = v
				case "severity":
					c.Severity = v
				case "source":
					c.Source = v
				case "description":
					c.Description = v
				}
				continue
			}
			header = false
		}
		body.WriteString(line)
		body.WriteByte('\n')
	}
	c.SQL = strings.TrimSpace(body.String())
	switch {
	case c.ID == "" || c.Unit == "" || c.Severity == "" || c.Source == "" || c.Description == "" || c.SQL == "":
		return c, fmt.Errorf("check %s: incomplete header (id, unit, severity, source, description) or no statement", name)
	case c.ID+".sql" != path.Base(name):
		return c, fmt.Errorf("check %s: id %q does not match the file name", name, c.ID)
	case severityRank(c.Severity) == 2 && c.Severity != SeverityAdvice:
		return c, fmt.Errorf("check %s: unknown severity %q", name, c.Severity)
	}
	switch c.Unit {
	case UnitDomain, UnitMXHost, UnitEndpoint, UnitRecord:
	default:
		return c, fmt.Errorf("check %s: unknown unit %q", name, c.Unit)
	}
	return c, nil
}

// Run runs check c over the views and inserts its findings into the
// findings table of db (made by Analyze), rank being the check's place in
// Checks. It returns the error of the statement.
func (c Check) Run(ctx context.Context, db *DB, scanID string, rank int) error {
	_, err := db.SQL.ExecContext(ctx, "INSERT INTO "+findingsTable+
		` (scan_id, "check", severity, unit, domain, host, address, evidence, check_rank, row_rank)
		SELECT ?, ?, ?, ?, coalesce(domain, ''), coalesce(host, ''), coalesce(address, ''), coalesce(evidence, ''), ?,
			row_number() OVER (ORDER BY domain, host, address, evidence)
		FROM (`+c.SQL+") AS f", scanID, c.ID, c.Severity, c.Unit, rank)
	if err != nil {
		return fmt.Errorf("check %s: %w", c.ID, err)
	}
	return nil
}
