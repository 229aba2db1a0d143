package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/lab"
)

// TestLabServeSMTP runs `lab serve` (the stress population, which has
// every special case) as root, with its mail servers on
// 127.x.y.z port 25, and the scan command it prints, in process: the scan
// reaches every special case over real TCP and excludes the IPv6
// addresses.
func TestLabServeSMTP(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("lab serve's mail servers need root (port 25)")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	code := make(chan int, 1) // written by the lab serve goroutine, read below
	go func() {
		code <- cmdLabServe(ctx, []string{"--domains", "1000", "--population", "stress", "--dir", filepath.Join(dir, "lab")}, pw, &stderr)
		pw.Close()
	}()
	var head []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		head = append(head, sc.Text())
		if strings.HasPrefix(sc.Text(), "Ctrl-C") {
			break
		}
	}
	if len(head) == 0 || !strings.HasPrefix(head[len(head)-1], "Ctrl-C") {
		<-code
		if strings.Contains(stderr.String(), "address already in use") {
			t.Skipf("port 25 in use: %s", stderr.String())
		}
		t.Fatalf("lab serve stopped:\n%s\n%s", strings.Join(head, "\n"), stderr.String())
	}
	text := strings.Join(head, "\n")
	if !regexp.MustCompile(`(?m)^resolver +127\.0\.0\.1:\d+$`).MatchString(text) ||
		!regexp.MustCompile(`(?m)^mail servers \d+ addresses in 127\.0\.2\.0/24[ 0-9./]*, port 25 \(IPv4 only\)$`).MatchString(text) {
		t.Errorf("lab serve printed:\n%s", text)
	}
	var args []string
	for _, l := range head {
		if f := strings.Fields(l); len(f) > 2 && f[0] == "danescan" && f[1] == "scan" {
			args = f[1:]
		}
	}
	if len(args) < 2 || args[len(args)-2] != "--out" || !strings.Contains(text, "--exclude "+filepath.Join(dir, "lab", "exclude.txt")) || strings.Contains(text, "--no-smtp") {
		t.Fatalf("scan command %q in:\n%s", args, text)
	}
	args[len(args)-1] = filepath.Join(dir, "scan")
	args = append(args, "--quiet")
	c, out, errs := runCLI(t, args...)
	if c != exitOK {
		t.Fatalf("scan exited %d:\n%s\n%s", c, out, errs)
	}
	for _, want := range []string{"banner_timeout 1", "connect_refused 1", "starttls_not_offered 1", "starttls_rejected 1", "tls_handshake_failed 1", "excluded "} {
		if !strings.Contains(out, want) {
			t.Errorf("scan summary lacks %q:\n%s", want, out)
		}
	}
	cancel()
	rest, _ := io.ReadAll(pr)
	if c := <-code; c != exitOK {
		t.Errorf("lab serve exited %d: %s", c, stderr.String())
	}
	if m := regexp.MustCompile(`and (\d+) SMTP sessions`).FindSubmatch(rest); m == nil || string(m[1]) == "0" {
		t.Errorf("lab serve ended with %q", rest)
	}
}

