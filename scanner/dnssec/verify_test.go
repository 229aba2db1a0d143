package dnssec

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestVerifyRRsetAlgorithms(t *testing.T) {
	tests := []struct {
		name string
		alg  uint8
	}{
		{"RSASHA1", dns.RSASHA1},
		{"RSASHA1-NSEC3-SHA1", dns.RSASHA1NSEC3SHA1},
		{"RSASHA256", dns.RSASHA256},
		{"RSASHA512", dns.RSASHA512},
		{"ECDSAP256SHA256", dns.ECDSAP256SHA256},
		{"ECDSAP384SHA384", dns.ECDSAP384SHA384},
		{"ED25519", dns.ED25519},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := newKey(t, "example.", 256, tc.alg)
			rrs := []dns.RR{rr(t, "mail.example. 300 IN A 192.0.2.25"), rr(t, "mail.example. 300 IN A 192.0.2.26")}
			s := sign(t, rrs, "example.", k, testNow.Add(-time.Hour), testNow.Add(time.Hour))
			got := VerifyRRset(rrs, []*dns.RRSIG{s}, []*dns.DNSKEY{k.key}, testNow)
			if got.Status != Secure || got.Zone != "example." || !slices.Equal(got.Algorithms, []uint8{tc.alg}) {
				t.Errorf("VerifyRRset = %+v, want secure in example. with algorithm %d", got, tc.alg)
			}
		})
	}
}

func TestVerifyRRset(t *testing.T) {
	k := newKey(t, "example.", 256, dns.ED25519)
	other := newKey(t, "example.", 256, dns.ED25519)
	rrs := []dns.RR{rr(t, "mail.example. 300 IN A 192.0.2.25")}
	valid := func() *dns.RRSIG { return sign(t, rrs, "example.", k, testNow.Add(-time.Hour), testNow.Add(time.Hour)) }
	wild := []dns.RR{rr(t, "*.example. 300 IN A 192.0.2.25")}
	wildSig := sign(t, wild, "example.", k, testNow.Add(-time.Hour), testNow.Add(time.Hour))
	tests := []struct {
		name   string
		rrs    []dns.RR
		sigs   []*dns.RRSIG
		keys   []*dns.DNSKEY
		want   Status
		reason Reason
		detail string
	}{
		{name: "valid", rrs: rrs, sigs: []*dns.RRSIG{valid()}, keys: []*dns.DNSKEY{k.key}, want: Secure},
		{name: "no records", sigs: []*dns.RRSIG{valid()}, keys: []*dns.DNSKEY{k.key}, want: Bogus, reason: ReasonMalformed},
		{name: "nil everywhere", rrs: []dns.RR{nil}, sigs: []*dns.RRSIG{nil}, keys: []*dns.DNSKEY{nil}, want: Bogus, reason: ReasonMalformed},
		{name: "no RRSIG", rrs: rrs, keys: []*dns.DNSKEY{k.key}, want: Bogus, reason: ReasonNoRRSIG},
		{name: "unknown key", rrs: rrs, sigs: []*dns.RRSIG{valid()}, keys: []*dns.DNSKEY{other.key}, want: Bogus, reason: ReasonRRSIGUnknownKey},
		{
			name: "one valid RRSIG among bad ones is enough", rrs: rrs, keys: []*dns.DNSKEY{k.key}, want: Secure,
			sigs: []*dns.RRSIG{flipSignature(t, valid()), sign(t, rrs, "example.", other, testNow.Add(-time.Hour), testNow.Add(time.Hour)), valid()},
		},
		{
			name: "invalid beats unknown key", rrs: rrs, keys: []*dns.DNSKEY{k.key}, want: Bogus, reason: ReasonSignatureInvalid,
			sigs: []*dns.RRSIG{sign(t, rrs, "example.", other, testNow.Add(-time.Hour), testNow.Add(time.Hour)), flipSignature(t, valid())},
		},
		{
			name: "unsupported algorithm", rrs: rrs, want: Insecure, reason: ReasonUnsupportedAlgorithm,
			sigs: func() []*dns.RRSIG {
				s := valid()
				s.Algorithm = 253
				return []*dns.RRSIG{s}
			}(),
			keys: func() []*dns.DNSKEY {
				c := dns.Copy(k.key).(*dns.DNSKEY)
				c.Algorithm = 253
				return []*dns.DNSKEY{c}
			}(),
		},
		{
			name: "unsupported algorithm beside supported keys is no downgrade", rrs: rrs, keys: []*dns.DNSKEY{k.key},
			want: Bogus, reason: ReasonRRSIGUnknownKey,
			sigs: func() []*dns.RRSIG {
				s := valid()
				s.Algorithm = 253
				return []*dns.RRSIG{s}
			}(),
		},
		{
			name: "key without zone flag", rrs: rrs, sigs: []*dns.RRSIG{valid()}, want: Bogus, reason: ReasonRRSIGUnknownKey,
			keys: func() []*dns.DNSKEY {
				c := dns.Copy(k.key).(*dns.DNSKEY)
				c.Flags = 0
				return []*dns.DNSKEY{c}
			}(),
		},
		{
			name: "wildcard expansion", keys: []*dns.DNSKEY{k.key}, want: Secure, detail: "wildcard expansion of *.example.",
			rrs: []dns.RR{rr(t, "a.b.example. 300 IN A 192.0.2.25")},
			sigs: func() []*dns.RRSIG {
				s := dns.Copy(wildSig).(*dns.RRSIG)
				s.Hdr.Name = "a.b.example."
				return []*dns.RRSIG{s}
			}(),
		},
		{
			name: "absurd times", rrs: rrs, keys: []*dns.DNSKEY{k.key}, want: Bogus, reason: ReasonSignatureExpired,
			sigs: func() []*dns.RRSIG {
				s := valid()
				s.Inception, s.Expiration = uint32(testNow.Unix())+1<<30, uint32(testNow.Unix())-1
				return []*dns.RRSIG{s}
			}(),
		},
		{
			name: "garbage signature", rrs: rrs, keys: []*dns.DNSKEY{k.key}, want: Bogus, reason: ReasonSignatureInvalid,
			sigs: func() []*dns.RRSIG {
				s := valid()
				s.Signature = strings.Repeat("A", 10000)
				return []*dns.RRSIG{s}
			}(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := VerifyRRset(tc.rrs, tc.sigs, tc.keys, testNow)
			if got.Status != tc.want || got.Reason != tc.reason {
				t.Errorf("VerifyRRset = %s/%s (%s), want %s/%s", got.Status, got.Reason, got.Detail, tc.want, tc.reason)
			}
			if tc.detail != "" && got.Detail != tc.detail {
				t.Errorf("Detail = %q, want %q", got.Detail, tc.detail)
			}
		})
	}
}

