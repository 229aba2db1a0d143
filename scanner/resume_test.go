package scanner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/lab"
)

// resumeLab serves a lab world of n domains with its mail servers and
// returns the config that scans it (SMTP on) and its domain list.
func resumeLab(t *testing.T, n int) (Config, []Input) {
	t.Helper()
	w, cfg := servedLab(t, lab.Config{Domains: n, Seed: 3}, 40)
	cfg.PartRows, cfg.ScanID = 15, "resume-test"
	withSMTP("any")(&cfg)
	startLabSMTP(t, w, &cfg)
	// Duplicates and an invalid line, so that kept entries of every kind
	// meet the duplicate filter.
	lines := append(w.InputLines(), "not a domain!", w.InputLines()[0], strings.ToUpper(w.InputLines()[5]))
	return cfg, []Input{{Path: writeList(t, t.TempDir(), lines)}}
}

// tableKeys returns the rows of the dataset in dir as sorted strings of
// their identity and verdict columns (times and durations aside), and
// fails the test when an entry, host or endpoint has two rows.
func tableKeys(t *testing.T, dir string) (doms, hosts, eps []string) {
	t.Helper()
	ds, hs, es := readLabTables(t, dir)
	seen := map[string]bool{}
	once := func(table, id string) {
		if seen[table+id] {
			t.Errorf("%s: two rows for %s", table, id)
		}
		seen[table+id] = true
	}
	for _, d := range ds {
		once("domains", fmt.Sprintf("%s:%d", d.InputFile, d.InputLine))
		doms = append(doms, fmt.Sprintf("%d %q %s fail=%s kind=%s mx=%v secure=%v tlsa=%d/%v dane=%s %q passing=%d sts=%v rpt=%v",
			d.InputLine, d.Input, d.Domain, d.Failure, d.MXKind, d.MXHosts, d.MXSecure, d.MXHostsWithTLSA, d.TLSAAllMX, d.DANE, d.DANEReason, d.MXHostsPassing, d.MTASTSPublished, d.TLSRPTPublished))
	}
	for _, h := range hs {
		once("mx_hosts", h.Host)
		hosts = append(hosts, fmt.Sprintf("%s fail=%s addrs=%v tlsa=%d state=%s dane=%s %q endpoints=%d",
			h.Host, h.Failure, h.Addresses, len(h.TLSA.Records), h.TLSAState, h.DANEStatus, h.DANEReason, h.Endpoints))
	}
	for _, e := range es {
		once("endpoints", e.Host+" "+e.Address+" "+e.SigAlgs)
		eps = append(eps, fmt.Sprintf("%s %s %s fail=%s dane=%s %q", e.Host, e.Address, e.SigAlgs, e.Failure, e.DANEStatus, e.DANEReason))
	}
	slices.Sort(doms)
	slices.Sort(hosts)
	slices.Sort(eps)
	return doms, hosts, eps
}

// sameRows fails the test when got and want differ, naming the first
// difference.
func sameRows(t *testing.T, table string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	t.Errorf("%s: %d rows, want %d (as a whole scan)", table, len(got), len(want))
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("%s: first difference:\n got  %s\n want %s", table, g, w)
			return
		}
	}
}

// runUntil runs scan and cancels it once stats.Done reaches at, with a
// grace period so short that the domains in flight are cut short.
func runUntil(t *testing.T, at int64, scan func(ctx context.Context, stats *Stats) (*datasets.Manifest, error)) (*datasets.Manifest, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stats Stats
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for range tick.C {
			if stats.Done.Load() >= at || ctx.Err() != nil {
				cancel()
				return
			}
		}
	}()
	return scan(ctx, &stats)
}

