package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner"
	"github.com/danescan/danescan/scanner/lab"
)

// connCounter counts the SMTP connections made through it, per address.
type connCounter struct {
	dial dialFunc
	mu   sync.Mutex
	n    map[string]int // by address, guarded by mu
}

func (c *connCounter) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(addr)
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[host]++
	c.mu.Unlock()
	return c.dial(ctx, network, addr)
}

// splitVerdicts returns the verdict columns of the rows of datasets as
// sorted lines, each host and endpoint once (as analysis deduplicates
// shards on (scan_id, host) and (scan_id, host, address, sigalgs)), and
// an error when two shards disagree on one.
func splitVerdicts(t *testing.T, dirs ...string) (doms, hosts, eps []string) {
	t.Helper()
	hm, em := map[string]string{}, map[string]string{}
	for _, dir := range dirs {
		ds, err := datasets.ReadTable[datasets.Domain](dir, datasets.TableDomains)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range ds {
			doms = append(doms, fmt.Sprintf("%s|%s|%s|%s|%v|%v|%d|%v|%s|%s|%d", r.Domain, r.Input, r.Failure, r.MXKind, r.MXHosts, r.MXSecure, r.MXHostsWithTLSA, r.TLSAAllMX, r.DANE, r.DANEReason, r.MXHostsPassing))
		}
		hs, err := datasets.ReadTable[datasets.MXHost](dir, datasets.TableMXHosts)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range hs {
			line := fmt.Sprintf("%s|%s|%v|%v|%s|%v|%s|%s|%s|%d", r.Host, r.Failure, r.Addresses, r.AddressesSecure, r.TLSABaseDomain, r.TLSA.Records, r.TLSAState, r.DANEStatus, r.DANEReason, r.Endpoints)
			if prev, ok := hm[r.Host]; ok && prev != line {
				t.Errorf("host %s differs between shards:\n%s\n%s", r.Host, prev, line)
			}
			hm[r.Host] = line
		}
		es, err := datasets.ReadTable[datasets.Endpoint](dir, datasets.TableEndpoints)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range es {
			key := r.Host + "|" + r.Address + "|" + r.SigAlgs
			line := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%d|%d|%d|%s|%d|%s|%v|%v|%s|%s|%d", key, r.TLSABaseDomain, r.TLSAState, r.Failure, r.Stage, r.DANEStatus, r.DANEReason,
				r.DANEMatchRecord, r.DANEMatchUsage, r.DANEDepth, r.NearMiss, r.NearMissRecord, r.NearMissParams, r.TLSAUnusable, r.PKIXValid, r.PKIXReason, r.TLSVersion, r.ChainLength)
			if prev, ok := em[key]; ok && prev != line {
				t.Errorf("endpoint %s differs between shards:\n%s\n%s", key, prev, line)
			}
			em[key] = line
		}
	}
	for _, l := range hm {
		hosts = append(hosts, l)
	}
	for _, l := range em {
		eps = append(eps, l)
	}
	slices.Sort(doms)
	slices.Sort(hosts)
	slices.Sort(eps)
	return doms, hosts, eps
}

// sameRows reports the first rows in which got and want (sorted) differ.
func sameRows(t *testing.T, table string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	t.Errorf("%s: %d rows, the whole scan %d", table, len(got), len(want))
	shown := 0
	for _, l := range want {
		if _, ok := slices.BinarySearch(got, l); !ok && shown < 5 {
			t.Errorf("%s: the split scan lacks %s", table, l)
			shown++
		}
	}
	for _, l := range got {
		if _, ok := slices.BinarySearch(want, l); !ok && shown < 10 {
			t.Errorf("%s: the split scan has   %s", table, l)
			shown++
		}
	}
}

// startSignedLab generates a signed lab world of n domains (seed 1) and
// serves it, its resolver on loopback and its mail servers behind their
// dial, until the test ends.
func startSignedLab(t *testing.T, n int) (*lab.World, string, *lab.SMTP) {
	t.Helper()
	w, err := lab.Generate(lab.Config{Domains: n, Seed: 1, DNSSEC: true})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := lab.Start(w, lab.ServerOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	smtp, err := lab.StartSMTP(w, lab.SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtp.Close() })
	return w, srv.Addr(), smtp
}

