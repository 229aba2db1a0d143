package analysis

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/danescan/danescan/datasets"
)

// vocabularies returns, per column name, the closed vocabulary that the
// dataset documents for it (datasets' values tags). A name that some
// table uses without a vocabulary (domains.failure against
// endpoints.failure) is left out: a literal compared with it cannot be
// checked.
func vocabularies() map[string][]string {
	out := map[string][]string{}
	open := map[string]bool{}
	for _, table := range datasets.Tables() {
		for _, col := range table.Columns {
			if col.Values == nil {
				open[col.Name] = true
				continue
			}
			for _, v := range col.Values {
				if !slices.Contains(out[col.Name], v) {
					out[col.Name] = append(out[col.Name], v)
				}
			}
		}
	}
	for name := range open {
		delete(out, name)
	}
	return out
}

var (
	// compared matches "column = 'x'", "column <> 'x'" and "column != 'x'",
	// qualified or not.
	compared = regexp.MustCompile(`(?i)\b([a-z_][a-z0-9_]*)\s*(?:=|<>|!=)\s*'([^']*)'`)
	// listed matches "column IN ('x', 'y')" and "column NOT IN (...)".
	listed  = regexp.MustCompile(`(?i)\b([a-z_][a-z0-9_]*)\s+(?:NOT\s+)?IN\s*\(([^)]*)\)`)
	literal = regexp.MustCompile(`'([^']*)'`)
)

// sqlLiterals returns the (column, literal) pairs that sql compares.
func sqlLiterals(sql string) [][2]string {
	var out [][2]string
	for _, m := range compared.FindAllStringSubmatch(sql, -1) {
		out = append(out, [2]string{strings.ToLower(m[1]), m[2]})
	}
	for _, m := range listed.FindAllStringSubmatch(sql, -1) {
		for _, l := range literal.FindAllStringSubmatch(m[2], -1) {
			out = append(out, [2]string{strings.ToLower(m[1]), l[1]})
		}
	}
	return out
}

// TestSQLUsesListedValues checks that the SQL of the checks and the report
// compares the dataset's enumerated columns only with values that the
// column's documentation lists: a misspelt or retired value would make a
// check silently count nothing.
func TestSQLUsesListedValues(t *testing.T) {
	vocab := vocabularies()
	for _, name := range []string{"dane_status", "tlsa_state", "mx_kind", "tlsa_dnssec"} {
		if len(vocab[name]) == 0 {
			t.Fatalf("no vocabulary for %s: the datasets values tags are missing", name)
		}
	}
	files, err := filepath.Glob("checks/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	queries, err := filepath.Glob("queries/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, queries...)
	if len(files) < 20 {
		t.Fatalf("found only %d SQL files", len(files))
	}
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, pair := range sqlLiterals(string(b)) {
			col, lit := pair[0], pair[1]
			values, ok := vocab[col]
			if !ok || lit == "" {
				continue
			}
			checked++
			if !slices.Contains(values, lit) {
				t.Errorf("%s compares %s with %q, which is not among its values %v", f, col, lit, values)
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d comparisons with enumerated columns found: the patterns no longer match the SQL", checked)
	}
}

func TestSQLLiterals(t *testing.T) {
	got := sqlLiterals(`WHERE e.dane_status = 'pass' AND tlsa_state IN ('dane', 'unusable') AND x <> 'y' AND d.mx_kind NOT IN ('none')`)
	want := [][2]string{{"dane_status", "pass"}, {"x", "y"}, {"tlsa_state", "dane"}, {"tlsa_state", "unusable"}, {"mx_kind", "none"}}
	if !slices.Equal(got, want) {
		t.Errorf("sqlLiterals = %v, want %v", got, want)
	}
}
