package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// crashedDataset writes a dataset in dir as a scan killed with SIGKILL
// leaves it: parts of 2 rows listed by the last checkpoint (domains 0-3,
// hosts 0-1), a part finished after it (unlisted) and a part being
// written (a temporary file).
func crashedDataset(t *testing.T, dir string) (*Manifest, []Domain) {
	t.Helper()
	start := &Manifest{SchemaVersion: SchemaVersion, ScanID: "scan-1", Started: time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)}
	w, err := Create(dir, start, CreateOptions{PartRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	domains, hosts := sampleDomains(6), sampleMXHosts(2)
	for i := range 4 {
		if err := w.WriteDomain(&domains[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range hosts {
		if err := w.WriteHost(&hosts[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Checkpoint(&Counts{RowsDomains: 4, RowsMXHosts: 2}); err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, dir)
	// After the checkpoint: one more part finished, one being written.
	for i := 4; i < 6; i++ {
		if err := w.WriteDomain(&domains[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "endpoints", ".part-00000.parquet.tmp"), []byte("half a part"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The writer is dropped, not closed: the process died, and its lock
	// with it.
	if w.lock != nil {
		w.lock.Close()
	}
	if got := partPaths(m); !slices.Equal(got, []string{"domains/part-00000.parquet", "domains/part-00001.parquet", "mx_hosts/part-00000.parquet"}) {
		t.Fatalf("the checkpoint lists %v", got)
	}
	return m, domains
}

// files returns the files below dir, slash-separated and relative, the
// lock file (LockName) aside.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != LockName {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// TestResume: Resume removes the parts the manifest does not list,
// replaces the listed parts named in Rewrite by new ones (numbered after
// every part left in the folder) holding the rows kept, keeps the others as
// they are, and lists the kept parts before the new ones from then on.
func TestResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	_, domains := crashedDataset(t, dir)
	resumed := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	start := &Manifest{SchemaVersion: SchemaVersion, ScanID: "scan-1", Started: time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC), Resumed: []time.Time{resumed}}
	w, err := Resume(dir, start, ResumeOptions{
		PartRows:   2,
		Rewrite:    map[string]bool{"domains/part-00000.parquet": true},
		KeepDomain: func(d *Domain) bool { return d.Domain != domains[0].Domain },
	})
	if err != nil {
		t.Fatal(err)
	}
	// The unlisted part-00002 is gone first; the new part takes its number.
	want := []string{"domains/part-00001.parquet", "mx_hosts/part-00000.parquet", "domains/part-00002.parquet"}
	m := readManifest(t, dir)
	if got := partPaths(m); !slices.Equal(got, want) {
		t.Errorf("manifest after Resume lists %v; want %v", got, want)
	}
	if got := files(t, dir); !slices.Equal(got, []string{"domains/part-00001.parquet", "domains/part-00002.parquet", ManifestName, "mx_hosts/part-00000.parquet"}) {
		t.Errorf("files after Resume: %v; want the listed parts and the manifest only", got)
	}
	if m.Complete || len(m.Resumed) != 1 || !m.Resumed[0].Equal(resumed) {
		t.Errorf("manifest complete %v resumed %v", m.Complete, m.Resumed)
	}
	// The scan goes on: new rows land in new parts.
	more := sampleDomains(8)[6:]
	for i := range more {
		if err := w.WriteDomain(&more[i]); err != nil {
			t.Fatal(err)
		}
	}
	final := *start
	final.Complete = true
	if err := w.Close(&final); err != nil {
		t.Fatal(err)
	}
	m = readManifest(t, dir)
	want = append(want, "domains/part-00003.parquet")
	if got := partPaths(m); !slices.Equal(got, want) || !m.Complete {
		t.Errorf("final manifest lists %v (complete %v); want %v", got, m.Complete, want)
	}
	rows, err := ReadTable[Domain](dir, TableDomains)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows {
		names = append(names, r.Domain)
	}
	slices.Sort(names)
	wantNames := []string{domains[1].Domain, domains[2].Domain, domains[3].Domain, more[0].Domain, more[1].Domain}
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Errorf("domains after resume %v; want %v (row 0 dropped, 4 and 5 lost with their unlisted part)", names, wantNames)
	}
}

// TestResumeCrashedResume: a resume killed after writing the new parts
// but before the manifest listed them (or after, before the old parts
// were removed) leaves files the manifest does not list; the next resume
// removes them and reads the dataset as the manifest says.
func TestResumeCrashedResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	m, _ := crashedDataset(t, dir)
	// What a resume killed between steps 2 and 3 leaves: a new part.
	data, err := os.ReadFile(filepath.Join(dir, "domains", "part-00000.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "domains", "part-00009.parquet"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Resume(dir, m, ResumeOptions{PartRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(m); err != nil {
		t.Fatal(err)
	}
	if got := files(t, dir); !slices.Equal(got, []string{"domains/part-00000.parquet", "domains/part-00001.parquet", ManifestName, "mx_hosts/part-00000.parquet"}) {
		t.Errorf("files: %v; want the listed parts only", got)
	}
	rows, err := ReadTable[Domain](dir, TableDomains)
	if err != nil || len(rows) != 4 {
		t.Errorf("%d domains rows (%v); want the 4 listed", len(rows), err)
	}
}

// TestResumeErrors: no dataset, and a listed part that is missing or
// damaged, are errors of one line naming them; the damaged dataset is
// left as it was.
func TestResumeErrors(t *testing.T) {
	if _, err := Resume(t.TempDir(), &Manifest{}, ResumeOptions{}); err == nil || !strings.Contains(err.Error(), "holds no dataset") {
		t.Errorf("no dataset: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "ds")
	m, _ := crashedDataset(t, dir)
	p := filepath.Join(dir, "domains", "part-00000.parquet")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPart[Domain](dir, m.Parts[0]); err == nil || !strings.Contains(err.Error(), "domains/part-00000.parquet is damaged") {
		t.Errorf("ReadPart of a damaged part: %v", err)
	}
	_, err = Resume(dir, m, ResumeOptions{Rewrite: map[string]bool{"domains/part-00000.parquet": true}})
	if err == nil || !strings.Contains(err.Error(), "is damaged") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Resume rewriting a damaged part: %v", err)
	}
	if got := partPaths(readManifest(t, dir)); !slices.Equal(got, partPaths(m)) {
		t.Errorf("the manifest changed: %v", got)
	}
	os.Remove(p)
	if _, err := ReadPart[Domain](dir, m.Parts[0]); err == nil || !strings.Contains(err.Error(), "listed in the manifest") {
		t.Errorf("ReadPart of a missing part: %v", err)
	}
}

// TestLock: while a Writer (made by Create or Resume) writes a dataset,
// another Create (even with Replace), Resume or InUse on its directory
// is refused with one line saying it is in use; once it is closed, the
// dataset can be resumed.
func TestLock(t *testing.T) {
	if _, err := os.Stat("/proc/self"); err != nil {
		t.Skip("flock semantics checked on Linux only")
	}
	dir := filepath.Join(t.TempDir(), "ds")
	start := &Manifest{SchemaVersion: SchemaVersion, ScanID: "scan-1"}
	w, err := Create(dir, start, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inUse := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "is in use by another danescan process") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s while a writer holds the directory: %v; want one line saying it is in use", what, err)
		}
	}
	_, err = Create(dir, start, CreateOptions{Replace: true})
	inUse("Create with Replace", err)
	_, err = Resume(dir, start, ResumeOptions{})
	inUse("Resume", err)
	inUse("InUse", InUse(dir))
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err != nil {
		t.Errorf("the refused Create removed the dataset: %v", err)
	}
	if err := w.Close(start); err != nil {
		t.Fatal(err)
	}
	if err := InUse(dir); err != nil {
		t.Errorf("InUse after Close: %v", err)
	}
	w, err = Resume(dir, start, ResumeOptions{})
	if err != nil {
		t.Fatalf("Resume after Close: %v", err)
	}
	inUse("InUse while resumed", InUse(dir))
	if err := w.Close(start); err != nil {
		t.Fatal(err)
	}
}

// TestResumeHandover: the dataset of a DNS step (CreateOptions.Handover)
// is resumed with its handover table: an unlisted handover part is
// removed, a listed one in Rewrite keeps the rows KeepHandover keeps, and
// the Writer takes handover rows again, into new parts listed after the
// kept ones.
func TestResumeHandover(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	start := &Manifest{SchemaVersion: SchemaVersion, ScanID: "scan-1", Step: StepDNS}
	w, err := Create(dir, start, CreateOptions{PartRows: 2, Handover: true})
	if err != nil {
		t.Fatal(err)
	}
	handover := func(host string, pos int32) *Handover {
		return &Handover{ScanID: "scan-1", Host: host, Address: "192.0.2.1", SigAlgs: "any", Position: pos, Endpoints: 2}
	}
	for _, h := range []*Handover{handover("a.example", 0), handover("a.example", 1), handover("b.example", 0), handover("c.example", 0)} {
		if err := w.WriteHandover(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Checkpoint(&Counts{RowsHandover: 4}); err != nil {
		t.Fatal(err)
	}
	// After the checkpoint, a part finished and not listed.
	for _, h := range []*Handover{handover("c.example", 1), handover("d.example", 0)} {
		if err := w.WriteHandover(h); err != nil {
			t.Fatal(err)
		}
	}
	if w.lock != nil {
		w.lock.Close()
	}
	if got := files(t, dir); !slices.Contains(got, "handover/part-00002.parquet") {
		t.Fatalf("files before the resume: %v; want an unlisted third handover part", got)
	}
	w, err = Resume(dir, start, ResumeOptions{
		PartRows:     2,
		Handover:     true,
		Rewrite:      map[string]bool{"handover/part-00001.parquet": true},
		KeepHandover: func(h *Handover) bool { return h.Host != "c.example" },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []*Handover{handover("c.example", 0), handover("c.example", 1)} {
		if err := w.WriteHandover(h); err != nil {
			t.Fatal(err)
		}
	}
	final := *start
	final.Complete = true
	if err := w.Close(&final); err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, dir)
	if got, want := partPaths(m), []string{"handover/part-00000.parquet", "handover/part-00002.parquet", "handover/part-00003.parquet"}; !slices.Equal(got, want) {
		t.Errorf("manifest lists %v; want %v", got, want)
	}
	rows, err := ReadTable[Handover](dir, TableHandover)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s/%d", r.Host, r.Position))
	}
	slices.Sort(got)
	if want := []string{"a.example/0", "a.example/1", "b.example/0", "c.example/0", "c.example/1"}; !slices.Equal(got, want) {
		t.Errorf("handover rows %v; want %v (c.example's first row dropped and written again, d.example's part unlisted)", got, want)
	}
}
