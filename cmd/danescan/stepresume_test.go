package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/lab"
)

// The step resume tests stop a step of a split scan (scan
// --smtp-handover, probe) as a pre-empted cluster job is stopped, resume
// it with --resume, run the steps after it and merge, and compare the
// merged shards with a scan of the same world in one process, row for row
// (splitVerdicts, as TestSplitScan does).

// splitLab is a signed lab world served on loopback (DNS, and its mail
// servers through their in-process Dial) with the files a split scan of
// it needs, and the dataset of a scan of it in one process.
type splitLab struct {
	world          *lab.World
	resolver       string
	smtp           *lab.SMTP
	dir            string
	list, anchor   string
	whole          string
	shards, probes int
}

// startSplitLab serves a signed lab world of the given number of domains
// and scans it in one process (danescan lab, the same world).
func startSplitLab(t *testing.T, domains int) *splitLab {
	t.Helper()
	const seed = 1
	w, err := lab.Generate(lab.Config{Domains: domains, Seed: seed, DNSSEC: true})
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
	dir := t.TempDir()
	l := &splitLab{world: w, resolver: srv.Addr(), smtp: smtp, dir: dir, shards: 2, probes: 2,
		list:   writeFile(t, dir, "list.txt", []byte(strings.Join(w.InputLines(), "\n")+"\n")),
		anchor: writeFile(t, dir, "anchor.txt", []byte(w.TrustAnchor())),
		whole:  filepath.Join(dir, "whole"),
	}
	if code, _, stderr := runCLI(t, "lab", "--population", "stress", "--domains", fmt.Sprint(domains), "--seed", fmt.Sprint(seed), "--no-report", "--quiet",
		"--timeout", "2s", "--workers", "50", "--out", l.whole); code != exitOK {
		t.Fatalf("lab: exit %d: %s", code, stderr)
	}
	return l
}

// dnsArgs are the arguments of DNS shard k (scan --smtp-handover) into out.
func (l *splitLab) dnsArgs(k int, out string, extra ...string) []string {
	args := []string{"scan", l.list, "--shard", fmt.Sprintf("%d/%d", k, l.shards), "--smtp-handover", "--out", out, "--scan-id", "split-resume",
		"--resolver", l.resolver, "--timeout", "2s", "--retries", "1", "--quiet", "--workers", "20", "--trust-anchor", l.anchor, "--part-rows", "7"}
	for _, p := range lab.Networks() {
		args = append(args, "--allow", p.String())
	}
	return append(args, extra...)
}

// probeArgs are the arguments of probe shard k into out (the command
// name aside: probeWith takes them).
func (l *splitLab) probeArgs(k int, out string, dnsDirs []string, extra ...string) []string {
	args := []string{"--shard", fmt.Sprintf("%d/%d", k, l.probes), "--out", out, "--quiet", "--part-rows", "3",
		"--smtp-timeout", "5s", "--address-interval", "1ns", "--smtp-rate", "0", "--smtp-workers", "4"}
	for _, p := range lab.Networks() {
		args = append(args, "--allow", p.String())
	}
	args = append(args, extra...)
	return append(args, dnsDirs...)
}

// dnsShard runs DNS shard k into dir/name, in process, to the end.
func (l *splitLab) dnsShard(t *testing.T, k int, name string) string {
	t.Helper()
	out := filepath.Join(l.dir, name)
	if code, _, stderr := runCLI(t, l.dnsArgs(k, out)...); code != exitOK {
		t.Fatalf("DNS shard %d: exit %d: %s", k, code, stderr)
	}
	return out
}

// probe runs probe shard k of dnsDirs into out, in process, and returns
// its exit code and stderr.
func (l *splitLab) probe(ctx context.Context, k int, out string, dnsDirs []string, extra ...string) (int, string) {
	var stdout, stderr bytes.Buffer
	code := probeWith(ctx, l.probeArgs(k, out, dnsDirs, extra...), &stdout, &stderr, l.smtp.Dial)
	return code, stderr.String()
}

// finish runs the steps after the DNS step, when probeDirs is nil, and
// the merges, into dir/name-*, and checks that the merged shards hold the
// rows of the scan in one process and that danescan verify passes on the
// DNS shards, the probe shards and the merged shards.
func (l *splitLab) finish(t *testing.T, name string, dnsDirs, probeDirs []string) {
	t.Helper()
	if probeDirs == nil {
		for k := range l.probes {
			out := filepath.Join(l.dir, fmt.Sprintf("%s-probe-%d", name, k))
			if code, stderr := l.probe(context.Background(), k, out, dnsDirs); code != exitOK {
				t.Fatalf("%s: probe shard %d: exit %d: %s", name, k, code, stderr)
			}
			probeDirs = append(probeDirs, out)
		}
	}
	var finals []string
	for k, d := range dnsDirs {
		out := filepath.Join(l.dir, fmt.Sprintf("%s-final-%d", name, k))
		if code, _, stderr := runCLI(t, append([]string{"merge", "--dns", d, "--out", out}, probeDirs...)...); code != exitOK {
			t.Fatalf("%s: merge %d: exit %d: %s", name, k, code, stderr)
		}
		finals = append(finals, out)
	}
	for _, set := range [][]string{dnsDirs, probeDirs, finals} {
		if code, stdout, stderr := runCLI(t, append([]string{"verify"}, set...)...); code != exitOK {
			t.Errorf("%s: verify %v: exit %d\n%s%s", name, set, code, stdout, stderr)
		}
	}
	wd, wh, we := splitVerdicts(t, l.whole)
	gd, gh, ge := splitVerdicts(t, finals...)
	if len(we) == 0 || len(wh) == 0 {
		t.Fatalf("the whole scan has %d hosts, %d endpoints", len(wh), len(we))
	}
	sameRows(t, name+": domains", gd, wd)
	sameRows(t, name+": mx_hosts", gh, wh)
	sameRows(t, name+": endpoints", ge, we)
}

