package datasets

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRowTypesHaveTagsAndUniqueColumns(t *testing.T) {
	for _, d := range tableDefs() {
		t.Run(d.name, func(t *testing.T) {
			p, err := newPlan(d.name, d.typ)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.columns {
				if strings.TrimSpace(c.doc) == "" {
					t.Errorf("column %s has no doc", c.name)
				}
			}
		})
	}
}

func TestNewPlanRejects(t *testing.T) {
	type sub struct {
		X string `col:"x" doc:"x"`
	}
	type noCol struct {
		A string `doc:"a"`
	}
	type noDoc struct {
		A string `col:"a"`
	}
	type dup struct {
		A string `col:"a" doc:"a"`
		B int64  `col:"a" doc:"b"`
	}
	type dupFlat struct {
		AX string `col:"a_x" doc:"a"`
		A  sub    `col:"a" doc:"sub"`
	}
	type badType struct {
		A float64 `col:"a" doc:"a"`
	}
	type subNoDoc struct {
		A struct {
			X string `col:"x"`
		} `col:"a" doc:"a"`
	}
	type nested struct {
		A struct {
			S sub `col:"s" doc:"s"`
		} `col:"a" doc:"a"`
	}
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"missing col", reflect.TypeFor[noCol](), "missing col tag"},
		{"missing doc", reflect.TypeFor[noDoc](), "missing doc tag"},
		{"duplicate column", reflect.TypeFor[dup](), `column "a"`},
		{"duplicate flattened column", reflect.TypeFor[dupFlat](), `column "a_x"`},
		{"unsupported type", reflect.TypeFor[badType](), "unsupported type float64"},
		{"sub-field without doc", reflect.TypeFor[subNoDoc](), "missing doc tag"},
		{"struct nested twice", reflect.TypeFor[nested](), "unsupported type"},
		{"not a struct", reflect.TypeFor[string](), "not a struct"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newPlan("t", tt.typ)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("newPlan(%s) error = %v, want it to contain %q", tt.typ, err, tt.want)
			}
		})
	}
}

func TestNewPlanKinds(t *testing.T) {
	type sub struct {
		N int32 `col:"n" doc:"the n"`
	}
	type row struct {
		S  string    `col:"s" doc:"s"`
		B  bool      `col:"b" doc:"b"`
		I  int32     `col:"i" doc:"i"`
		L  int64     `col:"l" doc:"l"`
		P  *int64    `col:"p" doc:"p"`
		T  time.Time `col:"t" doc:"t"`
		SS []string  `col:"ss" doc:"ss"`
		IS []int32   `col:"is" doc:"is"`
		X  sub       `col:"x" doc:"the x."`
	}
	p, err := newPlan("t", reflect.TypeFor[row]())
	if err != nil {
		t.Fatal(err)
	}
	want := "schema:\n  fields: 9\n" +
		"    - s: type=utf8\n" +
		"    - b: type=bool\n" +
		"    - i: type=int32\n" +
		"    - l: type=int64\n" +
		"    - p: type=int64, nullable\n" +
		"    - t: type=timestamp[us, tz=UTC]\n" +
		"    - ss: type=list<element: utf8>\n" +
		"    - is: type=list<element: int32>\n" +
		"    - x_n: type=int32"
	if got := p.schema.String(); got != want {
		t.Errorf("schema (-want +got):\n%s", lineDiff(strings.Split(want, "\n"), strings.Split(got, "\n")))
	}
	if got, want := p.columns[8].doc, "the x: the n"; got != want {
		t.Errorf("flattened doc = %q, want %q", got, want)
	}
}

func TestArrowSchemaGolden(t *testing.T) {
	for _, tbl := range Tables() {
		t.Run(tbl.Name, func(t *testing.T) {
			s, err := ArrowSchema(tbl.Name)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "testdata/schema_"+tbl.Name+".golden", s.String()+"\n")
		})
	}
}

func TestArrowSchemaUnknownTable(t *testing.T) {
	if _, err := ArrowSchema("endpoints_v0"); err == nil || !strings.Contains(err.Error(), "unknown table") {
		t.Errorf("ArrowSchema(unknown) error = %v, want unknown table", err)
	}
}

func TestTables(t *testing.T) {
	tables := Tables()
	var names []string
	for _, tbl := range tables {
		names = append(names, tbl.Name)
	}
	if d := diff([]string{TableDomains, TableMXHosts, TableEndpoints, TableFindings, TableHandover}, names); d != "" {
		t.Errorf("table names %s", d)
	}
	// Spot checks of the flattening and of declaration order.
	first := tables[0].Columns[0]
	if d := diff(Column{Name: "scan_id", Type: "utf8", Doc: "the scan's identifier, as in manifest.json"}, first); d != "" {
		t.Errorf("first column %s", d)
	}
	var mxQName, rank Column
	for _, c := range tables[0].Columns {
		switch c.Name {
		case "mx_qname":
			mxQName = c
		case "rank":
			rank = c
		}
	}
	if !strings.HasPrefix(mxQName.Doc, "the MX lookup of the domain: the name queried") {
		t.Errorf("mx_qname doc = %q", mxQName.Doc)
	}
	if rank.Type != "int64 (nullable)" {
		t.Errorf("rank type = %q", rank.Type)
	}
}

func TestSchemaMarkdown(t *testing.T) {
	golden(t, "SCHEMA.md", SchemaMarkdown())
}
