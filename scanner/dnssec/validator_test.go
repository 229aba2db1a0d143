package dnssec

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/miekg/dns"
)

func TestValidate(t *testing.T) {
	www := query{"www.good.test.", dns.TypeA}
	goodDS := query{"good.test.", dns.TypeDS}
	goodKeys := query{"good.test.", dns.TypeDNSKEY}
	tests := []struct {
		name string
		q    query
		// breakIt breaks the tree in exactly one way.
		breakIt func(t *testing.T, w *world, v *Validator)
		want    Status
		reason  Reason
	}{
		{name: "secure", q: www, want: Secure},
		{name: "secure CNAME chain", q: query{"alias.good.test.", dns.TypeA}, want: Secure},
		{name: "secure DNAME", q: query{"www.dname.good.test.", dns.TypeA}, want: Secure},
		{
			name: "DNAME without signature", q: query{"www.dname.good.test.", dns.TypeA}, want: Bogus, reason: ReasonNoRRSIG,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				q := query{"www.dname.good.test.", dns.TypeA}
				w.data[q] = slices.DeleteFunc(w.data[q], func(r dns.RR) bool {
					s, ok := r.(*dns.RRSIG)
					return ok && s.TypeCovered == dns.TypeDNAME
				})
			},
		},
		{name: "secure with a DNSKEY trust anchor", q: www, want: Secure,
			breakIt: func(t *testing.T, w *world, v *Validator) { v.Anchors = []dns.RR{w.keys["."][0].key} }},
		{
			name: "expired RRSIG", q: www, want: Bogus, reason: ReasonSignatureExpired,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				w.resign(www, "good.test.", w.signer("good.test."), testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour))
			},
		},
		{
			name: "RRSIG not yet valid", q: www, want: Bogus, reason: ReasonSignatureNotYetValid,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				w.resign(www, "good.test.", w.signer("good.test."), testNow.Add(24*time.Hour), testNow.Add(48*time.Hour))
			},
		},
		{
			name: "missing RRSIG", q: www, want: Bogus, reason: ReasonNoRRSIG,
			breakIt: func(t *testing.T, w *world, v *Validator) { w.data[www] = w.records(www) },
		},
		{
			name: "RRSIG by a key not in the DNSKEY set", q: www, want: Bogus, reason: ReasonRRSIGUnknownKey,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				w.resign(www, "good.test.", newKey(t, "good.test.", 256, dns.ECDSAP384SHA384), testNow.Add(-time.Hour), testNow.Add(time.Hour))
			},
		},
		{
			name: "bit-flipped signature", q: www, want: Bogus, reason: ReasonSignatureInvalid,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				w.data[www] = append(w.records(www), flipSignature(t, w.sigs(www)[0]))
			},
		},
		{
			name: "RRSIG labels above the owner's", q: www, want: Bogus, reason: ReasonMalformed,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				s := w.sigs(www)[0]
				s.Labels = 9
				w.data[www] = append(w.records(www), s)
			},
		},
		{
			name: "RRSIG signer not above the owner", q: www, want: Bogus, reason: ReasonZoneCutLoop,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				w.resign(www, "other.test.", w.signer("good.test."), testNow.Add(-time.Hour), testNow.Add(time.Hour))
			},
		},
		{
			name: "DNSKEY set not signed by the DS key", q: www, want: Bogus, reason: ReasonDNSKEYNotSignedBySEP,
			breakIt: func(t *testing.T, w *world, v *Validator) { w.putKeys("good.test.", 1) },
		},
		{
			name: "DNSKEY signature expired", q: www, want: Bogus, reason: ReasonSignatureExpired,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				w.resign(goodKeys, "good.test.", w.keys["good.test."][0], testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour))
			},
		},
		{
			name: "DS digest mismatch", q: www, want: Bogus, reason: ReasonDSMismatch,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				ds := w.keys["good.test."][0].key.ToDS(dns.SHA256)
				ds.Digest = "00" + ds.Digest[2:]
				w.putDS("good.test.", ds)
			},
		},
		{
			name: "DS digest in lowercase still matches", q: www, want: Secure,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				w.putDS("good.test.", w.keys["good.test."][0].key.ToDS(dns.SHA384))
			},
		},
		{
			name: "no DNSKEY", q: www, want: Bogus, reason: ReasonNoDNSKEY,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				delete(w.data, goodKeys)
				w.neg[goodKeys] = new(dns.Msg)
			},
		},
		{
			name: "DS with an unknown algorithm", q: www, want: Insecure, reason: ReasonUnsupportedAlgorithm,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				ds := w.keys["good.test."][0].key.ToDS(dns.SHA256)
				ds.Algorithm = 200
				w.putDS("good.test.", ds)
			},
		},
		{
			name: "DS with an unknown digest type", q: www, want: Insecure, reason: ReasonUnsupportedDigest,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				ds := w.keys["good.test."][0].key.ToDS(dns.SHA256)
				ds.DigestType = 99
				w.putDS("good.test.", ds)
			},
		},
		{
			name: "DS lookup fails", q: www, want: Indeterminate, reason: ReasonLookupFailed,
			breakIt: func(t *testing.T, w *world, v *Validator) { w.fail[goodDS] = true },
		},
		{
			name: "DNSKEY lookup SERVFAIL", q: www, want: Indeterminate, reason: ReasonLookupFailed,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				m := new(dns.Msg)
				m.Rcode = dns.RcodeServerFailure
				w.neg[goodKeys] = m
			},
		},
		{
			name: "no trust anchor above the name", q: www, want: Indeterminate, reason: ReasonNoTrustAnchor,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				v.Anchors = []dns.RR{rr(t, "example. 3600 IN DS 1 13 2 0000000000000000000000000000000000000000000000000000000000000000")}
			},
		},
		{
			name: "DNSKEY trust anchor of an unknown algorithm", q: www, want: Insecure, reason: ReasonUnsupportedAlgorithm,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				k := dns.Copy(w.keys["."][0].key).(*dns.DNSKEY)
				k.Algorithm = 253
				v.Anchors = []dns.RR{k}
			},
		},
		{
			name: "DS re-signed with an unknown algorithm is no downgrade", q: www, want: Bogus, reason: ReasonRRSIGUnknownKey,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				s := w.sigs(goodDS)[0]
				s.Algorithm = 253
				w.data[goodDS] = append(w.records(goodDS), s)
			},
		},
		{name: "CNAME loop", q: query{"loop.good.test.", dns.TypeA}, want: Bogus, reason: ReasonCNAMELoop},
		{name: "unsigned zone", q: query{"www.unsigned.test.", dns.TypeA}, want: Insecure, reason: ReasonNoDS},
		{name: "the wildcard itself", q: query{"*.wild.good.test.", dns.TypeA}, want: Secure},
		{name: "wildcard expansion", q: query{"a.wild.good.test.", dns.TypeA}, want: Secure},
		{name: "NODATA", q: query{"www.good.test.", dns.TypeAAAA}, want: Secure, reason: ReasonNSECDenial},
		{name: "NXDOMAIN without proof", q: query{"nx.good.test.", dns.TypeA}, want: Bogus, reason: ReasonNSECProof},
		{
			name: "RRSIG signer is no zone cut", q: www, want: Bogus, reason: ReasonZoneCutLoop,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				w.resign(www, "www.good.test.", newKey(t, "www.good.test.", 257, dns.ED25519), testNow.Add(-time.Hour), testNow.Add(time.Hour))
			},
		},
		{name: "secure in an NSEC3 zone", q: query{"www.n3.test.", dns.TypeA}, want: Secure},
		{name: "NSEC3 NODATA", q: query{"www.n3.test.", dns.TypeAAAA}, want: Secure, reason: ReasonNSEC3Denial},
		{name: "NSEC3 unsigned delegation", q: query{"www.unsigned.n3.test.", dns.TypeA}, want: Insecure, reason: ReasonNoDS},
		{
			name: "NSEC3 with a bit-flipped signature", q: query{"www.n3.test.", dns.TypeAAAA}, want: Bogus, reason: ReasonSignatureInvalid,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				m := w.neg[query{"www.n3.test.", dns.TypeAAAA}]
				m.Ns[3] = flipSignature(t, m.Ns[3].(*dns.RRSIG))
			},
		},
		{
			name: "NODATA without NSEC", q: query{"www.good.test.", dns.TypeAAAA}, want: Bogus, reason: ReasonNSECProof,
			breakIt: func(t *testing.T, w *world, v *Validator) {
				q := query{"www.good.test.", dns.TypeAAAA}
				w.neg[q].Ns = w.neg[q].Ns[:2]
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			v := w.validator()
			if tc.breakIt != nil {
				tc.breakIt(t, w, v)
			}
			msg, err := w.Fetch(t.Context(), tc.q.name, tc.q.qtype)
			if err != nil {
				t.Fatal(err)
			}
			got := v.Validate(t.Context(), tc.q.name, tc.q.qtype, msg)
			if got.Status != tc.want || got.Reason != tc.reason {
				t.Errorf("Validate(%s %s) = %s/%s (%s), want %s/%s",
					tc.q.name, dns.TypeToString[tc.q.qtype], got.Status, got.Reason, got.Detail, tc.want, tc.reason)
			}
		})
	}
}

