package analysis

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/danescan/danescan/datasets"
)

// findingsTable is the DuckDB table the checks insert their findings into:
// the columns of the findings table (datasets.TableFindings), then
// check_rank (the check's place in Checks) and row_rank (the finding's
// place among the check's, by domain, host, address and evidence), which
// keep the order of the findings. The view findings reads its findings
// columns.
const findingsTable = "analysis_findings"

// createFindings creates findingsTable, its columns taken from the
// datasets schema, and makes the view findings read it.
func createFindings(ctx context.Context, db *DB) error {
	t, err := findingsSchema()
	if err != nil {
		return err
	}
	cols := make([]string, 0, len(t.Columns)+2)
	names := make([]string, 0, len(t.Columns))
	for _, c := range t.Columns {
		cols = append(cols, quoteIdent(c.Name)+" "+duckType(c.Type))
		names = append(names, quoteIdent(c.Name))
	}
	cols = append(cols, "check_rank INTEGER", "row_rank BIGINT")
	for _, q := range []string{
		"CREATE TABLE " + findingsTable + " (" + strings.Join(cols, ", ") + ")",
		"CREATE OR REPLACE VIEW findings AS SELECT " + strings.Join(names, ", ") + " FROM " + findingsTable,
	} {
		if _, err := db.SQL.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("findings table: %w", err)
		}
	}
	return nil
}

func findingsSchema() (datasets.Table, error) {
	for _, t := range datasets.Tables() {
		if t.Name == datasets.TableFindings {
			return t, nil
		}
	}
	return datasets.Table{}, fmt.Errorf("the datasets schema has no table %s", datasets.TableFindings)
}

// readFindings reads the findings out of findingsTable once, in the
// order of the checks and, within a check, by domain, host, address and
// evidence. The columns are matched to datasets.Finding by its col tags.
func readFindings(ctx context.Context, db *DB) ([]datasets.Finding, error) {
	t, err := findingsSchema()
	if err != nil {
		return nil, err
	}
	typ := reflect.TypeFor[datasets.Finding]()
	fieldOf := map[string]int{}
	for i := range typ.NumField() {
		fieldOf[typ.Field(i).Tag.Get("col")] = i
	}
	names := make([]string, len(t.Columns))
	fields := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		f, ok := fieldOf[c.Name]
		if !ok || typ.Field(f).Type.Kind() != reflect.String {
			return nil, fmt.Errorf("findings column %s is not a string field of datasets.Finding", c.Name)
		}
		names[i], fields[i] = quoteIdent(c.Name), f
	}
	rows, err := db.SQL.QueryContext(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+findingsTable+" ORDER BY check_rank, row_rank")
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	defer rows.Close()
	var out []datasets.Finding
	dest := make([]any, len(fields))
	for rows.Next() {
		var x datasets.Finding
		v := reflect.ValueOf(&x).Elem()
		for i, f := range fields {
			dest[i] = v.Field(f).Addr().Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read findings: %w", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	return out, nil
}
