package analysis

import (
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Output formats of Query.
const (
	FormatTable = "table"
	FormatCSV   = "csv"
	FormatJSON  = "json" // JSON lines, one object per row
)

// maxCell bounds a table cell's width; longer values are cut with "…".
const maxCell = 60

// Query runs one SQL statement and writes its result to w as an aligned
// text table, CSV (with a header) or JSON lines. Binary values are written
// as hex, lists as JSON arrays in CSV and table cells, NULL as an empty
// cell (null in JSON). It returns the error of the statement or of the
// writing.
func (d *DB) Query(ctx context.Context, q string, w io.Writer, format string) error {
	rows, err := d.SQL.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	var table [][]string
	var cw *csv.Writer
	enc := json.NewEncoder(w)
	switch format {
	case FormatCSV:
		cw = csv.NewWriter(w)
		cw.Write(cols)
	case FormatJSON, FormatTable:
	default:
		return fmt.Errorf("unknown format %q (table, csv, json)", format)
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		switch format {
		case FormatJSON:
			obj := make(map[string]any, len(cols))
			for i, c := range cols {
				obj[c] = jsonValue(vals[i])
			}
			if err := enc.Encode(orderedObject{cols, obj}); err != nil {
				return err
			}
		case FormatCSV:
			rec := make([]string, len(cols))
			for i := range vals {
				rec[i] = cell(vals[i])
			}
			cw.Write(rec)
		default:
			rec := make([]string, len(cols))
			for i := range vals {
				rec[i] = cut(cell(vals[i]))
			}
			table = append(table, rec)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	switch format {
	case FormatCSV:
		cw.Flush()
		return cw.Error()
	case FormatTable:
		return writeTable(w, cols, table)
	}
	return nil
}

// orderedObject is a JSON object that keeps the column order.
type orderedObject struct {
	keys []string
	vals map[string]any
}

// MarshalJSON writes the object with its keys in column order.
func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// jsonValue converts a scanned value for JSON: bytes as hex, times as RFC
// 3339, lists element by element.
func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return hex.EncodeToString(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = jsonValue(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	}
	return v
}

// cell renders a scanned value as text.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return hex.EncodeToString(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case []any, map[string]any:
		b, err := json.Marshal(jsonValue(x))
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
	return fmt.Sprint(v)
}

func cut(s string) string {
	s = strings.ReplaceAll(s, "\n", `\n`)
	if utf8.RuneCountInString(s) <= maxCell {
		return s
	}
	r := []rune(s)
	return string(r[:maxCell-1]) + "…"
}

// writeTable writes an aligned text table with a header and a row count.
func writeTable(w io.Writer, cols []string, rows [][]string) error {
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = utf8.RuneCountInString(c)
	}
	for _, r := range rows {
		for i, v := range r {
			width[i] = max(width[i], utf8.RuneCountInString(v))
		}
	}
	var b strings.Builder
	line := func(vals []string) {
		for i, v := range vals {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(v)
			if i < len(vals)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(v)))
			}
		}
		b.WriteByte('\n')
	}
	line(cols)
	sep := make([]string, len(cols))
	for i := range cols {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
	fmt.Fprintf(&b, "(%d rows)\n", len(rows))
	_, err := io.WriteString(w, b.String())
	return err
}