func TestValidateAlgorithms(t *testing.T) {
	w := newWorld(t)
	got := w.validator().Validate(t.Context(), "www.good.test.", dns.TypeA, mustFetch(t, w, "www.good.test.", dns.TypeA))
	if got.Status != Secure || got.Zone != "good.test." || !slices.Equal(got.Algorithms, []uint8{dns.ECDSAP384SHA384}) {
		t.Errorf("got %+v, want secure in good.test. with algorithm 14", got)
	}
}

func TestValidateHostileResponses(t *testing.T) {
	w := newWorld(t)
	v := w.validator()
	hostile := []struct {
		name string
		msg  *dns.Msg
	}{
		{"nil", nil},
		{"empty", new(dns.Msg)},
		{"nil records", &dns.Msg{Answer: []dns.RR{nil}, Ns: []dns.RR{nil}}},
		{"bare RRSIG", &dns.Msg{Answer: []dns.RR{&dns.RRSIG{Hdr: dns.RR_Header{Name: "www.good.test.", Rrtype: dns.TypeRRSIG}, TypeCovered: dns.TypeA, Labels: 255, SignerName: ".."}}}},
		{"header type lies", &dns.Msg{Answer: []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "www.good.test.", Rrtype: dns.TypeCNAME, Class: dns.ClassINET}}}}},
		{"signer absurd", &dns.Msg{Answer: []dns.RR{
			rr(t, "www.good.test. 3600 IN A 192.0.2.1"),
			&dns.RRSIG{Hdr: dns.RR_Header{Name: "www.good.test.", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET}, TypeCovered: dns.TypeA, Algorithm: 13, Labels: 3, SignerName: "good.test.", Signature: "!!!", Expiration: 1<<32 - 1},
		}}},
	}
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			got := v.Validate(t.Context(), "www.good.test.", dns.TypeA, h.msg)
			if got.Status == Secure {
				t.Errorf("got secure for a hostile response: %+v", got)
			}
		})
	}
}

