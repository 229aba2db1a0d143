package lab

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/scanner/dnssec"
)

// TestDNSSECOffUnchanged pins the zone texts and input lines of unsigned
// worlds: switching DNSSEC on must not change them. The hashes changed
// twice since DNSSEC came: when the TLSA records were tied to the lab's
// certificates and the special DANE cases were placed (cases.go), and
// when the cases tlsa-300-large to tlsa-rolled-over joined them (worlds
// of 200 domains have too few self-hosted domains to get them).
func TestDNSSECOffUnchanged(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Domains: 3000, Seed: 7}, "a3e7043873ad1765d136f4fe8dbcf9534f6e667a32826b31e221cbaa52c2e21e"},
		{Config{Domains: 500, Seed: 1}, "52b0b5c848acc386ef119ffd9b330d4ad33e72b80a7d1e4ea782ee5aebfcb649"},
		{Config{Domains: 200, Seed: 0}, "f2c55f391ef96ebd492dcf9b35d322a0eec99c2e87f985557d7f7664c2ef1207"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.cfg.Domains, tt.cfg.Seed), func(t *testing.T) {
			w := generate(t, tt.cfg)
			if got := worldHash(w); got != tt.want {
				t.Errorf("hash %s, want %s", got, tt.want)
			}
			for _, d := range w.Domains() {
				if d.DNSSEC != "" || d.DNSSECReason != "" {
					t.Fatalf("%s: DNSSEC truth %q/%q in an unsigned world", d.Name, d.DNSSEC, d.DNSSECReason)
				}
			}
			if a := w.TrustAnchor(); a != "" {
				t.Errorf("TrustAnchor() = %q in an unsigned world", a)
			}
		})
	}
}

// worldHash hashes every zone text and the input lines.
func worldHash(w *World) string {
	h := sha256.New()
	for _, o := range w.Origins() {
		s, _ := w.ZoneText(o)
		fmt.Fprintf(h, "%s\x00%s\x00", o, s)
	}
	for _, l := range w.InputLines() {
		fmt.Fprintf(h, "%s\n", l)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestDNSSECSamePopulation checks that switching DNSSEC on keeps the
// domains and input lines.
func TestDNSSECSamePopulation(t *testing.T) {
	off := generate(t, Config{Domains: 2000, Seed: 3})
	on := generate(t, Config{Domains: 2000, Seed: 3, DNSSEC: true})
	if strings.Join(off.InputLines(), "\n") != strings.Join(on.InputLines(), "\n") {
		t.Fatal("input lines differ")
	}
	for i, d := range on.Domains() {
		o := off.Domains()[i]
		if !equalDomain(o, d) || d.Provider != o.Provider || d.MTASTS != o.MTASTS || d.TLSRPT != o.TLSRPT {
			t.Fatalf("line %d: %+v, want %+v", i, d, o)
		}
		if d.Kind != KindInvalid && d.DNSSEC == "" {
			t.Errorf("line %d %s: no DNSSEC truth", i, d.Name)
		}
	}
	again := generate(t, Config{Domains: 2000, Seed: 3, DNSSEC: true})
	if worldHash(on) != worldHash(again) {
		t.Error("same Config: signed zone texts differ")
	}
	if worldHash(on) == worldHash(off) {
		t.Error("signed and unsigned zone texts are the same")
	}
	if on.TrustAnchor() != again.TrustAnchor() {
		t.Error("same Config: trust anchors differ")
	}
}

// labFetch returns a dnssec.Validator Fetch function that asks the lab
// server with DO and CD set, over UDP and again over TCP when truncated.
func labFetch(s *Server) func(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	return func(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qtype)
		m.SetEdns0(1232, true)
		m.CheckingDisabled = true
		c := &dns.Client{Timeout: 2 * time.Second}
		r, _, err := c.ExchangeContext(ctx, m, s.Addr())
		if err == nil && r.Truncated {
			c.Net = "tcp"
			r, _, err = c.ExchangeContext(ctx, m, s.Addr())
		}
		// As a careful client does, take no answer to another question
		// (the lab's mismatch domains).
		if err == nil && (len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, m.Question[0].Name) || r.Question[0].Qtype != qtype) {
			return nil, fmt.Errorf("answer for another question: %v", r.Question)
		}
		return r, err
	}
}

// newLabValidator returns a validator that trusts the world's anchor and
// asks s.
func newLabValidator(t testing.TB, w *World, s *Server) *dnssec.Validator {
	t.Helper()
	anchors, err := dnssec.ParseAnchors(strings.NewReader(w.TrustAnchor()))
	if err != nil {
		t.Fatalf("ParseAnchors(%q): %v", w.TrustAnchor(), err)
	}
	return &dnssec.Validator{Anchors: anchors, Fetch: labFetch(s)}
}