// TestSplitScan scans a signed lab world with its mail servers twice: in
// one process (danescan lab), and split in three steps, 4 DNS shards
// (scan --shard K/4 --smtp-handover), 4 probe shards (probe --shard K/4)
// and a merge per DNS shard. The merged shards have the verdicts of the
// whole scan row for row; the DNS shards connect to nothing; every address
// is connected to by the one probe shard it belongs to, once per distinct
// (TLSA base domain, mode).
func TestSplitScan(t *testing.T) {
	t.Parallel()
	const domains = 300
	w, resolver, smtp := startSignedLab(t, domains)
	dir := t.TempDir()
	list := writeFile(t, dir, "list.txt", []byte(strings.Join(w.InputLines(), "\n")+"\n"))
	anchor := writeFile(t, dir, "anchor.txt", []byte(w.TrustAnchor()))

	whole := filepath.Join(dir, "whole")
	if code, _, stderr := runCLI(t, "lab", "--population", "stress", "--domains", fmt.Sprint(domains), "--seed", "1", "--no-report", "--quiet",
		"--timeout", "2s", "--workers", "50", "--out", whole); code != exitOK {
		t.Fatalf("lab: exit %d: %s", code, stderr)
	}

	var dnsDirs, probeDirs, finals []string
	for k := range 4 {
		out := filepath.Join(dir, fmt.Sprintf("dns-%d", k))
		args := []string{"scan", list, "--shard", fmt.Sprintf("%d/4", k), "--smtp-handover", "--out", out,
			"--resolver", resolver, "--timeout", "2s", "--retries", "1", "--quiet", "--workers", "50", "--trust-anchor", anchor}
		for _, p := range lab.Networks() {
			args = append(args, "--allow", p.String())
		}
		if code, _, stderr := runCLI(t, args...); code != exitOK {
			t.Fatalf("DNS shard %d: exit %d: %s", k, code, stderr)
		}
		dnsDirs = append(dnsDirs, out)
	}
	if n := smtp.Connections(); n != 0 {
		t.Errorf("the DNS shards made %d SMTP connections, want none", n)
	}
	var counters []*connCounter
	for k := range 4 {
		out := filepath.Join(dir, fmt.Sprintf("probe-%d", k))
		c := &connCounter{dial: smtp.Dial}
		args := []string{"--shard", fmt.Sprintf("%d/4", k), "--out", out, "--quiet",
			"--smtp-timeout", "5s", "--address-interval", "1ns", "--smtp-rate", "0"}
		for _, p := range lab.Networks() {
			args = append(args, "--allow", p.String())
		}
		args = append(args, dnsDirs...)
		var stdout, stderr bytes.Buffer
		if code := probeWith(context.Background(), args, &stdout, &stderr, c.Dial); code != exitOK {
			t.Fatalf("probe shard %d: exit %d: %s", k, code, stderr.String())
		}
		counters = append(counters, c)
		probeDirs = append(probeDirs, out)
	}
	// Without --allow the probe step connects to none of the world's
	// (documentation) addresses, whatever the DNS step allowed.
	refused := &connCounter{dial: smtp.Dial}
	var stdout, stderr bytes.Buffer
	noAllow := filepath.Join(dir, "probe-no-allow")
	if code := probeWith(context.Background(), append([]string{"--shard", "0/4", "--out", noAllow, "--quiet"}, dnsDirs...), &stdout, &stderr, refused.Dial); code != exitOK {
		t.Fatalf("probe without --allow: exit %d: %s", code, stderr.String())
	}
	if len(refused.n) != 0 {
		t.Errorf("probe without --allow connected to %d addresses", len(refused.n))
	}
	if rows, err := datasets.ReadTable[datasets.Endpoint](noAllow, datasets.TableEndpoints); err != nil || len(rows) == 0 {
		t.Errorf("probe without --allow: %d rows, %v", len(rows), err)
	} else {
		for _, r := range rows {
			if r.Failure != scanner.FailSpecialPurpose || r.DANEStatus != datasets.DANENotProbed {
				t.Errorf("%s %s: failure %q, %s; want special_purpose, not_probed", r.Host, r.Address, r.Failure, r.DANEStatus)
				break
			}
		}
	}
	for k := range 4 {
		out := filepath.Join(dir, fmt.Sprintf("final-%d", k))
		if code, _, stderr := runCLI(t, append([]string{"merge", "--dns", dnsDirs[k], "--out", out}, probeDirs...)...); code != exitOK {
			t.Fatalf("merge %d: exit %d: %s", k, code, stderr)
		}
		m, err := datasets.ReadManifest(out)
		if err != nil {
			t.Fatal(err)
		}
		if m.Step != "" || !m.Complete || m.Shard == nil || *m.Shard != (datasets.Shard{Index: k, Count: 4}) || !strings.HasPrefix(m.ScanID, "shards-") {
			t.Errorf("final shard %d: step %q, complete %v, shard %v, scan %s", k, m.Step, m.Complete, m.Shard, m.ScanID)
		}
		finals = append(finals, out)
	}

	wd, wh, we := splitVerdicts(t, whole)
	gd, gh, ge := splitVerdicts(t, finals...)
	if len(we) == 0 || len(wh) == 0 {
		t.Fatalf("the whole scan has %d hosts, %d endpoints", len(wh), len(we))
	}
	sameRows(t, "domains", gd, wd)
	sameRows(t, "mx_hosts", gh, wh)
	sameRows(t, "endpoints", ge, we)

	// Per address: connected to by its probe shard only, once per
	// distinct (TLSA base domain, mode) handed over for it.
	want := map[string]map[string]bool{}
	for _, d := range dnsDirs {
		rows, err := datasets.ReadTable[datasets.Handover](d, datasets.TableHandover)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range rows {
			if h.Failure == "" {
				if want[h.Address] == nil {
					want[h.Address] = map[string]bool{}
				}
				want[h.Address][h.TLSABaseDomain+" "+h.SigAlgs] = true
			}
		}
	}
	shared := 0 // addresses handed over by more than one DNS shard
	for addr, conns := range want {
		owner := datasets.ShardOf(addr, 4)
		for k, c := range counters {
			switch got := c.n[addr]; {
			case k != owner && got > 0:
				t.Errorf("%s belongs to probe shard %d; probe shard %d connected to it %d times", addr, owner, k, got)
			case k == owner && got != len(conns):
				t.Errorf("%s: %d connections, want %d (one per base domain and mode)", addr, got, len(conns))
			}
		}
	}
	seen := map[string]int{}
	for _, d := range dnsDirs {
		hs, _ := datasets.ReadTable[datasets.Handover](d, datasets.TableHandover)
		inShard := map[string]bool{}
		for _, h := range hs {
			inShard[h.Address] = true
		}
		for a := range inShard {
			seen[a]++
		}
	}
	for _, n := range seen {
		if n > 1 {
			shared++
		}
	}
	if shared == 0 {
		t.Errorf("no address is handed over by more than one DNS shard: the test shows nothing about shared providers")
	}
	t.Logf("%d addresses to connect to, %d of them handed over by several DNS shards", len(want), shared)
}

