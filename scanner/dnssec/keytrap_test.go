package dnssec

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestKeyTrapBudget: many invalid signatures that all name the zone's key
// (KeyTrap, CVE-2023-50387, with one key) cost maxVerifications checks,
// not one per signature; the genuine signature among the first
// maxVerifications candidates still validates.
func TestKeyTrapBudget(t *testing.T) {
	k := newKey(t, "trap.test.", 256, dns.ECDSAP256SHA256)
	rrs := []dns.RR{rr(t, "trap.test. 300 IN MX 10 mx.trap.test.")}
	good := sign(t, rrs, "trap.test.", k, testNow.Add(-time.Hour), testNow.Add(time.Hour))
	bad := func() *dns.RRSIG { return flipSignature(t, good) }
	var sigs []*dns.RRSIG
	for range 100 {
		sigs = append(sigs, bad())
	}
	var c Counters
	vf := &verifier{counters: &c}
	r, _ := vf.verifyRRset(rrs, sigs, []*dns.DNSKEY{k.key}, testNow)
	if r.Status != Bogus || r.Reason != ReasonSignatureInvalid || !strings.Contains(r.Detail, "CVE-2023-50387") {
		t.Errorf("100 bad signatures: %s/%s (%s), want bogus/signature_invalid naming the budget", r.Status, r.Reason, r.Detail)
	}
	if n := c.Verifications.Load(); n != maxVerifications {
		t.Errorf("%d verifications, want %d", n, maxVerifications)
	}

	sigs = append(sigs[:maxVerifications-1:maxVerifications-1], good)
	sigs = append(sigs, bad(), bad())
	if r, s := vf.verifyRRset(rrs, sigs, []*dns.DNSKEY{k.key}, testNow); r.Status != Secure || s != good {
		t.Errorf("genuine signature at %d: %s/%s (%s), want secure", maxVerifications, r.Status, r.Reason, r.Detail)
	}
}