// TestDNSSECTruth validates the MX answer of every domain of a signed
// world with scanner/dnssec and compares the status and reason with the
// truth.
func TestDNSSECTruth(t *testing.T) {
	seen := checkDNSSECTruth(t, Config{Domains: 3000, Seed: 11, DNSSEC: true})
	for _, b := range brokenModes {
		if seen[b.status+"/"+b.reason] == 0 {
			t.Errorf("no domain with %s/%s", b.status, b.reason)
		}
	}
	for _, k := range []string{"secure/", "secure/nsec_denial", "secure/nsec3_denial", "insecure/no_ds", "insecure/nsec3_opt_out", "indeterminate/lookup_failed"} {
		if seen[k] == 0 {
			t.Errorf("no domain with %s", k)
		}
	}
}

// TestDNSSECTruthSmall checks worlds too small for every case.
func TestDNSSECTruthSmall(t *testing.T) {
	for _, n := range []int{1, 2, 10, 199} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			checkDNSSECTruth(t, Config{Domains: n, Seed: 4, DNSSEC: true})
		})
	}
}

// checkDNSSECTruth serves the world of cfg, validates the MX answer of
// every domain and returns how many domains had each status/reason.
func checkDNSSECTruth(t *testing.T, cfg Config) map[string]int {
	t.Helper()
	w, s := startLabConfig(t, cfg)
	v := newLabValidator(t, w, s)
	fetch := labFetch(s)
	ctx := context.Background()
	seen := map[string]int{}
	bad := map[string]int{}
	for i, d := range w.Domains() {
		if d.Kind == KindInvalid || d.Kind == KindTimeout {
			continue
		}
		name := queryName(t, w.InputLines()[i])
		r, err := fetch(ctx, name, dns.TypeMX)
		if err != nil && d.Kind != KindMismatch {
			t.Fatalf("%s MX: %v", name, err)
		}
		if r != nil && !hasOPTDo(r) && r.Rcode == dns.RcodeSuccess {
			t.Errorf("%s: no DO bit in the reply", name)
		}
		got := v.Validate(ctx, name, dns.TypeMX, r)
		key := d.DNSSEC + "/" + d.DNSSECReason
		seen[key]++
		if string(got.Status) != d.DNSSEC || string(got.Reason) != d.DNSSECReason {
			bad[key+" -> "+string(got.Status)+"/"+string(got.Reason)]++
			if bad[key+" -> "+string(got.Status)+"/"+string(got.Reason)] <= 2 {
				t.Errorf("line %d %s (%s): got %s/%s (%s), want %s", i, name, d.Kind, got.Status, got.Reason, got.Detail, key)
			}
		}
	}
	t.Logf("checked: %v", seen)
	return seen
}

func hasOPTDo(r *dns.Msg) bool {
	o := r.IsEdns0()
	return o != nil && o.Do()
}

// TestDNSSECNoDO checks that a query without DO gets no DNSSEC records
// and one with DO gets the RRSIG of the answer.
func TestDNSSECNoDO(t *testing.T) {
	w := generate(t, Config{Domains: 500, Seed: 2, DNSSEC: true})
	s, err := Start(w, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	name, _ := firstKind(t, w, func(d Domain) bool { return d.DNSSEC == "secure" && d.DNSSECReason == "" && d.CNAME == "" })
	nx, _ := firstKind(t, w, func(d Domain) bool { return d.Kind == KindNXDomain })
	for _, q := range []string{name, nx} {
		for _, do := range []bool{false, true} {
			m := new(dns.Msg)
			m.SetQuestion(q, dns.TypeMX)
			m.SetEdns0(4096, do)
			r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			var sec int
			for _, rr := range append(append([]dns.RR{}, r.Answer...), r.Ns...) {
				switch rr.Header().Rrtype {
				case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
					sec++
				}
			}
			if do != (sec > 0) {
				t.Errorf("%s DO=%v: %d DNSSEC records", q, do, sec)
			}
		}
	}
}

// TestDNSSECWriteFiles checks the trust anchor file.
func TestDNSSECWriteFiles(t *testing.T) {
	w := generate(t, Config{Domains: 300, Seed: 5, DNSSEC: true})
	f, err := w.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f.TrustAnchor)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != w.TrustAnchor() {
		t.Errorf("trust-anchor.txt %q, want %q", b, w.TrustAnchor())
	}
	if _, err := dnssec.ParseAnchors(strings.NewReader(string(b))); err != nil {
		t.Error(err)
	}
	unsigned := generate(t, Config{Domains: 300, Seed: 5})
	if f, err := unsigned.WriteFiles(t.TempDir()); err != nil || f.TrustAnchor != "" {
		t.Errorf("unsigned world: TrustAnchor %q, error %v", f.TrustAnchor, err)
	}
}

