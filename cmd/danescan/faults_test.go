package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/lab"
)

// The fault tests (issue 11, "Faults") run the built binary as a user
// does and break its world on purpose: signals at every phase, kill -9 at
// many points, a full disk, a resolver that dies. Each checks what the
// README's Reliability section promises: the exit code, the manifest and
// the rows' statuses, and that every part the manifest lists is intact.

// proc is a danescan child process.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer  // read only after exited is closed
	exited         chan struct{} // closed when the child has exited
	started        time.Time
	ended          time.Time
}

// startBin starts the binary with args and stdin (nil: none). The child is
// killed when the test ends.
func startBin(t *testing.T, stdin io.Reader, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(buildBinary(t), args...)
	cmd.Stdin = stdin
	return startProc(t, cmd)
}

// startProc starts cmd as a proc, its output in the proc's buffers. The
// child is killed when the test ends.
func startProc(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.ended = time.Now()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// running reports whether the child is still running.
func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// wait waits at most limit for the child to exit and returns its exit
// code; it fails the test (killing the child) after limit.
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.exited
		t.Fatalf("danescan %s did not exit within %v\nstderr:\n%s", strings.Join(p.cmd.Args[1:], " "), limit, tail(p.stderr.String()))
	}
	return p.cmd.ProcessState.ExitCode()
}

// signal sends sig to the child.
func (p *proc) signal(t *testing.T, sig os.Signal) time.Time {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	return time.Now()
}

// tail returns the last lines of s.
func tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 15 {
		lines = append([]string{"..."}, lines[len(lines)-15:]...)
	}
	return strings.Join(lines, "\n")
}

// manifestWhen returns a condition for waitFor that holds when dir has a
// manifest for which ok holds; it fails the test when p exits first.
func manifestWhen(t *testing.T, p *proc, dir string, ok func(*datasets.Manifest) bool) func() bool {
	return func() bool {
		if !p.running() {
			t.Fatalf("danescan exited (%v) before the test was ready\nstderr:\n%s", p.cmd.ProcessState, tail(p.stderr.String()))
		}
		m, err := datasets.ReadManifest(dir)
		return err == nil && ok(m)
	}
}

// checkIntact checks what every reader of the dataset in dir relies on:
// when there is a manifest, it parses and danescan verify finds no damage
// (datasets.Verify), and every table reads. It returns the manifest, nil
// when there is none (allowed only when allowNone).
func checkIntact(t *testing.T, dir string, allowNone bool) *datasets.Manifest {
	t.Helper()
	m, err := datasets.ReadManifest(dir)
	if err != nil {
		if allowNone && os.IsNotExist(unwrapAll(err)) {
			parts, _ := filepath.Glob(filepath.Join(dir, "*", "part-*.parquet"))
			if len(parts) > 0 {
				t.Errorf("no manifest, but finished parts %v", parts)
			}
			return nil
		}
		t.Fatalf("manifest: %v", err)
	}
	v, err := datasets.Verify(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range v.Findings {
		if f.Verdict == datasets.VerdictDamaged {
			t.Errorf("verify: %s", f)
		}
	}
	if _, err := datasets.ReadTable[datasets.Domain](dir, datasets.TableDomains); err != nil {
		t.Errorf("domains table: %v", err)
	}
	if _, err := datasets.ReadTable[datasets.MXHost](dir, datasets.TableMXHosts); err != nil {
		t.Errorf("mx_hosts table: %v", err)
	}
	if _, err := datasets.ReadTable[datasets.Endpoint](dir, datasets.TableEndpoints); err != nil {
		t.Errorf("endpoints table: %v", err)
	}
	return m
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// checkInterrupted checks the dataset of a scan stopped by signal name:
// intact, complete=false, interrupted_by name, as many domain rows as the
// counts say. It returns the manifest and the domain rows.
func checkInterrupted(t *testing.T, dir, name string) (*datasets.Manifest, []datasets.Domain) {
	t.Helper()
	m := checkIntact(t, dir, false)
	if m.Complete || m.InterruptedBy != name || m.Ended.IsZero() {
		t.Errorf("manifest complete=%v interrupted_by=%q ended=%v; want false, %q, the end", m.Complete, m.InterruptedBy, m.Ended, name)
	}
	rows, err := datasets.ReadTable[datasets.Domain](dir, datasets.TableDomains)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(rows)) != m.Counts.RowsDomains {
		t.Errorf("%d domain rows; the manifest counts %d", len(rows), m.Counts.RowsDomains)
	}
	return m, rows
}

var signals = []struct {
	name string
	sig  syscall.Signal
}{{"SIGINT", syscall.SIGINT}, {"SIGTERM", syscall.SIGTERM}}

// silentResolver listens on a loopback UDP port, never answers, and
// reports the names it was asked about. It is closed when the test ends.
type silentResolver struct {
	pc    net.PacketConn
	mu    sync.Mutex
	names map[string]bool // guarded by mu
}

func startSilentResolver(t *testing.T) *silentResolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &silentResolver{pc: pc, names: map[string]bool{}}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var m dns.Msg
			if m.Unpack(buf[:n]) == nil && len(m.Question) == 1 {
				r.mu.Lock()
				r.names[strings.ToLower(m.Question[0].Name)] = true
				r.mu.Unlock()
			}
		}
	}()
	return r
}

