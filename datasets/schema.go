// Package datasets holds the data at rest: input list readers, row types,
// Arrow schemas, the Parquet writer and reader, and the manifest.
//
// A dataset is a directory: manifest.json and one folder per table of
// zstd-compressed Parquet parts (Apache Parquet format, written through Apache
// Arrow). The row types in rows.go are the only definition of the columns:
// the Arrow schemas, SCHEMA.md, the writer and the reader are all derived from
// their col and doc struct tags by reflection.
//
// Domain names are normalised following RFC 1034/1035 (LDH host names),
// RFC 5890-5893 (IDNA2008) and UTS #46 (the mapping applied before
// conversion to A-labels); zone files are read in the RFC 1035 master file
// format.
package datasets

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// Table describes one table of a dataset: its name (also the folder of its
// parts) and its columns in declaration order.
type Table struct {
	Name    string
	Columns []Column
}

// Column describes one column of a table: its name, a readable form of its
// Arrow type (e.g. "utf8", "int64 (nullable)", "list<utf8>",
// "timestamp[us, UTC]") and what it means.
type Column struct {
	Name string
	Type string
	Doc  string
	// Values is the closed vocabulary of a string column (its values tag),
	// without the empty value; nil for columns that are not enumerations.
	Values []string
}

// tableDef ties a table name to its row type.
type tableDef struct {
	name string
	typ  reflect.Type
}

// tableDefs returns the tables of a dataset in the order they are documented.
func tableDefs() []tableDef {
	return []tableDef{
		{TableDomains, reflect.TypeFor[Domain]()},
		{TableMXHosts, reflect.TypeFor[MXHost]()},
		{TableEndpoints, reflect.TypeFor[Endpoint]()},
		{TableFindings, reflect.TypeFor[Finding]()},
		{TableHandover, reflect.TypeFor[Handover]()},
	}
}

// lookupTable returns the definition of the named table.
func lookupTable(table string) (tableDef, error) {
	var names []string
	for _, d := range tableDefs() {
		if d.name == table {
			return d, nil
		}
		names = append(names, d.name)
	}
	return tableDef{}, fmt.Errorf("unknown table %q (known: %s)", table, strings.Join(names, ", "))
}

// kind is the Go type of a leaf column, which decides its Arrow type and
// how values are appended and read back.
type kind int

const (
	kindString kind = iota
	kindBool
	kindInt32
	kindInt64
	kindInt64Ptr
	kindTime
	kindStrings
	kindInt32s
	kindBinaries
)

// columnPlan is one leaf column of a row type: where the value lives in the
// struct (a field index path, length 1 or 2 for flattened RRsets), its Arrow
// type and its documentation.
type columnPlan struct {
	name   string
	doc    string
	values []string
	index  []int
	kind   kind
}

// plan is the reflection metadata of a row type, computed once per writer
// or reader so that rows are not re-walked field by field.
type plan struct {
	table   string
	typ     reflect.Type
	columns []columnPlan
	schema  *arrow.Schema
}

var (
	timeType  = reflect.TypeFor[time.Time]()
	int64Ptr  = reflect.TypeFor[*int64]()
	stringsTy = reflect.TypeFor[[]string]()
	int32sTy  = reflect.TypeFor[[]int32]()
	binsTy    = reflect.TypeFor[[][]byte]()
)

// leafKind returns the kind of a non-struct field type, or false when the
// type is not supported.
func leafKind(t reflect.Type) (kind, bool) {
	switch t {
	case timeType:
		return kindTime, true
	case int64Ptr:
		return kindInt64Ptr, true
	case stringsTy:
		return kindStrings, true
	case int32sTy:
		return kindInt32s, true
	case binsTy:
		return kindBinaries, true
	}
	switch t.Kind() {
	case reflect.String:
		return kindString, true
	case reflect.Bool:
		return kindBool, true
	case reflect.Int32:
		return kindInt32, true
	case reflect.Int64:
		return kindInt64, true
	}
	return 0, false
}

// arrowType returns the Arrow type of a kind and whether the column is
// nullable.
func (k kind) arrowType() (arrow.DataType, bool) {
	switch k {
	case kindString:
		return arrow.BinaryTypes.String, false
	case kindBool:
		return arrow.FixedWidthTypes.Boolean, false
	case kindInt32:
		return arrow.PrimitiveTypes.Int32, false
	case kindInt64:
		return arrow.PrimitiveTypes.Int64, false
	case kindInt64Ptr:
		return arrow.PrimitiveTypes.Int64, true
	case kindTime:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, false
	case kindStrings:
		// "element" is the name Parquet gives list elements, so the schema
		// read back from a part is the schema written.
		return arrow.ListOfField(arrow.Field{Name: "element", Type: arrow.BinaryTypes.String}), false
	case kindInt32s:
		return arrow.ListOfField(arrow.Field{Name: "element", Type: arrow.PrimitiveTypes.Int32}), false
	case kindBinaries:
		return arrow.ListOfField(arrow.Field{Name: "element", Type: arrow.BinaryTypes.Binary}), false
	}
	return nil, false
}

