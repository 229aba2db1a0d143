package lab

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/scanner/dnssec"
	"github.com/danescan/danescan/scanner/starttls"
)

// caseHostOf returns the MX host of the named DANE case of w.
func caseHostOf(t testing.TB, w *World, name string) string {
	t.Helper()
	for _, c := range w.DANECases() {
		if c.Name == name {
			return c.Host
		}
	}
	t.Fatalf("no case %s in the world", name)
	return ""
}

// presented returns the chain the server of host at addr presents to an
// ordinary handshake with host as SNI.
func presented(t testing.TB, s *SMTP, host, addr string) [][]byte {
	t.Helper()
	cfg := starttls.Config{Dial: s.Dial, EHLO: "scanner.lab.test", SigAlgs: "any"}
	res, err := starttls.Probe(context.Background(), cfg, netip.AddrPortFrom(netip.MustParseAddr(addr), 25), host)
	if err != nil || res.Failure != "" || len(res.Chain) == 0 {
		t.Fatalf("%s %s: probe failure %q: %v", host, addr, res.Failure, err)
	}
	return res.Chain
}

// tlsaOf returns the TLSA records of the answer section of r.
func tlsaOf(r *dns.Msg) []*dns.TLSA {
	var out []*dns.TLSA
	for _, rr := range r.Answer {
		if tl, ok := rr.(*dns.TLSA); ok {
			out = append(out, tl)
		}
	}
	return out
}

