package datasets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ReadTable reads all parts of the named table of the dataset in datasetDir
// (datasetDir/table/part-*.parquet, in name order) into rows. Columns are
// matched by name; times come back in UTC and empty lists as nil. It returns
// an error when T is not the table's row type, when a part cannot be read,
// belongs to another table or schema version, or lacks a column.
func ReadTable[T any](datasetDir, table string) ([]T, error) {
	p, err := planFor[T](table)
	if err != nil {
		return nil, fmt.Errorf("read table: %w", err)
	}
	dir := filepath.Join(datasetDir, table)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", table, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && isPartName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	var rows []T
	for _, name := range names {
		rows, err = readPart(filepath.Join(dir, name), p, rows)
		if err != nil {
			return nil, fmt.Errorf("read table %s: %w", table, err)
		}
	}
	return rows, nil
}

// readPart appends the rows of one part to rows.
func readPart[T any](path string, p *plan, rows []T) ([]T, error) {
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return rows, fmt.Errorf("open %s: %w", path, err)
	}
	defer rdr.Close()
	kv := rdr.MetaData().KeyValueMetadata()
	if v := kv.FindValue(MetaTable); v == nil || *v != p.table {
		return rows, fmt.Errorf("%s: not a part of table %s (%s is %s)", path, p.table, MetaTable, deref(v))
	}
	if v := kv.FindValue(MetaSchemaVersion); v == nil || *v != SchemaVersion {
		return rows, fmt.Errorf("%s: schema version %s, this build reads %s", path, deref(v), SchemaVersion)
	}
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return rows, fmt.Errorf("%s: %w", path, err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return rows, fmt.Errorf("%s: %w", path, err)
	}
	defer tbl.Release()
	// Column positions by name, so that the order in the file does not matter.
	pos := make([]int, len(p.columns))
	for i, c := range p.columns {
		idx := tbl.Schema().FieldIndices(c.name)
		if len(idx) != 1 {
			return rows, fmt.Errorf("%s: column %s missing or repeated", path, c.name)
		}
		pos[i] = idx[0]
	}
	tr := array.NewTableReader(tbl, 64<<10)
	defer tr.Release()
	setters := make([]func(i int, row reflect.Value), len(p.columns))
	for tr.Next() {
		rec := tr.RecordBatch()
		for i, c := range p.columns {
			s, err := setter(c, rec.Column(pos[i]))
			if err != nil {
				return rows, fmt.Errorf("%s: %w", path, err)
			}
			setters[i] = s
		}
		start := len(rows)
		rows = slices.Grow(rows, int(rec.NumRows()))
		rows = rows[:start+int(rec.NumRows())]
		clear(rows[start:])
		for r := range int(rec.NumRows()) {
			v := reflect.ValueOf(&rows[start+r]).Elem()
			for _, s := range setters {
				s(r, v)
			}
		}
	}
	if err := tr.Err(); err != nil {
		return rows, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// deref returns *s, or "missing" for nil.
func deref(s *string) string {
	if s == nil {
		return "missing"
	}
	return *s
}

// setter returns the function that stores value i of arr in a row's field.
// It returns an error when the array's type does not fit the column.
func setter(c columnPlan, arr arrow.Array) (func(i int, row reflect.Value), error) {
	get := field(c.index)
	mismatch := fmt.Errorf("column %s: type %s, want %s", c.name, arr.DataType(), c.kind.typeName())
	switch c.kind {
	case kindString:
		a, ok := arr.(*array.String)
		if !ok {
			return nil, mismatch
		}
		return func(i int, v reflect.Value) { get(v).SetString(strings.Clone(a.Value(i))) }, nil
	case kindBool:
		a, ok := arr.(*array.Boolean)
		if !ok {
			return nil, mismatch
		}
		return func(i int, v reflect.Value) { get(v).SetBool(a.Value(i)) }, nil
	case kindInt32:
		a, ok := arr.(*array.Int32)
		if !ok {
			return nil, mismatch
		}
		return func(i int, v reflect.Value) { get(v).SetInt(int64(a.Value(i))) }, nil
	case kindInt64, kindInt64Ptr:
		a, ok := arr.(*array.Int64)
		if !ok {
			return nil, mismatch
		}
		if c.kind == kindInt64 {
			return func(i int, v reflect.Value) { get(v).SetInt(a.Value(i)) }, nil
		}
		return func(i int, v reflect.Value) {
			if a.IsNull(i) {
				return // the row is zero, so the pointer is nil already
			}
			n := a.Value(i)
			get(v).Set(reflect.ValueOf(&n))
		}, nil
	case kindTime:
		a, ok := arr.(*array.Timestamp)
		if !ok {
			return nil, mismatch
		}
		unit := a.DataType().(*arrow.TimestampType).Unit
		return func(i int, v reflect.Value) {
			get(v).Set(reflect.ValueOf(a.Value(i).ToTime(unit).UTC()))
		}, nil
	case kindStrings:
		return listSetter(arr, get, mismatch, func(a *array.String, j int) string { return strings.Clone(a.Value(j)) })
	case kindInt32s:
		return listSetter(arr, get, mismatch, func(a *array.Int32, j int) int32 { return a.Value(j) })
	case kindBinaries:
		return listSetter(arr, get, mismatch, func(a *array.Binary, j int) []byte { return slices.Clone(a.Value(j)) })
	}
	return nil, mismatch
}

// ReadPartMetadata returns the Parquet key-value metadata of the part at
// path: MetaSchemaVersion, MetaTable, the writer's extra metadata, and the
// serialised Arrow schema under "ARROW:schema".
func ReadPartMetadata(path string) (map[string]string, error) {
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("read part metadata: open %s: %w", path, err)
	}
	defer rdr.Close()
	kv := rdr.MetaData().KeyValueMetadata()
	keys, values := kv.Keys(), kv.Values()
	m := make(map[string]string, len(keys))
	for i, k := range keys {
		m[k] = values[i]
	}
	return m, nil
}

// listSetter returns the setter of a list column whose elements are an
// array of type A, each copied out with elem (the row must not keep Arrow
// memory). An empty list leaves the field nil. It returns mismatch when
// arr is not a list of A.
func listSetter[A arrow.Array, E any](arr arrow.Array, get func(reflect.Value) reflect.Value, mismatch error, elem func(A, int) E) (func(int, reflect.Value), error) {
	a, ok := arr.(*array.List)
	if !ok {
		return nil, mismatch
	}
	vals, ok := a.ListValues().(A)
	if !ok {
		return nil, mismatch
	}
	return func(i int, v reflect.Value) {
		start, end := a.ValueOffsets(i)
		if start == end {
			return
		}
		l := make([]E, 0, end-start)
		for j := start; j < end; j++ {
			l = append(l, elem(vals, int(j)))
		}
		get(v).Set(reflect.ValueOf(l))
	}, nil
}