// TestLabServePortInUse holds one of the lab's mail server addresses
// (127.0.2.2:25, the banner-stall host's) before `lab serve` starts: it
// must end with a clear one-line error naming the address, not panic or
// hang.
func TestLabServePortInUse(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("lab serve's mail servers need root (port 25)")
	}
	l, err := net.Listen("tcp", "127.0.2.2:25")
	if err != nil {
		t.Skipf("cannot hold 127.0.2.2:25 for the test (another process has it?): %v", err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := cmdLabServe(ctx, []string{"--domains", "300", "--population", "stress", "--dir", filepath.Join(t.TempDir(), "lab")}, &stdout, &stderr)
	if code == exitOK {
		t.Fatalf("lab serve exited 0 with 127.0.2.2:25 taken:\n%s", stdout.String())
	}
	msg := strings.TrimSpace(stderr.String())
	if !strings.Contains(msg, "127.0.2.2:25") || !strings.Contains(msg, "address already in use") || strings.Count(msg, "\n") > 0 {
		t.Errorf("stderr %q: want one line naming 127.0.2.2:25 and the address in use", msg)
	}
}

// TestLabRealistic runs `danescan lab` with its default population, the
// realistic one, and checks the dataset against the world's truth: the
// DNSSEC status of every domain's MX lookup, every endpoint's probe
// failure and DANE verdict, every MX host's TLSA lookup and every
// domain's DANE roll-up; and that the world differs from the stress one
// (few signed zones, RSA keys in the DNSKEY records).
func TestLabRealistic(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	// A 2 s timeout: on a loaded machine the lab's 500 ms default lets
	// some lookups of a parallel test run time out (indeterminate).
	code, stdout, stderr := runCLI(t, "lab", "--domains", "1500", "--seed", "3", "--timeout", "2s", "--out", out, "--quiet", "--no-report")
	if code != exitOK {
		t.Fatalf("lab exited %d:\n%s\n%s", code, stdout, stderr)
	}
	w, err := lab.Generate(lab.Config{Domains: 1500, Seed: 3, DNSSEC: true, Population: lab.Realistic})
	if err != nil {
		t.Fatal(err)
	}
	m, err := datasets.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(m.Config["lab_population"]); got != "realistic" {
		t.Errorf("manifest lab_population %q; want realistic", got)
	}
	doms, err := datasets.ReadTable[datasets.Domain](out, datasets.TableDomains)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := datasets.ReadTable[datasets.MXHost](out, datasets.TableMXHosts)
	if err != nil {
		t.Fatal(err)
	}
	eps, err := datasets.ReadTable[datasets.Endpoint](out, datasets.TableEndpoints)
	if err != nil {
		t.Fatal(err)
	}
	byLine := map[int64]datasets.Domain{}
	for _, d := range doms {
		byLine[d.InputLine] = d
	}
	secure, checked, rollups := 0, 0, 0
	for i, truth := range w.Domains() {
		d, ok := byLine[int64(i+1)]
		if !ok || truth.DNSSEC == "" {
			continue
		}
		if d.Failure == "" && truth.Kind == lab.KindMX {
			checked++
			if d.MX.DNSSEC != truth.DNSSEC {
				t.Errorf("%s: MX dnssec %q (%s); want %q (%s)", truth.Name, d.MX.DNSSEC, d.MX.DNSSECReason, truth.DNSSEC, truth.DNSSECReason)
			}
			if truth.DNSSEC == "secure" {
				secure++
			}
		}
		if d.Failure == "" && len(d.MXHosts) > 0 && truth.DANE != "" {
			rollups++
			if string(d.DANE) != truth.DANE {
				t.Errorf("%s: dane %q (%s); want %q (%s)", truth.Name, d.DANE, d.DANEReason, truth.DANE, truth.DANEReason)
			}
		}
	}
	// The realistic world has about 11% signed zones (the stress one 90%).
	if checked < 1000 || secure*100 > checked*25 || secure*100 < checked*4 {
		t.Errorf("%d of %d MX domains secure; want about 11%%", secure, checked)
	}
	if rollups < 1000 {
		t.Errorf("%d DANE roll-ups checked; want most of the 1500 domains", rollups)
	}
	for _, h := range hosts {
		truth, ok := w.Host(h.Host, true)
		if !ok {
			continue
		}
		got := lab.HostTruth{Host: h.Host, TLSARecords: len(h.TLSA.Records), TLSAState: string(h.TLSAState)}
		if truth.TLSADNSSEC != "" {
			got.TLSADNSSEC = h.TLSA.DNSSEC
		}
		if truth.TLSAReason != "" {
			got.TLSAReason = h.TLSA.DNSSECReason
		}
		if got != truth {
			t.Errorf("%s: mx_hosts TLSA (-want +got):\n-%+v\n+%+v", h.Host, truth, got)
		}
	}
	statuses := map[string]int{}
	for _, e := range eps {
		var truth *lab.EndpointTruth
		for _, tr := range w.Endpoints(e.Host, true) {
			if tr.Address == e.Address {
				truth = &tr
			}
		}
		if truth == nil {
			t.Errorf("%s %s: an endpoint the world does not have", e.Host, e.Address)
			continue
		}
		if e.Failure != truth.Probe || string(e.DANEStatus) != truth.DANEStatus || e.DANEReason != truth.DANEReason {
			t.Errorf("%s %s: failure %q, dane %s %q; want failure %q, dane %s %q", e.Host, e.Address, e.Failure, e.DANEStatus, e.DANEReason, truth.Probe, truth.DANEStatus, truth.DANEReason)
		}
		statuses[string(e.DANEStatus)]++
	}
	t.Logf("checked %d secure %d rollups %d hosts %d endpoints %v", checked, secure, rollups, len(hosts), statuses)
	if statuses["pass"] == 0 || statuses["not_applicable"] <= statuses["pass"] {
		t.Errorf("endpoint verdicts %v; want passes, and more not_applicable ones", statuses)
	}
}

// TestLabPopulationFlag: an unknown --population is a one-line usage
// error of lab and lab serve, before anything is generated or written,
// and the help names both populations.
func TestLabPopulationFlag(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	for _, tt := range []struct {
		cmd  string
		args []string
	}{
		{"danescan lab", []string{"lab", "--population", "real", "--domains", "50", "--out", out}},
		{"danescan lab serve", []string{"lab", "serve", "--population", "real", "--domains", "50", "--smtp=false"}},
	} {
		code, stdout, stderr := runCLI(t, tt.args...)
		want := tt.cmd + `: --population: unknown population "real" (want realistic or stress)` + "\n"
		if code != exitUsage || stdout != "" || stderr != want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d and %q", tt.args, code, stdout, stderr, exitUsage, want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("lab with a bad --population wrote %s", out)
	}
	_, _, help := runCLI(t, "lab", "-h")
	if !strings.Contains(help, "-population") || !strings.Contains(help, "realistic") || !strings.Contains(help, "stress") {
		t.Errorf("lab -h does not describe --population:\n%s", help)
	}
}