// TestLargeLeafTLSA checks the tlsa-300-large case on the wire: the
// leaf is largeLeafSize bytes of DER, its "3 0 0" record does not fit a
// 1232-byte UDP answer (TC set) and arrives whole over TCP, validates as
// secure, and is byte for byte the leaf the server presents.
func TestLargeLeafTLSA(t *testing.T) {
	w, srv := startLabConfig(t, Config{Domains: 1000, Seed: 7, DNSSEC: true})
	host := caseHostOf(t, w, "tlsa-300-large")
	owner := tlsaOwner(host)

	udp := mustQuery(t, srv, "udp", owner, dns.TypeTLSA, 1232)
	if !udp.Truncated || len(tlsaOf(udp)) != 0 {
		t.Errorf("UDP with 1232 bytes: TC %v and %d TLSA records, want TC and none", udp.Truncated, len(tlsaOf(udp)))
	}
	tcp := mustQuery(t, srv, "tcp", owner, dns.TypeTLSA, 1232)
	recs := tlsaOf(tcp)
	if tcp.Truncated || len(recs) != 1 {
		t.Fatalf("TCP: TC %v, %d TLSA records, want 1: %v", tcp.Truncated, len(recs), tcp)
	}
	if n := tcp.Len(); n <= 4096 {
		t.Errorf("TCP answer of %d bytes, want more than 4096", n)
	}
	tl := recs[0]
	if tl.Usage != 3 || tl.Selector != 0 || tl.MatchingType != 0 {
		t.Errorf("record %d %d %d, want 3 0 0", tl.Usage, tl.Selector, tl.MatchingType)
	}
	data, err := hex.DecodeString(tl.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != largeLeafSize {
		t.Errorf("certificate association data of %d bytes, want %d", len(data), largeLeafSize)
	}
	v := newLabValidator(t, w, srv)
	if got := v.Validate(context.Background(), owner, dns.TypeTLSA, tcp); got.Status != dnssec.Secure {
		t.Errorf("TLSA: %s/%s (%s), want secure", got.Status, got.Reason, got.Detail)
	}

	s, err := StartSMTP(w, SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, ep := range w.Endpoints(host, true) {
		chain := presented(t, s, host, ep.Address)
		if !bytes.Equal(chain[0], data) {
			t.Errorf("%s: the leaf presented (%d bytes) is not the TLSA data (%d bytes)", ep.Address, len(chain[0]), len(data))
		}
		leaf, err := x509.ParseCertificate(chain[0])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(leaf.DNSNames, host) || len(leaf.DNSNames) < 20 {
			t.Errorf("%s: %d SAN names %q, want the host and many more", ep.Address, len(leaf.DNSNames), leaf.DNSNames[:min(3, len(leaf.DNSNames))])
		}
		if ep.DANEStatus != "pass" {
			t.Errorf("%s: truth %+v, want pass", ep.Address, ep.Verdict)
		}
	}
	checkHost(t, w, s, host)
}

// TestPadNames checks that the padding names cost what they should and
// are valid host names.
func TestPadNames(t *testing.T) {
	for _, n := range []int{0, 10, 40, 100, 1000, 3700} {
		names := padNames("mx.example12345.com", n, 'x')
		cost := 0
		for _, name := range names {
			cost += 2 + len(name)
			if _, ok := dns.IsDomainName(name); !ok || len(name) >= 128 {
				t.Errorf("%d: bad name %q", n, name)
			}
		}
		if len(names) > 0 && cost != n {
			t.Errorf("%d: names cost %d bytes", n, cost)
		}
	}
}

// TestTLSALookupCases validates, with scanner/dnssec, what the server
// answers at the hosts of the cases whose TLSA lookup differs from their
// address lookups: in a signed world the TLSA RRset alone is bogus
// (tlsa-bogus) or answered with SERVFAIL (tlsa-indeterminate), while MX,
// A and AAAA are secure; the unsigned zone (tlsa-unsigned-zone) answers
// everything insecure, TLSA records included. In an unsigned world the
// SERVFAIL stays and the others answer plainly.
func TestTLSALookupCases(t *testing.T) {
	type want struct {
		status dnssec.Status
		reason dnssec.Reason
		rcode  int
		n      int // TLSA records in the answer
	}
	secure := want{status: dnssec.Secure}
	tests := []struct {
		cse              string
		mx, addr, tlsa   want
		unsignedTLSA     want // rcode and records in an unsigned world
		validated, plain string
	}{
		{"tlsa-bogus", secure, secure, want{dnssec.Bogus, dnssec.ReasonSignatureExpired, dns.RcodeSuccess, 1},
			want{n: 1}, "tlsa_lookup_failed", "pass"},
		{"tlsa-indeterminate", secure, secure, want{dnssec.Indeterminate, dnssec.ReasonLookupFailed, dns.RcodeServerFailure, 0},
			want{rcode: dns.RcodeServerFailure}, "tlsa_lookup_failed", "not_applicable"},
		{"tlsa-unsigned-zone", want{status: dnssec.Insecure}, want{status: dnssec.Insecure}, want{dnssec.Insecure, "", dns.RcodeSuccess, 1},
			want{n: 1}, "not_applicable", "pass"},
	}
	w, srv := startLabConfig(t, Config{Domains: 1000, Seed: 7, DNSSEC: true})
	u, usrv := startLabConfig(t, Config{Domains: 1000, Seed: 7})
	v := newLabValidator(t, w, srv)
	fetch := labFetch(srv)
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.cse, func(t *testing.T) {
			host := caseHostOf(t, w, tt.cse)
			domain := strings.TrimPrefix(host, "mx.")
			checks := []struct {
				name  string
				qtype uint16
				want  want
			}{
				{domain + ".", dns.TypeMX, tt.mx},
				{host + ".", dns.TypeA, tt.addr},
				{host + ".", dns.TypeAAAA, tt.addr},
				{tlsaOwner(host), dns.TypeTLSA, tt.tlsa},
			}
			for _, c := range checks {
				r, err := fetch(ctx, c.name, c.qtype)
				if err != nil {
					t.Fatalf("%s %s: %v", c.name, dns.TypeToString[c.qtype], err)
				}
				got := v.Validate(ctx, c.name, c.qtype, r)
				if got.Status != c.want.status || c.want.reason != "" && got.Reason != c.want.reason {
					t.Errorf("%s %s: %s/%s (%s), want %s/%s", c.name, dns.TypeToString[c.qtype], got.Status, got.Reason, got.Detail, c.want.status, c.want.reason)
				}
				if c.qtype == dns.TypeTLSA && (r.Rcode != c.want.rcode || len(tlsaOf(r)) != c.want.n) {
					t.Errorf("TLSA: rcode %s, %d records, want %s, %d", dns.RcodeToString[r.Rcode], len(tlsaOf(r)), dns.RcodeToString[c.want.rcode], c.want.n)
				}
			}
			r := mustQuery(t, usrv, "tcp", tlsaOwner(host), dns.TypeTLSA, 1232)
			if r.Rcode != tt.unsignedTLSA.rcode || len(tlsaOf(r)) != tt.unsignedTLSA.n {
				t.Errorf("unsigned world TLSA: rcode %s, %d records, want %s, %d", dns.RcodeToString[r.Rcode], len(tlsaOf(r)), dns.RcodeToString[tt.unsignedTLSA.rcode], tt.unsignedTLSA.n)
			}
			for _, ep := range w.Endpoints(host, true) {
				if ep.DANEStatus != tt.validated {
					t.Errorf("validated truth %+v, want %s", ep.Verdict, tt.validated)
				}
			}
			for _, ep := range u.Endpoints(host, false) {
				if ep.DANEStatus != tt.plain {
					t.Errorf("unsigned world truth %+v, want %s", ep.Verdict, tt.plain)
				}
			}
		})
	}
}