// BenchmarkServeMXDO is BenchmarkServeMX with DO set in a signed world
// (signatures are made on first use, so the first pass signs).
func BenchmarkServeMXDO(b *testing.B) {
	benchServeMX(b, true)
}

// BenchmarkStart200kDNSSEC measures generating and loading a signed
// 200,000-domain world (keys derived, chains built; RRSIGs are made when
// first served).
func BenchmarkStart200kDNSSEC(b *testing.B) {
	const n = 200000
	for b.Loop() {
		w, err := Generate(Config{Domains: n, Seed: 1, DNSSEC: true})
		if err != nil {
			b.Fatal(err)
		}
		s, err := Start(w, ServerOptions{})
		if err != nil {
			b.Fatal(err)
		}
		reportHeap(b)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "domains/s")
}

// TestDNSSECPaths validates answers other than the domains' MX: TLSA
// records, empty non-terminals, names below a domain, DS queries off a
// zone cut, the providers' ECDSA P-256 zones and the infra zone's P-384.
func TestDNSSECPaths(t *testing.T) {
	w, s := startLabConfig(t, Config{Domains: 3000, Seed: 11, DNSSEC: true})
	v := newLabValidator(t, w, s)
	fetch := labFetch(s)
	type check struct {
		name   string
		qtype  uint16
		status dnssec.Status
		reason dnssec.Reason
	}
	var checks []check
	for _, mode := range []secMode{secNSEC, secNSEC3, secUnsigned} {
		e := firstWhere(t, w, func(e *entry) bool { return e.cat == catSelf && e.tlsa >= 0 && !e.partial && e.sec == mode })
		host := selfHosts(e)[0] + "."
		st, denial := dnssec.Secure, dnssec.ReasonNSECDenial
		if mode == secNSEC3 {
			denial = dnssec.ReasonNSEC3Denial
		}
		positive := dnssec.ReasonNone
		if mode == secUnsigned {
			st, denial = dnssec.Insecure, dnssec.ReasonNoDS
			if nsec3, optOut := tldSec(w.tlds[e.tld].name); optOut && nsec3 {
				denial = dnssec.ReasonNSEC3OptOut
			}
			positive = denial
		}
		checks = append(checks,
			check{"_25._tcp." + host, dns.TypeTLSA, st, positive},
			check{host, dns.TypeA, st, positive},
			check{"_tcp." + host, dns.TypeTLSA, st, denial},
			check{"_25._tcp.nothing." + e.name + ".", dns.TypeTLSA, st, denial},
			check{host, dns.TypeDS, st, denial},
		)
	}
	for _, p := range w.providers {
		checks = append(checks,
			check{p.domain + ".", dns.TypeMX, dnssec.Secure, dnssec.ReasonNone},
			check{p.hosts[0].name + ".", dns.TypeA, dnssec.Secure, dnssec.ReasonNone},
		)
	}
	checks = append(checks,
		check{"ns1." + infraZone, dns.TypeA, dnssec.Secure, dnssec.ReasonNone},
		check{"nothing." + infraZone, dns.TypeA, dnssec.Secure, dnssec.ReasonNSECDenial},
		check{"com.", dns.TypeDS, dnssec.Secure, dnssec.ReasonNone},
		check{".", dns.TypeDNSKEY, dnssec.Secure, dnssec.ReasonNone},
		check{"nothing.", dns.TypeA, dnssec.Secure, dnssec.ReasonNSECDenial},
	)
	ctx := context.Background()
	for _, c := range checks {
		t.Run(c.name+"/"+dns.TypeToString[c.qtype], func(t *testing.T) {
			r, err := fetch(ctx, c.name, c.qtype)
			if err != nil {
				t.Fatal(err)
			}
			got := v.Validate(ctx, c.name, c.qtype, r)
			if got.Status != c.status || got.Reason != c.reason {
				t.Errorf("got %s/%s (%s), want %s/%s", got.Status, got.Reason, got.Detail, c.status, c.reason)
			}
		})
	}
}

// TestDSOf compares dsOf with miekg's DNSKEY.ToDS.
func TestDSOf(t *testing.T) {
	for _, k := range []signKey{
		deriveKey(1, ".", 0, dns.ED25519, 257),
		deriveKey(2, "example.com.", 0, dns.ECDSAP256SHA256, 257),
		deriveKey(3, "xn--bcher-kva12.de.", 1, dns.ECDSAP384SHA384, 256),
	} {
		want := k.rr.ToDS(dns.SHA256)
		want.Hdr.Ttl = ttlDefault
		if got := dsOf(k.rr); got.String() != want.String() {
			t.Errorf("dsOf:\n%s\nwant\n%s", got, want)
		}
	}
}