func mustFetch(t *testing.T, w *world, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m, err := w.Fetch(t.Context(), name, qtype)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestZoneKeysCaches(t *testing.T) {
	w := newWorld(t)
	v := w.validator()
	var counters Counters
	v.Counters = &counters
	keys, r := v.ZoneKeys(t.Context(), "good.test.")
	if r.Status != Secure || len(keys) != 2 {
		t.Fatalf("ZoneKeys(good.test.) = %d keys, %+v; want 2 keys, secure", len(keys), r)
	}
	fetched := []query{
		{".", dns.TypeDNSKEY}, {"test.", dns.TypeDS}, {"test.", dns.TypeDNSKEY},
		{"good.test.", dns.TypeDS}, {"good.test.", dns.TypeDNSKEY},
	}
	for _, q := range fetched {
		if n := w.count(q); n != 1 {
			t.Errorf("first call: %s %s fetched %d times, want 1", q.name, dns.TypeToString[q.qtype], n)
		}
	}
	if _, r := v.ZoneKeys(t.Context(), "GOOD.test"); r.Status != Secure {
		t.Fatalf("second ZoneKeys = %+v", r)
	}
	v.Validate(t.Context(), "www.good.test.", dns.TypeA, mustFetch(t, w, "www.good.test.", dns.TypeA))
	for _, q := range fetched {
		if n := w.count(q); n != 1 {
			t.Errorf("after second call: %s %s fetched %d times, want 1", q.name, dns.TypeToString[q.qtype], n)
		}
	}
	misses, hits := counters.CacheMisses.Load(), counters.CacheHits.Load()
	if misses == 0 || hits == 0 || counters.Verifications.Load() == 0 {
		t.Errorf("counters: %d misses, %d hits, %d verifications; want all counted", misses, hits, counters.Verifications.Load())
	}
	before := misses
	v.ZoneKeys(t.Context(), "good.test.")
	if counters.CacheMisses.Load() != before {
		t.Errorf("a cached zone counted as a miss")
	}
}

func TestZoneKeysSharesConcurrentFetches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		gate := make(chan struct{})
		w.gate = gate
		v := w.validator()
		results := make([]Result, 8)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() { _, results[i] = v.ZoneKeys(t.Context(), "good.test.") })
		}
		synctest.Wait() // every caller is now blocked in Fetch or waiting for it
		close(gate)
		wg.Wait()
		for i, r := range results {
			if r.Status != Secure {
				t.Errorf("caller %d: %+v", i, r)
			}
		}
		for _, q := range []query{{".", dns.TypeDNSKEY}, {"good.test.", dns.TypeDS}, {"good.test.", dns.TypeDNSKEY}} {
			if n := w.count(q); n != 1 {
				t.Errorf("%s %s fetched %d times by 8 concurrent callers, want 1", q.name, dns.TypeToString[q.qtype], n)
			}
		}
	})
}

func TestZoneKeysNotACut(t *testing.T) {
	w := newWorld(t)
	_, r := w.validator().ZoneKeys(t.Context(), "www.good.test.")
	if r.Status != Bogus || r.Reason != ReasonZoneCutLoop {
		t.Errorf("ZoneKeys(www.good.test.) = %+v, want bogus zone_cut_loop", r)
	}
}

func TestZoneKeysCacheBound(t *testing.T) {
	w := newWorld(t)
	v := w.validator()
	v.MaxZones = 2
	for range 2 {
		if _, r := v.ZoneKeys(t.Context(), "good.test."); r.Status != Secure {
			t.Fatalf("ZoneKeys = %+v", r)
		}
	}
	v.mu.Lock()
	n := len(v.names)
	v.mu.Unlock()
	if n > 2 {
		t.Errorf("cache holds %d names, want at most 2", n)
	}
}
