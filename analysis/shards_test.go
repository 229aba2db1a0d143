package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/lab"
)

// reportFigures reads report.json in dir as a generic value without the
// keys that name or time a scan (ids, directories, times, which shards):
// every figure of the report stays.
func reportFigures(t *testing.T, dir string) any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
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

// sameFigures reports the first difference between two reportFigures.
func sameFigures(t *testing.T, what string, want, got any) {
	t.Helper()
	if reflect.DeepEqual(want, got) {
		return
	}
	wm, gm := want.(map[string]any), got.(map[string]any)
	for k := range wm {
		if !reflect.DeepEqual(wm[k], gm[k]) {
			w, _ := json.Marshal(wm[k])
			g, _ := json.Marshal(gm[k])
			t.Errorf("%s: report.json %q differs:\nwhole:  %s\nshards: %s", what, k, w, g)
		}
	}
	for k := range gm {
		if _, ok := wm[k]; !ok {
			t.Errorf("%s: report.json of the shards has %q, the whole scan's not", what, k)
		}
	}
}

// TestShardedLabReport scans a signed lab world, with STARTTLS probes,
// whole and in 4 shards, twice (the second time after a key rollover at
// one host), and analyses the shards as the whole scans: report.json has
// the same figures (funnel, units, providers, checks, near misses with
// stale_after_rollover from the previous scan's shards, trends, changes,
// the input counts summed over the shards) and the findings are the same,
// although MX hosts and endpoints repeat across the shards.
func TestShardedLabReport(t *testing.T) {
	root := t.TempDir()
	wc := lab.Config{Domains: 800, Seed: 7, DNSSEC: true}
	scanAll := func(id string, wc lab.Config, months int) (whole, shards string) {
		whole, shards = filepath.Join(root, id+"-whole"), filepath.Join(root, id+"-shards")
		dirs, specs := []string{whole}, []datasets.Shard{{}}
		for k := range 4 {
			dirs = append(dirs, filepath.Join(shards, fmt.Sprintf("shard-%d", k)))
			specs = append(specs, datasets.Shard{Index: k, Count: 4})
		}
		labScans(t, wc, id, labNow.AddDate(0, months, 0), dirs, specs)
		return whole, shards
	}
	beforeWhole, beforeShards := scanAll("before", wc, 0)
	wc.Rolled = true
	afterWhole, afterShards := scanAll("after", wc, 1)

	// The shards repeat hosts: without deduplication the figures would
	// differ.
	wm, err := datasets.ReadManifest(afterWhole)
	if err != nil {
		t.Fatal(err)
	}
	var hostRows, endpointRows int64
	for k := range 4 {
		m, err := datasets.ReadManifest(filepath.Join(afterShards, fmt.Sprintf("shard-%d", k)))
		if err != nil {
			t.Fatal(err)
		}
		hostRows += m.Counts.RowsMXHosts
		endpointRows += m.Counts.RowsEndpoints
	}
	if hostRows <= wm.Counts.RowsMXHosts || endpointRows <= wm.Counts.RowsEndpoints {
		t.Fatalf("the shards hold %d mx_hosts and %d endpoints rows, the whole scan %d and %d: want hosts repeated across shards",
			hostRows, endpointRows, wm.Counts.RowsMXHosts, wm.Counts.RowsEndpoints)
	}

	for _, c := range []struct {
		name          string
		whole, shards []string
	}{
		{"one scan", []string{afterWhole}, []string{afterShards}},
		{"two scans", []string{beforeWhole, afterWhole}, []string{afterShards, beforeShards}},
	} {
		t.Run(c.name, func(t *testing.T) {
			analyze := func(paths []string) (*Analysis, string) {
				t.Helper()
				a, err := Analyze(context.Background(), paths)
				if err != nil {
					t.Fatal(err)
				}
				out := t.TempDir()
				if _, err := a.Write(out); err != nil {
					t.Fatal(err)
				}
				return a, out
			}
			aw, outWhole := analyze(c.whole)
			as, outShards := analyze(c.shards)
			sameFigures(t, c.name, reportFigures(t, outWhole), reportFigures(t, outShards))
			if sh := as.Report.Scan.Shards; sh == nil || sh.Count != 4 || len(sh.Given) != 4 || len(sh.Missing) != 0 || !as.Report.Scan.Complete {
				t.Errorf("scan info %+v: want 4 of 4 shards, complete", as.Report.Scan)
			}
			if len(as.Report.Warnings) != 0 || len(as.Report.Datasets) != len(c.whole) {
				t.Errorf("warnings %q, %d datasets: want none and %d scans", as.Report.Warnings, len(as.Report.Datasets), len(c.whole))
			}
			if in := as.Report.Input; in == nil || in.Entries != 800 {
				t.Errorf("input %+v: want the 800 entries of the list", in)
			}
			if len(aw.Findings) != len(as.Findings) {
				t.Errorf("%d findings of the whole scan, %d of the shards", len(aw.Findings), len(as.Findings))
			}
			for i := range min(len(aw.Findings), len(as.Findings)) {
				if fw, fs := aw.Findings[i], as.Findings[i]; !reflect.DeepEqual(fw, fs) {
					t.Errorf("first differing finding:\nwhole:  %+v\nshards: %+v", fw, fs)
					break
				}
			}
			var stale int64
			for _, n := range as.Report.NearMisses {
				if n.NearMiss == "stale_after_rollover" {
					stale += n.Count
				}
			}
			if (stale > 0) != (len(c.whole) == 2) {
				t.Errorf("%d endpoints stale after the rollover: want some with the previous scan, none without", stale)
			}
		})
	}
}