// TestSplitScanErrors: probe and merge refuse, with one line before any
// work, DNS shards of different scans or shard counts, a missing or
// incomplete shard, and datasets of the wrong step.
func TestSplitScanErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Manifests alone: the checks read nothing else before refusing.
	shard := func(name string, m datasets.Manifest) string {
		t.Helper()
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := datasets.WriteManifest(d, &m); err != nil {
			t.Fatal(err)
		}
		return d
	}
	dnsShard := func(k, n int, scan string, complete bool) datasets.Manifest {
		return datasets.Manifest{SchemaVersion: datasets.SchemaVersion, ScanID: scan, Step: datasets.StepDNS, Shard: &datasets.Shard{Index: k, Count: n}, Complete: complete,
			Config: map[string]any{"sigalgs": "any", "dnssec_enabled": true}}
	}
	var good []string
	for k := range 3 {
		good = append(good, shard(fmt.Sprintf("dns-%d", k), dnsShard(k, 3, "s1", true)))
	}
	other := shard("other-scan", dnsShard(2, 3, "s2", true))
	count := shard("other-count", dnsShard(2, 4, "s1", true))
	incomplete := shard("incomplete", dnsShard(2, 3, "s1", false))
	flags := dnsShard(2, 3, "s1", true)
	flags.Config = map[string]any{"sigalgs": "both", "dnssec_enabled": true}
	otherFlags := shard("other-flags", flags)
	badIndex := shard("bad-index", dnsShard(5, 3, "s1", true))
	whole := shard("whole", datasets.Manifest{SchemaVersion: datasets.SchemaVersion, ScanID: "s1", Complete: true})
	probeShard := func(k, n int) string {
		return shard(fmt.Sprintf("probe-%d-%d", k, n), datasets.Manifest{SchemaVersion: datasets.SchemaVersion, ScanID: "s1", Step: datasets.StepProbe,
			Shard: &datasets.Shard{Index: k, Count: n}, Complete: true, Config: map[string]any{"dns_shards": 3}})
	}
	p0, p1 := probeShard(0, 2), probeShard(1, 2)
	wholeIncomplete := shard("whole-incomplete", datasets.Manifest{SchemaVersion: datasets.SchemaVersion, ScanID: "s1"})
	probeIncomplete := shard("probe-incomplete", datasets.Manifest{SchemaVersion: datasets.SchemaVersion, ScanID: "s1", Step: datasets.StepProbe,
		Shard: &datasets.Shard{Index: 0, Count: 2}, Config: map[string]any{"dns_shards": 3}})
	mergeIncomplete := shard("merge-incomplete", datasets.Manifest{SchemaVersion: datasets.SchemaVersion, ScanID: "s1", Shard: &datasets.Shard{Index: 2, Count: 3},
		Config: map[string]any{"smtp_handover": map[string]any{"probe_shards": 2}}})
	list := writeFile(t, dir, "list.txt", []byte("a.example\n"))

	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"missing shard", []string{"probe", "--shard", "0/2", "--out", out, good[0], good[1]}, "DNS shard(s) 2 of 3 missing"},
		{"other scan", []string{"probe", "--shard", "0/2", "--out", out, good[0], good[1], other}, "belongs to scan s2"},
		{"other count", []string{"probe", "--shard", "0/2", "--out", out, good[0], good[1], count}, "is shard 2/4"},
		{"incomplete", []string{"probe", "--shard", "0/2", "--out", out, good[0], good[1], incomplete}, "incomplete"},
		{"twice", []string{"probe", "--shard", "0/2", "--out", out, good[0], good[1], good[1]}, "given twice"},
		{"other flags", []string{"probe", "--shard", "0/2", "--out", out, good[0], good[1], otherFlags}, "sigalgs is any in one, both in the other"},
		{"not a DNS shard", []string{"probe", "--shard", "0/2", "--out", out, good[0], good[1], whole}, "not the DNS step"},
		{"shard out of range", []string{"probe", "--shard", "0/2", "--out", out, good[0], good[1], badIndex}, "is not a shard K/N"},
		{"bad shard", []string{"probe", "--shard", "2/2", "--out", out, good[0]}, "want K/N"},
		{"scan: handover without SMTP", []string{"scan", list, "--smtp-handover", "--no-smtp", "--out", out, "--resolver", "127.0.0.1:1", "--quiet"}, "cannot go with --no-smtp"},
		{"scan: resume a DNS step without --smtp-handover", []string{"scan", list, "--resume", "--shard", "2/3", "--scan-id", "s1", "--out", incomplete, "--resolver", "127.0.0.1:1", "--quiet"}, "holds the DNS step of a split scan: give --smtp-handover"},
		{"scan: resume a whole scan with --smtp-handover", []string{"scan", list, "--resume", "--scan-id", "s1", "--smtp-handover", "--out", wholeIncomplete, "--resolver", "127.0.0.1:1", "--quiet"}, "resume it without --smtp-handover"},
		{"scan: resume a probe step", []string{"scan", list, "--resume", "--shard", "0/2", "--scan-id", "s1", "--smtp-handover", "--out", probeIncomplete, "--resolver", "127.0.0.1:1", "--quiet"}, "resume it with danescan probe --resume"},
		{"scan: resume a merge", []string{"scan", list, "--resume", "--shard", "2/3", "--scan-id", "s1", "--out", mergeIncomplete, "--resolver", "127.0.0.1:1", "--quiet"}, "run danescan merge again with --replace"},
		{"probe: no DNS shard", []string{"probe", "--shard", "0/2", "--out", out}, "give the DNS shards"},
		{"merge: no --dns", []string{"merge", "--out", out, p0, p1}, "--dns DIR"},
		{"merge: missing probe shard", []string{"merge", "--dns", good[0], "--out", out, p0}, "probe shard(s) 1 of 2 missing"},
		{"merge: not a DNS shard", []string{"merge", "--dns", p0, "--out", out, p0, p1}, "not the DNS step"},
		{"merge: incomplete", []string{"merge", "--dns", incomplete, "--out", out, p0, p1}, "incomplete"},
		{"merge: a DNS shard as a probe shard", []string{"merge", "--dns", good[0], "--out", out, p0, good[1]}, "not a probe shard"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, c.args...)
			if code != exitUsage || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want exit %d and one line with %q", code, stderr, exitUsage, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was created: the error came after work began", out)
			}
		})
	}
}