func TestWindow(t *testing.T) {
	now := time.Date(2106, 2, 7, 6, 28, 0, 0, time.UTC) // just before the 32-bit wrap
	s := &dns.RRSIG{Inception: uint32(now.Add(-time.Hour).Unix()), Expiration: uint32(now.Add(time.Hour).Unix())}
	if expired, early := window(s, now); expired || early {
		t.Errorf("window across the wrap: expired=%v notYetValid=%v, want both false", expired, early)
	}
}

func TestVerifyDNSKEYs(t *testing.T) {
	ksk := newKey(t, "example.", 257, dns.ECDSAP256SHA256)
	zsk := newKey(t, "example.", 256, dns.ECDSAP256SHA256)
	set := []*dns.DNSKEY{ksk.key, zsk.key}
	rrs := []dns.RR{ksk.key, zsk.key}
	bySEP := []*dns.RRSIG{sign(t, rrs, "example.", ksk, testNow.Add(-time.Hour), testNow.Add(time.Hour))}
	byZSK := []*dns.RRSIG{sign(t, rrs, "example.", zsk, testNow.Add(-time.Hour), testNow.Add(time.Hour))}
	ds := func(d uint8) *dns.DS { return ksk.key.ToDS(d) }
	sha1Wrong := ds(dns.SHA1)
	sha1Wrong.Digest = strings.Repeat("0", 40)
	upper := ds(dns.SHA256)
	upper.Digest = strings.ToUpper(upper.Digest)
	tests := []struct {
		name   string
		keys   []*dns.DNSKEY
		sigs   []*dns.RRSIG
		ds     []*dns.DS
		want   Status
		reason Reason
	}{
		{"SHA-256", set, bySEP, []*dns.DS{ds(dns.SHA256)}, Secure, ReasonNone},
		{"SHA-1", set, bySEP, []*dns.DS{ds(dns.SHA1)}, Secure, ReasonNone},
		{"SHA-384", set, bySEP, []*dns.DS{ds(dns.SHA384)}, Secure, ReasonNone},
		{"uppercase digest", set, bySEP, []*dns.DS{upper}, Secure, ReasonNone},
		{"SHA-1 ignored beside SHA-256", set, bySEP, []*dns.DS{sha1Wrong, ds(dns.SHA256)}, Secure, ReasonNone},
		{"no DNSKEY", nil, nil, []*dns.DS{ds(dns.SHA256)}, Bogus, ReasonNoDNSKEY},
		{"DS of the ZSK missing", []*dns.DNSKEY{zsk.key}, byZSK, []*dns.DS{ds(dns.SHA256)}, Bogus, ReasonDSMismatch},
		{"signed by the ZSK only", set, byZSK, []*dns.DS{ds(dns.SHA256)}, Bogus, ReasonDNSKEYNotSignedBySEP},
		{"not signed", set, nil, []*dns.DS{ds(dns.SHA256)}, Bogus, ReasonDNSKEYNotSignedBySEP},
		{"SHA-512 digest only", set, bySEP, []*dns.DS{ds(dns.SHA512)}, Insecure, ReasonUnsupportedDigest},
		{"nil DS", set, bySEP, []*dns.DS{nil}, Insecure, ReasonUnsupportedAlgorithm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, got := VerifyDNSKEYs(tc.keys, tc.sigs, tc.ds, testNow)
			if got.Status != tc.want || got.Reason != tc.reason {
				t.Errorf("VerifyDNSKEYs = %s/%s (%s), want %s/%s", got.Status, got.Reason, got.Detail, tc.want, tc.reason)
			}
			if (got.Status == Secure) != (len(keys) == 2) {
				t.Errorf("got %d keys with status %s", len(keys), got.Status)
			}
		})
	}
}
