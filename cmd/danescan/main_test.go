package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/lab"
)

// The tests drive the CLI as a user does: run(...) in-process with buffers
// for stdout and stderr (and, for the interrupt, the built binary), against
// a lab world served on 127.0.0.1. Nothing leaves loopback.

// startLab generates a lab world of n domains and serves it on loopback
// until the test ends. It returns the world and the resolver address.
func startLab(t *testing.T, n int) (*lab.World, string) {
	t.Helper()
	w, err := lab.Generate(lab.Config{Domains: n, Seed: 1})
	if err != nil {
		t.Fatalf("lab.Generate: %v", err)
	}
	srv, err := lab.Start(w, lab.ServerOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("lab.Start: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return w, srv.Addr()
}

// runCLI calls run with args and returns the exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// fastScanFlags are the scan flags for a lab resolver at addr.
func fastScanFlags(addr string) []string {
	// --no-smtp: the lab's MX hosts have documentation addresses
	// (192.0.2.0/24, 2001:db8::/32) that a test must never connect to.
	return []string{"--resolver", addr, "--timeout", "300ms", "--retries", "0", "--quiet", "--workers", "50", "--no-smtp"}
}

// writeFile writes data to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// expectation is what the domains table must hold for an input: one row per
// distinct valid name (with its rank, for a CSV list) and one per invalid
// line.
type expectation struct {
	ranks   map[string]*int64 // normalised name → rank of its first line (nil: no rank)
	invalid int               // lines that are not valid names
}

// expect builds the expectation for input lines; ranks, when not nil, is
// parallel to lines.
func expect(lines []string, ranks []int64) expectation {
	e := expectation{ranks: map[string]*int64{}}
	for i, l := range lines {
		d, err := datasets.NormalizeDomain(l)
		if err != nil {
			e.invalid++
			continue
		}
		if _, seen := e.ranks[d]; seen {
			continue
		}
		var r *int64
		if ranks != nil {
			r = &ranks[i]
		}
		e.ranks[d] = r
	}
	return e
}

// checkDomainRows reads the domains table of dir and reports, in
// (-want +got) form, names missing, extra or seen more than once, ranks
// that differ, and a wrong count of invalid rows. It returns the rows.
func checkDomainRows(t *testing.T, dir string, want expectation) []datasets.Domain {
	t.Helper()
	rows, err := datasets.ReadTable[datasets.Domain](dir, datasets.TableDomains)
	if err != nil {
		t.Fatalf("ReadTable(domains): %v", err)
	}
	got := map[string]int{}
	invalid := 0
	var diff []string
	for _, r := range rows {
		if r.Domain == "" {
			invalid++
			continue
		}
		got[r.Domain]++
		wr, ok := want.ranks[r.Domain]
		if ok && !equalRank(wr, r.Rank) {
			diff = append(diff, fmt.Sprintf("rank of %s: -%s +%s", r.Domain, fmtRank(wr), fmtRank(r.Rank)))
		}
	}
	for d := range want.ranks {
		if got[d] == 0 {
			diff = append(diff, "-"+d)
		}
	}
	for d, n := range got {
		if _, ok := want.ranks[d]; !ok {
			diff = append(diff, "+"+d)
		} else if n > 1 {
			diff = append(diff, fmt.Sprintf("+%s (%d rows)", d, n))
		}
	}
	if invalid != want.invalid {
		diff = append(diff, fmt.Sprintf("invalid rows: -%d +%d", want.invalid, invalid))
	}
	if len(diff) > 0 {
		slices.Sort(diff)
		if len(diff) > 20 {
			diff = append(diff[:20], fmt.Sprintf("... and %d more", len(diff)-20))
		}
		t.Errorf("domains table (-want +got):\n%s", strings.Join(diff, "\n"))
	}
	return rows
}

func equalRank(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func fmtRank(r *int64) string {
	if r == nil {
		return "null"
	}
	return strconv.FormatInt(*r, 10)
}

// checkManifest reads the manifest of dir and checks that it is complete
// and lists exactly one input with the given path, format and SHA-256, and
// that its rows_domains count equals rows.
func checkManifest(t *testing.T, dir string, wantInput datasets.Input, rows int) {
	t.Helper()
	m, err := datasets.ReadManifest(dir)
	if err != nil {
		t.Fatalf("ReadManifest: %v", err)
	}
	if !m.Complete || m.InterruptedBy != "" {
		t.Errorf("manifest complete, interrupted_by = %v, %q; want true, \"\"", m.Complete, m.InterruptedBy)
	}
	if len(m.Inputs) != 1 {
		t.Fatalf("manifest inputs = %+v; want one", m.Inputs)
	}
	got := m.Inputs[0]
	got.Bytes, got.Lines = 0, 0
	if got != wantInput {
		t.Errorf("manifest input (-want +got):\n-%+v\n+%+v", wantInput, got)
	}
	if n := m.Counts.RowsDomains; n != int64(rows) {
		t.Errorf("manifest counts rows_domains = %d; the domains table has %d rows", n, rows)
	}
}

// validLabNames returns the lines of w that are valid names ending in
// suffix, normalised, each once, in input order.
func validLabNames(w *lab.World, suffix string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range w.InputLines() {
		d, err := datasets.NormalizeDomain(l)
		if err != nil || seen[d] || !strings.HasSuffix(d, suffix) {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	return out
}

func TestScanInputs(t *testing.T) {
	t.Parallel()
	w, addr := startLab(t, 300)
	lines := w.InputLines()
	plain := []byte(strings.Join(lines, "\n") + "\n")
	// The cases about the command line rather than the format scan less.
	short := lines[:60]
	shortPlain := []byte(strings.Join(short, "\n") + "\n")

	var csv bytes.Buffer
	csv.WriteString("rank,domain\n")
	var ranks []int64
	for i, l := range lines {
		if strings.Contains(l, ",") {
			t.Fatalf("lab line %q holds a comma; the CSV case cannot carry it", l)
		}
		ranks = append(ranks, int64(i+1))
		fmt.Fprintf(&csv, "%d,%s\n", i+1, l)
	}
	shortCSV := csv.Bytes()[:bytes.IndexByte(csv.Bytes(), '\n')+1]
	for i, l := range short {
		shortCSV = fmt.Appendf(shortCSV, "%d,%s\n", i+1, l)
	}

	// A zone file of the .com delegations, relative to --origin, with apex
	// records and glue that are not delegations.
	coms := validLabNames(w, ".com")
	if len(coms) < 20 {
		t.Fatalf("only %d .com names in the lab world", len(coms))
	}
	var zone bytes.Buffer
	zone.WriteString("$TTL 3600\n@ IN SOA ns1.lab-dns.net. hostmaster.lab-dns.net. 1 7200 3600 1209600 3600\n@ IN NS ns1.lab-dns.net.\n")
	for _, d := range coms {
		rel := strings.TrimSuffix(d, ".com")
		fmt.Fprintf(&zone, "%s IN NS ns1.%s\n%s IN NS ns2.lab-dns.net.\nns1.%s IN A 192.0.2.1\n", rel, d+".", rel, rel)
	}

	tests := []struct {
		name   string
		file   string // name of the input file in the test's folder
		data   []byte
		flags  []string // extra flags before the input
		after  bool     // the flags stand after the input
		want   expectation
		format datasets.Format
	}{
		{name: "plain", file: "list.txt", data: plain, want: expect(lines, nil), format: datasets.FormatPlain},
		{name: "csv top list", file: "top.csv", data: csv.Bytes(), want: expect(lines, ranks), format: datasets.FormatCSV},
		{name: "csv detected without extension", file: "top-1m", data: shortCSV, want: expect(short, ranks), format: datasets.FormatCSV},
		{name: "gzipped plain", file: "list.txt.gz", data: gzipBytes(t, plain), want: expect(lines, nil), format: datasets.FormatPlain},
		{name: "zone with origin", file: "com.txt", data: zone.Bytes(), flags: []string{"--format", "zone", "--origin", "com."}, want: expect(coms, nil), format: datasets.FormatZone},
		{name: "flags after input", file: "list.txt", data: shortPlain, after: true, want: expect(short, nil), format: datasets.FormatPlain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			in := writeFile(t, tmp, tt.file, tt.data)
			out := filepath.Join(tmp, "out")
			flags := append(append(fastScanFlags(addr), tt.flags...), "--out", out)
			args := append(append([]string{"scan"}, flags...), in)
			if tt.after {
				args = append([]string{"scan", in}, flags...)
			}
			code, stdout, stderr := runCLI(t, args...)
			if code != exitOK {
				t.Fatalf("run(%q) = %d; want %d\nstderr:\n%s", args, code, exitOK, stderr)
			}
			if !strings.Contains(stdout, ": complete\n") {
				t.Errorf("stdout does not say the scan is complete:\n%s", stdout)
			}
			rows := checkDomainRows(t, out, tt.want)
			checkManifest(t, out, datasets.Input{Path: in, Format: tt.format, SHA256: sha256Hex(tt.data)}, len(rows))
		})
	}
}

// TestScanStdin swaps os.Stdin, so it must not run in parallel.
func TestScanStdin(t *testing.T) {
	w, addr := startLab(t, 300)
	data := []byte(strings.Join(w.InputLines(), "\n") + "\n")
	tmp := t.TempDir()
	f, err := os.Open(writeFile(t, tmp, "stdin.txt", data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()

	out := filepath.Join(tmp, "out")
	args := append(append([]string{"scan"}, fastScanFlags(addr)...), "--out", out, "-")
	code, _, stderr := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("run(%q) = %d; want %d\nstderr:\n%s", args, code, exitOK, stderr)
	}
	rows := checkDomainRows(t, out, expect(w.InputLines(), nil))
	checkManifest(t, out, datasets.Input{Path: "-", Format: datasets.FormatPlain, SHA256: sha256Hex(data)}, len(rows))
}

func TestScanErrorsBeforeScanning(t *testing.T) {
	_, addr := startLab(t, 10)
	tmp := t.TempDir()
	list := writeFile(t, tmp, "list.txt", []byte("example.com\n"))
	regular := writeFile(t, tmp, "regular", []byte("x"))
	missing := filepath.Join(tmp, "no-such-list.txt")

	tests := []struct {
		name string
		args func(out string) []string
		want string // in stderr's first line
		// usage: the usage follows the error line; else stderr is one line.
		usage bool
	}{
		{
			name: "missing input file",
			args: func(out string) []string { return []string{"scan", "--resolver", addr, "--out", out, missing} },
			want: missing,
		},
		{
			name: "missing second input file",
			args: func(out string) []string { return []string{"scan", "--resolver", addr, "--out", out, list, missing} },
			want: missing,
		},
		{
			name: "out below a regular file",
			args: func(string) []string {
				return []string{"scan", "--resolver", addr, "--out", filepath.Join(regular, "out"), list}
			},
			want: filepath.Join(regular, "out"),
		},
		{
			name: "no out",
			args: func(string) []string { return []string{"scan", "--resolver", addr, list} },
			want: "--out",
		},
		{
			name: "no input",
			args: func(out string) []string { return []string{"scan", "--resolver", addr, "--out", out} },
			want: "no input",
		},
		{
			name: "unknown format",
			args: func(out string) []string {
				return []string{"scan", "--resolver", addr, "--format", "xml", "--out", out, list}
			},
			want: `"xml"`,
		},
		{
			name: "resolver not an IP",
			args: func(out string) []string { return []string{"scan", "--resolver", "not-an-ip", "--out", out, list} },
			want: "not-an-ip",
		},
		{
			name:  "unknown flag",
			args:  func(out string) []string { return []string{"scan", "--resolver", addr, "--bogus", "--out", out, list} },
			want:  "-bogus",
			usage: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out")
			args := tt.args(out)
			code, stdout, stderr := runCLI(t, args...)
			if code != exitUsage {
				t.Errorf("run(%q) = %d; want %d", args, code, exitUsage)
			}
			first, _, _ := strings.Cut(stderr, "\n")
			if !strings.Contains(first, tt.want) {
				t.Errorf("stderr's first line = %q; want it to name %q", first, tt.want)
			}
			if !tt.usage && strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr is not one line:\n%s", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q; want nothing", stdout)
			}
			for _, p := range []string{datasets.ManifestName, datasets.TableDomains, datasets.TableMXHosts} {
				if _, err := os.Stat(filepath.Join(out, p)); err == nil {
					t.Errorf("%s was written; want nothing scanned", p)
				}
			}
		})
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout *regexp.Regexp // nil: must be empty
		wantStderr *regexp.Regexp // nil: must be empty
	}{
		{name: "version", args: []string{"version"}, wantCode: exitOK, wantStdout: regexp.MustCompile(`^danescan \S+\n$`)},
		{name: "--version", args: []string{"--version"}, wantCode: exitOK, wantStdout: regexp.MustCompile(`^danescan \S+\n$`)},
		{name: "help", args: []string{"help"}, wantCode: exitOK, wantStdout: regexp.MustCompile(`danescan scan`)},
		{name: "no arguments", args: nil, wantCode: exitUsage, wantStderr: regexp.MustCompile(`(?s)^danescan measures.*Usage:`)},
		{name: "scan -h", args: []string{"scan", "-h"}, wantCode: exitOK, wantStderr: regexp.MustCompile(`(?s)Usage: danescan scan.*-resolver`)},
		{name: "lab -h", args: []string{"lab", "-h"}, wantCode: exitOK, wantStderr: regexp.MustCompile(`(?s)Usage: danescan lab.*-domains`)},
		{name: "lab serve -h", args: []string{"lab", "serve", "-h"}, wantCode: exitOK, wantStderr: regexp.MustCompile(`(?s)Usage: danescan lab serve.*-listen`)},
		{name: "unknown command", args: []string{"scna"}, wantCode: exitUsage, wantStderr: regexp.MustCompile(`^danescan: unknown command "scna"\n`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("run(%q) = %d; want %d", tt.args, code, tt.wantCode)
			}
			for _, c := range []struct {
				name string
				re   *regexp.Regexp
				got  string
			}{{"stdout", tt.wantStdout, stdout}, {"stderr", tt.wantStderr, stderr}} {
				if c.re == nil && c.got != "" {
					t.Errorf("%s = %q; want nothing", c.name, c.got)
				}
				if c.re != nil && !c.re.MatchString(c.got) {
					t.Errorf("%s = %q; want a match of %s", c.name, c.got, c.re)
				}
			}
		})
	}
}

func TestLab(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"lab", "--domains", "300", "--out", out, "--quiet"}
	code, stdout, stderr := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("run(%q) = %d; want %d\nstderr:\n%s", args, code, exitOK, stderr)
	}
	if stderr != "" {
		t.Errorf("stderr with --quiet = %q; want nothing", stderr)
	}
	for _, s := range []string{"domains scanned", "failures by class"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("summary lacks %q:\n%s", s, stdout)
		}
	}
	m, err := datasets.ReadManifest(out)
	if err != nil {
		t.Fatalf("ReadManifest: %v", err)
	}
	if !m.Complete {
		t.Errorf("manifest complete = false; want true")
	}
	rows, err := datasets.ReadTable[datasets.Domain](out, datasets.TableDomains)
	if err != nil {
		t.Fatalf("ReadTable(domains): %v", err)
	}
	if n := m.Counts.RowsDomains; n != int64(len(rows)) {
		t.Errorf("manifest counts rows_domains = %d; the domains table has %d rows", n, len(rows))
	}

	// The same seed gives the same world: the summary counts its distinct
	// valid names.
	w, err := lab.Generate(lab.Config{Domains: 300, Seed: 1, Population: lab.Realistic}) // the default population of danescan lab
	if err != nil {
		t.Fatal(err)
	}
	want := len(expect(w.InputLines(), nil).ranks)
	sm := regexp.MustCompile(`(?m)^\s*domains scanned\s+(\d+)$`).FindStringSubmatch(stdout)
	if sm == nil {
		t.Fatalf("no domains scanned count in the summary:\n%s", stdout)
	}
	if got, _ := strconv.Atoi(sm[1]); got != want {
		t.Errorf("summary: domains scanned %d; want %d (distinct valid names)", got, want)
	}
	checkDomainRows(t, out, expect(w.InputLines(), nil))

	// The lab ends with the report of its scan, and danescan sql and
	// danescan analyze read the same dataset.
	if !strings.Contains(stdout, "report of scan "+m.ScanID) {
		t.Errorf("lab output lacks the report line:\n%s", stdout)
	}
	for _, f := range []string{"report.md", "report.html", "report.json"} {
		if _, err := os.Stat(filepath.Join(out, "report", f)); err != nil {
			t.Errorf("lab report: %v", err)
		}
	}
	code, stdout, stderr = runCLI(t, "sql", "--format", "csv", out, "SELECT count(*) AS n FROM domains")
	if code != exitOK || strings.TrimSpace(stdout) != "n\n"+strconv.Itoa(len(rows)) {
		t.Errorf("sql count = %d %q %q; want %d rows", code, stdout, stderr, len(rows))
	}
	code, stdout, _ = runCLI(t, "sql", "--format", "json", out, "SELECT host, chain FROM endpoints WHERE chain_length > 0 LIMIT 1")
	if code != exitOK || !strings.Contains(stdout, `"chain":["30`) {
		t.Errorf("sql json of a binary list = %d %q; want hex DER", code, stdout)
	}
	rep := filepath.Join(t.TempDir(), "rep")
	if code, stdout, stderr = runCLI(t, "analyze", out, "--out", rep); code != exitOK || !strings.Contains(stdout, "checks fired") {
		t.Errorf("analyze = %d %q %q", code, stdout, stderr)
	}
}

func TestSQLAndAnalyzeErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"sql without statement", []string{"sql", dir}, exitUsage, "give one or more dataset directories"},
		{"sql not a dataset", []string{"sql", dir, "SELECT 1"}, exitUsage, "holds no dataset"},
		{"sql bad format", []string{"sql", "--format", "xml", dir, "SELECT 1"}, exitUsage, "--format"},
		{"analyze without out", []string{"analyze", dir}, exitUsage, "--out REPORTDIR"},
		{"analyze not a dataset", []string{"analyze", dir, "--out", filepath.Join(dir, "r")}, exitUsage, "holds no dataset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.err) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("run(%q) = %d, stderr %q; want %d and one line with %q", tt.args, code, stderr, tt.code, tt.err)
			}
		})
	}
}

// buildBinary builds the danescan command into a temporary folder and
// returns its path; it skips the test when no go command is found.
// built is the danescan binary the subprocess tests share: it is built
// once per test run, into a folder TestMain removes.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildBinary returns the path of the danescan binary, building it on the
// first call; it skips the test when there is no go command.
func buildBinary(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build danescan: %v", err)
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "danescan-test-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "danescan")
		if out, err := exec.Command(gobin, "build", "-o", built.path, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// startSlowScan starts the binary scanning a 3,000-domain lab world slowly
// (5 workers, 300 queries/s, parts of 50 rows: tens of seconds in all, the
// first part after a fraction of a second), and returns the running
// command, the world and the dataset folder. The child is killed when the
// test ends or after 30 s.
func startSlowScan(t *testing.T, stdout, stderr *bytes.Buffer) (*exec.Cmd, *lab.World, string) {
	t.Helper()
	bin := buildBinary(t)
	w, addr := startLab(t, 3000)
	tmp := t.TempDir()
	list := writeFile(t, tmp, "list.txt", []byte(strings.Join(w.InputLines(), "\n")+"\n"))
	out := filepath.Join(tmp, "out")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, "scan", list, "--out", out, "--resolver", addr,
		"--timeout", "300ms", "--retries", "0", "--quiet", "--workers", "5", "--dns-qps", "300", "--part-rows", "50", "--no-smtp")
	if stdout != nil {
		cmd.Stdout, cmd.Stderr = stdout, stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, w, out
}

// waitFor polls cond every few milliseconds until it holds, and fails the
// test after limit. There is no event to wait on: the scan runs in another
// process and only its files show progress.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		<-tick.C
	}
}

func TestScanInterruptedBySIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	var stdout, stderr bytes.Buffer
	cmd, w, out := startSlowScan(t, &stdout, &stderr)
	exited := make(chan error, 1) // written once by the goroutine when the child exits, read below
	go func() { exited <- cmd.Wait() }()

	// A finished part means run is inside the scan, with its signal
	// handler installed.
	firstPart := func() bool {
		parts, _ := filepath.Glob(filepath.Join(out, datasets.TableDomains, "part-*.parquet"))
		return len(parts) > 0
	}
	waitFor(t, 20*time.Second, "the first part of the domains table", func() bool {
		select {
		case err := <-exited:
			t.Fatalf("danescan exited before it was interrupted: %v\nstderr:\n%s", err, &stderr)
		default:
		}
		return firstPart()
	})
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit code = %d (%v); want %d\nstderr:\n%s", code, err, exitInterrupted, &stderr)
	}
	for _, s := range []string{"SIGINT", "interrupted"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("stderr does not mention %q:\n%s", s, &stderr)
		}
	}
	if !strings.Contains(stdout.String(), "INCOMPLETE (interrupted by SIGINT)") {
		t.Errorf("summary does not say the scan is incomplete:\n%s", &stdout)
	}

	m, err := datasets.ReadManifest(out)
	if err != nil {
		t.Fatalf("ReadManifest: %v", err)
	}
	if m.Complete || m.InterruptedBy != "SIGINT" {
		t.Errorf("manifest complete, interrupted_by = %v, %q; want false, \"SIGINT\"", m.Complete, m.InterruptedBy)
	}
	rows, err := datasets.ReadTable[datasets.Domain](out, datasets.TableDomains)
	if err != nil {
		t.Fatalf("ReadTable(domains): %v", err)
	}
	if n := m.Counts.RowsDomains; n != int64(len(rows)) {
		t.Errorf("manifest counts rows_domains = %d; the domains table has %d rows", n, len(rows))
	}
	if all := len(expect(w.InputLines(), nil).ranks); len(rows) < 50 || len(rows) >= all {
		t.Errorf("domains table has %d rows; want at least the first part (50) and fewer than all %d", len(rows), all)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if r.Domain != "" && seen[r.Domain] {
			t.Errorf("domain %s has more than one row", r.Domain)
		}
		seen[r.Domain] = true
	}
}

