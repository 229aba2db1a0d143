package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkLab runs `danescan lab` on both populations in three modes
// (DNS only: an unsigned world, no validation, no SMTP; validated: a
// signed world validated from its trust anchor, no SMTP; smtp: validated
// and every MX address probed with STARTTLS) and reports the summary's
// rates; each mode runs the populations one after the other, so that
// their ratio is measured under the same load. The number of domains is
// DANESCAN_BENCH_DOMAINS (default 20000). Run it with
//
//	DANESCAN_BENCH_DOMAINS=50000 nice go test -run XXX -bench BenchmarkLab -benchtime 1x ./cmd/danescan
//
// and it prints a table of the figures at the end, with the
// realistic/stress ratios.
func BenchmarkLab(b *testing.B) {
	n := 20000
	if s := os.Getenv("DANESCAN_BENCH_DOMAINS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("DANESCAN_BENCH_DOMAINS=%q: want a positive number", s)
		}
		n = v
	}
	modes := []struct {
		name string
		args []string
	}{
		{"dns-only", []string{"--dnssec=false", "--no-smtp"}},
		{"validated", []string{"--no-smtp"}},
		{"smtp", nil},
	}
	pops := []string{"realistic", "stress"}
	type figures struct{ domains, queries, endpoints, load float64 }
	got := map[string]figures{}
	for _, m := range modes {
		for _, pop := range pops {
			b.Run(m.name+"/"+pop, func(b *testing.B) {
				var f figures
				for b.Loop() {
					out := filepath.Join(b.TempDir(), "out")
					args := append([]string{"--domains", strconv.Itoa(n), "--population", pop, "--out", out, "--no-report"}, m.args...)
					var stdout, stderr strings.Builder
					if code := cmdLab(context.Background(), args, &stdout, &stderr); code != exitOK {
						b.Fatalf("lab %q exited %d:\n%s\n%s", args, code, stdout.String(), stderr.String())
					}
					f = labFigures(b, stdout.String(), stderr.String())
				}
				b.ReportMetric(f.domains, "domains/s")
				b.ReportMetric(f.queries, "queries/s")
				b.ReportMetric(f.endpoints, "endpoints/s")
				b.ReportMetric(f.load, "load-s")
				got[m.name+"/"+pop] = figures(f)
			})
		}
	}
	var t strings.Builder
	fmt.Fprintf(&t, "\n%d domains          domains/s (realistic / stress = ratio)   DNS queries/s              endpoints/s            lab load s (generate+sign)\n", n)
	for _, m := range modes {
		r, s := got[m.name+"/realistic"], got[m.name+"/stress"]
		ratio := func(a, b float64) string {
			if b == 0 {
				return "-"
			}
			return fmt.Sprintf("%.2f", a/b)
		}
		fmt.Fprintf(&t, "%-18s %7.0f / %7.0f = %-5s            %7.0f / %7.0f = %-5s   %5.0f / %5.0f = %-5s   %5.1f / %5.1f\n", m.name,
			r.domains, s.domains, ratio(r.domains, s.domains), r.queries, s.queries, ratio(r.queries, s.queries),
			r.endpoints, s.endpoints, ratio(r.endpoints, s.endpoints), r.load, s.load)
	}
	// Printed, not logged: benchmarks show their logs only with -v.
	fmt.Print(t.String())
}

// labFigures reads the rates from a lab run's summary (stdout) and the
// time the lab took to generate and load its world (the "lab ready" log
// line on stderr).
func labFigures(b *testing.B, stdout, stderr string) (f struct{ domains, queries, endpoints, load float64 }) {
	b.Helper()
	num := func(re, text string) float64 {
		m := regexp.MustCompile(re).FindStringSubmatch(text)
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	f.domains = num(`(?m)^\s*time\s+.*?, (\d+) domains/s`, stdout)
	f.queries = num(`(?m)^\s*DNS queries\s+\d+ \((\d+)/s\)`, stdout)
	if f.domains == 0 {
		b.Fatalf("no domains/s in the summary:\n%s", stdout)
	}
	if m := regexp.MustCompile(`(?m)^\s*time\s+(\S+), `).FindStringSubmatch(stdout); m != nil {
		if d, err := time.ParseDuration(m[1]); err == nil && d > 0 {
			f.endpoints = num(`(?m)^\s*endpoints probed\s+(\d+) `, stdout) / d.Seconds()
		}
	}
	for _, k := range []string{"generate", "load"} {
		if m := regexp.MustCompile(k + `=(\S+)`).FindStringSubmatch(stderr); m != nil {
			if d, err := time.ParseDuration(m[1]); err == nil {
				f.load += d.Seconds()
			}
		}
	}
	return f
}
