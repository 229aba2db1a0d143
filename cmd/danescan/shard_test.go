package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/danescan/danescan/datasets"
)

// TestShards: a list scanned in 4 shards gives, together, the rows of the
// same list scanned whole: every input entry (invalid lines and
// duplicates included) in exactly one shard, the same verdict columns, one
// scan id; each manifest says which shard it is.
func TestShards(t *testing.T) {
	t.Parallel()
	w, addr := startLab(t, 300)
	dir := t.TempDir()
	lines := append(w.InputLines(), "not a domain!", "-bad-.example", "UPPER.Example.", w.InputLines()[0], w.InputLines()[1])
	list := writeFile(t, dir, "list.txt", []byte(strings.Join(lines, "\n")+"\n"))
	scan := func(out string, extra ...string) {
		t.Helper()
		args := append([]string{"scan", list, "--out", out, "--dnssec=false"}, fastScanFlags(addr)...)
		args = append(args, "--timeout", "2s") // a loaded machine is slower than 300ms
		if code, _, stderr := runCLI(t, append(args, extra...)...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", extra, code, stderr)
		}
	}
	whole := filepath.Join(dir, "whole")
	scan(whole)
	key := func(d datasets.Domain) string {
		return fmt.Sprintf("%s|%s|%s|%s|%s|%v|%v", d.Domain, d.Input, d.Failure, d.MXKind, strings.Join(d.MXHosts, ","), d.TLSAAllMX, d.DANE)
	}
	want, err := datasets.ReadTable[datasets.Domain](whole, datasets.TableDomains)
	if err != nil {
		t.Fatal(err)
	}
	var got []datasets.Domain
	var ids []string
	var entries, other int64
	wm, _ := datasets.ReadManifest(whole)
	for k := range 4 {
		out := filepath.Join(dir, fmt.Sprintf("shard-%d", k))
		scan(out, "--shard", fmt.Sprintf("%d/4", k))
		m, err := datasets.ReadManifest(out)
		if err != nil {
			t.Fatal(err)
		}
		if m.Shard == nil || *m.Shard != (datasets.Shard{Index: k, Count: 4}) || !m.Complete {
			t.Errorf("shard %d: manifest shard %v complete %v", k, m.Shard, m.Complete)
		}
		ids = append(ids, m.ScanID)
		entries += m.Counts.Entries
		other += m.Counts.OtherShards
		rows, err := datasets.ReadTable[datasets.Domain](out, datasets.TableDomains)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.ScanID != m.ScanID {
				t.Errorf("shard %d: row scan id %q, manifest %q", k, r.ScanID, m.ScanID)
			}
		}
		got = append(got, rows...)
	}
	if ids[0] != ids[1] || ids[0] != ids[3] || !strings.HasPrefix(ids[0], "shards-") {
		t.Errorf("scan ids %v: want one derived id for every shard", ids)
	}
	if entries != wm.Counts.Entries || other != 3*wm.Counts.Entries {
		t.Errorf("shards read %d entries (+%d of other shards), the whole scan %d", entries, other, wm.Counts.Entries)
	}
	ks := func(rows []datasets.Domain) []string {
		var out []string
		for _, r := range rows {
			out = append(out, key(r))
		}
		slices.Sort(out)
		return out
	}
	if g, w := ks(got), ks(want); !slices.Equal(g, w) {
		t.Errorf("the shards' rows differ from the whole scan's: %d rows, want %d", len(g), len(w))
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Errorf("first difference: got %s, want %s", g[i], w[i])
				break
			}
		}
	}
}

func TestShardErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	list := writeFile(t, dir, "list.txt", []byte("a.example\n"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--shard", "4/4"}, "want K/N with 0 <= K < N"},
		{[]string{"--shard", "x"}, "want K/N"},
		{[]string{"--shard", "-1/2"}, "want K/N"},
		{[]string{"--scan-id", "a b/c"}, "--scan-id"},
	} {
		args := append([]string{"scan", list, "--out", filepath.Join(dir, "out"), "--resolver", "127.0.0.1:1", "--quiet"}, c.args...)
		code, _, stderr := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line with %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
	code, _, stderr := runCLI(t, "scan", "-", "--shard", "0/2", "--out", filepath.Join(dir, "o2"), "--resolver", "127.0.0.1:1", "--quiet")
	if code != exitUsage || !strings.Contains(stderr, "give --scan-id") {
		t.Errorf("--shard on stdin without --scan-id: exit %d, %q", code, stderr)
	}
}