// TestResumeInterrupted stops a scan (SMTP probes on) twice, each time
// with the domains, hosts and endpoints in flight cut short and marked
// interrupted, and resumes it: the result has the rows of a whole scan,
// one per entry, host and endpoint, none interrupted; rows finished
// before the stops are kept, not scanned again; the counts are the whole
// scan's; a third resume finds the scan complete.
func TestResumeInterrupted(t *testing.T) {
	cfg, inputs := resumeLab(t, 400)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	wm, err := Run(context.Background(), cfg, inputs, whole, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	short := cfg
	short.Grace = time.Millisecond
	m, err := runUntil(t, 100, func(ctx context.Context, st *Stats) (*datasets.Manifest, error) {
		return Run(ctx, short, inputs, out, st)
	})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("first run: %v; want ErrInterrupted", err)
	}
	interrupted := m.Counts.Failures[FailInterrupted] + m.Counts.HostFailures[FailInterrupted] + m.Counts.EndpointFailures[FailInterrupted]
	t.Logf("first run: %d domains rows, %d interrupted rows (domains %d, hosts %d, endpoints %d)", m.Counts.RowsDomains, interrupted,
		m.Counts.Failures[FailInterrupted], m.Counts.HostFailures[FailInterrupted], m.Counts.EndpointFailures[FailInterrupted])
	if m.Counts.Failures[FailInterrupted] == 0 {
		t.Fatalf("no domains row interrupted: the test stops nothing in flight")
	}
	firstEnd := m.Ended
	m, err = runUntil(t, 250, func(ctx context.Context, st *Stats) (*datasets.Manifest, error) {
		return Resume(ctx, short, inputs, out, st)
	})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("second run: %v; want ErrInterrupted", err)
	}
	resumeStart := time.Now()
	final, err := Resume(context.Background(), cfg, inputs, out, nil)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if !final.Complete || final.ScanID != wm.ScanID || len(final.Resumed) != 2 || !final.Started.Equal(m.Started) {
		t.Errorf("final manifest: complete %v, scan id %s, resumed %v, started %v; want true, %s, two times, %v", final.Complete, final.ScanID, final.Resumed, final.Started, wm.ScanID, m.Started)
	}
	gd, gh, ge := tableKeys(t, out)
	wd, wh, we := tableKeys(t, whole)
	sameRows(t, "domains", gd, wd)
	sameRows(t, "mx_hosts", gh, wh)
	sameRows(t, "endpoints", ge, we)
	on, _ := datasets.ReadManifest(out)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"rows", [3]int64{on.Counts.RowsDomains, on.Counts.RowsMXHosts, on.Counts.RowsEndpoints}, [3]int64{wm.Counts.RowsDomains, wm.Counts.RowsMXHosts, wm.Counts.RowsEndpoints}},
		{"failures", on.Counts.Failures, wm.Counts.Failures},
		{"dane", on.Counts.DANE, wm.Counts.DANE},
		{"hosts dane", on.Counts.HostsDANE, wm.Counts.HostsDANE},
		{"endpoints dane", on.Counts.EndpointsDANE, wm.Counts.EndpointsDANE},
		{"entries", [4]int64{on.Counts.Entries, on.Counts.Domains, on.Counts.Duplicates, on.Counts.Invalid}, [4]int64{wm.Counts.Entries, wm.Counts.Domains, wm.Counts.Duplicates, wm.Counts.Invalid}},
	} {
		if d := fmt.Sprint(c.got) != fmt.Sprint(c.want); d {
			t.Errorf("manifest counts %s: %v; the whole scan's %v", c.name, c.got, c.want)
		}
	}
	ds, _, _ := readLabTables(t, out)
	kept := 0
	for _, d := range ds {
		if d.ScannedAt.Before(firstEnd) {
			kept++
		}
	}
	if kept < 50 {
		t.Errorf("%d domains rows from the first run kept; want the ~100 it finished", kept)
	}
	t.Logf("%d domains rows kept from the first run (resumed at %v)", kept, resumeStart.Format(time.StampMilli))
	if _, err := Resume(context.Background(), cfg, inputs, out, nil); !errors.Is(err, ErrComplete) {
		t.Errorf("resume of a complete scan: %v; want ErrComplete", err)
	}
}

