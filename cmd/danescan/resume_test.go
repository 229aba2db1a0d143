package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/lab"
)

// The resume tests (issue 12, "Resume") stop scans as a crash, a
// pre-empted job or a user does, resume them with --resume, and check
// that the result is what one whole scan of the same list gives.

// datasetRows returns the rows of the dataset in dir as sorted strings
// of their identity and verdict columns (times and durations aside), and
// fails the test when an input line, an MX host or an endpoint (host,
// address, sigalgs) has two rows, or a row says interrupted.
func datasetRows(t *testing.T, dir string) (doms, hosts, eps []string) {
	t.Helper()
	ds, err := datasets.ReadTable[datasets.Domain](dir, datasets.TableDomains)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := datasets.ReadTable[datasets.MXHost](dir, datasets.TableMXHosts)
	if err != nil {
		t.Fatal(err)
	}
	es, err := datasets.ReadTable[datasets.Endpoint](dir, datasets.TableEndpoints)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	once := func(table, id, failure string) {
		if seen[table+" "+id] {
			t.Errorf("%s: two rows for %s", table, id)
		}
		seen[table+" "+id] = true
		if failure == "interrupted" || failure == "canceled" {
			t.Errorf("%s: the row of %s says %s", table, id, failure)
		}
	}
	for _, d := range ds {
		once("domains", fmt.Sprintf("line %d", d.InputLine), d.Failure)
		doms = append(doms, fmt.Sprintf("%d %q %s fail=%s kind=%s mx=%v tlsa=%d/%v dane=%s %q passing=%d sts=%v rpt=%v",
			d.InputLine, d.Input, d.Domain, d.Failure, d.MXKind, d.MXHosts, d.MXHostsWithTLSA, d.TLSAAllMX, d.DANE, d.DANEReason, d.MXHostsPassing, d.MTASTSPublished, d.TLSRPTPublished))
	}
	for _, h := range hs {
		once("mx_hosts", h.Host, h.Failure)
		hosts = append(hosts, fmt.Sprintf("%s fail=%s addrs=%v tlsa=%d state=%s dane=%s %q endpoints=%d",
			h.Host, h.Failure, h.Addresses, len(h.TLSA.Records), h.TLSAState, h.DANEStatus, h.DANEReason, h.Endpoints))
	}
	for _, e := range es {
		once("endpoints", e.Host+" "+e.Address+" "+e.SigAlgs, e.Failure)
		eps = append(eps, fmt.Sprintf("%s %s %s fail=%s dane=%s %q", e.Host, e.Address, e.SigAlgs, e.Failure, e.DANEStatus, e.DANEReason))
	}
	slices.Sort(doms)
	slices.Sort(hosts)
	slices.Sort(eps)
	return doms, hosts, eps
}

// checkSameAsWhole checks that the dataset in dir is complete, intact and
// holds the rows of the whole scan in whole, one per input entry, MX host
// and endpoint, with the same manifest counts of rows.
func checkSameAsWhole(t *testing.T, dir, whole string) *datasets.Manifest {
	t.Helper()
	m := checkIntact(t, dir, false)
	wm := checkIntact(t, whole, false)
	if !m.Complete || m.InterruptedBy != "" {
		t.Errorf("manifest complete=%v interrupted_by=%q; want a complete scan", m.Complete, m.InterruptedBy)
	}
	gd, gh, ge := datasetRows(t, dir)
	wd, wh, we := datasetRows(t, whole)
	for _, c := range []struct {
		table     string
		got, want []string
	}{{"domains", gd, wd}, {"mx_hosts", gh, wh}, {"endpoints", ge, we}} {
		if slices.Equal(c.got, c.want) {
			continue
		}
		t.Errorf("%s: %d rows; the whole scan has %d", c.table, len(c.got), len(c.want))
		for i := range max(len(c.got), len(c.want)) {
			g, w := "(none)", "(none)"
			if i < len(c.got) {
				g = c.got[i]
			}
			if i < len(c.want) {
				w = c.want[i]
			}
			if g != w {
				t.Errorf("%s: first difference:\n got  %s\n want %s", c.table, g, w)
				break
			}
		}
	}
	rows := func(m *datasets.Manifest) string {
		c := m.Counts
		return fmt.Sprintf("rows %d/%d/%d entries %d domains %d duplicates %d invalid %d failures %v dane %v hosts %v endpoints %v",
			c.RowsDomains, c.RowsMXHosts, c.RowsEndpoints, c.Entries, c.Domains, c.Duplicates, c.Invalid, c.Failures, c.DANE, c.HostsDANE, c.EndpointsDANE)
	}
	if g, w := rows(m), rows(wm); g != w {
		t.Errorf("manifest counts:\n got  %s\n want %s (the whole scan's)", g, w)
	}
	return m
}

