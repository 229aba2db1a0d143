package dnssec

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// zoneName is a name of the test zone "example." with the types at it.
type zoneName struct {
	name  string
	types []uint16
}

// exampleZone returns the names of the test zone in canonical order
// (written out by hand, RFC 4034 §6.1): the apex, a, b.c (so c is an empty
// non-terminal), d (a delegation with DS), e (a delegation without DS),
// mail (MX only), *.w (a wildcard, so w is an empty non-terminal) and www
// (a CNAME).
func exampleZone() []zoneName {
	return []zoneName{
		{"example.", []uint16{dns.TypeSOA, dns.TypeNS, dns.TypeDNSKEY}},
		{"a.example.", []uint16{dns.TypeA}},
		{"b.c.example.", []uint16{dns.TypeA}},
		{"d.example.", []uint16{dns.TypeNS, dns.TypeDS}},
		{"e.example.", []uint16{dns.TypeNS}},
		{"mail.example.", []uint16{dns.TypeMX}},
		{"*.w.example.", []uint16{dns.TypeTXT}},
		{"www.example.", []uint16{dns.TypeCNAME}},
	}
}

// newNSEC returns an NSEC record.
func newNSEC(owner, next string, types ...uint16) *dns.NSEC {
	types = slices.Clone(types)
	slices.Sort(types)
	return &dns.NSEC{
		Hdr:        dns.RR_Header{Name: owner, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 3600},
		NextDomain: next,
		TypeBitMap: types,
	}
}

// exampleNSECChain returns the NSEC chain of the test zone by owner name.
func exampleNSECChain() map[string]*dns.NSEC {
	z := exampleZone()
	chain := make(map[string]*dns.NSEC, len(z))
	for i, n := range z {
		next := z[(i+1)%len(z)].name
		types := append(slices.Clone(n.types), dns.TypeRRSIG, dns.TypeNSEC)
		chain[n.name] = newNSEC(n.name, next, types...)
	}
	return chain
}

// pickNSEC returns the NSEC records of chain owned by owners.
func pickNSEC(t *testing.T, chain map[string]*dns.NSEC, owners ...string) []*dns.NSEC {
	t.Helper()
	var out []*dns.NSEC
	for _, o := range owners {
		rr, ok := chain[o]
		if !ok {
			t.Fatalf("no NSEC owned by %q in the test chain", o)
		}
		out = append(out, rr)
	}
	return out
}

// checkDenial compares the status and reason of got with the wanted ones
// and checks that a bogus result says why.
func checkDenial(t *testing.T, got Result, wantStatus Status, wantReason Reason, wantZone string) {
	t.Helper()
	t.Logf("%s/%s: %s", got.Status, got.Reason, got.Detail)
	if got.Status != wantStatus || got.Reason != wantReason {
		t.Errorf("got %s/%s (%q), want %s/%s", got.Status, got.Reason, got.Detail, wantStatus, wantReason)
	}
	if got.Status == Bogus && got.Detail == "" {
		t.Errorf("bogus result without Detail")
	}
	if wantZone != "" && got.Zone != wantZone {
		t.Errorf("Zone = %q, want %q", got.Zone, wantZone)
	}
}