// TestResumeRefuses: changed inputs and settings, another shard or scan
// id, no dataset, a stream input and a signal during the checks are
// refused with one line, and the dataset is left as it was; with the same
// settings the shard resumes to the end.
func TestResumeRefuses(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(list, []byte("a.example\nb.example\nc.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A resolver that does not exist: every lookup fails at once, and
	// the scan is stopped before it starts, so it is resumable.
	base := Config{Resolvers: []string{"127.0.0.1:1"}, Timeout: 50 * time.Millisecond, Retries: -1, ScanID: "s1", Shard: datasets.Shard{Index: 1, Count: 2}}
	out := filepath.Join(dir, "out")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, base, []Input{{Path: list}}, out, nil); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("run: %v", err)
	}
	before, err := os.ReadFile(filepath.Join(out, datasets.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.txt")
	if err := os.WriteFile(other, []byte("a.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		mod    func(*Config, *[]Input, *string)
		reason string
	}{
		{"no dataset", func(_ *Config, _ *[]Input, o *string) { *o = dir }, "holds no dataset"},
		{"another shard", func(c *Config, _ *[]Input, _ *string) { c.Shard.Index = 0 }, "holds shard 1/2 of scan s1, not shard 0/2"},
		{"whole input", func(c *Config, _ *[]Input, _ *string) { c.Shard = datasets.Shard{} }, "give --shard 1/2"},
		{"another scan", func(c *Config, _ *[]Input, _ *string) { c.ScanID = "s2" }, "holds scan s1, not s2"},
		{"a flag", func(c *Config, _ *[]Input, _ *string) { c.Workers = 7 }, "workers 500, now 7"},
		{"dnssec", func(c *Config, _ *[]Input, _ *string) { c.DNSSEC = true }, "dnssec_enabled false, now true"},
		{"another input", func(_ *Config, in *[]Input, _ *string) { *in = []Input{{Path: other}} }, "give the same inputs"},
		{"more inputs", func(_ *Config, in *[]Input, _ *string) { *in = append(*in, Input{Path: other}) }, "read 1 input(s), not 2"},
		{"format", func(_ *Config, in *[]Input, _ *string) { (*in)[0].Format = datasets.FormatCSV }, "give the same --format"},
		{"stdin instead of the file", func(_ *Config, in *[]Input, _ *string) { (*in)[0].Path = "-" }, "give the same inputs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, inputs, o := base, []Input{{Path: list}}, out
			c.mod(&cfg, &inputs, &o)
			m, err := Resume(context.Background(), cfg, inputs, o, nil)
			if err == nil || m != nil || !strings.Contains(err.Error(), c.reason) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v (manifest %v); want one line with %q", err, m != nil, c.reason)
			}
		})
	}
	// A signal while the resume reads the dataset and the inputs stops
	// it before it changes anything.
	if m, err := Resume(ctx, base, []Input{{Path: list}}, out, nil); !errors.Is(err, ErrInterrupted) || m != nil {
		t.Errorf("resume with its context ended: %v; want ErrInterrupted and no manifest", err)
	}
	after, _ := os.ReadFile(filepath.Join(out, datasets.ManifestName))
	if string(before) != string(after) {
		t.Errorf("a refused resume changed the manifest")
	}
	// With the same settings the shard resumes: every entry of shard 1/2
	// gets its row (a lookup failure: no resolver listens there).
	fm, err := Resume(context.Background(), base, []Input{{Path: list}}, out, nil)
	if err != nil || !fm.Complete || *fm.Shard != base.Shard || fm.ScanID != "s1" {
		t.Fatalf("resume of shard 1/2: %v, manifest %+v", err, fm)
	}
	var want int64
	for _, n := range []string{"a.example", "b.example", "c.example"} {
		if base.Shard.Holds(n) {
			want++
		}
	}
	if fm.Counts.RowsDomains != want || fm.Counts.OtherShards != 3-want {
		t.Errorf("resumed shard: %d rows, %d entries of other shards; want %d, %d", fm.Counts.RowsDomains, fm.Counts.OtherShards, want, 3-want)
	}
	// A scan of stdin cannot be checked: its input may be anything.
	m, err := datasets.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	m.Complete = false
	m.Inputs[0].Path = "-"
	if err := datasets.WriteManifest(out, m); err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(context.Background(), base, []Input{{Path: "-"}}, out, nil); err == nil || !strings.Contains(err.Error(), "input - is a stream") {
		t.Errorf("resume of a scan of stdin: %v; want a refusal", err)
	}
}
