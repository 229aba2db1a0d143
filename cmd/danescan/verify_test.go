package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danescan/danescan/datasets"
)

// copyTree copies the directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// editManifestOf reads the manifest of dir, lets edit change it and
// writes it back.
func editManifestOf(t *testing.T, dir string, edit func(*datasets.Manifest)) {
	t.Helper()
	m, err := datasets.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	if err := datasets.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
}

// partOf returns the file of the first part of table listed by the
// manifest of dir.
func partOf(t *testing.T, dir, table string) string {
	t.Helper()
	m, err := datasets.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Parts {
		if p.Table == table {
			return filepath.Join(dir, filepath.FromSlash(p.Path))
		}
	}
	t.Fatalf("%s lists no part of %s", dir, table)
	return ""
}

// TestVerify scans a lab world in 4 shards and checks that danescan
// verify finds it intact (exit 0); then breaks a copy of it in each way a
// download or a merge can, and checks each gets its finding and the
// documented exit code.
func TestVerify(t *testing.T) {
	t.Parallel()
	w, addr := startLab(t, 200)
	dir := t.TempDir()
	lines := append(w.InputLines(), "not a domain!", w.InputLines()[0])
	list := writeFile(t, dir, "list.txt", []byte(strings.Join(lines, "\n")+"\n"))
	good := filepath.Join(dir, "good")
	for k := range 4 {
		args := append([]string{"scan", list, "--out", filepath.Join(good, fmt.Sprintf("shard-%d", k)), "--shard", fmt.Sprintf("%d/4", k),
			"--dnssec=false", "--part-rows", "20"}, fastScanFlags(addr)...)
		args = append(args, "--timeout", "2s")
		if code, _, stderr := runCLI(t, args...); code != exitOK {
			t.Fatalf("shard %d: exit %d: %s", k, code, stderr)
		}
	}
	m0, err := datasets.ReadManifest(filepath.Join(good, "shard-0"))
	if err != nil {
		t.Fatal(err)
	}
	// The rows of the whole list: one per distinct name and per invalid line.
	e := expect(lines, nil)
	entries := len(e.ranks) + e.invalid

	t.Run("intact", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "verify", good)
		if code != exitOK || stderr != "" {
			t.Fatalf("exit %d, stderr %q; want 0\n%s", code, stderr, stdout)
		}
		want := fmt.Sprintf("scan %s: intact; 4 datasets, 4 of 4 shards, %d domain rows for %d input entries\n", m0.ScanID, entries, entries)
		n := 0
		for _, l := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(l, "dataset ") && strings.Contains(l, ": intact; scan "+m0.ScanID) {
				n++
			}
		}
		if !strings.Contains(stdout, want) || n != 4 {
			t.Errorf("stdout:\n%s\nwant 4 dataset lines and %q", stdout, want)
		}
		if strings.Contains(stdout, "[") {
			t.Errorf("findings in an intact scan:\n%s", stdout)
		}
	})

	t.Run("json", func(t *testing.T) {
		code, stdout, _ := runCLI(t, "verify", "--json", filepath.Join(good, "shard-0"), filepath.Join(good, "shard-1"))
		var v datasets.Verification
		if err := json.Unmarshal([]byte(stdout), &v); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, stdout)
		}
		if code != exitIncomplete || v.Verdict != datasets.VerdictIncomplete || len(v.Datasets) != 2 || len(v.Findings) != 1 || v.Findings[0].Check != datasets.CheckShardMissing {
			t.Errorf("exit %d, %s", code, stdout)
		}
	})

	tests := []struct {
		name   string
		damage func(t *testing.T, root string)
		code   int
		want   []string // in stdout
	}{
		{"part deleted", func(t *testing.T, root string) {
			os.Remove(partOf(t, filepath.Join(root, "shard-1"), datasets.TableDomains))
		}, exitDamaged, []string{"shard-1: domains/part-00000.parquet: damaged [part_missing]: listed in the manifest"}},
		{"one byte changed", func(t *testing.T, root string) {
			p := partOf(t, filepath.Join(root, "shard-2"), datasets.TableDomains)
			data, _ := os.ReadFile(p)
			data[len(data)/3] ^= 0x20
			os.WriteFile(p, data, 0o644)
		}, exitDamaged, []string{"shard-2: domains/part-00000.parquet: damaged [part_checksum]"}},
		{"truncated part", func(t *testing.T, root string) {
			p := partOf(t, filepath.Join(root, "shard-0"), datasets.TableMXHosts)
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()-100)
		}, exitDamaged, []string{"shard-0: mx_hosts/part-00000.parquet: damaged [part_checksum]: ", "(its rows are not read)"}},
		{"unlisted part", func(t *testing.T, root string) {
			data, _ := os.ReadFile(partOf(t, filepath.Join(root, "shard-3"), datasets.TableDomains))
			os.WriteFile(filepath.Join(root, "shard-3", "domains", "part-00077.parquet"), data, 0o644)
		}, exitDamaged, []string{"shard-3: domains/part-00077.parquet: damaged [unlisted_part]"}},
		{"wrong row count in the manifest", func(t *testing.T, root string) {
			editManifestOf(t, filepath.Join(root, "shard-1"), func(m *datasets.Manifest) { m.Parts[0].Rows += 5 })
		}, exitDamaged, []string{"damaged [part_rows]: holds 20 rows; the manifest says 25", "damaged [counts]"}},
		{"unknown schema version", func(t *testing.T, root string) {
			for k := range 4 {
				editManifestOf(t, filepath.Join(root, fmt.Sprintf("shard-%d", k)), func(m *datasets.Manifest) { m.SchemaVersion = "9" })
			}
		}, exitUnsupported, []string{"shard-0: unsupported [schema_version]: schema version 9 is newer than this danescan reads", "4 of 4 shards, domain rows not read"}},
		{"one shard of another schema version", func(t *testing.T, root string) {
			editManifestOf(t, filepath.Join(root, "shard-2"), func(m *datasets.Manifest) { m.SchemaVersion = "9" })
		}, exitDamaged, []string{"unsupported [schema_version]", "damaged [shard_mismatch]: schema version 3 in"}},
		{"corrupt manifest", func(t *testing.T, root string) {
			os.WriteFile(filepath.Join(root, "shard-2", datasets.ManifestName), []byte("{\"schema_version\": \"3\",\n\"parts\": 7}\n"), 0o644)
		}, exitDamaged, []string{"shard-2: damaged [manifest]: manifest.json cannot be read", "dataset " + "%ROOT%/shard-2: damaged (1 finding); no manifest read"}},
		{"incomplete shard", func(t *testing.T, root string) {
			editManifestOf(t, filepath.Join(root, "shard-1"), func(m *datasets.Manifest) { m.Complete, m.InterruptedBy = false, "SIGTERM" })
		}, exitIncomplete, []string{"shard-1: incomplete [incomplete]: the scan did not finish (interrupted by SIGTERM)"}},
		{"missing shard among 4", func(t *testing.T, root string) {
			os.RemoveAll(filepath.Join(root, "shard-3"))
		}, exitIncomplete, []string{"incomplete [shard_missing]: shard 3/4 is missing", "3 of 4 shards"}},
		{"two copies of a shard", func(t *testing.T, root string) {
			copyTree(t, filepath.Join(root, "shard-1"), filepath.Join(root, "shard-1-again"))
		}, exitDamaged, []string{"damaged [shard_duplicate]: shard 1/4 is in 2 datasets"}},
		{"domain row duplicated across shards", func(t *testing.T, root string) {
			// A row of shard 0 merged into shard 1 as a part of its own,
			// listed and counted: only where its name belongs tells.
			rows, err := datasets.ReadTable[datasets.Domain](filepath.Join(root, "shard-0"), datasets.TableDomains)
			if err != nil {
				t.Fatal(err)
			}
			row := rows[0]
			for _, r := range rows {
				if r.Domain != "" {
					row = r
					break
				}
			}
			tmp := filepath.Join(t.TempDir(), "tmp")
			tw, err := datasets.NewTableWriter[datasets.Domain](tmp, datasets.TableDomains, datasets.WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := tw.Write(&row); err != nil {
				t.Fatal(err)
			}
			if err := tw.Close(); err != nil {
				t.Fatal(err)
			}
			p := tw.Parts()[0]
			p.Path = "domains/part-00099.parquet"
			if err := os.Rename(filepath.Join(tmp, "domains", "part-00000.parquet"), filepath.Join(root, "shard-1", filepath.FromSlash(p.Path))); err != nil {
				t.Fatal(err)
			}
			editManifestOf(t, filepath.Join(root, "shard-1"), func(m *datasets.Manifest) {
				m.Parts = append(m.Parts, p)
				m.Counts.RowsDomains++
				m.Counts.Domains++
				m.Counts.Entries++
				m.Counts.OtherShards--
			})
		}, exitDamaged, []string{"shard-1: damaged [wrong_shard]: ", "is in shard 1/4, but belongs to shard 0/4",
			"damaged [counts]: the 4 shards took 203 input entries in all"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "scan")
			copyTree(t, good, root)
			tt.damage(t, root)
			code, stdout, stderr := runCLI(t, "verify", root)
			if code != tt.code || stderr != "" {
				t.Errorf("exit %d, stderr %q; want %d", code, stderr, tt.code)
			}
			for _, want := range tt.want {
				if !strings.Contains(stdout, strings.ReplaceAll(want, "%ROOT%", root)) {
					t.Errorf("stdout does not say %q", want)
				}
			}
			if !strings.Contains(stdout, fmt.Sprintf("(exit %d)\n", tt.code)) {
				t.Errorf("the last line does not give the exit code %d", tt.code)
			}
			if t.Failed() {
				t.Logf("stdout:\n%s", stdout)
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		empty := t.TempDir()
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"verify"}, "give one or more dataset directories"},
			{[]string{"verify", empty}, empty + " holds no dataset"},
			{[]string{"verify", list}, list + " is not a directory"},
			{[]string{"verify", "--bogus", good}, "flag provided but not defined"},
		} {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, exitUsage, tt.want)
			}
			if len(tt.args) > 1 && tt.args[1] != "--bogus" && strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("%v: stderr of more than one line: %q", tt.args, stderr)
			}
		}
	})
}
