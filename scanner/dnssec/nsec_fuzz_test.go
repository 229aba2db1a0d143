package dnssec

import (
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// fuzzTypes parses type mnemonics or numbers, skipping the rest.
func fuzzTypes(fields []string) []uint16 {
	var types []uint16
	for _, f := range fields {
		if t, ok := dns.StringToType[strings.ToUpper(f)]; ok {
			types = append(types, t)
		} else if n, err := strconv.ParseUint(f, 10, 16); err == nil {
			types = append(types, uint16(n))
		}
	}
	return types
}

// fuzzNSECs builds NSEC records from lines "owner next type...", with the
// names taken as they are, however broken.
func fuzzNSECs(records string) []*dns.NSEC {
	var out []*dns.NSEC
	for _, line := range strings.Split(records, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[0] == "nil":
			out = append(out, nil)
		case len(f) >= 2:
			out = append(out, &dns.NSEC{
				Hdr:        dns.RR_Header{Name: f[0], Rrtype: dns.TypeNSEC, Class: dns.ClassINET},
				NextDomain: f[1],
				TypeBitMap: fuzzTypes(f[2:]),
			})
		}
	}
	return out
}

// fuzzNSEC3s builds NSEC3 records from lines "owner next flags type...".
func fuzzNSEC3s(records string, hash uint8, iterations uint16, salt string) []*dns.NSEC3 {
	var out []*dns.NSEC3
	for _, line := range strings.Split(records, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[0] == "nil":
			out = append(out, nil)
		case len(f) >= 3:
			flags, _ := strconv.ParseUint(f[2], 10, 8)
			out = append(out, &dns.NSEC3{
				Hdr:        dns.RR_Header{Name: f[0], Rrtype: dns.TypeNSEC3, Class: dns.ClassINET},
				Hash:       hash,
				Flags:      uint8(flags),
				Iterations: iterations,
				Salt:       salt,
				NextDomain: f[1],
				TypeBitMap: fuzzTypes(f[3:]),
			})
		}
	}
	return out
}

// checkVocabulary fails unless r uses a status and reason that the
// function may return, and a bogus result says why.
func checkVocabulary(t *testing.T, r Result, secure, bogus Reason, insecure ...Reason) {
	t.Helper()
	ok := false
	switch r.Status {
	case Secure:
		ok = r.Reason == secure
	case Bogus:
		ok = r.Reason == bogus && r.Detail != ""
	case Insecure:
		for _, reason := range insecure {
			ok = ok || r.Reason == reason
		}
	}
	if !ok {
		t.Errorf("unexpected result %+v", r)
	}
}

// nsecSeed is the text of the NSEC chain of the test zone for FuzzDenialNSEC.
func nsecSeed() string {
	var b strings.Builder
	chain := exampleNSECChain()
	for _, n := range exampleZone() {
		rr := chain[n.name]
		b.WriteString(rr.Hdr.Name + " " + rr.NextDomain)
		for _, ty := range rr.TypeBitMap {
			b.WriteString(" " + typeName(ty))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func FuzzDenialNSEC(f *testing.F) {
	chain := nsecSeed()
	f.Add("example.", "b.example.", uint16(dns.TypeA), true, uint8(1), chain)
	f.Add("example.", "x.w.example.", uint16(dns.TypeA), false, uint8(2), chain)
	f.Add("example.", "e.example.", uint16(dns.TypeDS), false, uint8(1), chain)
	f.Add("EXAMPLE", `\000.*.c.Example`, uint16(dns.TypeDS), true, uint8(255), "a.example. a.example.\nnil\n. . NS DNAME\n")
	f.Fuzz(func(t *testing.T, zone, qname string, qtype uint16, nxdomain bool, labels uint8, records string) {
		nsecs := fuzzNSECs(records)
		rcode := dns.RcodeSuccess
		if nxdomain {
			rcode = dns.RcodeNameError
		}
		checkVocabulary(t, DenialNSEC(zone, qname, qtype, rcode, nsecs), ReasonNSECDenial, ReasonNSECProof, ReasonNoDS)
		checkVocabulary(t, WildcardNSEC(zone, qname, labels, nsecs), ReasonNSECDenial, ReasonNSECProof)
		if n, ok := parseName(qname); ok {
			if back, ok := parseName(n.String()); !ok || !back.equal(n) {
				t.Errorf("parseName(%q) does not round-trip through %q", qname, n.String())
			}
		}
		if canonicalLess(zone, zone) || canonicalLess(zone, qname) && canonicalLess(qname, zone) {
			t.Errorf("canonicalLess is not a strict order on %q, %q", zone, qname)
		}
	})
}

func FuzzDenialNSEC3(f *testing.F) {
	h := func(name string) string { return dns.HashName(name, dns.SHA1, 0, "") }
	chain := strings.Join([]string{
		h("example.") + ".example. " + h("a.example.") + " 0 SOA NS",
		h("a.example.") + ".example. " + h("example.") + " 1 A",
	}, "\n")
	f.Add("example.", "b.example.", uint16(dns.TypeA), true, uint8(1), uint8(1), uint16(0), "", chain)
	f.Add("example.", "e.example.", uint16(dns.TypeDS), false, uint8(1), uint8(1), uint16(0), "", chain)
	f.Add("example.", "x.w.example.", uint16(dns.TypeA), false, uint8(2), uint8(1), uint16(500), "-", chain)
	f.Add("example", "x.example", uint16(0), true, uint8(0), uint8(2), uint16(1), "zz", "AAAA.example. ==== 9\nnil\n")
	f.Fuzz(func(t *testing.T, zone, qname string, qtype uint16, nxdomain bool, labels, hash uint8, iterations uint16, salt, records string) {
		nsec3s := fuzzNSEC3s(records, hash, iterations, salt)
		rcode := dns.RcodeSuccess
		if nxdomain {
			rcode = dns.RcodeNameError
		}
		insecure := []Reason{ReasonNoDS, ReasonNSEC3OptOut, ReasonNSEC3Iterations, ReasonUnsupportedAlgorithm}
		checkVocabulary(t, DenialNSEC3(zone, qname, qtype, rcode, nsec3s), ReasonNSEC3Denial, ReasonNSEC3Proof, insecure...)
		checkVocabulary(t, WildcardNSEC3(zone, qname, labels, nsec3s), ReasonNSEC3Denial, ReasonNSEC3Proof, insecure[2:]...)
	})
}
