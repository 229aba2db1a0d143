package dnssec

import (
	"crypto/sha256"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestSignedDataAgreesWithMiekg signs RRsets of the types whose canonical
// form lowercases names, in mixed case, out of order and with duplicates,
// with miekg/dns (whose own canonicalisation is the oracle) and checks
// that this package's verifier accepts them, and rejects them once one
// octet of data changes.
func TestSignedDataAgreesWithMiekg(t *testing.T) {
	k := newKey(t, "example.", 256, dns.ED25519)
	tests := []struct {
		name    string
		records []string
		changed string // a record that must break the signature
	}{
		{"A", []string{"Mail.Example. 300 IN A 192.0.2.26", "mail.example. 300 IN A 192.0.2.25"}, "mail.example. 300 IN A 192.0.2.27"},
		{"MX mixed case", []string{"example. 300 IN MX 20 MX2.Example.Net.", "example. 300 IN MX 10 mx1.example.net."}, "example. 300 IN MX 10 mx3.example.net."},
		{"MX duplicate", []string{"example. 300 IN MX 10 mx.example.net.", "example. 300 IN MX 10 MX.example.net."}, "example. 300 IN MX 11 mx.example.net."},
		{"SOA", []string{"example. 300 IN SOA NS1.Example. Hostmaster.Example. 2026112901 7200 3600 1209600 300"}, "example. 300 IN SOA ns1.example. hostmaster.example. 2026112902 7200 3600 1209600 300"},
		{"CNAME", []string{"www.example. 300 IN CNAME Target.Example.Org."}, "www.example. 300 IN CNAME other.example.org."},
		{"NS", []string{"example. 300 IN NS B.ns.example.", "example. 300 IN NS a.NS.example."}, "example. 300 IN NS c.ns.example."},
		{"SRV", []string{"_smtp._tcp.example. 300 IN SRV 0 5 25 MX.Example."}, "_smtp._tcp.example. 300 IN SRV 0 5 26 mx.example."},
		{"NAPTR", []string{`example. 300 IN NAPTR 100 10 "S" "SIP+D2U" "" _Sip._UDP.Example.`}, `example. 300 IN NAPTR 100 10 "S" "SIP+D2U" "" _sip._tcp.example.`},
		{"TXT case kept", []string{`example. 300 IN TXT "v=STSv1; id=ABC"`, `example. 300 IN TXT "b"`}, `example. 300 IN TXT "v=STSv1; id=abc"`},
		{"TLSA", []string{"_25._tcp.mx.example. 300 IN TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"}, "_25._tcp.mx.example. 300 IN TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D7"},
		{"NSEC", []string{"example. 300 IN NSEC Mail.Example. A NS SOA MX RRSIG NSEC DNSKEY"}, "example. 300 IN NSEC mail.example. A NS SOA RRSIG NSEC DNSKEY"},
		{"wildcard", []string{"*.example. 300 IN TXT \"w\""}, "*.example. 300 IN TXT \"x\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rrs []dns.RR
			for _, s := range tc.records {
				rrs = append(rrs, rr(t, s))
			}
			s := sign(t, rrs, "example.", k, testNow.Add(-time.Hour), testNow.Add(time.Hour))
			vf := &verifier{counters: &Counters{}}
			if err := vf.verify(s, k.key, rrs); err != nil {
				t.Fatalf("verify of a miekg/dns signature: %v", err)
			}
			bad := append([]dns.RR{rr(t, tc.changed)}, rrs[1:]...)
			if err := vf.verify(s, k.key, bad); err == nil {
				t.Errorf("verify accepted %q under the signature of %q", tc.changed, tc.records[0])
			}
			if strings.HasPrefix(tc.records[0], "*.") {
				// A wildcard expansion: the RRset at a name below the
				// wildcard carries the wildcard's signature.
				exp := dns.Copy(rrs[0])
				exp.Header().Name = "a.b.example."
				if err := vf.verify(s, k.key, []dns.RR{exp}); err != nil {
					t.Errorf("verify of the expansion at a.b.example.: %v", err)
				}
			}
		})
	}
}

