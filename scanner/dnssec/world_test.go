package dnssec

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testNow is the validation time of every test.
var testNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// zoneKey is a DNSKEY with its private key.
type zoneKey struct {
	key  *dns.DNSKEY
	priv crypto.Signer
}

// newKey generates a key for zone.
func newKey(t testing.TB, zone string, flags uint16, alg uint8) zoneKey {
	t.Helper()
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
	}
	bits := 256
	switch alg {
	case dns.ECDSAP384SHA384:
		bits = 384
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		bits = 1024
	}
	priv, err := k.Generate(bits)
	if err != nil {
		t.Fatalf("generate %s key: %v", zone, err)
	}
	return zoneKey{key: k, priv: priv.(crypto.Signer)}
}

// sign returns the RRSIG of rrs by k for zone, valid from incept to expire.
func sign(t testing.TB, rrs []dns.RR, zone string, k zoneKey, incept, expire time.Time) *dns.RRSIG {
	t.Helper()
	s := &dns.RRSIG{
		Hdr:        dns.RR_Header{Ttl: rrs[0].Header().Ttl},
		Algorithm:  k.key.Algorithm,
		KeyTag:     k.key.KeyTag(),
		SignerName: zone,
		Inception:  uint32(incept.Unix()),
		Expiration: uint32(expire.Unix()),
	}
	if err := s.Sign(k.priv, rrs); err != nil {
		t.Fatalf("sign %s: %v", rrs[0].Header().Name, err)
	}
	return s
}

// rr parses one record or fails the test.
func rr(t testing.TB, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return r
}

// query names one question.
type query struct {
	name  string
	qtype uint16
}

// world is a signed DNS tree served from memory by its Fetch method:
//
//	.                 signed (ECDSA P-256), trust anchor
//	test.             signed (Ed25519)
//	good.test.        signed (KSK P-256 signs DNSKEY, ZSK P-384 signs data)
//	unsigned.test.    delegated without DS, proven by an NSEC at test.
//
// Tests break it in exactly one way before validating.
type world struct {
	t    testing.TB
	keys map[string][]zoneKey // zone → [KSK, ZSK...]; the last key signs data
	data map[query][]dns.RR   // answers, RRSIGs included
	neg  map[query]*dns.Msg   // canned negative or odd responses
	fail map[query]bool       // Fetch returns an error
	// gate, when non-nil, blocks every Fetch until it is closed.
	gate chan struct{}

	mu    sync.Mutex
	calls map[query]int
}

