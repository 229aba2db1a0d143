package datasets

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHandoverTable: a dataset created with the handover table keeps its
// rows (the TLSA records in wire form byte for byte), lists its parts in
// the manifest, and EachPart reads them back part by part; a dataset
// without it refuses handover rows.
func TestHandoverTable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	man := &Manifest{SchemaVersion: SchemaVersion, ScanID: "s", Step: StepDNS, Started: time.Now()}
	w, err := Create(dir, man, CreateOptions{PartRows: 2, Handover: true})
	if err != nil {
		t.Fatal(err)
	}
	var want []Handover
	for i := range 5 {
		h := Handover{ScanID: "s", Host: "mx.example", TLSABaseDomain: "mx.example", Address: "192.0.2.1", SigAlgs: "any",
			Position: int32(i), Endpoints: 5, Validating: true, TLSAState: TLSAStateDANE, TLSADNSSEC: DNSSECSecure,
			TLSAWire: [][]byte{{0, 1, 2, 255}, {}}, Failure: "", Error: ""}
		if i == 4 {
			h.Failure, h.Error = "excluded", "excluded by the exclusion list"
		}
		want = append(want, h)
		if err := w.WriteHandover(&h); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(man); err != nil {
		t.Fatal(err)
	}
	parts := 0
	for _, p := range man.Parts {
		if p.Table == TableHandover {
			parts++
		}
	}
	if parts != 3 {
		t.Errorf("manifest lists %d handover parts, want 3 (5 rows, 2 a part)", parts)
	}
	var got []Handover
	calls := 0
	err = EachPart(dir, TableHandover, func(rows []Handover) error {
		calls++
		got = append(got, rows...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(want, got); d != "" || calls != 3 {
		t.Errorf("EachPart: %d calls, rows %s", calls, d)
	}
	if err := EachPart(dir, TableEndpoints, func([]Endpoint) error { return nil }); err != nil {
		t.Errorf("EachPart of an empty table: %v", err)
	}

	plain := filepath.Join(t.TempDir(), "plain")
	w, err = Create(plain, &Manifest{SchemaVersion: SchemaVersion, ScanID: "s"}, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(&Manifest{})
	if err := w.WriteHandover(&want[0]); err == nil || !strings.Contains(err.Error(), "no handover table") {
		t.Errorf("WriteHandover without the table: %v", err)
	}
}