// TestKill9Resume kills a lab scan (SMTP probes on, parts of 20 rows)
// with SIGKILL at 22 random points or more, in runs of up to 8: a scan
// killed, then resumed with --resume and killed again, up to 7 times
// (some of the kills land while the resume itself rewrites the
// dataset), then resumed to the end. After every kill the dataset is intact; at the end each is
// complete, keeps its scan id and start, lists its resumes, and has
// exactly the rows of an uninterrupted scan: one per input entry, MX host
// and endpoint, the same verdicts.
func TestKill9Resume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	t.Parallel()
	dir := t.TempDir()
	args := func(out string, resume bool) []string {
		a := []string{"lab", "--domains", "1000", "--out", out, "--quiet", "--no-report", "--part-rows", "20", "--dnssec=false", "--timeout", "2s", "--workers", "50"}
		if resume {
			a = append(a, "--resume")
		}
		return a
	}
	whole := filepath.Join(dir, "whole")
	p := startBin(t, nil, args(whole, false)...)
	if code := p.wait(t, 120*time.Second); code != exitOK {
		t.Fatalf("the whole scan: exit %d\n%s", code, tail(p.stderr.String()))
	}
	total := p.ended.Sub(p.started)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 12))
	t.Logf("a whole scan takes %v; random seed %d", total.Round(time.Millisecond), seed)
	// Runs of up to 8 kills each, until 22 scans have been killed.
	const want, kills = 22, 8
	killed := 0
	for r := 0; killed < want && r < 8; r++ {
		out := filepath.Join(dir, fmt.Sprintf("run-%d", r))
		var first *datasets.Manifest
		resumes := 0
		for k := range kills {
			// The scan anywhere in the first 90 % of a whole scan's
			// time; a resume, which has less to do, in the first half;
			// every third kill soon after the start, while a resume
			// rewrites the dataset.
			at := time.Duration(rng.Float64() * 0.9 * float64(total))
			switch {
			case k%3 == 2:
				at = time.Duration(rng.Float64() * 0.15 * float64(total))
			case k > 0:
				at = time.Duration(rng.Float64() * 0.5 * float64(total))
			}
			_, err := os.Stat(filepath.Join(out, datasets.ManifestName))
			resume := err == nil
			p := startBin(t, nil, args(out, resume)...)
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
			if resume {
				resumes++
			}
			m := checkIntact(t, out, true)
			if m != nil && first == nil {
				first = m
			}
			if m != nil && first != nil && (m.ScanID != first.ScanID || !m.Started.Equal(first.Started)) {
				t.Errorf("run %d kill %d: scan id %s started %v; the scan began as %s at %v", r, k, m.ScanID, m.Started, first.ScanID, first.Started)
			}
			if m != nil && m.Complete {
				t.Logf("run %d: complete after %d kills", r, k)
				break
			}
		}
		_, err := os.Stat(filepath.Join(out, datasets.ManifestName))
		p := startBin(t, nil, args(out, err == nil)...)
		if code := p.wait(t, 120*time.Second); code != exitOK {
			t.Fatalf("run %d: the last resume: exit %d\n%s", r, code, tail(p.stderr.String()))
		}
		if err == nil {
			resumes++
		}
		m := checkSameAsWhole(t, out, whole)
		// A resume killed before it had rewritten the dataset is not
		// listed; the last one is.
		if resumes > 0 && (len(m.Resumed) < 1 || len(m.Resumed) > resumes) {
			t.Errorf("run %d: manifest lists %d resumes; %d were started", r, len(m.Resumed), resumes)
		}
		t.Logf("run %d: %d resumes, %d listed in the manifest", r, resumes, len(m.Resumed))
	}
	if killed < want {
		t.Errorf("%d scans killed; want at least %d", killed, want)
	}
}

// resumeList writes a list of n lab names that resolve at once (no
// timeout cases), with an invalid line and a duplicate, and returns its
// path.
func resumeList(t *testing.T, w *lab.World, dir string, n int) string {
	t.Helper()
	var lines []string
	for i, d := range w.Domains() {
		if d.Kind == lab.KindMX || d.Kind == lab.KindNullMX || d.Kind == lab.KindNXDomain {
			lines = append(lines, w.InputLines()[i])
		}
		if len(lines) == n {
			break
		}
	}
	lines = append(lines, "not a domain!", lines[0])
	return writeFile(t, dir, "list.txt", []byte(strings.Join(lines, "\n")+"\n"))
}

