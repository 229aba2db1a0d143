package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/danescan/danescan/datasets"
)

// reportFigures reads DIR/report.json without the keys that name or time
// a scan (ids, directories, times, which shards were given).
func reportFigures(t *testing.T, dir string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var strip func(v any)
	strip = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range []string{"scan_id", "dir", "started", "ended", "shards", "from", "to"} {
				delete(x, k)
			}
			for _, e := range x {
				strip(e)
			}
		case []any:
			for _, e := range x {
				strip(e)
			}
		}
	}
	strip(v)
	return v
}

// copyDataset copies the dataset in src (manifest and parts) to dst.
func copyDataset(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAnalyzeShards scans a lab world whole and in 4 shards with the CLI
// and analyses the directory of the shards: report.json has every figure
// of the whole scan's report, and danescan sql counts each MX host once.
// Three shards of four, or an unfinished shard, are analysed with a
// warning at the top of the report; a shard given twice or scanned with
// other flags is refused in one line.
func TestAnalyzeShards(t *testing.T) {
	t.Parallel()
	w, addr := startLab(t, 300)
	dir := t.TempDir()
	lines := append(w.InputLines(), "not a domain!", w.InputLines()[0])
	list := writeFile(t, dir, "list.txt", []byte(strings.Join(lines, "\n")+"\n"))
	scan := func(out string, extra ...string) {
		t.Helper()
		args := append([]string{"scan", list, "--out", out, "--dnssec=false"}, fastScanFlags(addr)...)
		args = append(args, "--timeout", "2s") // a loaded machine is slower than 300ms
		if code, _, stderr := runCLI(t, append(args, extra...)...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", extra, code, stderr)
		}
	}
	whole, shards := filepath.Join(dir, "whole"), filepath.Join(dir, "shards")
	scan(whole)
	shard := func(k int) string { return filepath.Join(shards, fmt.Sprintf("shard-%d", k)) }
	for k := range 4 {
		scan(shard(k), "--shard", fmt.Sprintf("%d/4", k))
	}
	analyze := func(args ...string) (code int, out, stderr string) {
		t.Helper()
		out = t.TempDir()
		code, _, stderr = runCLI(t, append([]string{"analyze", "--out", out}, args...)...)
		return code, out, stderr
	}

	code, repWhole, stderr := analyze(whole)
	if code != exitOK {
		t.Fatalf("analyze whole: exit %d: %s", code, stderr)
	}
	code, repShards, stderr := analyze(shards)
	if code != exitOK || stderr != "" {
		t.Fatalf("analyze %s: exit %d: %s", shards, code, stderr)
	}
	want, got := reportFigures(t, repWhole), reportFigures(t, repShards)
	for k := range want {
		if !reflect.DeepEqual(want[k], got[k]) {
			wj, _ := json.Marshal(want[k])
			gj, _ := json.Marshal(got[k])
			t.Errorf("report.json %q differs:\nwhole:  %s\nshards: %s", k, wj, gj)
		}
	}
	if in, _ := got["input"].(map[string]any); in == nil || in["entries"] != float64(len(lines)) {
		t.Errorf("input %v: want the %d entries of the list, summed over the shards", got["input"], len(lines))
	}

	sqlCount := func(paths ...string) (string, string) {
		t.Helper()
		args := append([]string{"sql", "--format", "csv"}, paths...)
		code, stdout, stderr := runCLI(t, append(args, "SELECT count(*) AS h, count(DISTINCT host) AS d FROM mx_hosts")...)
		if code != exitOK {
			t.Fatalf("sql %v: exit %d: %s", paths, code, stderr)
		}
		return strings.TrimSpace(stdout), stderr
	}
	wantHosts, _ := sqlCount(whole)
	if gotHosts, _ := sqlCount(shards); gotHosts != wantHosts {
		t.Errorf("sql over the shards: %q; the whole scan %q", gotHosts, wantHosts)
	}
	var hostRows int64
	for k := range 4 {
		m, err := datasets.ReadManifest(shard(k))
		if err != nil {
			t.Fatal(err)
		}
		hostRows += m.Counts.RowsMXHosts
	}
	if wm, _ := datasets.ReadManifest(whole); hostRows <= wm.Counts.RowsMXHosts {
		t.Errorf("the shards hold %d mx_hosts rows, the whole scan %d: want hosts repeated across shards", hostRows, wm.Counts.RowsMXHosts)
	}

	t.Run("three of four", func(t *testing.T) {
		code, rep, stderr := analyze(shard(0), shard(1), shard(3))
		msg := "is missing shard 2 of its 4 shards (0, 1 and 3 given)"
		if code != exitOK || !strings.Contains(stderr, "danescan analyze: warning: scan ") || !strings.Contains(stderr, msg) {
			t.Errorf("exit %d, stderr %q: want a warning with %q", code, stderr, msg)
		}
		for _, f := range []string{"report.md", "report.html", "report.json"} {
			b, _ := os.ReadFile(filepath.Join(rep, f))
			head := string(b[:min(len(b), 1500)])
			if !strings.Contains(head, msg) {
				t.Errorf("%s does not begin with the warning %q:\n%s", f, msg, head)
			}
		}
		if _, stderr := sqlCount(shard(0), shard(1), shard(3)); !strings.Contains(stderr, "danescan sql: warning: ") || !strings.Contains(stderr, msg) {
			t.Errorf("sql over 3 of 4 shards: stderr %q", stderr)
		}
	})
	t.Run("incomplete shard", func(t *testing.T) {
		cut := filepath.Join(t.TempDir(), "shard-2")
		copyDataset(t, shard(2), cut)
		m, err := datasets.ReadManifest(cut)
		if err != nil {
			t.Fatal(err)
		}
		m.Complete, m.InterruptedBy = false, "SIGINT"
		if err := datasets.WriteManifest(cut, m); err != nil {
			t.Fatal(err)
		}
		code, rep, stderr := analyze(shard(0), shard(1), cut, shard(3))
		msg := "shard 2/4 of scan " + m.ScanID + " (dataset " + cut + ") is incomplete (the scan was interrupted by SIGINT)"
		b, _ := os.ReadFile(filepath.Join(rep, "report.md"))
		if code != exitOK || !strings.Contains(stderr, msg) || !strings.Contains(string(b), "> **Warning:** "+msg) || !strings.Contains(string(b), "INCOMPLETE") {
			t.Errorf("exit %d, stderr %q: want a warning %q in the report", code, stderr, msg)
		}
	})
	t.Run("errors", func(t *testing.T) {
		twice := filepath.Join(t.TempDir(), "copy-of-shard-1")
		copyDataset(t, shard(1), twice)
		other := filepath.Join(t.TempDir(), "shard-3-retries")
		scan(other, "--shard", "3/4", "--retries", "1")
		for _, c := range []struct {
			name string
			args []string
			want string
		}{
			{"shard twice", []string{shards, twice}, "shard 1/4 is given twice: "},
			{"other flags", []string{shard(0), shard(1), shard(2), other}, "its shards were scanned with different flags: " + shard(0) + " (shard 0/4) has retries=0, " + other + " (shard 3/4) has retries=1"},
		} {
			for _, cmd := range [][]string{{"analyze", "--out", filepath.Join(t.TempDir(), "r")}, {"sql"}} {
				args := append(append(cmd, c.args...), "SELECT 1")
				if cmd[0] == "analyze" {
					args = args[:len(args)-1]
				}
				code, stdout, stderr := runCLI(t, args...)
				if code != exitUsage || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 || stdout != "" {
					t.Errorf("%s: %s: exit %d, stdout %q, stderr %q; want exit %d and one line with %q", c.name, cmd[0], code, stdout, stderr, exitUsage, c.want)
				}
			}
		}
	})
}
