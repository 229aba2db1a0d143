package dnssec

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// FuzzVerifyRRset feeds the records of arbitrary DNS messages to
// VerifyRRset and VerifyDNSKEYs: the first answer RRset, every RRSIG, and
// the DNSKEY and DS records of the message. They must never panic.
func FuzzVerifyRRset(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		msg := new(dns.Msg)
		if err := msg.Unpack(data); err != nil {
			return
		}
		var sigs []*dns.RRSIG
		var keys []*dns.DNSKEY
		var ds []*dns.DS
		for _, r := range append(append([]dns.RR{}, msg.Answer...), msg.Extra...) {
			switch x := r.(type) {
			case *dns.RRSIG:
				sigs = append(sigs, x)
			case *dns.DNSKEY:
				keys = append(keys, x)
			case *dns.DS:
				ds = append(ds, x)
			}
		}
		for _, r := range msg.Answer {
			if _, ok := r.(*dns.RRSIG); ok {
				continue
			}
			h := r.Header()
			rrs, _ := rrsetOf(msg.Answer, dns.CanonicalName(h.Name), h.Rrtype)
			got := VerifyRRset(rrs, sigs, keys, testNow)
			checkResult(t, got)
			break
		}
		k, got := VerifyDNSKEYs(keys, sigs, ds, testNow)
		checkResult(t, got)
		if got.Status != Secure && k != nil {
			t.Errorf("keys returned with status %s", got.Status)
		}
	})
}

// FuzzValidate validates arbitrary DNS messages for their own question,
// with a Fetch that answers every query with the same message and the DS
// and DNSKEY records of its additional section as trust anchors. It must
// never panic or hang.
func FuzzValidate(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		msg := new(dns.Msg)
		if err := msg.Unpack(data); err != nil || len(msg.Question) == 0 {
			return
		}
		var anchors []dns.RR
		for _, r := range msg.Extra {
			switch r.(type) {
			case *dns.DS, *dns.DNSKEY:
				anchors = append(anchors, r)
			}
		}
		if len(anchors) == 0 {
			anchors = RootAnchors()
		}
		v := &Validator{
			Anchors: anchors,
			Fetch: func(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
				return msg.Copy(), nil
			},
			Now:      func() time.Time { return testNow },
			MaxZones: 64,
		}
		q := msg.Question[0]
		checkResult(t, v.Validate(t.Context(), q.Name, q.Qtype, msg))
		_, r := v.ZoneKeys(t.Context(), q.Name)
		checkResult(t, r)
	})
}

// checkResult fails when a Result is outside the closed vocabulary.
func checkResult(t *testing.T, r Result) {
	t.Helper()
	switch r.Status {
	case Secure, Insecure, Bogus, Indeterminate:
	default:
		t.Fatalf("status %q outside the vocabulary: %+v", r.Status, r)
	}
	if r.Status != Secure && r.Reason == ReasonNone {
		t.Fatalf("status %s without a reason: %+v", r.Status, r)
	}
}
