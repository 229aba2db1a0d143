package dnssec

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// testNSEC3Chain is an NSEC3 chain of the test zone: the records by the
// unhashed name they were made for, and all records.
type testNSEC3Chain struct {
	zone    string
	byName  map[string]*dns.NSEC3
	records []*dns.NSEC3
}

// nsec3Options are the parameters of a test NSEC3 chain.
type nsec3Options struct {
	iterations uint16
	salt       string
	// omit lists names left out of the chain (unsigned delegations in an
	// opt-out zone).
	omit []string
	// optOut sets the Opt-Out flag on every record; optOutCovering sets it
	// only on the records whose span covers these names.
	optOut         bool
	optOutCovering []string
}

// newTestNSEC3Chain builds the NSEC3 chain of the test zone with SHA-1,
// including the empty non-terminals c and w (RFC 5155 §7.1).
func newTestNSEC3Chain(t *testing.T, opt nsec3Options) *testNSEC3Chain {
	t.Helper()
	names := exampleZone()
	names = append(names, zoneName{"c.example.", nil}, zoneName{"w.example.", nil})
	type hashed struct {
		name, hash string
		types      []uint16
	}
	var hs []hashed
	for _, n := range names {
		if slices.Contains(opt.omit, n.name) {
			continue
		}
		h := dns.HashName(n.name, dns.SHA1, opt.iterations, opt.salt)
		if h == "" {
			t.Fatalf("HashName(%q) failed", n.name)
		}
		types := slices.Clone(n.types)
		if len(types) > 0 {
			types = append(types, dns.TypeRRSIG)
		}
		if n.name == "example." {
			types = append(types, dns.TypeNSEC3PARAM)
		}
		slices.Sort(types)
		hs = append(hs, hashed{n.name, h, types})
	}
	slices.SortFunc(hs, func(a, b hashed) int { return strings.Compare(a.hash, b.hash) })
	c := &testNSEC3Chain{zone: "example.", byName: map[string]*dns.NSEC3{}}
	for i, h := range hs {
		rr := &dns.NSEC3{
			Hdr:        dns.RR_Header{Name: strings.ToLower(h.hash) + ".example.", Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: 3600},
			Hash:       dns.SHA1,
			Iterations: opt.iterations,
			SaltLength: uint8(len(opt.salt) / 2),
			Salt:       opt.salt,
			HashLength: 20,
			NextDomain: hs[(i+1)%len(hs)].hash,
			TypeBitMap: h.types,
		}
		if opt.optOut {
			rr.Flags = 1
		}
		for _, n := range opt.optOutCovering {
			if rr.Cover(n) {
				rr.Flags = 1
			}
		}
		c.byName[h.name] = rr
		c.records = append(c.records, rr)
	}
	return c
}

// match returns the record whose owner is the hash of name.
func (c *testNSEC3Chain) match(t *testing.T, name string) *dns.NSEC3 {
	t.Helper()
	rr, ok := c.byName[name]
	if !ok {
		t.Fatalf("no NSEC3 for %q in the test chain", name)
	}
	return rr
}

// cover returns the record that covers name, found with miekg's
// NSEC3.Cover as an independent oracle.
func (c *testNSEC3Chain) cover(t *testing.T, name string) *dns.NSEC3 {
	t.Helper()
	for _, rr := range c.records {
		if rr.Cover(name) {
			return rr
		}
	}
	t.Fatalf("no NSEC3 covers %q in the test chain", name)
	return nil
}

// find returns the first of n0.example., n1.example., ... for which ok
// holds, so that tests do not depend on where hashes happen to fall.
func (c *testNSEC3Chain) find(t *testing.T, ok func(name string) bool) string {
	t.Helper()
	for i := range 500 {
		n := fmt.Sprintf("n%d.example.", i)
		if ok(n) {
			return n
		}
	}
	t.Fatalf("no test name fits")
	return ""
}

// withHash returns copies of rrs with the hash algorithm set to alg.
func withHash(rrs []*dns.NSEC3, alg uint8) []*dns.NSEC3 {
	var out []*dns.NSEC3
	for _, rr := range rrs {
		cp := *rr
		cp.Hash = alg
		out = append(out, &cp)
	}
	return out
}