// TestResumeSIGINT: a scan stopped by SIGINT or SIGTERM while every
// domain waits for a resolver that never answers has every row marked
// interrupted; resumed against a resolver that answers, the interrupted
// rows are replaced by finished ones: exactly the rows of a whole scan.
func TestResumeSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	t.Parallel()
	w, addr := startLab(t, 300)
	dir := t.TempDir()
	list := resumeList(t, w, dir, 30)
	flags := []string{"--timeout", "30s", "--retries", "0", "--quiet", "--no-smtp", "--dnssec=false", "--part-rows", "4", "--workers", "50"}
	whole := filepath.Join(dir, "whole")
	if code, _, stderr := runCLI(t, append([]string{"scan", list, "--out", whole, "--resolver", addr}, flags...)...); code != exitOK {
		t.Fatalf("whole scan: exit %d: %s", code, stderr)
	}
	for _, s := range signals {
		t.Run(s.name, func(t *testing.T) {
			res := startSilentResolver(t)
			out := filepath.Join(dir, s.name)
			p := startBin(t, nil, append([]string{"scan", list, "--out", out, "--resolver", res.pc.LocalAddr().String()}, flags...)...)
			waitFor(t, 20*time.Second, "the resolver asked about every domain", func() bool {
				if !p.running() {
					t.Fatalf("danescan exited early\nstderr:\n%s", tail(p.stderr.String()))
				}
				return res.asked() >= 30
			})
			p.signal(t, s.sig)
			if code := p.wait(t, 60*time.Second); code != exitInterrupted {
				t.Fatalf("exit %d; want %d\n%s", code, exitInterrupted, tail(p.stderr.String()))
			}
			m, rows := checkInterrupted(t, out, s.name)
			interrupted := 0
			for _, r := range rows {
				if r.Failure == "interrupted" {
					interrupted++
				}
			}
			if interrupted < 30 {
				t.Fatalf("%d rows interrupted; want every domain's", interrupted)
			}
			// The resolver may differ (a job moved to another machine).
			code, stdout, stderr := runCLI(t, append([]string{"scan", list, "--out", out, "--resolver", addr, "--resume"}, flags...)...)
			if code != exitOK {
				t.Fatalf("resume: exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, ": complete\n  resumed                 1 time(s)") {
				t.Errorf("the summary does not say the scan was resumed:\n%s", stdout)
			}
			final := checkSameAsWhole(t, out, whole)
			if final.ScanID != m.ScanID || len(final.Resumed) != 1 || len(final.Resolvers) != 2 {
				t.Errorf("manifest: scan id %s (was %s), resumed %v, resolvers %v; want the same id, one resume, both resolvers", final.ScanID, m.ScanID, final.Resumed, final.Resolvers)
			}
		})
	}
}