func TestCanonicalLess(t *testing.T) {
	// The example of RFC 4034 §6.1, in canonical order.
	ordered := []string{
		"example.",
		"a.example.",
		"yljkjljk.a.example.",
		"Z.a.example.",
		"zABC.a.EXAMPLE.",
		"z.example.",
		`\001.z.example.`,
		"*.z.example.",
		`\200.z.example.`,
	}
	for i := range ordered {
		for j := range ordered {
			if got, want := canonicalLess(ordered[i], ordered[j]), i < j; got != want {
				t.Errorf("canonicalLess(%q, %q) = %v, want %v", ordered[i], ordered[j], got, want)
			}
		}
	}
	var zone []string
	for _, n := range exampleZone() {
		zone = append(zone, n.name)
	}
	if !slices.IsSortedFunc(zone, func(a, b string) int {
		switch {
		case canonicalLess(a, b):
			return -1
		case canonicalLess(b, a):
			return 1
		}
		return 0
	}) {
		t.Errorf("the test zone is not in canonical order: %v", zone)
	}

	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"case and trailing dot do not matter", "A.Example", "a.example.", false},
		{"case and trailing dot do not matter, reversed", "a.example.", "A.Example", false},
		{"escaped letter equals letter", `\097.example.`, "A.example.", false},
		{"parent first", "example", "a.example", true},
		{"label is compared, not the whole string", "b.a.example.", "a.b.example.", true},
		{"shorter label first", "w.example.", "ww.example.", true},
		{"escaped dot is part of the label", `a\.b.example.`, "a.b.example.", true},
		{"root first", ".", "com.", true},
		{"valid before invalid", "example.", "a..example.", true},
		{"invalid after valid", "a..example.", "example.", false},
		{"label too long is invalid", strings.Repeat("a", 64) + ".example.", "example.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := canonicalLess(tt.a, tt.b); got != tt.want {
				t.Errorf("canonicalLess(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestCoversName(t *testing.T) {
	tests := []struct {
		name                string
		owner, next, target string
		want                bool
	}{
		{"between", "a.example.", "c.example.", "b.example.", true},
		{"owner itself", "a.example.", "c.example.", "a.example.", false},
		{"next itself", "a.example.", "c.example.", "c.example.", false},
		{"after next", "a.example.", "c.example.", "d.example.", false},
		{"descendant of owner", "a.example.", "c.example.", "x.a.example.", true},
		{"wrap-around after last", "www.example.", "example.", "zzz.example.", true},
		{"wrap-around does not cover apex", "www.example.", "example.", "example.", false},
		{"wrap-around does not cover before owner", "www.example.", "example.", "a.example.", false},
		{"single record covers all but apex", "example.", "example.", "a.example.", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _ := parseName(tt.owner)
			n, _ := parseName(tt.next)
			q, _ := parseName(tt.target)
			if got := coversName(o, n, q); got != tt.want {
				t.Errorf("coversName(%s, %s, %s) = %v, want %v", tt.owner, tt.next, tt.target, got, tt.want)
			}
		})
	}
}

