package lab

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// generate returns the world of cfg or stops the test.
func generate(t testing.TB, cfg Config) *World {
	t.Helper()
	w, err := Generate(cfg)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", cfg, err)
	}
	return w
}

func TestGenerateRejectsEmpty(t *testing.T) {
	if _, err := Generate(Config{Domains: 0}); err == nil {
		t.Fatal("Generate(Domains: 0): want an error")
	}
}

func TestGenerateDeterministic(t *testing.T) {
	cfg := Config{Domains: 3000, Seed: 42}
	a, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.InputLines(), b.InputLines()) {
		t.Error("same seed: InputLines differ")
	}
	if !reflect.DeepEqual(a.Domains(), b.Domains()) {
		t.Error("same seed: Domains differ")
	}
	if !slices.Equal(a.Origins(), b.Origins()) {
		t.Fatal("same seed: Origins differ")
	}
	for _, o := range a.Origins() {
		ta, _ := a.ZoneText(o)
		tb, _ := b.ZoneText(o)
		if ta != tb {
			t.Fatalf("same seed: zone %s differs", o)
		}
		// ZoneText regenerates: twice from the same world is the same text.
		if again, _ := a.ZoneText(o); again != ta {
			t.Fatalf("zone %s differs between two ZoneText calls", o)
		}
	}

	c, err := Generate(Config{Domains: 3000, Seed: 43})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a.InputLines(), c.InputLines()) {
		t.Error("different seeds: same InputLines")
	}
}

func TestGenerateSmall(t *testing.T) {
	for _, n := range []int{1, 2, 10, 199, 200} {
		w, err := Generate(Config{Domains: n, Seed: 1})
		if err != nil {
			t.Fatalf("Generate(%d): %v", n, err)
		}
		if got := len(w.InputLines()); got != n {
			t.Errorf("Generate(%d): %d lines", n, got)
		}
		if got := len(w.Domains()); got != n {
			t.Errorf("Generate(%d): %d domains", n, got)
		}
		for i, d := range w.Domains() {
			if d.Name != w.InputLines()[i] {
				t.Errorf("Generate(%d): line %d is %q, truth names %q", n, i, w.InputLines()[i], d.Name)
			}
		}
	}
}

func TestGenerateMix(t *testing.T) {
	const n = 20000
	w := generate(t, Config{Domains: n, Seed: 1})
	kinds := map[string]int{}
	providers := map[string]int{}
	var sts, rpt, cname, tlsaAll, idn, upper, dot int
	lines := map[string]int{}
	for i, d := range w.Domains() {
		kinds[d.Kind]++
		if d.Provider != "" {
			providers[d.Provider]++
		}
		if d.MTASTS {
			sts++
		}
		if d.TLSRPT {
			rpt++
		}
		if d.CNAME != "" {
			cname++
		}
		if d.TLSAAll {
			tlsaAll++
		}
		l := w.InputLines()[i]
		lines[l]++
		switch {
		case d.Kind == KindInvalid:
		case !isASCII(l):
			idn++
		case strings.ToLower(l) != l:
			upper++
		case strings.HasSuffix(l, "."):
			dot++
		}
	}
	frac := func(c int) float64 { return float64(c) / n }
	tests := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"mx", frac(kinds[KindMX]), 0.85, 0.93},
		{"null_mx", frac(kinds[KindNullMX]), 0.015, 0.025},
		{"mixed_null_mx", frac(kinds[KindMixedNullMX]), 0.001, 0.004},
		{"implicit", frac(kinds[KindImplicit]), 0.015, 0.025},
		{"none", frac(kinds[KindNone]), 0.007, 0.013},
		{"nxdomain", frac(kinds[KindNXDomain]), 0.015, 0.025},
		{"servfail", frac(kinds[KindServfail]), 0.003, 0.008},
		{"timeout", frac(kinds[KindTimeout]), 0.0005, 0.002},
		{"refused", frac(kinds[KindRefused]), 0.0005, 0.002},
		{"mismatch", frac(kinds[KindMismatch]), 0.0002, 0.001},
		{"invalid", frac(kinds[KindInvalid]), 0.0005, 0.002},
		{"biggest provider", frac(slices.Max(slices.Collect(mapValues(providers)))), 0.25, 0.36},
		{"providers", float64(len(providers)), 12, 15},
		{"MTA-STS", frac(sts), 0.04, 0.06},
		{"TLS-RPT", frac(rpt), 0.03, 0.05},
		{"CNAME at the domain", frac(cname), 0.007, 0.013},
		{"TLSA at every MX host", frac(tlsaAll), 0.05, 0.5},
		{"IDN lines", float64(idn), 3, 20},
		{"mixed-case lines", float64(upper), 2, 40},
		{"trailing-dot lines", float64(dot), 2, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got < tt.min || tt.got > tt.max {
				t.Errorf("%s = %.4f, want in [%g, %g]", tt.name, tt.got, tt.min, tt.max)
			}
		})
	}
	dups := 0
	for _, c := range lines {
		if c > 1 {
			dups++
		}
	}
	if dups < 1 {
		t.Error("no duplicated line")
	}
	for _, k := range []string{KindMX, KindNullMX, KindMixedNullMX, KindImplicit, KindNone, KindNXDomain,
		KindServfail, KindTimeout, KindRefused, KindMismatch, KindInvalid} {
		if kinds[k] == 0 {
			t.Errorf("kind %q missing", k)
		}
	}
}