// TestResumeRefuses: resuming with another input file or flag, into
// another scan's or another shard's directory, or into one without a
// dataset, is refused with one line and exit 2, before anything in the
// directory changes; resuming a complete scan says so and exits 0.
func TestResumeRefuses(t *testing.T) {
	t.Parallel()
	w, addr := startLab(t, 300)
	dir := t.TempDir()
	list := resumeList(t, w, dir, 30)
	flags := []string{"--resolver", addr, "--timeout", "2s", "--retries", "0", "--quiet", "--no-smtp", "--dnssec=false", "--part-rows", "4"}
	scan := func(extra ...string) (int, string) {
		t.Helper()
		code, _, stderr := runCLI(t, append(append([]string{"scan"}, flags...), extra...)...)
		return code, stderr
	}
	// An incomplete scan with rows, as a crash leaves it: a complete one
	// whose manifest says otherwise.
	out := filepath.Join(dir, "out")
	if code, stderr := scan(list, "--out", out, "--scan-id", "first"); code != exitOK {
		t.Fatalf("scan: exit %d: %s", code, stderr)
	}
	m, err := datasets.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	m.Complete, m.Ended, m.Inputs[0].SHA256 = false, time.Time{}, ""
	if err := datasets.WriteManifest(out, m); err != nil {
		t.Fatal(err)
	}
	shard := filepath.Join(dir, "shard")
	if code, stderr := scan(list, "--out", shard, "--shard", "0/2"); code != exitOK {
		t.Fatalf("shard scan: exit %d: %s", code, stderr)
	}
	sm, _ := datasets.ReadManifest(shard)
	sm.Complete = false
	if err := datasets.WriteManifest(shard, sm); err != nil {
		t.Fatal(err)
	}
	changed := writeFile(t, dir, "changed.txt", nil)
	data, _ := os.ReadFile(list)
	lines := strings.Split(string(data), "\n")
	lines[0], lines[1] = lines[1], lines[0]
	os.WriteFile(changed, []byte(strings.Join(lines, "\n")), 0o644)
	before := append(files(t, out), files(t, shard)...)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"changed input", []string{changed, "--out", out}, "input 1 is " + changed},
		{"input edited in place", nil, "match no entry of the inputs"},
		{"another flag", []string{list, "--out", out, "--workers", "7"}, "workers 500, now 7"},
		{"another scan", []string{list, "--out", out, "--scan-id", "second"}, "holds scan first, not second"},
		{"another shard", []string{list, "--out", shard, "--shard", "1/2"}, "holds shard 0/2"},
		{"no dataset", []string{list, "--out", filepath.Join(dir, "empty")}, "holds no dataset"},
		{"with --replace", []string{list, "--out", out, "--replace"}, "give one of them"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if args == nil {
				// The list itself edited: same path, lines swapped.
				orig, _ := os.ReadFile(list)
				os.WriteFile(list, []byte(strings.Join(lines, "\n")), 0o644)
				defer os.WriteFile(list, orig, 0o644)
				args = []string{list, "--out", out}
			}
			code, stderr := scan(append(args, "--resume")...)
			line := strings.TrimSpace(stderr)
			if code != exitUsage || !strings.Contains(line, c.want) || strings.Contains(line, "\n") {
				t.Errorf("exit %d, stderr %q; want %d and one line with %q", code, stderr, exitUsage, c.want)
			}
		})
	}
	if after := append(files(t, out), files(t, shard)...); !slices.Equal(before, after) {
		t.Errorf("a refused resume changed files:\n before %v\n after  %v", before, after)
	}
	// A complete scan: nothing to do.
	whole := filepath.Join(dir, "whole")
	if code, stderr := scan(list, "--out", whole); code != exitOK {
		t.Fatalf("scan: exit %d: %s", code, stderr)
	}
	before = files(t, whole)
	code, stderr := scan(list, "--out", whole, "--resume")
	if code != exitOK || !strings.Contains(stderr, "complete: nothing to resume") {
		t.Errorf("resume of a complete scan: exit %d, %q; want 0 and a line saying it is complete", code, stderr)
	}
	if after := files(t, whole); !slices.Equal(before, after) {
		t.Errorf("resuming a complete scan changed files")
	}
}

// files returns the files below dir with their sizes, sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			out = append(out, fmt.Sprintf("%s %d %v", p, fi.Size(), fi.ModTime().UnixNano()))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// TestResumeWhileRunning: --resume (or --replace) on the directory of a
// scan that still runs is refused with one line, and the scan goes on
// untouched; once the scan is killed, its lock goes with it and the
// resume runs.
func TestResumeWhileRunning(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	t.Parallel()
	cmd, _, out := startSlowScan(t, nil, nil)
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	waitFor(t, 20*time.Second, "a first part", func() bool {
		m, err := datasets.ReadManifest(out)
		return err == nil && len(m.Parts) > 0
	})
	args := cmd.Args[1:]
	for _, extra := range []string{"--resume", "--replace"} {
		code, _, stderr := runCLI(t, append(slices.Clone(args), extra)...)
		line := strings.TrimSpace(stderr)
		if code != exitUsage || !strings.Contains(line, "is in use by another danescan process") || strings.Contains(line, "\n") {
			t.Errorf("%s while the scan runs: exit %d, %q; want %d and one line saying it is in use", extra, code, stderr, exitUsage)
		}
	}
	select {
	case <-exited:
		t.Fatalf("the scan ended while refused resumes were tried: %v", cmd.ProcessState)
	default:
	}
	cmd.Process.Kill()
	<-exited
	checkIntact(t, out, false)
	p := startBin(t, nil, append(slices.Clone(args), "--resume")...)
	waitFor(t, 20*time.Second, "the resume to rewrite the manifest", func() bool {
		m, err := datasets.ReadManifest(out)
		return err == nil && len(m.Resumed) == 1 || !p.running()
	})
	if !p.running() && p.cmd.ProcessState.ExitCode() != exitOK {
		t.Fatalf("resume after the kill: exit %d\n%s", p.cmd.ProcessState.ExitCode(), tail(p.stderr.String()))
	}
}
