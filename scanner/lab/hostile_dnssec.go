package lab

import (
	"encoding/base64"
	"strings"

	"github.com/miekg/dns"
)

// Building blocks for DNSSEC answers that are hostile to a validator
// (issue 11): absurd key and signature sizes, NSEC3 iteration counts far
// above RFC 9276's advice. They are records, not zones: a test puts them
// into the answers of its own signed world with Rewrite.

// Rewrite returns a handler that answers with h and passes every answer
// through f before it is written; f may change m in place. The query is
// q, which f must not change.
func Rewrite(h dns.Handler, f func(q, m *dns.Msg)) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		h.ServeDNS(&rewriter{ResponseWriter: w, q: q, f: f}, q)
	})
}

type rewriter struct {
	dns.ResponseWriter
	q *dns.Msg
	f func(q, m *dns.Msg)
}

func (r *rewriter) WriteMsg(m *dns.Msg) error {
	r.f(r.q, m)
	return r.ResponseWriter.WriteMsg(m)
}

// HugeRSAKey returns a zone-signing DNSKEY at owner with algorithm
// RSASHA256 and a modulus of n bytes (RFC 3110 encoding: exponent length
// 3, exponent 65537, modulus); RFC 3110 sets no upper bound, a validator
// must.
func HugeRSAKey(owner string, n int) *dns.DNSKEY {
	raw := make([]byte, 4+n)
	copy(raw, []byte{3, 1, 0, 1})
	raw[4], raw[len(raw)-1] = 0xc1, 1
	return &dns.DNSKEY{Hdr: dns.RR_Header{Name: dns.Fqdn(owner), Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: 256, Protocol: 3, Algorithm: dns.RSASHA256, PublicKey: base64.StdEncoding.EncodeToString(raw)}
}

// HugeSignature returns a copy of sig whose signature is n zero bytes.
func HugeSignature(sig *dns.RRSIG, n int) *dns.RRSIG {
	c := dns.Copy(sig).(*dns.RRSIG)
	c.Signature = base64.StdEncoding.EncodeToString(make([]byte, n))
	return c
}

// NSEC3NoData returns the NSEC3 record (SHA-1, no salt) that matches name
// in zone and lists types, with the given iteration count: the NODATA
// proof of RFC 5155 §8.5 for any type not in types. Its owner hash is
// computed here, so 65,000 iterations cost one hash chain of that length.
func NSEC3NoData(zone, name string, iterations uint16, types []uint16) *dns.NSEC3 {
	hash := dns.HashName(dns.Fqdn(name), dns.SHA1, iterations, "")
	return &dns.NSEC3{Hdr: dns.RR_Header{Name: strings.ToLower(hash) + "." + dns.Fqdn(zone), Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: 300},
		Hash: dns.SHA1, Iterations: iterations, HashLength: 20, NextDomain: hash, TypeBitMap: types}
}
