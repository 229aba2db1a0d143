package datasets

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// testScan describes the datasets writeScan writes: the entries of one
// input list, scanned whole or in shards.
type testScan struct {
	id      string
	names   []string // valid names; an entry each
	invalid []string // lines that are not names; a row each
	inputs  string   // the SHA-256 of the input, as the manifest says
}

func newTestScan(n int) testScan {
	s := testScan{id: "scan-v", inputs: strings.Repeat("ab", 32)}
	for i := range n {
		s.names = append(s.names, fmt.Sprintf("d%03d.example", i))
	}
	s.invalid = []string{"not a name!", "-bad-.example"}
	return s
}

// writeShard writes the dataset of shard (nil: the whole scan) into dir,
// with parts of 7 rows, a host and an endpoint row, and a complete
// manifest whose counts and totals match. extra are domains rows written
// beside the shard's own (as if copied in), counted like its own.
func (s testScan) writeShard(t testing.TB, dir string, shard *Shard, extra ...Domain) *Manifest {
	t.Helper()
	start := &Manifest{SchemaVersion: SchemaVersion, ScanID: s.id, Shard: shard, Started: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC),
		Inputs: []Input{{Path: "list.txt", Format: "plain", SHA256: s.inputs}}}
	w, err := Create(dir, start, CreateOptions{PartRows: 7})
	if err != nil {
		t.Fatal(err)
	}
	var sh Shard
	if shard != nil {
		sh = *shard
	}
	tot := Totals{}
	var rows []Domain
	for i, name := range s.names {
		if sh.Holds(name) {
			rows = append(rows, Domain{ScanID: s.id, InputFile: "list.txt", InputLine: int64(i + 1), Input: name, Domain: name, MXKind: "mx"})
			tot.Domains++
		} else {
			tot.OtherShards++
		}
	}
	for i, line := range s.invalid {
		if sh.Holds(strings.ToLower(line)) {
			rows = append(rows, Domain{ScanID: s.id, InputFile: "list.txt", InputLine: int64(len(s.names) + i + 1), Input: line, Failure: "invalid_name"})
			tot.Invalid++
		} else {
			tot.OtherShards++
		}
	}
	// The extra rows are entries the scanner took for this shard's own:
	// read, not left to other shards.
	rows = append(rows, extra...)
	tot.Domains += int64(len(extra))
	if shard != nil {
		tot.OtherShards -= int64(len(extra))
	}
	tot.Entries = tot.Domains + tot.Invalid
	for i := range rows {
		if err := w.WriteDomain(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteHost(&MXHost{ScanID: s.id, Host: "mx.example"}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEndpoint(&Endpoint{ScanID: s.id, Host: "mx.example", Address: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	final := *start
	final.Ended, final.Complete = start.Started.Add(time.Minute), true
	final.Counts = Counts{Totals: &tot, RowsDomains: int64(len(rows)), RowsMXHosts: 1, RowsEndpoints: 1}
	if err := w.Close(&final); err != nil {
		t.Fatal(err)
	}
	return &final
}

// writeShards writes shards 0..n-1 of s into root/shard-K.
func (s testScan) writeShards(t *testing.T, root string, n int) {
	t.Helper()
	for k := range n {
		s.writeShard(t, filepath.Join(root, fmt.Sprintf("shard-%d", k)), &Shard{Index: k, Count: n})
	}
}

// editManifest reads dir's manifest, lets edit change it and writes it back.
func editManifest(t *testing.T, dir string, edit func(m *Manifest)) {
	t.Helper()
	m := readManifest(t, dir)
	edit(m)
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
}

// firstPart returns the path of the first part of table in dir's manifest.
func firstPart(t *testing.T, dir, table string) string {
	t.Helper()
	for _, p := range readManifest(t, dir).Parts {
		if p.Table == table {
			return filepath.Join(dir, filepath.FromSlash(p.Path))
		}
	}
	t.Fatalf("%s: no part of %s", dir, table)
	return ""
}

// checksOf returns the checks of the findings, sorted, each once.
func checksOf(fs []VerifyFinding) []Check {
	var out []Check
	for _, f := range fs {
		if !slices.Contains(out, f.Check) {
			out = append(out, f.Check)
		}
	}
	slices.Sort(out)
	return out
}

func TestVerify(t *testing.T) {
	s := newTestScan(60)
	tests := []struct {
		name string
		// make writes the datasets into root and returns the paths to
		// verify (relative to root).
		make        func(t *testing.T, root string) []string
		verdict     Verdict
		checks      []Check
		wantMessage string // in one finding's message
	}{
		{"whole scan", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			return []string{"ds"}
		}, VerdictIntact, nil, ""},
		{"4 shards, directory of datasets", func(t *testing.T, root string) []string {
			s.writeShards(t, filepath.Join(root, "scan"), 4)
			return []string{"scan"}
		}, VerdictIntact, nil, ""},
		{"part deleted", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			os.Remove(firstPart(t, filepath.Join(root, "ds"), TableDomains))
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckPartMissing}, "not there"},
		{"one byte changed", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			p := firstPart(t, filepath.Join(root, "ds"), TableMXHosts)
			data, _ := os.ReadFile(p)
			data[len(data)/2] ^= 0x01
			os.WriteFile(p, data, 0o644)
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckPartChecksum}, "the manifest says"},
		{"truncated part", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			p := firstPart(t, filepath.Join(root, "ds"), TableDomains)
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()/2)
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckPartChecksum}, "its rows are not read"},
		{"part of another table", func(t *testing.T, root string) []string {
			dir := filepath.Join(root, "ds")
			s.writeShard(t, dir, nil)
			// An mx_hosts part in the place of a domains part, and the
			// manifest's size and SHA-256 made to match it.
			data, _ := os.ReadFile(firstPart(t, dir, TableMXHosts))
			os.WriteFile(firstPart(t, dir, TableDomains), data, 0o644)
			editManifest(t, dir, func(m *Manifest) {
				for _, p := range m.Parts {
					if p.Table == TableMXHosts {
						m.Parts[0].Bytes, m.Parts[0].SHA256 = p.Bytes, p.SHA256
					}
				}
			})
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckPartUnreadable}, "not a part of table domains (danescan.table is mx_hosts)"},
		{"part with a column of another type", func(t *testing.T, root string) []string {
			dir := filepath.Join(root, "ds")
			s.writeShard(t, dir, nil)
			writeOddPart(t, dir, "domains/part-00050.parquet")
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckPartUnreadable}, "column input_line: type utf8, want int64"},
		{"damaged footer", func(t *testing.T, root string) []string {
			// A part whose stored Arrow schema, in the footer, is
			// corrupt: decoded, it would make arrow-go allocate 90 GB.
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			p := firstPart(t, filepath.Join(root, "ds"), TableDomains)
			data, _ := os.ReadFile(p)
			data[len(data)-1500] ^= 0x5a
			os.WriteFile(p, data, 0o644)
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckPartChecksum}, "its rows are not read"},
		{"unlisted part", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			data, _ := os.ReadFile(firstPart(t, filepath.Join(root, "ds"), TableDomains))
			os.WriteFile(filepath.Join(root, "ds", "domains", "part-00099.parquet"), data, 0o644)
			// Hidden temporary parts (a crash's) are not parts.
			os.WriteFile(filepath.Join(root, "ds", "domains", ".part-00100.parquet.tmp"), data, 0o644)
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckUnlistedPart}, "not listed in the manifest"},
		{"wrong row count of a part", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			editManifest(t, filepath.Join(root, "ds"), func(m *Manifest) { m.Parts[0].Rows++ })
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckCounts, CheckPartRows}, "holds 7 rows; the manifest says 8"},
		{"totals that are not the rows", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			editManifest(t, filepath.Join(root, "ds"), func(m *Manifest) { m.Counts.Totals.Invalid++ })
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckCounts}, "one per input entry is 63"},
		{"newer schema version", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			editManifest(t, filepath.Join(root, "ds"), func(m *Manifest) { m.SchemaVersion = "99" })
			return []string{"ds"}
		}, VerdictUnsupported, []Check{CheckSchemaVersion}, "newer than this danescan reads"},
		{"newer schema version, part changed", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			editManifest(t, filepath.Join(root, "ds"), func(m *Manifest) { m.SchemaVersion = "99" })
			os.Truncate(firstPart(t, filepath.Join(root, "ds"), TableDomains), 10)
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckPartChecksum, CheckSchemaVersion}, ""},
		{"schema version that is not one", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			editManifest(t, filepath.Join(root, "ds"), func(m *Manifest) { m.SchemaVersion = "x" })
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckSchemaVersion}, "not a version"},
		{"corrupt manifest", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			os.WriteFile(filepath.Join(root, "ds", ManifestName), []byte(`{"schema_version": "3", "parts": [`), 0o644)
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckManifest}, "cannot be read"},
		{"no manifest", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			os.Remove(filepath.Join(root, "ds", ManifestName))
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckManifest}, "no manifest.json"},
		{"part path outside the dataset", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			editManifest(t, filepath.Join(root, "ds"), func(m *Manifest) { m.Parts[0].Path = "domains/../../../etc/passwd" })
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckManifest, CheckUnlistedPart}, "not <table>/part-NNNNN.parquet"},
		{"unlisted part of a killed scan", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			editManifest(t, filepath.Join(root, "ds"), func(m *Manifest) { m.Complete, m.Ended, m.Parts = false, time.Time{}, m.Parts[1:] })
			return []string{"ds"}
		}, VerdictIncomplete, []Check{CheckIncomplete, CheckUnlistedPart}, "finished after the last manifest"},
		{"shard that is not one", func(t *testing.T, root string) []string {
			s.writeShards(t, filepath.Join(root, "scan"), 2)
			editManifest(t, filepath.Join(root, "scan", "shard-1"), func(m *Manifest) { m.Shard.Count = 1 << 62 })
			return []string{"scan"}
		}, VerdictDamaged, []Check{CheckManifest, CheckShardMissing}, "is not a shard"},
		{"incomplete", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil)
			editManifest(t, filepath.Join(root, "ds"), func(m *Manifest) { m.Complete, m.InterruptedBy = false, "SIGINT" })
			return []string{"ds"}
		}, VerdictIncomplete, []Check{CheckIncomplete}, "interrupted by SIGINT"},
		{"missing shard among 4", func(t *testing.T, root string) []string {
			s.writeShards(t, filepath.Join(root, "scan"), 4)
			os.RemoveAll(filepath.Join(root, "scan", "shard-2"))
			return []string{"scan"}
		}, VerdictIncomplete, []Check{CheckShardMissing}, "shard 2/4 is missing"},
		{"shards 1-3 of 4 missing", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "s0"), &Shard{Index: 0, Count: 4})
			return []string{"s0"}
		}, VerdictIncomplete, []Check{CheckShardMissing}, "shards 1-3 of 4 are missing"},
		{"two copies of a shard", func(t *testing.T, root string) []string {
			s.writeShards(t, filepath.Join(root, "scan"), 4)
			s.writeShard(t, filepath.Join(root, "copy"), &Shard{Index: 1, Count: 4})
			return []string{"scan", "copy"}
		}, VerdictDamaged, []Check{CheckShardDuplicate}, "shard 1/4 is in 2 datasets"},
		{"two copies of a whole scan", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "a"), nil)
			s.writeShard(t, filepath.Join(root, "b"), nil)
			return []string{"a", "b"}
		}, VerdictDamaged, []Check{CheckShardDuplicate}, "2 datasets hold the whole scan"},
		{"a dataset given twice is one", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "a"), nil)
			os.Symlink(filepath.Join(root, "a"), filepath.Join(root, "link"))
			return []string{"a", ".", "./a/", "link"}
		}, VerdictIntact, nil, ""},
		{"domain row duplicated across shards", func(t *testing.T, root string) []string {
			dir := filepath.Join(root, "scan")
			s.writeShards(t, dir, 4)
			// A row of shard 0 written into shard 3 as well.
			var stray Domain
			for i, name := range s.names {
				if ShardOf(name, 4) == 0 {
					stray = Domain{ScanID: s.id, InputFile: "list.txt", InputLine: int64(i + 1), Input: name, Domain: name, MXKind: "mx"}
					break
				}
			}
			os.RemoveAll(filepath.Join(dir, "shard-3"))
			s.writeShard(t, filepath.Join(dir, "shard-3"), &Shard{Index: 3, Count: 4}, stray)
			return []string{"scan"}
		}, VerdictDamaged, []Check{CheckCounts, CheckWrongShard}, "is in shard 3/4, but belongs to shard 0/4"},
		{"domain twice in a dataset", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil, Domain{ScanID: s.id, Input: "D001.example", Domain: "d001.example", InputLine: 99})
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckDuplicateDomain}, "domain d001.example has more than one row (again at input line 99)"},
		{"invalid and excluded lines may repeat", func(t *testing.T, root string) []string {
			s.writeShard(t, filepath.Join(root, "ds"), nil,
				Domain{ScanID: s.id, Input: "d002.example", Domain: "d002.example", Failure: "excluded"},
				Domain{ScanID: s.id, Input: "d002.example", Domain: "d002.example", Failure: "excluded"})
			return []string{"ds"}
		}, VerdictIntact, nil, ""},
		{"shards of different N", func(t *testing.T, root string) []string {
			s.writeShards(t, filepath.Join(root, "four"), 4)
			s.writeShard(t, filepath.Join(root, "three"), &Shard{Index: 0, Count: 3})
			return []string{"four", "three"}
		}, VerdictDamaged, []Check{CheckShardMismatch}, "shards of different counts"},
		{"shards of different inputs", func(t *testing.T, root string) []string {
			s.writeShards(t, filepath.Join(root, "scan"), 2)
			editManifest(t, filepath.Join(root, "scan", "shard-1"), func(m *Manifest) { m.Inputs[0].SHA256 = strings.Repeat("cd", 32) })
			return []string{"scan"}
		}, VerdictDamaged, []Check{CheckShardMismatch}, "scanned other inputs"},
		{"shards that read different entries", func(t *testing.T, root string) []string {
			s.writeShards(t, filepath.Join(root, "scan"), 2)
			editManifest(t, filepath.Join(root, "scan", "shard-1"), func(m *Manifest) { m.Counts.OtherShards += 3 })
			return []string{"scan"}
		}, VerdictDamaged, []Check{CheckCounts}, "every shard reads the whole input"},
		{"shards that took entries of others", func(t *testing.T, root string) []string {
			s.writeShards(t, filepath.Join(root, "scan"), 2)
			for k := range 2 {
				editManifest(t, filepath.Join(root, "scan", fmt.Sprintf("shard-%d", k)), func(m *Manifest) { m.Counts.Entries++; m.Counts.OtherShards-- })
			}
			return []string{"scan"}
		}, VerdictDamaged, []Check{CheckCounts}, "the 2 shards took 64 input entries in all (counts.entries), but the input has 62"},
		{"rows of another scan", func(t *testing.T, root string) []string {
			other := s
			other.id = "scan-w"
			other.writeShard(t, filepath.Join(root, "ds"), nil)
			editManifest(t, filepath.Join(root, "ds"), func(m *Manifest) { m.ScanID = s.id })
			return []string{"ds"}
		}, VerdictDamaged, []Check{CheckPartRows}, `holds rows of scan "scan-w"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			paths := tt.make(t, root)
			for i := range paths {
				paths[i] = filepath.Join(root, paths[i])
			}
			v, err := Verify(context.Background(), paths)
			if err != nil {
				t.Fatal(err)
			}
			if v.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s", v.Verdict, tt.verdict)
			}
			got := checksOf(v.Findings)
			want := slices.Clone(tt.checks)
			if tt.verdict == VerdictIncomplete && !slices.Contains(want, CheckIncomplete) && !slices.Contains(want, CheckShardMissing) {
				want = append(want, CheckIncomplete)
			}
			if d := diff(want, got); d != "" {
				t.Errorf("checks %s", d)
			}
			found := tt.wantMessage == ""
			for _, f := range v.Findings {
				found = found || strings.Contains(f.Message, tt.wantMessage)
				if strings.Contains(f.String(), "\n") {
					t.Errorf("finding of more than one line: %q", f)
				}
			}
			if !found {
				t.Errorf("no finding says %q:\n%s", tt.wantMessage, findingLines(v))
			}
			if t.Failed() {
				t.Logf("findings:\n%s", findingLines(v))
			}
		})
	}
}

func findingLines(v *Verification) string {
	var b strings.Builder
	for _, f := range v.Findings {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

// TestVerifySummaries: the summaries count what was read, and the JSON
// form carries them.
func TestVerifySummaries(t *testing.T) {
	s := newTestScan(60)
	root := t.TempDir()
	s.writeShards(t, root, 3)
	v, err := Verify(context.Background(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Datasets) != 3 || len(v.Scans) != 1 {
		t.Fatalf("%d datasets, %d scans; want 3, 1", len(v.Datasets), len(v.Scans))
	}
	var rows int64
	for _, d := range v.Datasets {
		rows += d.Rows[TableDomains]
		if d.Rows[TableMXHosts] != 1 || d.Rows[TableEndpoints] != 1 || d.Verdict != VerdictIntact || d.Shard == nil {
			t.Errorf("dataset %+v", d)
		}
	}
	sc := v.Scans[0]
	want := int64(len(s.names) + len(s.invalid))
	if rows != want || sc.DomainRows != want || sc.Entries != want || sc.ShardCount != 3 || sc.Shards != 3 || sc.ScanID != s.id || len(sc.Datasets) != 3 {
		t.Errorf("rows %d, scan %+v; want %d domain rows and entries in 3 shards", rows, sc, want)
	}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back Verification
	if err := json.Unmarshal(data, &back); err != nil || back.Verdict != VerdictIntact || len(back.Datasets) != 3 || back.Scans[0].DomainRows != want {
		t.Errorf("JSON %s does not read back: %v", data, err)
	}
}

// TestVerifyMany: a dataset that is wrong row by row says so in a bounded
// number of findings.
func TestVerifyMany(t *testing.T) {
	s := newTestScan(200)
	root := t.TempDir()
	s.writeShard(t, filepath.Join(root, "s1"), &Shard{Index: 1, Count: 2})
	// Shard 0's manifest over shard 1's parts: every row is in the wrong shard.
	editManifest(t, filepath.Join(root, "s1"), func(m *Manifest) { m.Shard.Index = 0 })
	v, err := Verify(context.Background(), []string{filepath.Join(root, "s1")})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range v.Findings {
		if f.Check == CheckWrongShard {
			n++
		}
	}
	if n != maxFindingsPerCheck+1 || !strings.Contains(findingLines(v), "rows in all (the first 10 are named above)") {
		t.Errorf("%d wrong_shard findings; want %d and a count:\n%s", n, maxFindingsPerCheck+1, findingLines(v))
	}
}

func TestFindDatasets(t *testing.T) {
	s := newTestScan(5)
	root := t.TempDir()
	s.writeShard(t, filepath.Join(root, "scan=a", "shard=0"), &Shard{Index: 0, Count: 2})
	s.writeShard(t, filepath.Join(root, "scan=a", "shard=1"), &Shard{Index: 1, Count: 2})
	s.writeShard(t, filepath.Join(root, "b"), nil)
	os.MkdirAll(filepath.Join(root, "empty", "x"), 0o755)
	os.MkdirAll(filepath.Join(root, "deep", "1", "2", "3"), 0o755)
	s.writeShard(t, filepath.Join(root, "deep", "1", "2", "3", "ds"), nil)
	if err := os.Symlink(filepath.Join(root, "deep", "1", "2", "3", "ds"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "deep"), filepath.Join(root, "link-deep")); err != nil {
		t.Fatal(err)
	}
	got, err := FindDatasets([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i], _ = filepath.Rel(root, got[i])
	}
	if d := diff([]string{"b", "link", "scan=a/shard=0", "scan=a/shard=1"}, got); d != "" {
		t.Errorf("FindDatasets %s", d)
	}
	if err := os.Symlink(filepath.Join(root, "scan=a"), filepath.Join(root, "link-scan")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(root, "link-scan"), filepath.Join(root, "link-scan") + "/", filepath.Join(root, "scan=a", "shard=1"), filepath.Join(root, "link")} {
		got, err := FindDatasets([]string{p})
		want := 1
		if strings.Contains(p, "link-scan") {
			want = 2
		}
		if err != nil || len(got) != want || strings.Contains(strings.Join(got, " "), "//") {
			t.Errorf("FindDatasets(%s) = %q, %v; want %d datasets", p, got, err, want)
		}
	}
	file := filepath.Join(root, "b", ManifestName)
	for _, tt := range []struct{ path, want string }{
		{filepath.Join(root, "empty"), "holds no dataset"},
		{filepath.Join(root, "nothing"), "no such file"},
		{file, "is not a directory"},
	} {
		if _, err := FindDatasets([]string{tt.path}); err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("FindDatasets(%s) = %v; want one line saying %q", tt.path, err, tt.want)
		}
	}
}

// writeOddPart writes a domains part whose input_line column is a string,
// with the metadata of a good part and no rows, at rel in the dataset in
// dir, and lists it in the manifest.
func writeOddPart(t *testing.T, dir, rel string) {
	t.Helper()
	p, err := planFor[Domain](TableDomains)
	if err != nil {
		t.Fatal(err)
	}
	fields := slices.Clone(p.schema.Fields())
	for i, f := range fields {
		if f.Name == "input_line" {
			fields[i].Type = arrow.BinaryTypes.String
		}
	}
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(arrow.NewSchema(fields, nil), &buf, parquet.NewWriterProperties(), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	fw.AppendKeyValueMetadata(MetaSchemaVersion, SchemaVersion)
	fw.AppendKeyValueMetadata(MetaTable, TableDomains)
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	editManifest(t, dir, func(m *Manifest) {
		m.Parts = append(m.Parts, Part{Table: TableDomains, Path: rel, Bytes: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:])})
	})
}

// TestVerifyChecksDocumented: the README's table of checks has every check,
// with the verdict it gives.
func TestVerifyChecksDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	verdicts := map[Check]Verdict{
		CheckManifest: VerdictDamaged, CheckSchemaVersion: VerdictUnsupported, CheckIncomplete: VerdictIncomplete,
		CheckShardMissing: VerdictIncomplete,
	}
	for _, c := range Checks() {
		v := cmp.Or(verdicts[c], VerdictDamaged)
		if row := fmt.Sprintf("| `%s` | %s |", c, v); !strings.Contains(string(readme), row) {
			t.Errorf("README.md has no row %q", row)
		}
	}
}