func TestDenialNSEC(t *testing.T) {
	chain := exampleNSECChain()
	childApex := newNSEC("e.example.", "host.e.example.", dns.TypeSOA, dns.TypeNS, dns.TypeDNSKEY, dns.TypeRRSIG, dns.TypeNSEC)
	other := []*dns.NSEC{
		newNSEC("a.other.", "z.other.", dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC),
		newNSEC("other.", "a.other.", dns.TypeSOA, dns.TypeNS, dns.TypeRRSIG, dns.TypeNSEC),
	}
	nx, ok := dns.RcodeNameError, dns.RcodeSuccess
	tests := []struct {
		name       string
		zone       string
		qname      string
		qtype      uint16
		rcode      int
		nsecs      []*dns.NSEC
		wantStatus Status
		wantReason Reason
	}{
		{"NXDOMAIN proven", "example.", "b.example.", dns.TypeA, nx, pickNSEC(t, chain, "a.example.", "example."), Secure, ReasonNSECDenial},
		{"NXDOMAIN names in other case without dot", "EXAMPLE", "B.Example", dns.TypeA, nx, pickNSEC(t, chain, "a.example.", "example."), Secure, ReasonNSECDenial},
		{"NXDOMAIN one record covers qname and wildcard", "example.", "0.example.", dns.TypeA, nx, pickNSEC(t, chain, "example."), Secure, ReasonNSECDenial},
		{"NXDOMAIN below an empty non-terminal", "example.", "x.c.example.", dns.TypeA, nx, pickNSEC(t, chain, "b.c.example.", "a.example."), Secure, ReasonNSECDenial},
		{"NXDOMAIN with wrap-around", "example.", "zzz.example.", dns.TypeA, nx, pickNSEC(t, chain, "www.example.", "example."), Secure, ReasonNSECDenial},
		{"NXDOMAIN missing the wildcard proof", "example.", "b.example.", dns.TypeA, nx, pickNSEC(t, chain, "a.example."), Bogus, ReasonNSECProof},
		{"NXDOMAIN missing the wildcard proof below an ENT", "example.", "x.c.example.", dns.TypeA, nx, pickNSEC(t, chain, "b.c.example.", "example."), Bogus, ReasonNSECProof},
		{"NXDOMAIN with an NSEC that does not cover", "example.", "b.example.", dns.TypeA, nx, pickNSEC(t, chain, "d.example.", "example."), Bogus, ReasonNSECProof},
		{"NXDOMAIN for a name that exists", "example.", "a.example.", dns.TypeA, nx, pickNSEC(t, chain, "a.example.", "example."), Bogus, ReasonNSECProof},
		{"NXDOMAIN for a name that exists under an overlapping span", "example.", "a.example.", dns.TypeA, nx,
			[]*dns.NSEC{newNSEC("example.", "zzz.example.", dns.TypeSOA, dns.TypeNS), chain["a.example."]}, Bogus, ReasonNSECProof},
		{"the overlapping span alone proves NXDOMAIN", "example.", "a.example.", dns.TypeA, nx,
			[]*dns.NSEC{newNSEC("example.", "zzz.example.", dns.TypeSOA, dns.TypeNS)}, Secure, ReasonNSECDenial},
		{"NXDOMAIN for an empty non-terminal", "example.", "c.example.", dns.TypeA, nx, pickNSEC(t, chain, "a.example.", "example."), Bogus, ReasonNSECProof},
		{"NXDOMAIN where the wildcard exists", "example.", "x.w.example.", dns.TypeA, nx, pickNSEC(t, chain, "*.w.example.", "mail.example."), Bogus, ReasonNSECProof},
		{"NXDOMAIN below a delegation (RFC 6840 §4.1)", "example.", "x.d.example.", dns.TypeA, nx, pickNSEC(t, chain, "d.example.", "example."), Bogus, ReasonNSECProof},
		{"NXDOMAIN below a DNAME", "example.", "x.dn.example.", dns.TypeA, nx, []*dns.NSEC{newNSEC("dn.example.", "e.example.", dns.TypeDNAME), chain["example."]}, Bogus, ReasonNSECProof},
		{"NODATA at a name", "example.", "mail.example.", dns.TypeA, ok, pickNSEC(t, chain, "mail.example."), Secure, ReasonNSECDenial},
		{"NODATA at the apex", "example.", "example.", dns.TypeMX, ok, pickNSEC(t, chain, "example."), Secure, ReasonNSECDenial},
		{"NODATA where the type bit is set", "example.", "mail.example.", dns.TypeMX, ok, pickNSEC(t, chain, "mail.example."), Bogus, ReasonNSECProof},
		{"NODATA where the CNAME bit is set", "example.", "www.example.", dns.TypeA, ok, pickNSEC(t, chain, "www.example."), Bogus, ReasonNSECProof},
		{"NODATA from the parent side of a delegation", "example.", "d.example.", dns.TypeA, ok, pickNSEC(t, chain, "d.example."), Bogus, ReasonNSECProof},
		{"NODATA at an empty non-terminal", "example.", "c.example.", dns.TypeA, ok, pickNSEC(t, chain, "a.example."), Secure, ReasonNSECDenial},
		{"NODATA for DS at an empty non-terminal", "example.", "w.example.", dns.TypeDS, ok, pickNSEC(t, chain, "mail.example."), Secure, ReasonNSECDenial},
		{"NODATA with an NSEC that does not cover", "example.", "c.example.", dns.TypeA, ok, pickNSEC(t, chain, "mail.example."), Bogus, ReasonNSECProof},
		{"NODATA for a name that does not exist", "example.", "b.example.", dns.TypeA, ok, pickNSEC(t, chain, "a.example.", "example."), Bogus, ReasonNSECProof},
		{"wildcard NODATA", "example.", "x.w.example.", dns.TypeA, ok, pickNSEC(t, chain, "*.w.example."), Secure, ReasonNSECDenial},
		{"wildcard NODATA two labels down", "example.", "y.x.w.example.", dns.TypeA, ok, pickNSEC(t, chain, "*.w.example."), Secure, ReasonNSECDenial},
		{"wildcard NODATA where the wildcard has the type", "example.", "x.w.example.", dns.TypeTXT, ok, pickNSEC(t, chain, "*.w.example."), Bogus, ReasonNSECProof},
		{"wildcard NODATA without the wildcard NSEC", "example.", "b.example.", dns.TypeA, ok, pickNSEC(t, chain, "a.example."), Bogus, ReasonNSECProof},
		{"DS NODATA at an insecure delegation", "example.", "e.example.", dns.TypeDS, ok, pickNSEC(t, chain, "e.example."), Insecure, ReasonNoDS},
		{"DS NODATA where the DS bit is set", "example.", "d.example.", dns.TypeDS, ok, pickNSEC(t, chain, "d.example."), Bogus, ReasonNSECProof},
		{"DS NODATA at a name that is no delegation", "example.", "mail.example.", dns.TypeDS, ok, pickNSEC(t, chain, "mail.example."), Secure, ReasonNSECDenial},
		{"DS answered with the child apex NSEC", "example.", "e.example.", dns.TypeDS, ok, []*dns.NSEC{childApex}, Bogus, ReasonNSECProof},
		{"DS answered with the child apex NSEC in the child zone", "e.example.", "e.example.", dns.TypeDS, ok, []*dns.NSEC{childApex}, Bogus, ReasonNSECProof},
		{"records of another zone", "example.", "b.example.", dns.TypeA, nx, other, Bogus, ReasonNSECProof},
		{"qname outside the zone", "example.", "b.other.", dns.TypeA, nx, other, Bogus, ReasonNSECProof},
		{"next name outside the zone", "example.", "b.example.", dns.TypeA, nx, []*dns.NSEC{newNSEC("a.example.", "zzz.other.", dns.TypeA), chain["example."]}, Bogus, ReasonNSECProof},
		{"empty list", "example.", "b.example.", dns.TypeA, nx, nil, Bogus, ReasonNSECProof},
		{"nil records", "example.", "b.example.", dns.TypeA, nx, []*dns.NSEC{nil, nil}, Bogus, ReasonNSECProof},
		{"unparsable names", "example.", "b.example.", dns.TypeA, nx, []*dns.NSEC{newNSEC("a..example.", "c.example."), newNSEC("example.", strings.Repeat("x", 70)+".example.")}, Bogus, ReasonNSECProof},
		{"other rcode", "example.", "b.example.", dns.TypeA, dns.RcodeServerFailure, pickNSEC(t, chain, "a.example.", "example."), Bogus, ReasonNSECProof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DenialNSEC(tt.zone, tt.qname, tt.qtype, tt.rcode, tt.nsecs)
			checkDenial(t, got, tt.wantStatus, tt.wantReason, dns.CanonicalName(tt.zone))
		})
	}
}