// TestScanReplace: a second scan into the same --out is refused unless
// --replace is given; lab always replaces its own previous dataset, so the
// README's quick start can be run twice.
func TestScanReplace(t *testing.T) {
	_, addr := startLab(t, 50)
	dir := t.TempDir()
	list := writeFile(t, dir, "list.txt", []byte("example.com\n"))
	out := filepath.Join(dir, "out")
	scan := append([]string{"scan", list, "--out", out}, fastScanFlags(addr)...)
	if code, _, stderr := runCLI(t, scan...); code != 0 {
		t.Fatalf("first scan: exit %d: %s", code, stderr)
	}
	first, err := datasets.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, scan...)
	if code != 2 || !strings.Contains(stderr, "--replace") {
		t.Fatalf("second scan without --replace: exit %d, stderr %q; want 2 and a hint", code, stderr)
	}
	if m, err := datasets.ReadManifest(out); err != nil || m.ScanID != first.ScanID {
		t.Fatalf("the refused scan touched the dataset: %v %v", m, err)
	}
	missing := append([]string{"scan", filepath.Join(dir, "nope.txt"), "--out", out, "--replace"}, fastScanFlags(addr)...)
	if code, _, _ := runCLI(t, missing...); code != 2 {
		t.Fatalf("--replace with a missing input: exit %d, want 2", code)
	}
	if _, err := datasets.ReadManifest(out); err != nil {
		t.Fatalf("--replace deleted the dataset although the scan could not start: %v", err)
	}
	if code, _, stderr := runCLI(t, append(scan, "--replace")...); code != 0 {
		t.Fatalf("scan --replace: exit %d: %s", code, stderr)
	}
	if m, err := datasets.ReadManifest(out); err != nil || m.ScanID == first.ScanID {
		t.Fatalf("after --replace the manifest is %v, %v; want a new scan", m, err)
	}
	labOut := filepath.Join(dir, "lab")
	for i := 0; i < 2; i++ {
		if code, _, stderr := runCLI(t, "lab", "--domains", "50", "--out", labOut, "--quiet"); code != 0 {
			t.Fatalf("lab run %d: exit %d: %s", i+1, code, stderr)
		}
	}
}