func mapValues(m map[string]int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// TestZonesParse parses every zone of a 20000-domain world with
// dns.ZoneParser and checks the TLSA variety of the self-hosted domains.
func TestZonesParse(t *testing.T) {
	w := generate(t, Config{Domains: 20000, Seed: 1})
	type tlsaKey struct{ u, s, m uint8 }
	seen := map[tlsaKey]bool{}
	badLen := map[string]bool{}
	var big, manyMX int
	for _, o := range w.Origins() {
		text, ok := w.ZoneText(o)
		if !ok {
			t.Fatalf("ZoneText(%q): not found", o)
		}
		zp := dns.NewZoneParser(strings.NewReader(text), o, ZoneFileName(o))
		var soa int
		tlsaBytes := map[string]int{}
		mx := map[string]int{}
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			switch rr := rr.(type) {
			case *dns.SOA:
				soa++
			case *dns.MX:
				mx[rr.Hdr.Name]++
			case *dns.TLSA:
				seen[tlsaKey{rr.Usage, rr.Selector, rr.MatchingType}] = true
				tlsaBytes[rr.Hdr.Name] += len(rr.Certificate) / 2
				switch l := len(rr.Certificate) / 2; {
				case rr.MatchingType == 1 && l != 32:
					badLen["sha256-"+string(rune('0'+l-30))] = true
				case rr.MatchingType == 2 && l != 64:
					badLen["sha512"] = true
				}
			}
		}
		if err := zp.Err(); err != nil {
			t.Fatalf("zone %s: %v", o, err)
		}
		if soa != 1 {
			t.Errorf("zone %s: %d SOA records", o, soa)
		}
		for _, b := range tlsaBytes {
			if b > 1232 {
				big++
			}
		}
		for _, c := range mx {
			if c >= 60 {
				manyMX++
			}
		}
	}
	for u := range uint8(4) {
		for s := range uint8(2) {
			for m := range uint8(3) {
				if !seen[tlsaKey{u, s, m}] {
					t.Errorf("no TLSA %d %d %d", u, s, m)
				}
			}
		}
	}
	for _, k := range []tlsaKey{{4, 1, 1}, {255, 1, 1}, {3, 2, 1}, {3, 1, 3}} {
		if !seen[k] {
			t.Errorf("no malformed TLSA %d %d %d", k.u, k.s, k.m)
		}
	}
	for _, k := range []string{"sha256-1", "sha256-3", "sha512"} {
		if !badLen[k] {
			t.Errorf("no TLSA with a wrong data length %s", k)
		}
	}
	if big == 0 {
		t.Error("no TLSA RRset beyond 1232 bytes")
	}
	if manyMX == 0 {
		t.Error("no domain with 60 MX records")
	}
}

// TestWriteFiles checks that the files are the zone texts and the list.
func TestWriteFiles(t *testing.T) {
	w := generate(t, Config{Domains: 300, Seed: 5})
	dir := t.TempDir()
	f, err := w.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	list, err := os.ReadFile(f.DomainList)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(w.InputLines(), "\n") + "\n"; string(list) != want {
		t.Error("domains.txt differs from InputLines")
	}
	files, err := os.ReadDir(f.ZoneDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(w.Origins()) {
		t.Errorf("%d zone files, want %d", len(files), len(w.Origins()))
	}
	for _, o := range w.Origins() {
		got, err := os.ReadFile(filepath.Join(f.ZoneDir, ZoneFileName(o)))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := w.ZoneText(o)
		if !bytes.Equal(got, []byte(want)) {
			t.Errorf("zone file of %s differs from ZoneText", o)
		}
	}
}

func TestZoneTextLookup(t *testing.T) {
	w := generate(t, Config{Domains: 300, Seed: 5})
	tests := []struct {
		origin string
		ok     bool
	}{
		{".", true},
		{"com", true},
		{"COM.", true},
		{"lab-dns.net", true},
		{"no-such-zone.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			text, ok := w.ZoneText(tt.origin)
			if ok != tt.ok {
				t.Fatalf("ZoneText(%q) ok = %v, want %v", tt.origin, ok, tt.ok)
			}
			if ok && !strings.Contains(text, "SOA") {
				t.Errorf("ZoneText(%q) has no SOA", tt.origin)
			}
		})
	}
}

func TestInputLinesInvalid(t *testing.T) {
	w := generate(t, Config{Domains: 20000, Seed: 1})
	for _, d := range w.Domains() {
		if d.Kind != KindInvalid {
			continue
		}
		if _, ok := dns.IsDomainName(d.Name); ok && validHostname(d.Name) {
			t.Errorf("invalid line %q is a valid host name", d.Name)
		}
	}
}

// validHostname reports whether s is a letter-digit-hyphen host name with
// labels of 1-63 octets that do not start or end with a hyphen.
func validHostname(s string) bool {
	for _, l := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func TestToALabel(t *testing.T) {
	for in, want := range map[string]string{"bücher.de": "xn--bcher-kva.de", "münchen.de": "xn--mnchen-3ya.de", "plain.com": "plain.com"} {
		if got, err := toALabel(in); err != nil || got != want {
			t.Errorf("toALabel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// queryName turns an input line into the name the scanner queries.
func queryName(t *testing.T, line string) string {
	t.Helper()
	name := strings.ToLower(strings.TrimSuffix(line, "."))
	if !utf8.ValidString(name) {
		t.Fatalf("line %q is not UTF-8", line)
	}
	a, err := toALabel(name)
	if err != nil {
		t.Fatalf("toALabel(%q): %v", name, err)
	}
	return dns.Fqdn(a)
}
