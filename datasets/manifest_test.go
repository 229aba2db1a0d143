package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestManifestRoundTrip(t *testing.T) {
	started := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		m    Manifest
	}{
		{
			name: "complete",
			m: Manifest{
				SchemaVersion: SchemaVersion,
				ToolVersion:   "v0.1.0",
				ScanID:        "20240517T120000Z-abcd",
				Started:       started,
				Ended:         started.Add(90 * time.Minute),
				Complete:      true,
				Vantage:       "scanner-1.example.net",
				Command:       []string{"danescan", "scan", "--out", "ds", "tranco.csv"},
				Inputs:        []Input{{Path: "tranco.csv", Format: FormatCSV, SHA256: strings.Repeat("ab", 32), Bytes: 12345, Lines: 1000}},
				Resolvers:     []string{"127.0.0.1:53"},
				Config:        map[string]any{"workers": float64(64), "qps": 100.5, "timeout": "5s", "ipv6": false},
				Counts: Counts{
					Totals:      &Totals{InputLines: 1000, Entries: 1000, Domains: 998, Duplicates: 1, Invalid: 1},
					RowsDomains: 999,
					Failures:    map[string]int64{"timeout": 3},
				},
				Parts: []Part{{Table: TableDomains, Path: "domains/part-00000.parquet", Rows: 999, Bytes: 4096, SHA256: strings.Repeat("cd", 32)}},
			},
		},
		{
			name: "interrupted, still running",
			m: Manifest{
				SchemaVersion: SchemaVersion,
				ScanID:        "x",
				Started:       started,
				InterruptedBy: "SIGINT",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := WriteManifest(dir, &tt.m); err != nil {
				t.Fatal(err)
			}
			got, err := ReadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(&tt.m, got); d != "" {
				t.Errorf("ReadManifest %s", d)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != ManifestName {
				t.Errorf("dataset dir holds %v, want only %s", entries, ManifestName)
			}
		})
	}
}

func TestManifestJSONNames(t *testing.T) {
	dir := t.TempDir()
	m := &Manifest{SchemaVersion: SchemaVersion, Started: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"schema_version": "` + SchemaVersion + `"`, `"started": "2024-01-02T03:04:05Z"`, `"complete": false`, `"interrupted_by": ""`, `"counts": {}`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("manifest.json lacks %s:\n%s", want, data)
		}
	}
	if strings.Contains(string(data), `"ended"`) {
		t.Errorf("manifest.json has an ended time while the scan runs:\n%s", data)
	}
}

func TestReadManifestErrors(t *testing.T) {
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, ManifestName), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		want string
	}{
		{"missing", t.TempDir(), "no such file"},
		{"not JSON", bad, "unexpected end of JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ReadManifest(tt.dir); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadManifest error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRemove(t *testing.T) {
	dir := t.TempDir()
	w, err := NewTableWriter[Domain](dir, TableDomains, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Domain{Domain: "example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := WriteManifest(dir, &Manifest{ScanID: "x"}); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{ManifestName, TableDomains} {
		if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
			t.Errorf("%s is still there", gone)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("Remove deleted a file that is not part of the dataset: %v", err)
	}
	if _, err := NewTableWriter[Domain](dir, TableDomains, WriterOptions{}); err != nil {
		t.Errorf("a new dataset cannot be written after Remove: %v", err)
	}
	if err := Remove(t.TempDir()); err != nil {
		t.Errorf("Remove of an empty directory: %v", err)
	}
}