// typeName returns the readable type shown in Column.Type and SCHEMA.md.
func (k kind) typeName() string {
	switch k {
	case kindString:
		return "utf8"
	case kindBool:
		return "bool"
	case kindInt32:
		return "int32"
	case kindInt64:
		return "int64"
	case kindInt64Ptr:
		return "int64 (nullable)"
	case kindTime:
		return "timestamp[us, UTC]"
	case kindStrings:
		return "list<utf8>"
	case kindInt32s:
		return "list<int32>"
	case kindBinaries:
		return "list<binary>"
	}
	return "unknown"
}

// tags returns the col and doc tags of a field, or an error naming the
// field when one is missing.
func tags(owner reflect.Type, f reflect.StructField) (col, doc string, err error) {
	col, doc = f.Tag.Get("col"), f.Tag.Get("doc")
	if col == "" {
		return "", "", fmt.Errorf("%s.%s: missing col tag", owner.Name(), f.Name)
	}
	if doc == "" {
		return "", "", fmt.Errorf("%s.%s: missing doc tag", owner.Name(), f.Name)
	}
	return col, doc, nil
}

// values returns the closed vocabulary of a field from its values tag
// (comma-separated), nil without one.
func values(f reflect.StructField) []string {
	v := f.Tag.Get("values")
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// newPlan walks a row type once and returns its plan. It fails when a field
// lacks a col or doc tag, has an unsupported type, or when two columns share
// a name.
func newPlan(table string, t reflect.Type) (*plan, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("table %s: row type %s is not a struct", table, t)
	}
	p := &plan{table: table, typ: t}
	seen := make(map[string]string) // column name -> Go field path
	add := func(c columnPlan, path string) error {
		if prev, ok := seen[c.name]; ok {
			return fmt.Errorf("table %s: column %q of %s repeats the one of %s", table, c.name, path, prev)
		}
		seen[c.name] = path
		p.columns = append(p.columns, c)
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			return nil, fmt.Errorf("table %s: field %s.%s is not exported", table, t.Name(), f.Name)
		}
		col, doc, err := tags(t, f)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", table, err)
		}
		if k, ok := leafKind(f.Type); ok {
			if err := add(columnPlan{name: col, doc: doc, values: values(f), index: []int{i}, kind: k}, t.Name()+"."+f.Name); err != nil {
				return nil, err
			}
			continue
		}
		if f.Type.Kind() != reflect.Struct {
			return nil, fmt.Errorf("table %s: field %s.%s has unsupported type %s", table, t.Name(), f.Name, f.Type)
		}
		// A struct field is flattened one level: <col>_<subcol>.
		st := f.Type
		for j := range st.NumField() {
			sf := st.Field(j)
			if !sf.IsExported() {
				return nil, fmt.Errorf("table %s: field %s.%s is not exported", table, st.Name(), sf.Name)
			}
			subcol, subdoc, err := tags(st, sf)
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", table, err)
			}
			k, ok := leafKind(sf.Type)
			if !ok {
				return nil, fmt.Errorf("table %s: field %s.%s.%s has unsupported type %s", table, t.Name(), f.Name, sf.Name, sf.Type)
			}
			c := columnPlan{
				name:   col + "_" + subcol,
				doc:    strings.TrimSuffix(doc, ".") + ": " + subdoc,
				values: values(sf),
				index:  []int{i, j},
				kind:   k,
			}
			if err := add(c, t.Name()+"."+f.Name+"."+sf.Name); err != nil {
				return nil, err
			}
		}
	}
	fields := make([]arrow.Field, len(p.columns))
	for i, c := range p.columns {
		typ, nullable := c.kind.arrowType()
		fields[i] = arrow.Field{Name: c.name, Type: typ, Nullable: nullable}
	}
	p.schema = arrow.NewSchema(fields, nil)
	return p, nil
}

// planFor returns the plan of the named table and checks that T is its row
// type.
func planFor[T any](table string) (*plan, error) {
	d, err := lookupTable(table)
	if err != nil {
		return nil, err
	}
	if got := reflect.TypeFor[T](); got != d.typ {
		return nil, fmt.Errorf("table %s holds rows of type %s, not %s", table, d.typ, got)
	}
	return newPlan(d.name, d.typ)
}

// Tables returns the tables of a dataset ("domains", then "mx_hosts") with
// their columns in declaration order. It returns nil only if the row types
// in rows.go are malformed, which the package's tests rule out.
func Tables() []Table {
	var out []Table
	for _, d := range tableDefs() {
		p, err := newPlan(d.name, d.typ)
		if err != nil {
			return nil
		}
		t := Table{Name: d.name, Columns: make([]Column, len(p.columns))}
		for i, c := range p.columns {
			t.Columns[i] = Column{Name: c.name, Type: c.kind.typeName(), Doc: c.doc, Values: c.values}
		}
		out = append(out, t)
	}
	return out
}

// ArrowSchema returns the Arrow schema of the named table. Columns are not
// nullable except the *int64 ones; lists are never null (but may be empty).
// It returns an error for an unknown table.
func ArrowSchema(table string) (*arrow.Schema, error) {
	d, err := lookupTable(table)
	if err != nil {
		return nil, err
	}
	p, err := newPlan(d.name, d.typ)
	if err != nil {
		return nil, err
	}
	return p.schema, nil
}
