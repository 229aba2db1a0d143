package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
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
	domains        int
}

// startSplitLab serves a signed lab world of the given number of domains.
func startSplitLab(t *testing.T, domains int) *splitLab {
	t.Helper()
	w, resolver, smtp := startSignedLab(t, domains)
	dir := t.TempDir()
	l := &splitLab{world: w, resolver: resolver, smtp: smtp, dir: dir, shards: 2, probes: 2,
		list:   writeFile(t, dir, "list.txt", []byte(strings.Join(w.InputLines(), "\n")+"\n")),
		anchor: writeFile(t, dir, "anchor.txt", []byte(w.TrustAnchor())),
		whole:  filepath.Join(dir, "whole"),
	}
	l.domains = domains
	return l
}

// wholeScan scans the world in one process (danescan lab, the same world)
// into l.whole, once.
func (l *splitLab) wholeScan(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(l.whole, datasets.ManifestName)); err == nil {
		return
	}
	if code, _, stderr := runCLI(t, "lab", "--population", "stress", "--domains", fmt.Sprint(l.domains), "--seed", "1", "--no-report", "--quiet",
		"--timeout", "2s", "--workers", "50", "--out", l.whole); code != exitOK {
		t.Fatalf("lab: exit %d: %s", code, stderr)
	}
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
	l.wholeScan(t)
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
// 0/2 --smtp-handover, parts of 7 rows, 300 queries a second) with
// SIGKILL at random points, in runs of up to 5 kills (a resume killed
// again, some while it rewrites the dataset), resumes it to the end, and
// then runs the probe step and the merge: the merged shards equal the
// scan in one process row for row, and the resumed DNS shard has every
// handover row once. It logs how many host rows the resumes dropped for
// want of their handover rows (TestDNSStepResumeLostParts makes sure of
// that case).
func TestDNSStepKill9Resume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	t.Parallel()
	l := startSplitLab(t, 300)
	dns1 := l.dnsShard(t, 1, "dns-1")
	// The time of a whole DNS shard, and its handover, for the kills.
	ref := filepath.Join(l.dir, "dns-0-whole")
	// At a bounded rate of queries, the lookups spread over the run
	// (without, all but a few are done at once and the rest wait for
	// the world's silent servers), so the kills land at every stage.
	slow := []string{"--dns-qps", "300"}
	p := startBin(t, nil, l.dnsArgs(0, ref, slow...)...)
	if code := p.wait(t, 120*time.Second); code != exitOK {
		t.Fatalf("DNS shard 0: exit %d\n%s", code, tail(p.stderr.String()))
	}
	total := p.ended.Sub(p.started)
	wantHandover := handoverKeys(t, ref)
	if m := checkIntact(t, ref, false); m.Counts.Totals != nil {
		t.Logf("DNS shard 0: %d queries", m.Counts.Totals.DNSQueries)
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 13))
	t.Logf("a DNS shard takes %v, hands over %d endpoints; random seed %d", total.Round(time.Millisecond), len(wantHandover), seed)

	// What the resumes dropped, from their log lines: mx_hosts rows and
	// handover rows, and the resumes that dropped a host's rows.
	var droppedHosts, droppedHandover, resumesDropping int
	countDropped := func(stderr string) {
		for _, line := range strings.Split(stderr, "\n") {
			if !strings.Contains(line, "resume: kept rows") {
				continue
			}
			var h, ho int
			for _, f := range strings.Fields(line) {
				fmt.Sscanf(f, "dropped_mx_hosts=%d", &h)
				fmt.Sscanf(f, "dropped_handover=%d", &ho)
			}
			droppedHosts += h
			droppedHandover += ho
			if h > 0 {
				resumesDropping++
			}
		}
	}
	const want, kills = 10, 5
	killed := 0
	for r := 0; killed < want && r < 6; r++ {
		out := filepath.Join(l.dir, fmt.Sprintf("dns-0-run-%d", r))
		resumes := 0
		for k := range kills {
			// The first run anywhere in 90 % of a whole shard's time; a
			// resume, which has less to do, in the first 40 %; every
			// other one soon after the start, while it rewrites.
			at := time.Duration(rng.Float64() * 0.9 * float64(total))
			switch {
			case k%2 == 1:
				at = time.Duration(rng.Float64() * 0.2 * float64(total))
			case k > 0:
				at = time.Duration(rng.Float64() * 0.4 * float64(total))
			}
			_, err := os.Stat(filepath.Join(out, datasets.ManifestName))
			resume := err == nil
			args := l.dnsArgs(0, out, slow...)
			if resume {
				// Not quiet: the resume logs what it kept and dropped.
				args = append(args, "--resume", "--quiet=false")
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
			countDropped(p.stderr.String())
			if m := checkIntact(t, out, true); m != nil && m.Complete {
				break
			}
		}
		_, err := os.Stat(filepath.Join(out, datasets.ManifestName))
		args := l.dnsArgs(0, out, slow...)
		if err == nil {
			args = append(args, "--resume", "--quiet=false")
		}
		p := startBin(t, nil, args...)
		if code := p.wait(t, 120*time.Second); code != exitOK {
			t.Fatalf("run %d: the last resume: exit %d\n%s", r, code, tail(p.stderr.String()))
		}
		countDropped(p.stderr.String())
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
	t.Logf("%d resumes dropped mx_hosts rows: %d of them, and %d handover rows", resumesDropping, droppedHosts, droppedHandover)
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

// probeHelperEnv carries the arguments of danescan probe to the child
// process of TestProbeStepKill9Resume (a JSON list), with the number of
// domains of the lab world as the first.
const probeHelperEnv = "DANESCAN_TEST_PROBE_HELPER"

// TestProbeHelperProcess is the child process of TestProbeStepKill9Resume,
// not a test of its own: danescan probe as the binary runs it (SIGINT and
// SIGTERM stop it, SIGKILL kills it), connecting to the lab world's mail
// servers through their in-process Dial, which the binary cannot. The
// world is generated again from its seed: the same servers, certificates
// and keys as the parent's.
func TestProbeHelperProcess(t *testing.T) {
	env := os.Getenv(probeHelperEnv)
	if env == "" {
		t.Skip("the child process of TestProbeStepKill9Resume")
	}
	var args []string
	if err := json.Unmarshal([]byte(env), &args); err != nil || len(args) == 0 {
		fmt.Fprintf(os.Stderr, "%s: %v\n", probeHelperEnv, err)
		os.Exit(exitUsage)
	}
	var domains int
	fmt.Sscan(args[0], &domains)
	w, err := lab.Generate(lab.Config{Domains: domains, Seed: 1, DNSSEC: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(exitUsage)
	}
	smtp, err := lab.StartSMTP(w, lab.SMTPOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(exitUsage)
	}
	ctx, stop := signalContext(os.Stderr)
	code := probeWith(ctx, args[1:], os.Stdout, os.Stderr, smtp.Dial)
	stop()
	smtp.Close()
	os.Exit(code)
}

// TestProbeStepKill9Resume stops the probe step of a split scan (probe
// shard 0 of 2, parts of 3 rows, 40 connections a second) at random
// points, with SIGKILL and with SIGTERM (which marks the endpoints not
// probed interrupted), in runs of up to 4 stops, resumes it with
// --resume to the end, and merges: the merged shards equal the scan in
// one process row for row, every endpoint has one row, none interrupted,
// and the rows probed before the first stop are kept (in some run at
// least: a stop may come before the first part is listed).
func TestProbeStepKill9Resume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	t.Parallel()
	const domains = 300
	l := startSplitLab(t, domains)
	dnsDirs := []string{l.dnsShard(t, 0, "dns-0"), l.dnsShard(t, 1, "dns-1")}
	probe1 := filepath.Join(l.dir, "probe-1")
	if code, stderr := l.probe(context.Background(), 1, probe1, dnsDirs); code != exitOK {
		t.Fatalf("probe shard 1: exit %d: %s", code, stderr)
	}
	slow := []string{"--smtp-rate", "40", "--smtp-workers", "2"}
	start := func(out string, resume bool) *proc {
		args := append([]string{fmt.Sprint(domains)}, l.probeArgs(0, out, dnsDirs, slow...)...)
		if resume {
			args = append(args, "--resume")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestProbeHelperProcess$")
		env, _ := json.Marshal(args)
		cmd.Env = append(os.Environ(), probeHelperEnv+"="+string(env))
		return startProc(t, cmd)
	}
	// An uninterrupted probe shard: how long it probes, and how many
	// connections it makes.
	ref := filepath.Join(l.dir, "probe-0-whole")
	p := start(ref, false)
	var began time.Time
	waitFor(t, 60*time.Second, "the probe step to start", func() bool {
		_, err := os.Stat(filepath.Join(ref, datasets.ManifestName))
		began = time.Now()
		return err == nil || !p.running()
	})
	if code := p.wait(t, 120*time.Second); code != exitOK {
		t.Fatalf("probe shard 0: exit %d\n%s", code, tail(p.stderr.String()))
	}
	total := p.ended.Sub(began)
	refMan := checkIntact(t, ref, false)
	connections := refMan.Counts.SMTPWork.EndpointsProbed
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 14))
	t.Logf("probe shard 0 probes for %v, %d endpoints rows, %d connections; random seed %d", total.Round(time.Millisecond), refMan.Counts.RowsEndpoints, connections, seed)

	const want, stops = 8, 4
	stopped, signalled := 0, 0
	keptSome := false // a run kept rows of its first, stopped, run
	for r := 0; stopped < want && r < 5; r++ {
		out := filepath.Join(l.dir, fmt.Sprintf("probe-0-run-%d", r))
		var firstResume time.Time // when the first resume of the run started
		resumed := false          // a resume was started on an incomplete dataset
		for k := range stops {
			_, err := os.Stat(filepath.Join(out, datasets.ManifestName))
			resume := err == nil
			p := start(out, resume)
			if resume && firstResume.IsZero() {
				firstResume = p.started
			}
			resumed = resumed || resume
			// Stop it once it has written its first manifest (the
			// child generates the world first), at a random point of
			// an uninterrupted probe's time.
			waitFor(t, 60*time.Second, "the probe step to start", func() bool {
				m, err := datasets.ReadManifest(out)
				return err == nil && (!resume || len(m.Resumed) > 0 && m.Resumed[len(m.Resumed)-1].After(p.started.Add(-time.Second))) || !p.running()
			})
			at := time.Duration(rng.Float64() * 0.8 * float64(total))
			select {
			case <-p.exited:
			case <-time.After(at):
				if k%2 == 1 {
					p.signal(t, syscall.SIGTERM)
					signalled++
				} else {
					p.cmd.Process.Kill()
				}
				<-p.exited
				stopped++
			}
			m := checkIntact(t, out, false)
			if code := p.cmd.ProcessState.ExitCode(); code != exitOK && code != exitInterrupted && code != -1 {
				t.Fatalf("run %d stop %d: exit %d\n%s", r, k, code, tail(p.stderr.String()))
			}
			if m.Complete {
				break
			}
		}
		if firstResume.IsZero() {
			firstResume = time.Now()
		}
		code, stderr := l.probe(context.Background(), 0, out, dnsDirs, append(slices.Clone(slow), "--resume")...)
		switch {
		case code == exitOK && strings.Contains(stderr, "nothing to resume"):
		case code != exitOK:
			t.Fatalf("run %d: the last resume: exit %d: %s", r, code, stderr)
		default:
			resumed = true
		}
		m := checkIntact(t, out, false)
		if !m.Complete || m.Step != datasets.StepProbe || len(m.Resumed) == 0 && resumed {
			t.Errorf("run %d: complete %v, step %q, resumed %v", r, m.Complete, m.Step, m.Resumed)
		}
		_, _, eps := datasetRows(t, out) // one row per endpoint, none interrupted
		_, _, refEps := datasetRows(t, ref)
		sameRows(t, fmt.Sprintf("run %d: endpoints of probe shard 0", r), eps, refEps)
		if m.Counts.RowsEndpoints != refMan.Counts.RowsEndpoints {
			t.Errorf("run %d: the manifest counts %d endpoints rows; an uninterrupted probe shard %d", r, m.Counts.RowsEndpoints, refMan.Counts.RowsEndpoints)
		}
		// The rows probed before the first stop and kept since.
		rows, err := datasets.ReadTable[datasets.Endpoint](out, datasets.TableEndpoints)
		if err != nil {
			t.Fatal(err)
		}
		before := 0
		for _, e := range rows {
			if e.ScannedAt.Before(firstResume) {
				before++
			}
		}
		keptSome = keptSome || before > 0 && before < len(rows)
		t.Logf("run %d: %d resumes listed; %d of %d rows kept from the first run", r, len(m.Resumed), before, len(rows))
		l.finish(t, fmt.Sprintf("run-%d", r), dnsDirs, []string{out, probe1})
	}
	if stopped < want || signalled == 0 {
		t.Errorf("%d probe steps stopped (%d by SIGTERM); want at least %d, some by each", stopped, signalled, want)
	}
	if !keptSome {
		t.Errorf("no resume kept the rows of a stopped probe step: every one probed everything again")
	}
}

// TestProbeResumeRefuses: probe --resume refuses, with one line and exit
// code 2, before anything changes: an --out without a dataset or with
// another step's, another shard, other flags, DNS shards other than those
// the probe step read (one made again), and --replace beside it; a
// complete probe step is left alone, exit code 0.
func TestProbeResumeRefuses(t *testing.T) {
	t.Parallel()
	l := startSplitLab(t, 100)
	dnsDirs := []string{l.dnsShard(t, 0, "dns-0"), l.dnsShard(t, 1, "dns-1")}
	again := []string{dnsDirs[0], l.dnsShard(t, 1, "dns-1-again")}
	done := filepath.Join(l.dir, "probe-done")
	if code, stderr := l.probe(context.Background(), 0, done, dnsDirs); code != exitOK {
		t.Fatalf("probe: exit %d: %s", code, stderr)
	}
	// An incomplete probe step, as a crash leaves it.
	out := filepath.Join(l.dir, "probe-cut")
	copyTree(t, done, out)
	editManifestOf(t, out, func(m *datasets.Manifest) { m.Complete, m.Ended = false, time.Time{} })
	before := append(files(t, out), files(t, done)...)
	for _, c := range []struct {
		name string
		k    int
		out  string
		dirs []string
		args []string
		want string
	}{
		{"no dataset", 0, filepath.Join(l.dir, "none"), dnsDirs, nil, "holds no dataset"},
		{"a DNS step", 0, dnsDirs[0], dnsDirs, nil, "does not hold a probe step"},
		{"another shard", 1, out, dnsDirs, nil, "holds probe shard 0/2, not 1/2"},
		{"other flags", 0, out, dnsDirs, []string{"--smtp-workers", "7"}, "smtp_workers 4, now 7"},
		{"a DNS shard made again", 0, out, again, nil, "not those the probe shard"},
		{"with --replace", 0, out, dnsDirs, []string{"--replace"}, "give one of them"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stderr := l.probe(context.Background(), c.k, c.out, c.dirs, append([]string{"--resume"}, c.args...)...)
			line := strings.TrimSpace(stderr)
			if code != exitUsage || !strings.Contains(line, c.want) || strings.Contains(line, "\n") {
				t.Errorf("exit %d, stderr %q; want %d and one line with %q", code, stderr, exitUsage, c.want)
			}
		})
	}
	code, stderr := l.probe(context.Background(), 0, done, dnsDirs, "--resume")
	if code != exitOK || !strings.Contains(stderr, "complete: nothing to resume") {
		t.Errorf("resume of a complete probe step: exit %d, %q; want 0 and a line saying it is complete", code, stderr)
	}
	if after := append(files(t, out), files(t, done)...); !slices.Equal(before, after) {
		t.Errorf("a refused resume changed files:\n before %v\n after  %v", before, after)
	}
	if _, err := os.Stat(filepath.Join(l.dir, "none")); err == nil {
		t.Errorf("a refused resume created its --out")
	}
}