// writeShard writes fixtures as shard k of n of scan id into dir; mod
// changes the manifest first (nil: none). n 0 writes an unsharded scan.
func writeShard(t *testing.T, dir, id string, k, n int, fs []*fixture, mod func(m *datasets.Manifest)) string {
	t.Helper()
	for _, f := range fs {
		f.scan(id)
	}
	m := fixtureManifest(id, time.Date(2026, 11, 1, 0, k, 0, 0, time.UTC))
	if n > 0 {
		m.Shard = &datasets.Shard{Index: k, Count: n}
	}
	m.Inputs = []datasets.Input{{Path: "/data/list-" + strconv.Itoa(k) + ".txt", Format: "plain", SHA256: strings.Repeat("ab", 32)}}
	m.Config["timeout"], m.Config["ehlo"], m.Config["workers"] = "2s", "node-"+strconv.Itoa(k), float64(100*(k+1))
	m.Counts.Totals = &datasets.Totals{Entries: int64(len(fs)), Domains: int64(len(fs)), Duplicates: 1}
	if mod != nil {
		mod(&m)
	}
	writeFixtures(t, dir, fs, m)
	return dir
}

// TestShardsBadInput: shards that cannot make one scan are refused with
// one line naming the problem, before any report; a missing or incomplete
// shard is a warning at the top of the report; flags that only tune the
// speed (workers, the EHLO name of each machine) may differ.
func TestShardsBadInput(t *testing.T) {
	good := func(t *testing.T, k int, mod func(m *datasets.Manifest)) string {
		return writeShard(t, t.TempDir(), "s", k, 2, []*fixture{goodFixture(fmt.Sprintf("d%d.example", k))}, mod)
	}
	for _, c := range []struct {
		name string
		dirs func(t *testing.T) []string
		want string
	}{
		{"same shard twice", func(t *testing.T) []string { return []string{good(t, 0, nil), good(t, 1, nil), good(t, 1, nil)} },
			"scan s: shard 1/2 is given twice: "},
		{"shard counts", func(t *testing.T) []string {
			return []string{good(t, 0, nil), good(t, 1, func(m *datasets.Manifest) { m.Shard.Count = 3 })}
		}, "scan s: the shard counts disagree: "},
		{"whole and shard", func(t *testing.T) []string {
			return []string{good(t, 0, nil), good(t, 1, func(m *datasets.Manifest) { m.Shard = nil })}
		}, "the shard counts disagree"},
		{"whole twice", func(t *testing.T) []string {
			none := func(m *datasets.Manifest) { m.Shard = nil }
			return []string{good(t, 0, none), good(t, 1, none)}
		}, "scan s is given twice: "},
		{"a DNS step", func(t *testing.T) []string {
			return []string{good(t, 0, nil), good(t, 1, func(m *datasets.Manifest) { m.Step = datasets.StepDNS })}
		}, "holds the dns step of a split scan"},
		{"schema versions", func(t *testing.T) []string {
			return []string{good(t, 0, nil), good(t, 1, func(m *datasets.Manifest) { m.SchemaVersion = "2" })}
		}, "scan s: its shards have different schema versions: "},
		{"flags", func(t *testing.T) []string {
			return []string{good(t, 0, nil), good(t, 1, func(m *datasets.Manifest) { m.Config["timeout"] = "5s" })}
		}, "has timeout=2s, "},
		{"a flag missing", func(t *testing.T) []string {
			return []string{good(t, 0, nil), good(t, 1, func(m *datasets.Manifest) { delete(m.Config, "smtp_enabled") })}
		}, "has no smtp_enabled"},
		{"inputs", func(t *testing.T) []string {
			return []string{good(t, 0, nil), good(t, 1, func(m *datasets.Manifest) { m.Inputs[0].SHA256 = strings.Repeat("cd", 32) })}
		}, "scan s: its shards read different inputs: input 1 is "},
		{"overlap", func(t *testing.T) []string {
			return []string{good(t, 0, nil), writeShard(t, t.TempDir(), "s", 1, 2, []*fixture{goodFixture("d0.example")}, nil)}
		}, "scan s: domain d0.example has 2 rows in its shards: the shards overlap"},
		{"not a dataset below", func(t *testing.T) []string {
			root := t.TempDir()
			os.MkdirAll(filepath.Join(root, "a", "b", "c"), 0o755)
			return []string{root}
		}, "holds no dataset (no manifest.json, no table folder, nor directories of datasets)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Analyze(context.Background(), c.dirs(t))
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v; want one line with %q", err, c.want)
			}
		})
	}

	t.Run("missing shard", func(t *testing.T) {
		a, err := Analyze(context.Background(), []string{good(t, 1, func(m *datasets.Manifest) { m.Shard.Count = 3 })})
		if err != nil {
			t.Fatal(err)
		}
		r := a.Report
		want := "scan s is missing shards 0 and 2 of its 3 shards (1 given): its figures cover only the entries of the shards given"
		if len(r.Warnings) != 1 || r.Warnings[0] != want || !strings.Contains(r.Markdown(), "> **Warning:** "+want) || !strings.Contains(r.HTML(), want) {
			t.Errorf("warnings %q; want %q, in the Markdown and the HTML", r.Warnings, want)
		}
		if r.Scan.Complete || r.Scan.Shards == nil || !reflect.DeepEqual(r.Scan.Shards.Missing, []int{0, 2}) {
			t.Errorf("scan %+v shards %+v: want incomplete, 0 and 2 missing", r.Scan, r.Scan.Shards)
		}
	})
	t.Run("incomplete shard", func(t *testing.T) {
		d1 := good(t, 1, func(m *datasets.Manifest) { m.Complete, m.InterruptedBy = false, "SIGTERM" })
		a, err := Analyze(context.Background(), []string{good(t, 0, nil), d1})
		if err != nil {
			t.Fatal(err)
		}
		r := a.Report
		want := "shard 1/2 of scan s (dataset " + d1 + ") is incomplete (the scan was interrupted by SIGTERM)"
		if len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], want) || r.Scan.Complete || !reflect.DeepEqual(r.Scan.Shards.Incomplete, []int{1}) {
			t.Errorf("warnings %q, scan %+v: want one starting %q", r.Warnings, r.Scan, want)
		}
		if r.Input == nil || r.Input.Entries != 2 || r.Input.Duplicates != 2 || r.Totals.Domains != 2 {
			t.Errorf("input %+v, totals %+v: want the counts of both shards", r.Input, r.Totals)
		}
	})
}