func (r *silentResolver) asked() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.names)
}

// TestSignalAfterInputRead (issue 11, defect 4): a signal once the input
// is read, with every domain in flight on a resolver that never answers,
// ends the scan within the grace period (not the 30 s query timeout) as
// an interrupted scan: exit 130, complete=false, interrupted_by the
// signal, every row interrupted.
func TestSignalAfterInputRead(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	t.Parallel()
	for _, s := range signals {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			res := startSilentResolver(t)
			dir := t.TempDir()
			names := []string{"a.example", "b.example", "c.example", "d.example", "e.example"}
			list := writeFile(t, dir, "list.txt", []byte(strings.Join(names, "\n")+"\n"))
			out := filepath.Join(dir, "out")
			p := startBin(t, nil, "scan", list, "--out", out, "--resolver", res.pc.LocalAddr().String(),
				"--timeout", "30s", "--retries", "0", "--quiet", "--no-smtp", "--dnssec=false")
			waitFor(t, 20*time.Second, "the resolver asked about every domain", func() bool {
				if !p.running() {
					t.Fatalf("danescan exited early\nstderr:\n%s", tail(p.stderr.String()))
				}
				return res.asked() >= len(names)
			})
			sent := p.signal(t, s.sig)
			code := p.wait(t, 60*time.Second)
			if took := p.ended.Sub(sent); took > 15*time.Second {
				t.Errorf("danescan took %v after %s; want the 5 s grace period and little more", took.Round(time.Millisecond), s.name)
			}
			if code != exitInterrupted {
				t.Errorf("exit code %d; want %d\nstderr:\n%s", code, exitInterrupted, tail(p.stderr.String()))
			}
			_, rows := checkInterrupted(t, out, s.name)
			if len(rows) != len(names) {
				t.Errorf("%d domain rows; want one for each of the %d names read", len(rows), len(names))
			}
			for _, r := range rows {
				if r.Failure != "interrupted" {
					t.Errorf("row %s: failure %q; want interrupted", r.Domain, r.Failure)
				}
			}
		})
	}
}