// TestHostTruth validates the address and TLSA answers of every MX host
// of a signed world for which World.Host has the truth, and counts the
// TLSA records of the answers of an unsigned one: the status, the reason
// of bogus and indeterminate lookups, the records and the tlsa_state a
// DANE sender derives (RFC 7672 section 2.2: skipped unless the address
// records are secure, which no longer stops the lookup).
func TestHostTruth(t *testing.T) {
	for _, signed := range []bool{true, false} {
		t.Run(map[bool]string{true: "signed", false: "unsigned"}[signed], func(t *testing.T) {
			w, srv := startLabConfig(t, Config{Domains: 1000, Seed: 7, DNSSEC: signed})
			fetch := labFetch(srv)
			var v *dnssec.Validator
			if signed {
				v = newLabValidator(t, w, srv)
			}
			ctx := context.Background()
			states := map[string]int{}
			for _, host := range slices.Sorted(maps.Keys(w.hostIndex())) {
				truth, ok := w.Host(host, signed)
				if !ok {
					continue
				}
				r, err := fetch(ctx, tlsaOwner(host), dns.TypeTLSA)
				if err != nil {
					t.Fatalf("%s TLSA: %v", host, err)
				}
				got := HostTruth{Host: host, TLSARecords: len(tlsaOf(r))}
				if signed {
					res := v.Validate(ctx, tlsaOwner(host), dns.TypeTLSA, r)
					got.TLSADNSSEC = string(res.Status)
					if res.Status == dnssec.Bogus || res.Status == dnssec.Indeterminate {
						got.TLSAReason = string(res.Reason)
					}
					addrSecure := true
					for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
						ar, err := fetch(ctx, host+".", qt)
						if err != nil {
							t.Fatalf("%s %s: %v", host, dns.TypeToString[qt], err)
						}
						addrSecure = addrSecure && v.Validate(ctx, host+".", qt, ar).Status == dnssec.Secure
					}
					switch {
					case !addrSecure:
						got.TLSAState = "skipped"
					case res.Status == dnssec.Secure && got.TLSARecords > 0:
						got.TLSAState = "dane"
					case res.Status == dnssec.Secure || res.Status == dnssec.Insecure:
						got.TLSAState = "no_tlsa"
					default:
						got.TLSAState = "unusable"
					}
				}
				if truth != got {
					t.Errorf("%s (-want +got):\n-%+v\n+%+v", host, truth, got)
				}
				states[got.TLSADNSSEC+"/"+got.TLSAState+"/"+map[bool]string{true: "records", false: "none"}[got.TLSARecords > 0]]++
			}
			t.Logf("hosts: %v", states)
			want := []string{"/" + "/records", "/" + "/none"}
			if signed {
				want = []string{"secure/dane/records", "secure/no_tlsa/none", "insecure/skipped/records", "insecure/skipped/none",
					"bogus/unusable/records", "indeterminate/unusable/none"}
			}
			for _, k := range want {
				if states[k] == 0 {
					t.Errorf("no host with %s", k)
				}
			}
		})
	}
}