// handoverKeys returns the handover rows of the dataset in dir as
// "host position/endpoints address sigalgs", failing the test on a
// position given twice.
func handoverKeys(t *testing.T, dir string) map[string]bool {
	t.Helper()
	rows, err := datasets.ReadTable[datasets.Handover](dir, datasets.TableHandover)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, h := range rows {
		k := fmt.Sprintf("%s %d/%d %s %s", h.Host, h.Position, h.Endpoints, h.Address, h.SigAlgs)
		if out[k] {
			t.Errorf("%s: handover row %s twice", dir, k)
		}
		out[k] = true
	}
	return out
}

// TestDNSStepKill9Resume kills the DNS step of a split scan (scan --shard
// 0/2 --smtp-handover, parts of 7 rows) with SIGKILL at random points, in
// runs of up to 5 kills (a resume killed again, some while it rewrites
// the dataset), resumes it to the end, and then runs the probe step and
// the merge: the merged shards equal the scan in one process row for
// row, and the resumed DNS shard has every handover row once.
func TestDNSStepKill9Resume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	t.Parallel()
	l := startSplitLab(t, 300)
	dns1 := l.dnsShard(t, 1, "dns-1")
	// The time of a whole DNS shard, and its handover, for the kills.
	ref := filepath.Join(l.dir, "dns-0-whole")
	p := startBin(t, nil, l.dnsArgs(0, ref)...)
	if code := p.wait(t, 120*time.Second); code != exitOK {
		t.Fatalf("DNS shard 0: exit %d\n%s", code, tail(p.stderr.String()))
	}
	total := p.ended.Sub(p.started)
	wantHandover := handoverKeys(t, ref)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 13))
	t.Logf("a DNS shard takes %v, hands over %d endpoints; random seed %d", total.Round(time.Millisecond), len(wantHandover), seed)

	const want, kills = 10, 5
	killed := 0
	for r := 0; killed < want && r < 6; r++ {
		out := filepath.Join(l.dir, fmt.Sprintf("dns-0-run-%d", r))
		resumes := 0
		for k := range kills {
			at := time.Duration(rng.Float64() * 0.9 * float64(total))
			if k%2 == 1 {
				// Soon after the start: while a resume rewrites.
				at = time.Duration(rng.Float64() * 0.2 * float64(total))
			}
			_, err := os.Stat(filepath.Join(out, datasets.ManifestName))
			resume := err == nil
			args := l.dnsArgs(0, out)
			if resume {
				args = append(args, "--resume")
				resumes++
			}
			p := startBin(t, nil, args...)
			select {
			case <-p.exited:
				if code := p.cmd.ProcessState.ExitCode(); code != exitOK {
					t.Fatalf("run %d kill %d: exit %d before the kill\n%s", r, k, code, tail(p.stderr.String()))
				}
			case <-time.After(at):
				p.cmd.Process.Kill()
				<-p.exited
				killed++
			}
			if m := checkIntact(t, out, true); m != nil && m.Complete {
				break
			}
		}
		_, err := os.Stat(filepath.Join(out, datasets.ManifestName))
		args := l.dnsArgs(0, out)
		if err == nil {
			args = append(args, "--resume")
		}
		p := startBin(t, nil, args...)
		if code := p.wait(t, 120*time.Second); code != exitOK {
			t.Fatalf("run %d: the last resume: exit %d\n%s", r, code, tail(p.stderr.String()))
		}
		m := checkIntact(t, out, false)
		if !m.Complete || m.Step != datasets.StepDNS || m.ScanID != "split-resume" {
			t.Errorf("run %d: complete %v, step %q, scan %s", r, m.Complete, m.Step, m.ScanID)
		}
		got := handoverKeys(t, out)
		if len(got) != len(wantHandover) || int64(len(got)) != m.Counts.RowsHandover {
			t.Errorf("run %d: %d handover rows (manifest: %d); an uninterrupted shard has %d", r, len(got), m.Counts.RowsHandover, len(wantHandover))
		}
		for k := range wantHandover {
			if !got[k] {
				t.Errorf("run %d: no handover row %s", r, k)
				break
			}
		}
		t.Logf("run %d: %d resumes, %d listed in the manifest", r, resumes, len(m.Resumed))
		l.finish(t, fmt.Sprintf("run-%d", r), []string{out, dns1}, nil)
	}
	if killed < want {
		t.Errorf("%d DNS steps killed; want at least %d", killed, want)
	}
}