// newWorld builds and signs the tree.
func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{
		t:     t,
		keys:  map[string][]zoneKey{},
		data:  map[query][]dns.RR{},
		neg:   map[query]*dns.Msg{},
		fail:  map[query]bool{},
		calls: map[query]int{},
	}
	w.keys["."] = []zoneKey{newKey(t, ".", 257, dns.ECDSAP256SHA256)}
	w.keys["test."] = []zoneKey{newKey(t, "test.", 257, dns.ED25519)}
	w.keys["good.test."] = []zoneKey{
		newKey(t, "good.test.", 257, dns.ECDSAP256SHA256),
		newKey(t, "good.test.", 256, dns.ECDSAP384SHA384),
	}
	w.keys["n3.test."] = []zoneKey{newKey(t, "n3.test.", 257, dns.ECDSAP256SHA256)}
	for _, z := range []string{".", "test.", "good.test.", "n3.test."} {
		w.putKeys(z, 0)
	}
	w.putDS("test.", w.keys["test."][0].key.ToDS(dns.SHA256))
	w.putDS("good.test.", w.keys["good.test."][0].key.ToDS(dns.SHA256))
	w.putDS("n3.test.", w.keys["n3.test."][0].key.ToDS(dns.SHA256))
	w.put("good.test.", rr(t, "www.good.test. 3600 IN A 192.0.2.1"))
	w.put("good.test.", rr(t, "alias.good.test. 3600 IN CNAME www.good.test."))
	w.put("good.test.", rr(t, "loop.good.test. 3600 IN CNAME loop2.good.test."))
	w.put("good.test.", rr(t, "loop2.good.test. 3600 IN CNAME loop.good.test."))
	w.put("good.test.", rr(t, "*.wild.good.test. 3600 IN A 192.0.2.3"))
	// A DNAME answer as a resolver returns it: the signed DNAME, the
	// unsigned synthesised CNAME, the signed target.
	w.put("good.test.", rr(t, "dname.good.test. 3600 IN DNAME good.test."))
	w.data[query{"www.dname.good.test.", dns.TypeA}] = append(append(
		slices.Clone(w.data[query{"dname.good.test.", dns.TypeDNAME}]),
		rr(t, "www.dname.good.test. 3600 IN CNAME www.good.test.")),
		w.data[query{"www.good.test.", dns.TypeA}]...)
	w.data[query{"www.unsigned.test.", dns.TypeA}] = []dns.RR{rr(t, "www.unsigned.test. 3600 IN A 192.0.2.2")}
	w.data[query{"unsigned.test.", dns.TypeNS}] = []dns.RR{rr(t, "unsigned.test. 3600 IN NS ns.unsigned.test.")}

	// No DS at unsigned.test.: NODATA from test. with its NSEC.
	w.neg[query{"unsigned.test.", dns.TypeDS}] = w.denial("test.", dns.RcodeSuccess,
		"unsigned.test. 3600 IN NSEC zz.test. NS RRSIG NSEC")
	// www.good.test. is no zone cut: NODATA for DS from good.test.
	w.neg[query{"www.good.test.", dns.TypeDS}] = w.denial("good.test.", dns.RcodeSuccess,
		"www.good.test. 3600 IN NSEC good.test. A RRSIG NSEC")
	w.neg[query{"www.good.test.", dns.TypeAAAA}] = w.denial("good.test.", dns.RcodeSuccess,
		"www.good.test. 3600 IN NSEC good.test. A RRSIG NSEC")

	// n3.test. denies with NSEC3 (no salt, no iterations, RFC 9276):
	// unsigned.n3.test. is delegated without DS.
	w.put("n3.test.", rr(t, "www.n3.test. 3600 IN A 192.0.2.4"))
	w.data[query{"www.unsigned.n3.test.", dns.TypeA}] = []dns.RR{rr(t, "www.unsigned.n3.test. 3600 IN A 192.0.2.5")}
	w.neg[query{"unsigned.n3.test.", dns.TypeDS}] = w.denial("n3.test.", dns.RcodeSuccess, nsec3(t, "unsigned.n3.test.", "NS"))
	w.neg[query{"www.n3.test.", dns.TypeAAAA}] = w.denial("n3.test.", dns.RcodeSuccess, nsec3(t, "www.n3.test.", "A RRSIG"))
	w.neg[query{"www.n3.test.", dns.TypeDS}] = w.denial("n3.test.", dns.RcodeSuccess, nsec3(t, "www.n3.test.", "A RRSIG"))
	return w
}

// nsec3 returns the NSEC3 record (SHA-1, no iterations, no salt) matching
// name in n3.test. with the given types.
func nsec3(t testing.TB, name, types string) string {
	t.Helper()
	next := dns.HashName("next.n3.test.", dns.SHA1, 0, "")
	return dns.HashName(name, dns.SHA1, 0, "") + ".n3.test. 3600 IN NSEC3 1 0 0 - " + next + " " + types
}

// signer returns the key of zone that signs data.
func (w *world) signer(zone string) zoneKey {
	ks := w.keys[zone]
	return ks[len(ks)-1]
}

// put stores rrs (one RRset) signed by zone's data key.
func (w *world) put(zone string, rrs ...dns.RR) {
	w.t.Helper()
	h := rrs[0].Header()
	w.data[query{dns.CanonicalName(h.Name), h.Rrtype}] = append(rrs,
		sign(w.t, rrs, zone, w.signer(zone), testNow.Add(-time.Hour), testNow.Add(24*time.Hour)))
}

// putKeys stores the DNSKEY RRset of zone signed by its key number signer.
func (w *world) putKeys(zone string, signer int) {
	w.t.Helper()
	var rrs []dns.RR
	for _, k := range w.keys[zone] {
		rrs = append(rrs, k.key)
	}
	w.data[query{zone, dns.TypeDNSKEY}] = append(rrs,
		sign(w.t, rrs, zone, w.keys[zone][signer], testNow.Add(-time.Hour), testNow.Add(24*time.Hour)))
}

// putDS stores the DS RRset of child, signed by its parent.
func (w *world) putDS(child string, ds ...*dns.DS) {
	w.t.Helper()
	rrs := make([]dns.RR, 0, len(ds))
	for _, d := range ds {
		rrs = append(rrs, d)
	}
	w.put(parentName(child), rrs...)
}