// TestShardsDedup: an MX host used by domains of two shards has a row in
// each; the views keep one, the one with most evidence (not interrupted),
// else the lowest shard's; a directory of scans, each a directory of
// shards, expands to them, and a path given twice counts once.
func TestShardsDedup(t *testing.T) {
	root := t.TempDir()
	shared := func(name string) *fixture {
		f := goodFixture(name)
		f.d.MXHosts, f.h.Host, f.eps[0].Host = []string{"mx.shared.example"}, "mx.shared.example", "mx.shared.example"
		return f
	}
	for i, id := range []string{"2026-10", "2026-11"} {
		a, b := shared("a.example"), shared("b.example")
		b.h.Failure, b.eps[0].Failure = "interrupted", "interrupted"
		b.h.DANEStatus, b.eps[0].DANEStatus = "", "not_probed"
		if i == 0 {
			a, b = b, a // the interrupted rows in shard 0, then in shard 1
		}
		writeShard(t, filepath.Join(root, id, "shard-0"), id, 0, 2, []*fixture{a}, nil)
		writeShard(t, filepath.Join(root, id, "shard-1"), id, 1, 2, []*fixture{b}, nil)
	}
	scans, err := OpenScans([]string{root, filepath.Join(root, "2026-11")})
	if err != nil {
		t.Fatal(err)
	}
	if len(scans) != 2 || scans[0].ID != "2026-10" || len(scans[0].Datasets) != 2 || len(scans[1].Datasets) != 2 {
		t.Fatalf("scans %+v: want 2026-10 and 2026-11, two shards each", scans)
	}
	db, err := OpenDB(context.Background(), scans, scans)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []string
	rows, err := db.SQL.Query(`SELECT h.scan_id || ' ' || h.failure || '/' || h.dane_status || ' ' || e.failure || '/' || e.dane_status
		FROM mx_hosts h JOIN endpoints e USING (scan_id, host) ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	rows.Close()
	want := []string{"2026-10 /pass /pass", "2026-11 /pass /pass"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("host and endpoint rows %q; want %q", got, want)
	}
	var n int
	db.SQL.QueryRow("SELECT count(*) FROM domains").Scan(&n)
	if n != 4 {
		t.Errorf("%d domains rows; want 4 (2 per scan)", n)
	}
}