// TestScanKilled: a scan killed with SIGKILL (no chance to clean up) leaves
// a manifest that says it is incomplete and lists finished parts that are
// all there, intact, and readable.
func TestScanKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	cmd, _, out := startSlowScan(t, nil, nil)
	waitFor(t, 20*time.Second, "a manifest listing a finished part", func() bool {
		m, err := datasets.ReadManifest(out)
		return err == nil && len(m.Parts) > 0
	})
	cmd.Process.Kill()
	cmd.Wait()

	m, err := datasets.ReadManifest(out)
	if err != nil {
		t.Fatalf("no readable manifest after SIGKILL: %v", err)
	}
	if m.Complete || !m.Ended.IsZero() || len(m.Parts) == 0 {
		t.Errorf("manifest after SIGKILL: complete=%v ended=%v parts=%d; want incomplete, no end, the parts so far", m.Complete, m.Ended, len(m.Parts))
	}
	for _, p := range m.Parts {
		data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(p.Path)))
		if err != nil || sha256Hex(data) != p.SHA256 || int64(len(data)) != p.Bytes {
			t.Errorf("part %s listed in the manifest is missing or changed: %v", p.Path, err)
		}
	}
	if _, err := datasets.ReadTable[datasets.Domain](out, datasets.TableDomains); err != nil {
		t.Errorf("the finished parts are not readable: %v", err)
	}
}
