package datasets

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fuzzDataset writes a small good dataset of one shard into a temporary
// directory once, and returns its manifest's bytes and the bytes of its
// first domains part.
func fuzzDataset(f *testing.F) (dir string, manifest, part []byte) {
	f.Helper()
	dir = filepath.Join(f.TempDir(), "ds")
	newTestScan(12).writeShard(f, dir, nil)
	manifest, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		f.Fatal(err)
	}
	part, err = os.ReadFile(filepath.Join(dir, "domains", "part-00000.parquet"))
	if err != nil {
		f.Fatal(err)
	}
	return dir, manifest, part
}

// copyDataset copies the files of the dataset in src (one level of table
// folders) to dst.
func copyDataset(t *testing.T, src, dst string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(src, "*", "part-*.parquet"))
	files = append(files, filepath.Join(src, ManifestName))
	for _, file := range files {
		rel, _ := filepath.Rel(src, file)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, rel), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkVerification fails the test when v is not what Verify promises
// whatever the input: a verdict of the vocabulary, the worst of its
// findings', and findings of one line.
func checkVerification(t *testing.T, v *Verification, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	verdicts := []Verdict{VerdictIntact, VerdictIncomplete, VerdictUnsupported, VerdictDamaged}
	if !slices.Contains(verdicts, v.Verdict) || len(v.Datasets) != 1 {
		t.Fatalf("verdict %q, %d datasets", v.Verdict, len(v.Datasets))
	}
	worst := VerdictIntact
	for _, f := range v.Findings {
		worst = worse(worst, f.Verdict)
		if !slices.Contains(verdicts, f.Verdict) || f.Message == "" || strings.ContainsAny(f.String(), "\n\r") {
			t.Errorf("finding %q", f)
		}
	}
	if worst != v.Verdict {
		t.Errorf("verdict %s, but the worst finding is %s", v.Verdict, worst)
	}
}

// FuzzVerifyManifest: whatever manifest.json holds, Verify returns
// findings of one line and a verdict, never a panic; a manifest that does
// not read is damage.
func FuzzVerifyManifest(f *testing.F) {
	src, manifest, _ := fuzzDataset(f)
	f.Add(manifest)
	f.Add([]byte(`{"schema_version": "3", "scan_id": "scan-v", "complete": true, "parts": [{"table": "domains", "path": "domains/../../x", "rows": -1}]}`))
	f.Add([]byte(`{"schema_version": "9", "shard": {"index": 5, "count": 2}, "parts": [{"table": "handover", "path": "handover/part-00000.parquet"}]}`))
	f.Add([]byte(`{"parts": null, "counts": {"domains": 9223372036854775807, "invalid": 1}, "complete": true}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := filepath.Join(t.TempDir(), "ds")
		copyDataset(t, src, dir)
		if err := os.WriteFile(filepath.Join(dir, ManifestName), data, 0o644); err != nil {
			t.Fatal(err)
		}
		v, err := Verify(context.Background(), []string{dir})
		checkVerification(t, v, err)
		if _, rerr := ReadManifest(dir); rerr != nil && v.Verdict != VerdictDamaged {
			t.Errorf("manifest does not read (%v), verdict %s", rerr, v.Verdict)
		}
	})
}

// FuzzVerifyPart: whatever bytes a listed part holds, Verify returns
// findings of one line and a verdict, never a crash: bytes other than the
// ones the manifest lists are a checksum finding and are not decoded (the
// Parquet decoder does not survive every damaged footer), the bytes listed
// are intact.
func FuzzVerifyPart(f *testing.F) {
	src, _, part := fuzzDataset(f)
	f.Add(part)
	f.Add(part[:len(part)/2])
	f.Add(append(slices.Clone(part[:len(part)-8]), part[len(part)-4:]...))
	flipped := slices.Clone(part)
	flipped[len(flipped)-1500] ^= 0x5a // in the stored Arrow schema
	f.Add(flipped)
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := filepath.Join(t.TempDir(), "ds")
		copyDataset(t, src, dir)
		if err := os.WriteFile(filepath.Join(dir, "domains", "part-00000.parquet"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		v, err := Verify(context.Background(), []string{dir})
		checkVerification(t, v, err)
		want := []Check{CheckPartChecksum}
		if bytes.Equal(data, part) {
			want = nil
		}
		if got := checksOf(v.Findings); !slices.Equal(got, want) {
			t.Errorf("checks %v, want %v:\n%s", got, want, findingLines(v))
		}
	})
}