// TestSignalWhileReadingInput (issue 11, defect 5): lines sent on a pipe
// that stays open get their rows as they arrive, and a signal while the
// scan waits for more ends it at once: exit 130, complete=false, a row
// for every line read. An idle pipe (nothing sent) is no different.
func TestSignalWhileReadingInput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	t.Parallel()
	w, addr := startLab(t, 50)
	lines := validLabNames(w, "")[:3]
	for _, tt := range []struct {
		name  string
		sig   syscall.Signal
		lines []string
	}{
		{"SIGINT", syscall.SIGINT, lines},
		{"SIGTERM", syscall.SIGTERM, lines},
		{"idle pipe", syscall.SIGINT, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out")
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close()
			p := startBin(t, pr, append([]string{"scan", "-", "--out", out, "--part-rows", "1"}, fastScanFlags(addr)...)...)
			pr.Close()
			if len(tt.lines) > 0 {
				if _, err := pw.WriteString(strings.Join(tt.lines, "\n") + "\n"); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, 15*time.Second, fmt.Sprintf("a manifest counting %d domain rows", len(tt.lines)),
				manifestWhen(t, p, out, func(m *datasets.Manifest) bool { return m.Counts.RowsDomains == int64(len(tt.lines)) }))
			sent := p.signal(t, tt.sig)
			code := p.wait(t, 30*time.Second)
			if took := p.ended.Sub(sent); took > 3*time.Second {
				t.Errorf("danescan took %v to stop after the signal; want at once", took.Round(time.Millisecond))
			}
			if code != exitInterrupted {
				t.Errorf("exit code %d; want %d\nstderr:\n%s", code, exitInterrupted, tail(p.stderr.String()))
			}
			sigName := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[tt.sig]
			_, rows := checkInterrupted(t, out, sigName)
			if len(rows) != len(tt.lines) {
				t.Errorf("%d domain rows; want one for each of the %d lines sent", len(rows), len(tt.lines))
			}
		})
	}
}

// TestEndlessLine (issue 11, defect 5): an input that is one endless line
// (/dev/zero) ends as an input error in bounded time and memory, not a
// scan that never ends.
func TestEndlessLine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	p := startBin(t, nil, append([]string{"scan", "/dev/zero", "--out", out}, fastScanFlags(startSilentResolver(t).pc.LocalAddr().String())...)...)
	code := p.wait(t, 30*time.Second)
	if code != exitFailed || !strings.Contains(p.stderr.String(), "line") {
		t.Errorf("exit code %d; want %d with an input error naming the line\nstderr:\n%s", code, exitFailed, tail(p.stderr.String()))
	}
	m := checkIntact(t, out, false)
	if m.Complete {
		t.Errorf("manifest complete after an input error")
	}
	// The child's peak RSS is no measure here: it starts as a vfork of
	// this process and inherits its high-water mark. Memory is bounded by
	// datasets.MaxLineRead (TestEndlessLine in datasets).
}

// TestReplaceOnFile (issue 11, defect 8): an --out that is a file is
// refused with one clear line and exit 2, with and without --replace, and
// the file is left alone.
func TestReplaceOnFile(t *testing.T) {
	dir := t.TempDir()
	list := writeFile(t, dir, "list.txt", []byte("example.com\n"))
	file := writeFile(t, dir, "out-file", []byte("not a dataset\n"))
	for _, replace := range []bool{false, true} {
		t.Run(fmt.Sprintf("replace=%v", replace), func(t *testing.T) {
			args := append([]string{"scan", list, "--out", file}, fastScanFlags("127.0.0.1:1")...)
			if replace {
				args = append(args, "--replace")
			}
			code, _, stderr := runCLI(t, args...)
			line := strings.TrimSpace(stderr)
			if code != exitUsage || strings.Contains(line, "\n") || !strings.Contains(line, file+" is not a directory") || strings.Contains(line, "unlinkat") {
				t.Errorf("exit %d, stderr %q; want %d and one line saying %s is not a directory", code, stderr, exitUsage, file)
			}
			if data, err := os.ReadFile(file); err != nil || string(data) != "not a dataset\n" {
				t.Errorf("the file was changed: %q, %v", data, err)
			}
		})
	}
}