// TestVerifierRemembers checks that a signature met twice is verified once,
// that the second check is counted as a hit, and that a different RRset
// under the same signature is not taken from the cache.
func TestVerifierRemembers(t *testing.T) {
	for _, alg := range []uint8{dns.ED25519, dns.ECDSAP256SHA256, dns.RSASHA256} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) {
			k := newKey(t, "example.", 256, alg)
			rrs := []dns.RR{rr(t, "example. 300 IN MX 10 mx.example.net.")}
			s := sign(t, rrs, "example.", k, testNow.Add(-time.Hour), testNow.Add(time.Hour))
			c := &Counters{}
			vf := &verifier{counters: c}
			for range 3 {
				if err := vf.verify(s, k.key, rrs); err != nil {
					t.Fatal(err)
				}
			}
			if v, h := c.Verifications.Load(), c.SignatureHits.Load(); v != 1 || h != 2 {
				t.Errorf("3 checks of one signature: %d verifications, %d hits; want 1 and 2", v, h)
			}
			other := []dns.RR{rr(t, "example. 300 IN MX 10 evil.example.net.")}
			if err := vf.verify(s, k.key, other); err == nil {
				t.Error("a remembered signature validated a different RRset")
			}
			if v := c.Verifications.Load(); v != 2 {
				t.Errorf("the different RRset made %d verifications in all, want 2", v)
			}
		})
	}
}

// TestDecodeKeyRejectsMalformed checks that keys of the wrong size or
// shape become errors.
func TestDecodeKeyRejectsMalformed(t *testing.T) {
	tests := []struct {
		name string
		alg  uint8
		key  string
	}{
		{"not base64", dns.ED25519, "!!!"},
		{"short Ed25519", dns.ED25519, "AAAA"},
		{"short ECDSA", dns.ECDSAP256SHA256, "AAAA"},
		{"ECDSA point not on the curve", dns.ECDSAP256SHA256, strings.Repeat("A", 86) + "=="},
		{"RSA exponent too long", dns.RSASHA256, "CgEBAQEBAQEBAQE="},
		{"RSA empty", dns.RSASHA256, ""},
		{"unknown algorithm", 200, "AAAA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pk := decodeKey(&dns.DNSKEY{Algorithm: tc.alg, PublicKey: tc.key})
			if pk.err == nil {
				t.Errorf("decodeKey(%d, %q) accepted a malformed key", tc.alg, tc.key)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []uint8{dns.ED25519, dns.ECDSAP256SHA256, dns.RSASHA256} {
		k := newKey(b, "example.", 256, alg)
		rrs := []dns.RR{rr(b, "example. 300 IN MX 10 mx1.example.net."), rr(b, "example. 300 IN MX 20 mx2.example.net.")}
		s := sign(b, rrs, "example.", k, testNow.Add(-time.Hour), testNow.Add(time.Hour))
		b.Run("miekg/"+dns.AlgorithmToString[alg], func(b *testing.B) {
			for b.Loop() {
				if err := s.Verify(k.key, rrs); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("danescan/"+dns.AlgorithmToString[alg], func(b *testing.B) {
			vf := &verifier{}
			vf.key(k.key) // decoded once per scan
			for b.Loop() {
				vf.mu.Lock()
				clear(vf.verified)
				vf.mu.Unlock()
				if err := vf.verify(s, k.key, rrs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestVerifiedTableBounded: the table of verified signatures does not grow
// with the scan, and the latest signatures are still found in it.
func TestVerifiedTableBounded(t *testing.T) {
	vf := &verifier{}
	digest := func(i int) [32]byte { return sha256.Sum256([]byte(strconv.Itoa(i))) }
	const n = 300_000
	for i := range n {
		vf.remember(digest(i))
	}
	if len(vf.verified) != 1<<16 {
		t.Errorf("after %d signatures the table has %d slots, want 65,536 (DefaultMaxVerified rounded up)", n, len(vf.verified))
	}
	hits := 0
	for i := n - 100; i < n; i++ {
		d := digest(i)
		if vf.verified[vf.slot(d)] == d {
			hits++
		}
	}
	if hits < 99 {
		t.Errorf("%d of the last 100 signatures are remembered, want at least 99", hits)
	}
}