func TestDenialNSEC3(t *testing.T) {
	full := newTestNSEC3Chain(t, nsec3Options{})
	salted := newTestNSEC3Chain(t, nsec3Options{salt: "AABBCCDD"})
	iter150 := newTestNSEC3Chain(t, nsec3Options{iterations: 150})
	iter500 := newTestNSEC3Chain(t, nsec3Options{iterations: 500})
	allOptOut := newTestNSEC3Chain(t, nsec3Options{omit: []string{"e.example."}, optOut: true})
	spanOptOut := newTestNSEC3Chain(t, nsec3Options{omit: []string{"e.example."}, optOutCovering: []string{"e.example."}})

	// nxdomain returns the records of chain c that prove NXDOMAIN for a
	// name whose closest encloser is the apex.
	nxdomain := func(c *testNSEC3Chain, qname string) []*dns.NSEC3 {
		return []*dns.NSEC3{c.match(t, "example."), c.cover(t, qname), c.cover(t, "*.example.")}
	}
	// Names whose next-closer cover is not the wildcard's cover, so that
	// leaving one out breaks the proof.
	nx := full.find(t, func(n string) bool { return full.cover(t, n) != full.cover(t, "*.example.") })
	nxSecureInSpan := spanOptOut.find(t, func(n string) bool { return spanOptOut.cover(t, n).Flags == 0 })
	nxOptOutInSpan := spanOptOut.find(t, func(n string) bool { return spanOptOut.cover(t, n).Flags == 1 })
	notCoveringNX := full.find(t, func(n string) bool { return full.cover(t, n) != full.cover(t, nx) })

	childApex := &dns.NSEC3{
		Hdr:        dns.RR_Header{Name: strings.ToLower(dns.HashName("e.example.", dns.SHA1, 0, "")) + ".e.example.", Rrtype: dns.TypeNSEC3, Class: dns.ClassINET},
		Hash:       dns.SHA1,
		HashLength: 20,
		NextDomain: dns.HashName("e.example.", dns.SHA1, 0, ""),
		TypeBitMap: []uint16{dns.TypeNS, dns.TypeSOA, dns.TypeRRSIG, dns.TypeDNSKEY, dns.TypeNSEC3PARAM},
	}
	otherZone := &dns.NSEC3{
		Hdr:        dns.RR_Header{Name: strings.ToLower(dns.HashName("other.", dns.SHA1, 0, "")) + ".other.", Rrtype: dns.TypeNSEC3, Class: dns.ClassINET},
		Hash:       dns.SHA1,
		HashLength: 20,
		NextDomain: dns.HashName("other.", dns.SHA1, 0, ""),
		TypeBitMap: []uint16{dns.TypeNS, dns.TypeSOA},
	}
	// wholeRing spans the whole hash ring: a broken chain whose spans
	// overlap the others.
	wholeRing := *full.cover(t, nx)
	wholeRing.Hdr.Name = strings.Repeat("0", 32) + ".example."
	wholeRing.NextDomain = strings.Repeat("V", 32)
	badFlags := *full.cover(t, nx)
	badFlags.Flags = 2

	rcodeNX, rcodeOK := dns.RcodeNameError, dns.RcodeSuccess
	tests := []struct {
		name       string
		zone       string
		qname      string
		qtype      uint16
		rcode      int
		nsec3s     []*dns.NSEC3
		wantStatus Status
		wantReason Reason
	}{
		{"NXDOMAIN proven", "example.", nx, dns.TypeA, rcodeNX, nxdomain(full, nx), Secure, ReasonNSEC3Denial},
		{"NXDOMAIN names in other case without dot", "EXAMPLE", strings.ToUpper(strings.TrimSuffix(nx, ".")), dns.TypeA, rcodeNX, nxdomain(full, nx), Secure, ReasonNSEC3Denial},
		{"NXDOMAIN with a salt", "example.", "b.example.", dns.TypeA, rcodeNX, nxdomain(salted, "b.example."), Secure, ReasonNSEC3Denial},
		{"NXDOMAIN below an empty non-terminal", "example.", "x.c.example.", dns.TypeA, rcodeNX,
			[]*dns.NSEC3{full.match(t, "c.example."), full.cover(t, "x.c.example."), full.cover(t, "*.c.example.")}, Secure, ReasonNSEC3Denial},
		{"NXDOMAIN missing the wildcard proof", "example.", nx, dns.TypeA, rcodeNX, []*dns.NSEC3{full.match(t, "example."), full.cover(t, nx)}, Bogus, ReasonNSEC3Proof},
		{"NXDOMAIN missing the closest encloser", "example.", nx, dns.TypeA, rcodeNX, []*dns.NSEC3{full.cover(t, nx), full.cover(t, "*.example.")}, Bogus, ReasonNSEC3Proof},
		{"NXDOMAIN with an NSEC3 that does not cover", "example.", nx, dns.TypeA, rcodeNX,
			[]*dns.NSEC3{full.match(t, "example."), full.cover(t, "*.example."), full.cover(t, notCoveringNX)}, Bogus, ReasonNSEC3Proof},
		{"NXDOMAIN for a name that exists", "example.", "a.example.", dns.TypeA, rcodeNX, append(nxdomain(full, nx), full.match(t, "a.example.")), Bogus, ReasonNSEC3Proof},
		{"NXDOMAIN for a name that exists under an overlapping span", "example.", "a.example.", dns.TypeA, rcodeNX,
			[]*dns.NSEC3{full.match(t, "example."), &wholeRing, full.match(t, "a.example.")}, Bogus, ReasonNSEC3Proof},
		{"the overlapping span alone proves NXDOMAIN", "example.", "a.example.", dns.TypeA, rcodeNX,
			[]*dns.NSEC3{full.match(t, "example."), &wholeRing}, Secure, ReasonNSEC3Denial},
		{"NXDOMAIN where the wildcard exists", "example.", "x.w.example.", dns.TypeA, rcodeNX,
			[]*dns.NSEC3{full.match(t, "w.example."), full.cover(t, "x.w.example."), full.match(t, "*.w.example.")}, Bogus, ReasonNSEC3Proof},
		{"NXDOMAIN below a delegation", "example.", "x.d.example.", dns.TypeA, rcodeNX,
			[]*dns.NSEC3{full.match(t, "d.example."), full.cover(t, "x.d.example."), full.cover(t, "*.d.example.")}, Bogus, ReasonNSEC3Proof},
		{"NXDOMAIN in an opt-out span", "example.", "b.example.", dns.TypeA, rcodeNX, nxdomain(allOptOut, "b.example."), Insecure, ReasonNSEC3OptOut},
		{"NXDOMAIN outside the opt-out span", "example.", nxSecureInSpan, dns.TypeA, rcodeNX, nxdomain(spanOptOut, nxSecureInSpan), Secure, ReasonNSEC3Denial},
		{"NXDOMAIN inside the opt-out span", "example.", nxOptOutInSpan, dns.TypeA, rcodeNX, nxdomain(spanOptOut, nxOptOutInSpan), Insecure, ReasonNSEC3OptOut},
		{"NODATA at a name", "example.", "mail.example.", dns.TypeA, rcodeOK, []*dns.NSEC3{full.match(t, "mail.example.")}, Secure, ReasonNSEC3Denial},
		{"NODATA where the type bit is set", "example.", "mail.example.", dns.TypeMX, rcodeOK, []*dns.NSEC3{full.match(t, "mail.example.")}, Bogus, ReasonNSEC3Proof},
		{"NODATA where the CNAME bit is set", "example.", "www.example.", dns.TypeA, rcodeOK, []*dns.NSEC3{full.match(t, "www.example.")}, Bogus, ReasonNSEC3Proof},
		{"NODATA from the parent side of a delegation", "example.", "d.example.", dns.TypeA, rcodeOK, []*dns.NSEC3{full.match(t, "d.example.")}, Bogus, ReasonNSEC3Proof},
		{"NODATA at an empty non-terminal", "example.", "c.example.", dns.TypeA, rcodeOK, []*dns.NSEC3{full.match(t, "c.example.")}, Secure, ReasonNSEC3Denial},
		{"NODATA without a matching NSEC3", "example.", nx, dns.TypeA, rcodeOK, nxdomain(full, nx), Bogus, ReasonNSEC3Proof},
		{"wildcard NODATA", "example.", "x.w.example.", dns.TypeA, rcodeOK,
			[]*dns.NSEC3{full.match(t, "w.example."), full.cover(t, "x.w.example."), full.match(t, "*.w.example.")}, Secure, ReasonNSEC3Denial},
		{"wildcard NODATA where the wildcard has the type", "example.", "x.w.example.", dns.TypeTXT, rcodeOK,
			[]*dns.NSEC3{full.match(t, "w.example."), full.cover(t, "x.w.example."), full.match(t, "*.w.example.")}, Bogus, ReasonNSEC3Proof},
		{"wildcard NODATA without the next closer", "example.", "x.w.example.", dns.TypeA, rcodeOK,
			[]*dns.NSEC3{full.match(t, "w.example."), full.match(t, "*.w.example.")}, Bogus, ReasonNSEC3Proof},
		{"DS NODATA at an insecure delegation", "example.", "e.example.", dns.TypeDS, rcodeOK, []*dns.NSEC3{full.match(t, "e.example.")}, Insecure, ReasonNoDS},
		{"DS NODATA where the DS bit is set", "example.", "d.example.", dns.TypeDS, rcodeOK, []*dns.NSEC3{full.match(t, "d.example.")}, Bogus, ReasonNSEC3Proof},
		{"DS NODATA in an opt-out span", "example.", "e.example.", dns.TypeDS, rcodeOK,
			[]*dns.NSEC3{allOptOut.match(t, "example."), allOptOut.cover(t, "e.example.")}, Insecure, ReasonNSEC3OptOut},
		{"NODATA at an empty non-terminal in an opt-out span", "example.", "x.example.", dns.TypeA, rcodeOK,
			[]*dns.NSEC3{allOptOut.match(t, "example."), allOptOut.cover(t, "x.example.")}, Insecure, ReasonNSEC3OptOut},
		{"DS NODATA in a span without opt-out", "example.", nxSecureInSpan, dns.TypeDS, rcodeOK,
			[]*dns.NSEC3{spanOptOut.match(t, "example."), spanOptOut.cover(t, nxSecureInSpan)}, Bogus, ReasonNSEC3Proof},
		{"DS answered with the child apex NSEC3", "e.example.", "e.example.", dns.TypeDS, rcodeOK, []*dns.NSEC3{childApex}, Bogus, ReasonNSEC3Proof},
		{"DS answered with the child apex NSEC3 as the parent", "example.", "e.example.", dns.TypeDS, rcodeOK, []*dns.NSEC3{childApex}, Bogus, ReasonNSEC3Proof},
		{"iterations at the limit of 150", "example.", "b.example.", dns.TypeA, rcodeNX, nxdomain(iter150, "b.example."), Secure, ReasonNSEC3Denial},
		{"iterations 500", "example.", "b.example.", dns.TypeA, rcodeNX, nxdomain(iter500, "b.example."), Insecure, ReasonNSEC3Iterations},
		{"mixed parameters", "example.", "b.example.", dns.TypeA, rcodeNX,
			[]*dns.NSEC3{full.match(t, "example."), salted.cover(t, "b.example."), full.cover(t, "*.example.")}, Bogus, ReasonNSEC3Proof},
		{"mixed parameters in a record the proof does not need", "example.", nx, dns.TypeA, rcodeNX,
			append(nxdomain(full, nx), salted.match(t, "a.example.")), Bogus, ReasonNSEC3Proof},
		{"mixed iterations", "example.", nx, dns.TypeA, rcodeNX,
			append(nxdomain(full, nx), iter150.match(t, "a.example.")), Bogus, ReasonNSEC3Proof},
		{"unknown hash algorithm", "example.", nx, dns.TypeA, rcodeNX, withHash(nxdomain(full, nx), 2), Insecure, ReasonUnsupportedAlgorithm},
		{"flags other than opt-out are ignored", "example.", nx, dns.TypeA, rcodeNX,
			[]*dns.NSEC3{full.match(t, "example."), &badFlags, full.cover(t, "*.example.")}, Bogus, ReasonNSEC3Proof},
		{"records of another zone", "example.", nx, dns.TypeA, rcodeNX, []*dns.NSEC3{otherZone}, Bogus, ReasonNSEC3Proof},
		{"qname outside the zone", "example.", "x.other.", dns.TypeA, rcodeNX, nxdomain(full, nx), Bogus, ReasonNSEC3Proof},
		{"empty list", "example.", nx, dns.TypeA, rcodeNX, nil, Bogus, ReasonNSEC3Proof},
		{"nil records", "example.", nx, dns.TypeA, rcodeNX, []*dns.NSEC3{nil}, Bogus, ReasonNSEC3Proof},
		{"other rcode", "example.", nx, dns.TypeA, dns.RcodeRefused, nxdomain(full, nx), Bogus, ReasonNSEC3Proof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DenialNSEC3(tt.zone, tt.qname, tt.qtype, tt.rcode, tt.nsec3s)
			checkDenial(t, got, tt.wantStatus, tt.wantReason, dns.CanonicalName(tt.zone))
		})
	}
}