func TestWildcardNSEC(t *testing.T) {
	chain := exampleNSECChain()
	tests := []struct {
		name       string
		qname      string
		labels     uint8
		nsecs      []*dns.NSEC
		wantStatus Status
		wantReason Reason
	}{
		{"expansion one label down", "x.w.example.", 2, pickNSEC(t, chain, "*.w.example."), Secure, ReasonNSECDenial},
		{"expansion two labels down", "y.x.w.example.", 2, pickNSEC(t, chain, "*.w.example."), Secure, ReasonNSECDenial},
		{"expansion of a wildcard at the apex", "b.example.", 1, pickNSEC(t, chain, "a.example."), Secure, ReasonNSECDenial},
		{"NSEC does not cover qname", "x.w.example.", 2, pickNSEC(t, chain, "mail.example."), Bogus, ReasonNSECProof},
		{"NSEC shows a closer encloser", "x.b.c.example.", 1, pickNSEC(t, chain, "b.c.example."), Bogus, ReasonNSECProof},
		{"qname is an empty non-terminal", "c.example.", 1, pickNSEC(t, chain, "a.example."), Bogus, ReasonNSECProof},
		{"labels not smaller than qname's", "x.w.example.", 3, pickNSEC(t, chain, "*.w.example."), Bogus, ReasonNSECProof},
		{"labels above the zone", "x.w.example.", 0, pickNSEC(t, chain, "*.w.example."), Bogus, ReasonNSECProof},
		{"empty list", "x.w.example.", 2, nil, Bogus, ReasonNSECProof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WildcardNSEC("example.", tt.qname, tt.labels, tt.nsecs)
			checkDenial(t, got, tt.wantStatus, tt.wantReason, "example.")
		})
	}
}

func TestParseName(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	// Three labels of 63 and one of 61 make 4*1 + 3*63 + 61 + 1 = 255
	// octets in wire form: the longest name there is.
	longest := strings.Join([]string{label63, label63, label63, strings.Repeat("b", 61)}, ".") + "."
	tests := []struct {
		name   string
		in     string
		want   string // String() of the result
		wantOK bool
	}{
		{"root", ".", ".", true},
		{"empty string is the root", "", ".", true},
		{"lowercased, dot added", "WWW.Example", "www.example.", true},
		{"escaped dot stays in the label", `a\.b.example.`, `a\046b.example.`, true},
		{"decimal escape of a letter", `\065.example.`, "a.example.", true},
		{"binary octets", `\000\255.example.`, `\000\255.example.`, true},
		{"wildcard label", "*.example.", "*.example.", true},
		{"longest name", longest, longest, true},
		{"name too long", "c" + longest, "", false},
		{"label too long", label63 + "a.example.", "", false},
		{"empty label", "a..example.", "", false},
		{"trailing backslash", `example\`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := parseName(tt.in)
			if ok != tt.wantOK {
				t.Fatalf("parseName(%q) ok = %v, want %v", tt.in, ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if got := n.String(); got != tt.want {
				t.Errorf("parseName(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
			back, ok := parseName(n.String())
			if !ok || !back.equal(n) {
				t.Errorf("parseName(%q) does not round-trip: %q", tt.in, n.String())
			}
		})
	}
}