// denial returns a negative response from zone with the SOA and the given
// NSEC records, all signed.
func (w *world) denial(zone string, rcode int, nsecs ...string) *dns.Msg {
	w.t.Helper()
	m := new(dns.Msg)
	m.Rcode = rcode
	soa := []dns.RR{rr(w.t, zone+" 3600 IN SOA ns."+zone+" admin."+zone+" 1 7200 3600 1209600 3600")}
	m.Ns = append(m.Ns, soa[0], sign(w.t, soa, zone, w.signer(zone), testNow.Add(-time.Hour), testNow.Add(24*time.Hour)))
	for _, s := range nsecs {
		n := []dns.RR{rr(w.t, s)}
		m.Ns = append(m.Ns, n[0], sign(w.t, n, zone, w.signer(zone), testNow.Add(-time.Hour), testNow.Add(24*time.Hour)))
	}
	return m
}

// resign replaces the RRSIGs of q by one of zone's key k valid from incept
// to expire.
func (w *world) resign(q query, zone string, k zoneKey, incept, expire time.Time) {
	w.t.Helper()
	rrs := w.records(q)
	w.data[q] = append(rrs, sign(w.t, rrs, zone, k, incept, expire))
}

// records returns the records of q without RRSIGs.
func (w *world) records(q query) []dns.RR {
	var rrs []dns.RR
	for _, r := range w.data[q] {
		if _, ok := r.(*dns.RRSIG); !ok {
			rrs = append(rrs, r)
		}
	}
	return rrs
}

// sigs returns the RRSIGs stored for q.
func (w *world) sigs(q query) []*dns.RRSIG {
	var out []*dns.RRSIG
	for _, r := range w.data[q] {
		if s, ok := r.(*dns.RRSIG); ok {
			out = append(out, s)
		}
	}
	return out
}

// Fetch serves the tree like a resolver queried with DO and CD.
func (w *world) Fetch(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	q := query{dns.CanonicalName(name), qtype}
	w.mu.Lock()
	w.calls[q]++
	gate := w.gate
	w.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if w.fail[q] {
		return nil, &net.OpError{Op: "read", Net: "udp", Err: errors.New("connection refused")}
	}
	m := new(dns.Msg)
	// Follow CNAMEs as a resolver does.
	for range 8 {
		c := query{q.name, dns.TypeCNAME}
		if _, ok := w.data[q]; ok || qtype == dns.TypeCNAME || w.data[c] == nil {
			break
		}
		for _, r := range w.data[c] {
			m.Answer = append(m.Answer, dns.Copy(r))
		}
		q.name = dns.CanonicalName(w.records(c)[0].(*dns.CNAME).Target)
	}
	if n, ok := w.neg[q]; ok {
		m = n.Copy()
	} else if rrs, ok := w.data[q]; ok {
		for _, r := range rrs {
			m.Answer = append(m.Answer, dns.Copy(r))
		}
	} else if ws, ok := w.data[query{"*.wild.good.test.", qtype}]; ok && dns.IsSubDomain("wild.good.test.", q.name) && q.name != "wild.good.test." {
		// Wildcard expansion: owner rewritten, RRSIG kept (Labels 3).
		for _, r := range ws {
			c := dns.Copy(r)
			c.Header().Name = q.name
			m.Answer = append(m.Answer, c)
		}
		nsec := w.denial("good.test.", dns.RcodeSuccess, "*.wild.good.test. 3600 IN NSEC www.good.test. A RRSIG NSEC")
		m.Ns = nsec.Ns[2:]
	} else {
		m.Rcode = dns.RcodeNameError
	}
	m.SetQuestion(dns.CanonicalName(name), qtype)
	m.Response = true
	m.CheckingDisabled = true
	return m, nil
}

// count returns how many times q was fetched.
func (w *world) count(q query) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[q]
}

// anchors returns the root trust anchor of the tree as a DS.
func (w *world) anchors() []dns.RR {
	return []dns.RR{w.keys["."][0].key.ToDS(dns.SHA256)}
}

// validator returns a Validator for the tree.
func (w *world) validator() *Validator {
	return &Validator{Anchors: w.anchors(), Fetch: w.Fetch, Now: func() time.Time { return testNow }}
}

// flipSignature returns s with one bit of its signature flipped.
func flipSignature(t testing.TB, s *dns.RRSIG) *dns.RRSIG {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x10
	c := dns.Copy(s).(*dns.RRSIG)
	c.Signature = base64.StdEncoding.EncodeToString(b)
	return c
}