// TestDNSStepResumeLostParts resumes DNS shards left as a kill between
// two checkpoints leaves them, made by dropping parts from the manifest
// of a finished shard (their files stay, unlisted, as after a crash):
// the handover parts (every host with endpoints has its mx_hosts row but
// no handover rows), the last handover part only (some hosts have part of
// theirs), the mx_hosts parts (handover rows without their host), the
// domains parts (every host and its handover kept: none is looked up or
// written again). Each resume ends with every handover row once, every
// host and domain row once, and the merge equals the scan in one process.
func TestDNSStepResumeLostParts(t *testing.T) {
	t.Parallel()
	l := startSplitLab(t, 300)
	dns0 := l.dnsShard(t, 0, "dns-0")
	dns1 := l.dnsShard(t, 1, "dns-1")
	wantHandover := handoverKeys(t, dns0)
	probes := []string{}
	for k := range l.probes {
		out := filepath.Join(l.dir, fmt.Sprintf("probe-%d", k))
		if code, stderr := l.probe(context.Background(), k, out, []string{dns0, dns1}); code != exitOK {
			t.Fatalf("probe shard %d: exit %d: %s", k, code, stderr)
		}
		probes = append(probes, out)
	}
	full, err := datasets.ReadManifest(dns0)
	if err != nil {
		t.Fatal(err)
	}
	if len(datasets.ListedParts(full, datasets.TableHandover)) < 2 {
		t.Fatalf("the DNS shard has %d handover parts; the test needs several", len(datasets.ListedParts(full, datasets.TableHandover)))
	}
	lastHandover := datasets.ListedParts(full, datasets.TableHandover)
	for _, c := range []struct {
		name string
		lost func(p datasets.Part) bool
	}{
		{"handover", func(p datasets.Part) bool { return p.Table == datasets.TableHandover }},
		{"last handover part", func(p datasets.Part) bool { return p.Path == lastHandover[len(lastHandover)-1].Path }},
		{"mx_hosts", func(p datasets.Part) bool { return p.Table == datasets.TableMXHosts }},
		{"domains", func(p datasets.Part) bool { return p.Table == datasets.TableDomains }},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(l.dir, "lost-"+strings.ReplaceAll(c.name, " ", "-"))
			copyTree(t, dns0, out)
			editManifestOf(t, out, func(m *datasets.Manifest) {
				m.Complete, m.Ended = false, time.Time{}
				var kept []datasets.Part
				for _, p := range m.Parts {
					if !c.lost(p) {
						kept = append(kept, p)
					}
				}
				m.Parts = kept
			})
			// The uninterrupted shard ended seconds ago (the probe
			// shards ran since): a row scanned after this was scanned
			// by the resume.
			resumed := time.Now()
			code, _, stderr := runCLI(t, l.dnsArgs(0, out, "--resume")...)
			if code != exitOK {
				t.Fatalf("resume: exit %d: %s", code, stderr)
			}
			m := checkIntact(t, out, false)
			datasetRows(t, out) // every row once, none interrupted
			got := handoverKeys(t, out)
			if len(got) != len(wantHandover) || int64(len(got)) != m.Counts.RowsHandover {
				t.Errorf("%d handover rows (manifest: %d); the uninterrupted shard has %d", len(got), m.Counts.RowsHandover, len(wantHandover))
			}
			for k := range wantHandover {
				if !got[k] {
					t.Errorf("no handover row %s", k)
					break
				}
			}
			// The hosts looked up again are those whose rows were not
			// all there; hosts kept whole are neither looked up nor
			// written again.
			hosts, err := datasets.ReadTable[datasets.MXHost](out, datasets.TableMXHosts)
			if err != nil {
				t.Fatal(err)
			}
			again, withHandover := 0, 0
			for _, h := range hosts {
				if !h.ScannedAt.Before(resumed) {
					again++
				}
				if h.Failure == "" && len(h.Addresses) > 0 {
					withHandover++
				}
			}
			want := map[string]int{"handover": withHandover, "mx_hosts": len(hosts), "domains": 0}
			if n, ok := want[c.name]; ok && again != n {
				t.Errorf("%d of %d hosts looked up again; want %d", again, len(hosts), n)
			}
			if c.name == "last handover part" && (again == 0 || again >= withHandover) {
				t.Errorf("%d of the %d hosts with endpoints looked up again; want those of the lost part", again, withHandover)
			}
			// The probe shards made from the uninterrupted DNS shard
			// merge with the resumed one: the same handover.
			l.finish(t, "lost-"+strings.ReplaceAll(c.name, " ", "-"), []string{out, dns1}, probes)
		})
	}
}