func TestWildcardNSEC3(t *testing.T) {
	full := newTestNSEC3Chain(t, nsec3Options{})
	iter500 := newTestNSEC3Chain(t, nsec3Options{iterations: 500})
	notCovering := full.find(t, func(n string) bool { return full.cover(t, n) != full.cover(t, "x.w.example.") })
	tests := []struct {
		name       string
		qname      string
		labels     uint8
		nsec3s     []*dns.NSEC3
		wantStatus Status
		wantReason Reason
	}{
		{"expansion one label down", "x.w.example.", 2, []*dns.NSEC3{full.cover(t, "x.w.example.")}, Secure, ReasonNSEC3Denial},
		{"expansion two labels down covers the next closer", "y.x.w.example.", 2, []*dns.NSEC3{full.cover(t, "x.w.example.")}, Secure, ReasonNSEC3Denial},
		{"expansion two labels down with the cover of qname only", "y.x.w.example.", 2, []*dns.NSEC3{full.cover(t, "y.x.w.example.")}, bogusUnlessSame(full.cover(t, "y.x.w.example."), full.cover(t, "x.w.example.")), reasonUnlessSame(full.cover(t, "y.x.w.example."), full.cover(t, "x.w.example."))},
		{"NSEC3 does not cover the next closer", "x.w.example.", 2, []*dns.NSEC3{full.cover(t, notCovering)}, Bogus, ReasonNSEC3Proof},
		{"labels not smaller than qname's", "x.w.example.", 3, []*dns.NSEC3{full.cover(t, "x.w.example.")}, Bogus, ReasonNSEC3Proof},
		{"labels above the zone", "x.w.example.", 0, []*dns.NSEC3{full.cover(t, "x.w.example.")}, Bogus, ReasonNSEC3Proof},
		{"iterations 500", "x.w.example.", 2, []*dns.NSEC3{iter500.cover(t, "x.w.example.")}, Insecure, ReasonNSEC3Iterations},
		{"empty list", "x.w.example.", 2, nil, Bogus, ReasonNSEC3Proof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WildcardNSEC3("example.", tt.qname, tt.labels, tt.nsec3s)
			checkDenial(t, got, tt.wantStatus, tt.wantReason, "example.")
		})
	}
}

// bogusUnlessSame returns Secure if the two records are the same (the
// proof then holds by chance of the hashes) and Bogus otherwise.
func bogusUnlessSame(a, b *dns.NSEC3) Status {
	if a == b {
		return Secure
	}
	return Bogus
}

// reasonUnlessSame is the reason that goes with bogusUnlessSame.
func reasonUnlessSame(a, b *dns.NSEC3) Reason {
	if a == b {
		return ReasonNSEC3Denial
	}
	return ReasonNSEC3Proof
}
