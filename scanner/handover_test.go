package scanner

import (
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
	"github.com/danescan/danescan/scanner/lab"
)

// dialCounter counts the SMTP connections made through it, per address.
type dialCounter struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	mu   sync.Mutex
	n    map[string]int // by address, guarded by mu
}

func (d *dialCounter) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(addr)
	d.mu.Lock()
	if d.n == nil {
		d.n = map[string]int{}
	}
	d.n[host]++
	d.mu.Unlock()
	return d.dial(ctx, network, addr)
}

func (d *dialCounter) total() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.n {
		n += c
	}
	return n
}

// splitWorld is a lab world served on loopback with its mail servers, for
// the tests of the split scan.
type splitWorld struct {
	w    *lab.World
	smtp *lab.SMTP
	list string
	base Config
}

func newSplitWorld(t *testing.T, lc lab.Config, sigalgs string) *splitWorld {
	t.Helper()
	w, cfg := servedLab(t, lc, 50)
	smtp := startLabSMTP(t, w, &cfg)
	withSMTP(sigalgs)(&cfg)
	return &splitWorld{w: w, smtp: smtp, list: writeList(t, t.TempDir(), w.InputLines()), base: cfg}
}

// split runs the three steps over n DNS shards and m probe shards and
// returns the final shard datasets, the dial counters of the probe
// shards and the DNS shards' directories.
func (sw *splitWorld) split(t *testing.T, n, m int) (finals []string, probes []*dialCounter, dnsDirs []string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	for k := range n {
		cfg := sw.base
		cfg.Shard, cfg.SMTPHandover, cfg.ScanID = datasets.Shard{Index: k, Count: n}, true, "split"
		cfg.SMTPDial = func(context.Context, string, string) (net.Conn, error) {
			t.Errorf("DNS shard %d connected to an SMTP server", k)
			return nil, net.ErrClosed
		}
		out := filepath.Join(dir, fmt.Sprintf("dns-%d", k))
		if _, err := Run(ctx, cfg, []Input{{Path: sw.list}}, out, nil); err != nil {
			t.Fatal(err)
		}
		dnsDirs = append(dnsDirs, out)
	}
	var probeDirs []string
	for k := range m {
		cfg := sw.base
		dc := &dialCounter{dial: sw.smtp.Dial}
		cfg.Shard, cfg.SMTPDial = datasets.Shard{Index: k, Count: m}, dc.Dial
		out := filepath.Join(dir, fmt.Sprintf("probe-%d", k))
		// The DNS shards in another order than their indices: Probe
		// sorts them.
		given := slices.Clone(dnsDirs)
		slices.Reverse(given)
		if _, err := Probe(ctx, cfg, given, out, nil); err != nil {
			t.Fatal(err)
		}
		probes = append(probes, dc)
		probeDirs = append(probeDirs, out)
	}
	for k := range n {
		out := filepath.Join(dir, fmt.Sprintf("final-%d", k))
		if _, err := Merge(ctx, sw.base, dnsDirs[k], probeDirs, out); err != nil {
			t.Fatal(err)
		}
		finals = append(finals, out)
	}
	return finals, probes, dnsDirs
}