// TestFullDisk (issue 11, defect 3): a scan whose disk fills up ends with
// one line of error and exit 1 (not a panic); the parts it finished are
// intact and listed in the manifest, which says complete=false. The disk
// is a small tmpfs, so the test runs as root only.
func TestFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	t.Parallel()
	w, addr := startLab(t, 3000)
	dir := t.TempDir()
	list := writeFile(t, dir, "list.txt", []byte(strings.Join(w.InputLines(), "\n")+"\n"))
	disk := filepath.Join(dir, "disk")
	if err := os.Mkdir(disk, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", disk).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", disk).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", disk, err, out)
		}
	})
	out := filepath.Join(disk, "out")
	p := startBin(t, nil, append([]string{"scan", list, "--out", out, "--part-rows", "50", "--dnssec=false"}, fastScanFlags(addr)...)...)
	code := p.wait(t, 60*time.Second)
	stderr := strings.TrimSpace(p.stderr.String())
	if code != exitFailed || strings.Contains(stderr, "\n") || !strings.Contains(stderr, "no space left on device") {
		t.Errorf("exit %d; want %d and one line of error about the full disk; stderr:\n%s", code, exitFailed, tail(stderr))
	}
	m := checkIntact(t, out, false)
	if m.Complete {
		t.Errorf("manifest says complete on a full disk")
	}
	if len(m.Parts) == 0 {
		t.Errorf("the manifest lists no part; want the parts written before the disk filled")
	}
	rows, _ := datasets.ReadTable[datasets.Domain](out, datasets.TableDomains)
	t.Logf("disk full after %d parts, %d domain rows kept; stderr: %s", len(m.Parts), len(rows), stderr)
}

// TestKill9 kills a scan with SIGKILL at 22 points spread over the time a
// whole scan takes (measured first; the last point at 85 % of it, as runs
// vary): each time the dataset on disk is readable, lists only intact
// parts, and says complete=false (or, killed before it was created, does
// not exist). At least 20 of the scans must really be killed.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	t.Parallel()
	w, addr := startLab(t, 1000)
	dir := t.TempDir()
	list := writeFile(t, dir, "list.txt", []byte(strings.Join(w.InputLines(), "\n")+"\n"))
	args := func(out string) []string {
		return []string{"scan", list, "--out", out, "--resolver", addr, "--timeout", "300ms", "--retries", "0", "--quiet",
			"--workers", "20", "--dns-qps", "1500", "--part-rows", "40", "--no-smtp", "--dnssec=false"}
	}
	whole := startBin(t, nil, args(filepath.Join(dir, "whole"))...)
	if code := whole.wait(t, 60*time.Second); code != exitOK {
		t.Fatalf("the whole scan: exit %d\n%s", code, tail(whole.stderr.String()))
	}
	total := whole.ended.Sub(whole.started)
	const points = 22
	t.Logf("a whole scan takes %v; killing at %d points", total.Round(time.Millisecond), points)
	withParts, killed := 0, 0
	// On a loaded machine the scans' speed varies: a scan that ends before
	// its kill point makes the later points earlier, until 22 scans were
	// killed (at most 60 tries).
	for i := 0; killed < points && i < 60; i++ {
		at := total * 85 / 100 * time.Duration(killed+1) / points
		out := filepath.Join(dir, fmt.Sprintf("kill-%02d", i))
		p := startBin(t, nil, args(out)...)
		select {
		case <-p.exited:
			t.Logf("try %d (%v): the scan ended before it was killed", i, at)
			checkIntact(t, out, false)
			total = total * 8 / 10
			continue
		case <-time.After(at):
		}
		p.cmd.Process.Kill()
		<-p.exited
		killed++
		m := checkIntact(t, out, true)
		if m == nil {
			continue
		}
		if m.Complete || !m.Ended.IsZero() {
			t.Errorf("try %d (%v): manifest complete=%v ended=%v after kill -9", i, at, m.Complete, m.Ended)
		}
		if len(m.Parts) > 0 {
			withParts++
		}
	}
	if killed < 20 || withParts < killed/2 {
		t.Errorf("%d scans killed, %d of them with parts; want at least 20, half of them with parts", killed, withParts)
	}
}

