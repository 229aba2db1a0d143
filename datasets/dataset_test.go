package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readManifest reads the manifest of dir or fails the test.
func readManifest(t *testing.T, dir string) *Manifest {
	t.Helper()
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// partPaths returns the paths of the parts listed by m.
func partPaths(m *Manifest) []string {
	var out []string
	for _, p := range m.Parts {
		out = append(out, p.Path)
	}
	return out
}

func TestWriterCheckpointsAndClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	started := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	start := &Manifest{SchemaVersion: SchemaVersion, ScanID: "scan-1", Started: started}
	w, err := Create(dir, start, CreateOptions{PartRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	domains, hosts := sampleDomains(3), sampleMXHosts(1)

	// Each step writes rows, checkpoints with the counts so far and says
	// what the manifest on disk lists then.
	steps := []struct {
		name   string
		write  func() error
		counts Counts
		parts  []string // the manifest's parts after the step
		rows   int64    // its rows_domains
	}{
		{"created", func() error { return nil }, Counts{}, nil, 0},
		{"no part finished: no new manifest", func() error { return w.WriteDomain(&domains[0]) }, Counts{RowsDomains: 1}, nil, 0},
		{"a part finished", func() error { return w.WriteDomain(&domains[1]) }, Counts{RowsDomains: 2}, []string{"domains/part-00000.parquet"}, 2},
		{"flushed", func() error {
			if err := w.WriteHost(&hosts[0]); err != nil {
				return err
			}
			return w.Flush()
		}, Counts{RowsDomains: 2, RowsMXHosts: 1}, []string{"domains/part-00000.parquet", "mx_hosts/part-00000.parquet"}, 2},
	}
	for _, s := range steps {
		if err := s.write(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if err := w.Checkpoint(&s.counts); err != nil {
			t.Fatalf("%s: Checkpoint: %v", s.name, err)
		}
		m := readManifest(t, dir)
		if m.Complete || m.ScanID != "scan-1" || !m.Started.Equal(started) || !m.Ended.IsZero() {
			t.Errorf("%s: manifest complete=%v scan_id=%q started=%v ended=%v; want the start manifest", s.name, m.Complete, m.ScanID, m.Started, m.Ended)
		}
		if d := diff(s.parts, partPaths(m)); d != "" {
			t.Errorf("%s: parts %s", s.name, d)
		}
		if m.Counts.RowsDomains != s.rows {
			t.Errorf("%s: rows_domains = %d, want %d", s.name, m.Counts.RowsDomains, s.rows)
		}
	}

	if err := w.WriteDomain(&domains[2]); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEndpoint(&Endpoint{ScanID: "scan-1", Host: "mx.example.com"}); err != nil {
		t.Fatal(err)
	}
	final := *start
	final.Ended, final.Complete = started.Add(time.Minute), true
	final.Counts = Counts{Totals: &Totals{Domains: 3}, RowsDomains: 3, RowsMXHosts: 1, RowsEndpoints: 1}
	if err := w.Close(&final); err != nil {
		t.Fatal(err)
	}
	wantParts := []string{"domains/part-00000.parquet", "domains/part-00001.parquet", "mx_hosts/part-00000.parquet", "endpoints/part-00000.parquet"}
	if d := diff(wantParts, partPaths(&final)); d != "" {
		t.Errorf("Close: final.Parts %s", d)
	}
	if d := diff(&final, readManifest(t, dir)); d != "" {
		t.Errorf("final manifest on disk %s", d)
	}
	got, err := ReadTable[Domain](dir, TableDomains)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Errorf("%d domains rows read back, want 3", len(got))
	}
	if p := final.Parts[0]; p.Table != TableDomains || p.Rows != 2 || p.SHA256 == "" {
		t.Errorf("first part = %+v", p)
	}
}

func TestCreateRefuses(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(tmp, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteManifest(existing, &Manifest{ScanID: "earlier"}); err != nil {
		t.Fatal(err)
	}
	strayParts := filepath.Join(tmp, "stray", TableEndpoints)
	if err := os.MkdirAll(strayParts, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(strayParts, "part-00000.parquet"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		want string
	}{
		{"holds a dataset", existing, "already holds a dataset"},
		{"not writable", filepath.Join(file, "out"), "not writable"},
		{"a table folder holds parts", filepath.Dir(strayParts), "already holds parts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Create(tt.dir, &Manifest{ScanID: "new"}, CreateOptions{})
			if err == nil || w != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Create = %v, %v; want an error with %q", w, err, tt.want)
			}
			if m, err := ReadManifest(tt.dir); err == nil && m.ScanID == "new" {
				t.Errorf("Create wrote a manifest although it failed")
			}
		})
	}
	if m := readManifest(t, existing); m.ScanID != "earlier" {
		t.Errorf("the earlier dataset's manifest was touched: scan_id %q", m.ScanID)
	}
}

func TestCreateReplace(t *testing.T) {
	dir := t.TempDir()
	first, err := Create(dir, &Manifest{ScanID: "first"}, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows := sampleDomains(1)
	if err := first.WriteDomain(&rows[0]); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(&Manifest{ScanID: "first", Complete: true}); err != nil {
		t.Fatal(err)
	}
	second, err := Create(dir, &Manifest{ScanID: "second"}, CreateOptions{Replace: true})
	if err != nil {
		t.Fatalf("Create with Replace: %v", err)
	}
	if err := second.Close(&Manifest{ScanID: "second", Complete: true}); err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, dir)
	if m.ScanID != "second" || len(m.Parts) != 0 {
		t.Errorf("after Replace the manifest is scan %q with parts %v; want the second scan, no parts", m.ScanID, partPaths(m))
	}
	if got, err := ReadTable[Domain](dir, TableDomains); err != nil || len(got) != 0 {
		t.Errorf("after Replace the domains table holds %d rows (%v); want none", len(got), err)
	}
}