// verdictRows returns the verdict columns of a dataset's rows as sorted
// lines, a host and an endpoint once however many shards hold them (and
// an error when two shards disagree on them).
func verdictRows(t *testing.T, dirs ...string) (doms, hosts, eps []string) {
	t.Helper()
	hm, em := map[string]string{}, map[string]string{}
	for _, dir := range dirs {
		d, h, e := readLabTables(t, dir)
		for _, r := range d {
			doms = append(doms, fmt.Sprintf("%s|%s|%s|%s|%v|%v|%d|%v|%s|%s|%d", r.Domain, r.Input, r.Failure, r.MXKind, r.MXHosts, r.MXSecure, r.MXHostsWithTLSA, r.TLSAAllMX, r.DANE, r.DANEReason, r.MXHostsPassing))
		}
		for _, r := range h {
			line := fmt.Sprintf("%s|%s|%v|%v|%s|%v|%s|%s|%s|%d", r.Host, r.Failure, r.Addresses, r.AddressesSecure, r.TLSABaseDomain, r.TLSA.Records, r.TLSAState, r.DANEStatus, r.DANEReason, r.Endpoints)
			if prev, ok := hm[r.Host]; ok && prev != line {
				t.Errorf("host %s differs between shards:\n%s\n%s", r.Host, prev, line)
			}
			hm[r.Host] = line
		}
		for _, r := range e {
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

// sameLines reports the first differences between two sorted line lists.
func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	t.Errorf("%s: %d rows, the whole scan %d", what, len(got), len(want))
	shown := 0
	for _, l := range want {
		if _, ok := slices.BinarySearch(got, l); !ok && shown < 5 {
			t.Errorf("%s: missing %s", what, l)
			shown++
		}
	}
	for _, l := range got {
		if _, ok := slices.BinarySearch(want, l); !ok && shown < 10 {
			t.Errorf("%s: extra   %s", what, l)
			shown++
		}
	}
}

// TestSplitScanEqualsWholeScan: a lab world scanned in 4 DNS shards with
// the SMTP work handed over, probed in 4 address shards and merged has
// the verdicts of the same world scanned in one process, row for row;
// the DNS shards connect to nothing, every address is connected to by
// one probe shard only, once per (TLSA base domain, mode). The probe
// step may have another number of shards than the DNS step.
func TestSplitScanEqualsWholeScan(t *testing.T) {
	for _, c := range []struct {
		name    string
		signed  bool
		sigalgs string
		probes  int
	}{{"signed", true, "any", 4}, {"unsigned-both-3-probe-shards", false, "both", 3}} {
		t.Run(c.name, func(t *testing.T) {
			sw := newSplitWorld(t, lab.Config{Domains: 400, Seed: 7, DNSSEC: c.signed}, c.sigalgs)
			whole := filepath.Join(t.TempDir(), "whole")
			wc := &dialCounter{dial: sw.smtp.Dial}
			cfg := sw.base
			cfg.SMTPDial = wc.Dial
			if _, err := Run(context.Background(), cfg, []Input{{Path: sw.list}}, whole, nil); err != nil {
				t.Fatal(err)
			}
			finals, probes, dnsDirs := sw.split(t, 4, c.probes)

			wd, wh, we := verdictRows(t, whole)
			gd, gh, ge := verdictRows(t, finals...)
			t.Logf("%d domains, %d hosts, %d endpoints; %d connections in one process", len(wd), len(wh), len(we), wc.total())
			sameLines(t, "domains", gd, wd)
			sameLines(t, "mx_hosts", gh, wh)
			sameLines(t, "endpoints", ge, we)

			// Connections: per address, the one probe shard it belongs
			// to, once per distinct (base, mode) to be probed.
			conns := map[string]map[string]bool{}
			for _, dir := range dnsDirs {
				hs, err := datasets.ReadTable[datasets.Handover](dir, datasets.TableHandover)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range hs {
					if h.Failure != "" {
						continue
					}
					if conns[h.Address] == nil {
						conns[h.Address] = map[string]bool{}
					}
					conns[h.Address][h.TLSABaseDomain+"|"+h.SigAlgs] = true
				}
			}
			total := 0
			for addr, want := range conns {
				shard := datasets.ShardOf(addr, c.probes)
				for k, dc := range probes {
					got := dc.n[addr]
					if k != shard && got > 0 {
						t.Errorf("%s (probe shard %d) was connected to %d times by probe shard %d", addr, shard, got, k)
					}
					if k == shard && got != len(want) {
						t.Errorf("%s: %d connections, want one per (base, mode): %d", addr, got, len(want))
					}
				}
				total += len(want)
			}
			got := 0
			for _, dc := range probes {
				got += dc.total()
			}
			if got != total || got == 0 || got > wc.total() {
				t.Errorf("the probe shards made %d connections, want %d (the whole scan made %d)", got, total, wc.total())
			}
			for k, dir := range finals {
				m, err := datasets.ReadManifest(dir)
				if err != nil {
					t.Fatal(err)
				}
				if m.Step != "" || !m.Complete || m.ScanID != "split" || *m.Shard != (datasets.Shard{Index: k, Count: 4}) {
					t.Errorf("final shard %d: step %q complete %v scan %s shard %v", k, m.Step, m.Complete, m.ScanID, m.Shard)
				}
			}
		})
	}
}

// TestSplitScanIncomplete: a probe shard stopped before its end says so
// and merge refuses it; a merge whose probe shards lack endpoints of its
// DNS shard writes what it has, says it is incomplete and fails.
func TestSplitScanIncomplete(t *testing.T) {
	sw := newSplitWorld(t, lab.Config{Domains: 100, Seed: 7}, "any")
	_, _, dnsDirs := sw.split(t, 2, 2)
	dir := t.TempDir()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := sw.base
	cfg.Shard, cfg.SMTPDial = datasets.Shard{Index: 0, Count: 2}, sw.smtp.Dial
	stopped := filepath.Join(dir, "stopped-0")
	man, err := Probe(ctx, cfg, dnsDirs, stopped, nil)
	if err != ErrInterrupted || man == nil || man.Complete {
		t.Fatalf("Probe with ctx ended: manifest %v, err %v; want an incomplete manifest and ErrInterrupted", man != nil, err)
	}
	eps, err := datasets.ReadTable[datasets.Endpoint](stopped, datasets.TableEndpoints)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range eps {
		if e.Failure != FailInterrupted && e.Failure != FailExcluded && e.Failure != FailSpecialPurpose {
			t.Errorf("%s %s: failure %q after the probe was stopped", e.Host, e.Address, e.Failure)
		}
	}
	cfg.Shard = datasets.Shard{Index: 1, Count: 2}
	other := filepath.Join(dir, "probe-1")
	if _, err := Probe(context.Background(), cfg, dnsDirs, other, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(context.Background(), sw.base, dnsDirs[0], []string{stopped, other}, filepath.Join(dir, "m1")); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("Merge of an interrupted probe shard: %v", err)
	}

	// A probe shard whose endpoints parts are gone.
	empty := filepath.Join(dir, "empty-0")
	cfg.Shard = datasets.Shard{Index: 0, Count: 2}
	if _, err := Probe(context.Background(), cfg, dnsDirs, empty, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(empty, datasets.TableEndpoints)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m2")
	man, err = Merge(context.Background(), sw.base, dnsDirs[0], []string{empty, other}, out)
	if err == nil || !strings.Contains(err.Error(), "no endpoints row for") || man == nil || man.Complete {
		t.Errorf("Merge with endpoints missing: err %v, manifest %v", err, man)
	}
	if m, err := datasets.ReadManifest(out); err != nil || m.Complete {
		t.Errorf("the merged dataset's manifest: %v, %v; want complete false", m, err)
	}
}

// TestSplitScanUnsharded: a DNS step of the whole input (no --shard),
// probed in 2 shards and merged, has the verdicts of the scan in one
// process.
func TestSplitScanUnsharded(t *testing.T) {
	sw := newSplitWorld(t, lab.Config{Domains: 100, Seed: 7}, "any")
	ctx := context.Background()
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	if _, err := Run(ctx, sw.base, []Input{{Path: sw.list}}, whole, nil); err != nil {
		t.Fatal(err)
	}
	cfg := sw.base
	cfg.SMTPHandover = true
	dns := filepath.Join(dir, "dns")
	if _, err := Run(ctx, cfg, []Input{{Path: sw.list}}, dns, nil); err != nil {
		t.Fatal(err)
	}
	var probes []string
	for k := range 2 {
		cfg := sw.base
		cfg.Shard = datasets.Shard{Index: k, Count: 2}
		out := filepath.Join(dir, fmt.Sprint("probe-", k))
		if _, err := Probe(ctx, cfg, []string{dns}, out, nil); err != nil {
			t.Fatal(err)
		}
		probes = append(probes, out)
	}
	final := filepath.Join(dir, "final")
	man, err := Merge(ctx, sw.base, dns, probes, final)
	if err != nil {
		t.Fatal(err)
	}
	if man.Shard != nil || !man.Complete {
		t.Errorf("final manifest: shard %v, complete %v; want no shard, complete", man.Shard, man.Complete)
	}
	wd, wh, we := verdictRows(t, whole)
	gd, gh, ge := verdictRows(t, final)
	sameLines(t, "domains", gd, wd)
	sameLines(t, "mx_hosts", gh, wh)
	sameLines(t, "endpoints", ge, we)
}