// TestResolverDies: the resolver stops answering in the middle of a scan.
// The scan goes on and ends on its own: every input domain has its row,
// those after the resolver died with a lookup failure, exit 0.
func TestResolverDies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	t.Parallel()
	world, err := lab.Generate(lab.Config{Domains: 1000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := lab.Start(world, lab.ServerOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	list := writeFile(t, dir, "list.txt", []byte(strings.Join(world.InputLines(), "\n")+"\n"))
	out := filepath.Join(dir, "out")
	p := startBin(t, nil, "scan", list, "--out", out, "--resolver", srv.Addr(), "--timeout", "300ms", "--retries", "1", "--quiet",
		"--workers", "50", "--dns-qps", "1000", "--part-rows", "100", "--no-smtp", "--dnssec=false")
	waitFor(t, 20*time.Second, "a first part", manifestWhen(t, p, out, func(m *datasets.Manifest) bool { return len(m.Parts) > 0 }))
	srv.Close()
	code := p.wait(t, 60*time.Second)
	if code != exitOK {
		t.Errorf("exit %d; want 0\nstderr:\n%s", code, tail(p.stderr.String()))
	}
	m := checkIntact(t, out, false)
	if !m.Complete {
		t.Errorf("manifest complete=false; the scan did all it was asked")
	}
	rows := checkDomainRows(t, out, expect(world.InputLines(), nil))
	failed := 0
	for _, r := range rows {
		if r.Failure == "timeout" || r.Failure == "network" {
			failed++
		}
	}
	if failed == 0 {
		t.Errorf("no row says the lookups failed after the resolver died")
	}
	t.Logf("%d of %d rows failed with the resolver gone", failed, len(rows))
}

// TestSignalPhases sends SIGINT and SIGTERM to a scan while it looks up
// domains (DNS), while it probes mail servers (the lab, with its
// in-process SMTP servers) and while it writes a part for every row:
// each ends with exit 130, a manifest that says complete=false and names
// the signal, rows for what was read, and none claiming more than it saw.
func TestSignalPhases(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	t.Parallel()
	w, addr := startLab(t, 3000)
	list := writeFile(t, t.TempDir(), "list.txt", []byte(strings.Join(w.InputLines(), "\n")+"\n"))
	scanArgs := func(out, partRows string) []string {
		return []string{"scan", list, "--out", out, "--resolver", addr, "--timeout", "300ms", "--retries", "0", "--quiet",
			"--workers", "5", "--dns-qps", "300", "--part-rows", partRows, "--no-smtp", "--dnssec=false"}
	}
	phases := []struct {
		name  string
		args  func(out string) []string
		ready func(m *datasets.Manifest) bool // the scan is in the phase
	}{
		{"scanning", func(out string) []string { return scanArgs(out, "50") },
			func(m *datasets.Manifest) bool { return len(m.Parts) > 0 }},
		{"writing", func(out string) []string { return scanArgs(out, "1") },
			func(m *datasets.Manifest) bool { return len(m.Parts) > 20 }},
		{"probing", func(out string) []string {
			return []string{"lab", "--domains", "400", "--out", out, "--quiet", "--no-report", "--part-rows", "5", "--dnssec=false"}
		}, func(m *datasets.Manifest) bool { return m.Counts.RowsEndpoints > 0 }},
	}
	for _, ph := range phases {
		for _, s := range signals {
			t.Run(ph.name+"/"+s.name, func(t *testing.T) {
				t.Parallel()
				out := filepath.Join(t.TempDir(), "out")
				p := startBin(t, nil, ph.args(out)...)
				waitFor(t, 30*time.Second, "the "+ph.name+" phase", manifestWhen(t, p, out, ph.ready))
				sent := p.signal(t, s.sig)
				code := p.wait(t, 30*time.Second)
				if took := p.ended.Sub(sent); took > 15*time.Second {
					t.Errorf("danescan took %v after %s; want the 5 s grace period and little more", took.Round(time.Millisecond), s.name)
				}
				if code != exitInterrupted {
					t.Errorf("exit code %d; want %d\nstderr:\n%s", code, exitInterrupted, tail(p.stderr.String()))
				}
				m, rows := checkInterrupted(t, out, s.name)
				if int64(len(rows)) != m.Counts.Entries-m.Counts.Duplicates {
					t.Errorf("%d domain rows for %d entries read (%d duplicates)", len(rows), m.Counts.Entries, m.Counts.Duplicates)
				}
				eps, err := datasets.ReadTable[datasets.Endpoint](out, datasets.TableEndpoints)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range eps {
					// A probe cut by the end of the grace period is not
					// a finding about the server.
					if e.Failure == "canceled" {
						t.Errorf("endpoint %s %s: failure canceled, dane_status %s; want interrupted, not_probed", e.Host, e.Address, e.DANEStatus)
					}
				}
			})
		}
	}
}