// TestRolledEpochs builds one world in both epochs: DNS serves the same
// bytes, the tlsa-rolled-over host presents a new key in the rolled
// epoch (so its unchanged "3 1 1" fails with no_match), and every other
// truth stays.
func TestRolledEpochs(t *testing.T) {
	for _, signed := range []bool{true, false} {
		t.Run(map[bool]string{true: "signed", false: "unsigned"}[signed], func(t *testing.T) {
			cfg := Config{Domains: 1000, Seed: 7, DNSSEC: signed}
			w0, s0 := startSMTP(t, cfg)
			cfg.Rolled = true
			w1, s1 := startSMTP(t, cfg)
			if worldHash(w0) != worldHash(w1) || w0.TrustAnchor() != w1.TrustAnchor() {
				t.Fatal("the rolled epoch serves other zones or another trust anchor")
			}
			host := caseHostOf(t, w0, CaseRolledOver)
			if h1 := caseHostOf(t, w1, CaseRolledOver); h1 != host {
				t.Fatalf("case host %s in the rolled epoch, %s before", h1, host)
			}
			recs := servedTLSA(t, w0, host)
			if len(recs) != 1 || recs[0].Usage != 3 || recs[0].Selector != 1 || recs[0].MatchingType != 1 {
				t.Fatalf("TLSA %+v, want one 3 1 1", recs)
			}
			addr := w0.Endpoints(host, signed)[0].Address
			old, cur := presented(t, s0, host, addr), presented(t, s1, host, addr)
			spki := func(der []byte) []byte {
				c, err := x509.ParseCertificate(der)
				if err != nil {
					t.Fatal(err)
				}
				return c.RawSubjectPublicKeyInfo
			}
			sum := sha256.Sum256(spki(old[0]))
			if !bytes.Equal(recs[0].Data, sum[:]) {
				t.Error("epoch 0: the TLSA record is not the SHA-256 of the presented key")
			}
			if bytes.Equal(spki(old[0]), spki(cur[0])) {
				t.Error("the rolled epoch presents the same key")
			}
			for i, want := range []Verdict{{DANEStatus: "pass"}, {DANEStatus: "fail", DANEReason: "no_match"}} {
				w := []*World{w0, w1}[i]
				for _, ep := range w.Endpoints(host, signed) {
					if ep.Verdict != want {
						t.Errorf("epoch %d %s: truth %+v, want %+v", i, ep.Address, ep.Verdict, want)
					}
				}
				checkHost(t, w, []*SMTP{s0, s1}[i], host)
			}
			// Nothing else changes: the domain truth but the case's DANE,
			// and the endpoint truth of every other host.
			d0, d1 := w0.Domains(), w1.Domains()
			for i := range d0 {
				a, b := d0[i], d1[i]
				if slices.Contains(a.MXHosts, host) {
					if a.DANE != "all" || b.DANE != "none" || b.DANEReason != "no_match" {
						t.Errorf("%s: DANE %s then %s/%s, want all then none/no_match", a.Name, a.DANE, b.DANE, b.DANEReason)
					}
					a.DANE, a.DANEReason = b.DANE, b.DANEReason
				}
				if !reflect.DeepEqual(a, b) {
					t.Errorf("line %d (-epoch 0 +rolled):\n-%+v\n+%+v", i, a, b)
				}
			}
			for h := range w0.hostIndex() {
				if h == host {
					continue
				}
				if a, b := w0.Endpoints(h, signed), w1.Endpoints(h, signed); !reflect.DeepEqual(a, b) {
					t.Errorf("%s (-epoch 0 +rolled):\n-%+v\n+%+v", h, a, b)
				}
			}
		})
	}
}

// TestLargeLeafDeterministic checks that the large leaf is the same
// bytes in every call and of the size it is meant to have, in worlds of
// several seeds.
func TestLargeLeafDeterministic(t *testing.T) {
	for seed := range uint64(8) {
		w := generate(t, Config{Domains: 1000, Seed: seed})
		host := caseHostOf(t, w, "tlsa-300-large")
		spec := w.profile(w.hostIndex()[host]).leafSpec(keyECDSA)
		a, err := w.pki.leaf(spec)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := w.pki.leaf(spec)
		if !bytes.Equal(a, b) || len(a) != largeLeafSize {
			t.Errorf("seed %d: leaf of %d then %d bytes (equal %v), want %d twice", seed, len(a), len(b), bytes.Equal(a, b), largeLeafSize)
		}
	}
}
