package scanner

import (
	"context"
	"crypto"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/dnssec"
)

// signedNow is the validation time of the signed world's tests.
var signedNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// rrKey names one RRset.
type rrKey struct {
	name  string // canonical, trailing dot
	rtype uint16
}

// signedZone is one zone of a signedWorld: its records by RRset and, when
// signed, its key (one key signs everything: a CSK).
type signedZone struct {
	apex   string
	rrsets map[rrKey][]dns.RR
	key    *dns.DNSKEY // nil: unsigned
	priv   crypto.Signer
}

// signedWorld answers like a recursive resolver queried with DO and CD over
// a small tree of zones: it chases CNAMEs, adds RRSIGs from signed zones
// when DO is set, and proves NODATA and NXDOMAIN with NSEC records that it
// builds from the zone's names (a simple NSEC chain, no ENT handling).
// Signatures are valid around signedNow, except for the RRsets listed in
// expired, whose signatures expired a day before.
type signedWorld struct {
	zones   map[string]*signedZone
	expired map[rrKey]bool
	// noChase makes the resolver stop at the first CNAME, so that the
	// scanner asks again for the target.
	noChase bool
	queries atomic.Int64
	// withCD counts the queries that carried the CD bit.
	withCD atomic.Int64

	mu   sync.Mutex
	sigs map[rrKey]dns.RR // signatures made so far; guarded by mu
}

// newSignedWorld builds the tree from zone text, one entry per zone apex;
// the zones in signed get a key and the DS at their parent. Delegations
// (NS records at child apexes in the parent) are added here.
func newSignedWorld(t *testing.T, zones map[string]string, signed ...string) *signedWorld {
	t.Helper()
	w := &signedWorld{zones: map[string]*signedZone{}, expired: map[rrKey]bool{}}
	for apex, text := range zones {
		z := &signedZone{apex: apex, rrsets: map[rrKey][]dns.RR{}}
		ns, admin := "ns."+apex, "admin."+apex
		if apex == "." {
			ns, admin = "ns.", "admin."
		}
		text = apex + " 3600 IN SOA " + ns + " " + admin + " 1 7200 3600 1209600 300\n" + text
		zp := dns.NewZoneParser(strings.NewReader(text), apex, "test")
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			z.add(rr)
		}
		if err := zp.Err(); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(signed, apex) {
			z.key = &dns.DNSKEY{Hdr: dns.RR_Header{Name: apex, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
				Flags: 257, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
			priv, err := z.key.Generate(256)
			if err != nil {
				t.Fatal(err)
			}
			z.priv = priv.(crypto.Signer)
			z.add(z.key)
		}
		w.zones[apex] = z
	}
	for apex, z := range w.zones {
		if apex == "." {
			continue
		}
		p := w.zones[w.zoneOf(parentOf(apex))]
		p.add(&dns.NS{Hdr: dns.RR_Header{Name: apex, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 3600}, Ns: "ns." + apex})
		if z.key != nil {
			p.add(z.key.ToDS(dns.SHA256))
		}
	}
	return w
}

// anchors returns the root key's DS.
func (w *signedWorld) anchors() []dns.RR {
	return []dns.RR{w.zones["."].key.ToDS(dns.SHA256)}
}

func (z *signedZone) add(rr dns.RR) {
	k := rrKey{dns.CanonicalName(rr.Header().Name), rr.Header().Rrtype}
	z.rrsets[k] = append(z.rrsets[k], rr)
}

func parentOf(name string) string {
	off, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[off:]
}

// zoneOf returns the apex of the deepest zone at or above name.
func (w *signedWorld) zoneOf(name string) string {
	for n := name; ; n = parentOf(n) {
		if _, ok := w.zones[n]; ok || n == "." {
			return n
		}
	}
}

// sign returns the RRSIG of rrs by z, or nil when z is unsigned.
func (w *signedWorld) sign(z *signedZone, rrs []dns.RR) dns.RR {
	if z.key == nil {
		return nil
	}
	h := rrs[0].Header()
	k := rrKey{dns.CanonicalName(h.Name), h.Rrtype}
	w.mu.Lock()
	defer w.mu.Unlock()
	if s, ok := w.sigs[k]; ok {
		return s
	}
	incept, expire := signedNow.Add(-time.Hour), signedNow.Add(24*time.Hour)
	if w.expired[k] {
		incept, expire = signedNow.Add(-48*time.Hour), signedNow.Add(-24*time.Hour)
	}
	s := &dns.RRSIG{Hdr: dns.RR_Header{Ttl: h.Ttl}, Algorithm: z.key.Algorithm, KeyTag: z.key.KeyTag(),
		SignerName: z.apex, Inception: uint32(incept.Unix()), Expiration: uint32(expire.Unix())}
	if err := s.Sign(z.priv, rrs); err != nil {
		panic(err)
	}
	if w.sigs == nil {
		w.sigs = map[rrKey]dns.RR{}
	}
	w.sigs[k] = s
	return s
}

// canonLess orders names as RFC 4034 §6.1 does (label by label from the
// right, lowercase bytes), enough for the test names.
func canonLess(a, b string) bool {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i := 1; i <= len(la) && i <= len(lb); i++ {
		x, y := strings.ToLower(la[len(la)-i]), strings.ToLower(lb[len(lb)-i])
		if x != y {
			return x < y
		}
	}
	return len(la) < len(lb)
}

// nsecChain returns the zone's NSEC records: one per name that owns data in
// the zone (glue below delegations is left out), in canonical order.
func (z *signedZone) nsecChain() []*dns.NSEC {
	types := map[string][]uint16{}
	for k := range z.rrsets {
		types[k.name] = append(types[k.name], k.rtype)
	}
	var names []string
	for n := range types {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if canonLess(a, b) {
			return -1
		}
		return 1
	})
	out := make([]*dns.NSEC, len(names))
	for i, n := range names {
		// RRSIG: the NSEC itself is signed.
		ts := append(slices.Clone(types[n]), dns.TypeNSEC, dns.TypeRRSIG)
		slices.Sort(ts)
		out[i] = &dns.NSEC{Hdr: dns.RR_Header{Name: n, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 300},
			NextDomain: names[(i+1)%len(names)], TypeBitMap: ts}
	}
	return out
}

// denial returns the NSEC records proving that name has no qtype (exists)
// or does not exist, with the wildcard at the zone apex denied too.
func (z *signedZone) denial(name string, exists bool) []*dns.NSEC {
	chain := z.nsecChain()
	covering := func(n string) *dns.NSEC {
		for _, r := range chain {
			if r.Hdr.Name == n {
				return r
			}
		}
		for _, r := range chain {
			owner, next := r.Hdr.Name, r.NextDomain
			if canonLess(owner, n) && (canonLess(n, next) || next == z.apex) {
				return r
			}
		}
		return chain[len(chain)-1]
	}
	if exists {
		return []*dns.NSEC{covering(name)}
	}
	out := []*dns.NSEC{covering(name)}
	if wc := covering("*." + z.apex); wc != out[0] {
		out = append(out, wc)
	}
	return out
}

func (w *signedWorld) ServeDNS(rw dns.ResponseWriter, q *dns.Msg) {
	w.queries.Add(1)
	if q.CheckingDisabled {
		w.withCD.Add(1)
	}
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	do := q.IsEdns0() != nil && q.IsEdns0().Do()
	qtype := q.Question[0].Qtype
	name := dns.CanonicalName(q.Question[0].Name)
	addSet := func(sec *[]dns.RR, z *signedZone, rrs []dns.RR) {
		*sec = append(*sec, rrs...)
		if do {
			if s := w.sign(z, rrs); s != nil {
				*sec = append(*sec, s)
			}
		}
	}
	for hops := 0; hops < 8; hops++ {
		apex := w.zoneOf(name)
		if qtype == dns.TypeDS && name == apex && apex != "." {
			apex = w.zoneOf(parentOf(apex)) // the parent answers for DS
		}
		z := w.zones[apex]
		if rrs := z.rrsets[rrKey{name, qtype}]; len(rrs) > 0 {
			addSet(&m.Answer, z, rrs)
			break
		}
		if rrs := z.rrsets[rrKey{name, dns.TypeCNAME}]; len(rrs) > 0 && qtype != dns.TypeCNAME {
			addSet(&m.Answer, z, rrs)
			if w.noChase {
				break
			}
			name = dns.CanonicalName(rrs[0].(*dns.CNAME).Target)
			continue
		}
		exists := false
		for k := range z.rrsets {
			if k.name == name || dns.IsSubDomain(name, k.name) {
				exists = true
			}
		}
		if !exists {
			m.Rcode = dns.RcodeNameError
		}
		addSet(&m.Ns, z, z.rrsets[rrKey{z.apex, dns.TypeSOA}])
		if do && z.key != nil {
			for _, n := range z.denial(name, exists) {
				addSet(&m.Ns, z, []dns.RR{n})
			}
		}
		break
	}
	if opt := q.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), opt.Do())
	}
	rw.WriteMsg(m)
}

// The signed test world:
//
//	.               signed, the trust anchor
//	test.           signed
//	secure.test.    signed: secure.test, other.secure.test and
//	                exp.secure.test have MX records
//	plain.test.     unsigned, delegated without DS (an NSEC at test. says so)
var signedZones = map[string]string{
	".":     "",
	"test.": "",
	"secure.test.": `
secure.test.            300 IN MX 10 mx.secure.test.
mx.secure.test.         300 IN A 192.0.2.1
_25._tcp.mx.secure.test. 300 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
other.secure.test.      300 IN MX 10 mx.plain.test.
exp.secure.test.        300 IN MX 10 mx2.secure.test.
mx2.secure.test.        300 IN A 192.0.2.2
_25._tcp.mx2.secure.test. 300 IN TLSA 3 1 1 fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
alias.secure.test.      300 IN MX 10 mail.secure.test.
mail.secure.test.       300 IN CNAME mx.secure.test.
`,
	"plain.test.": `
mx.plain.test.          300 IN A 192.0.2.3
_25._tcp.mx.plain.test. 300 IN TLSA 3 1 1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
`,
}

// signedScan scans list over the signed world with DNSSEC on or off.
func signedScan(t *testing.T, w *signedWorld, list string, validate bool) (*datasets.Manifest, map[string]datasets.Domain, map[string]datasets.MXHost) {
	t.Helper()
	addr := startHandler(t, w)
	out := filepath.Join(t.TempDir(), "out")
	cfg := Config{Resolvers: []string{addr}, Workers: 4, Timeout: time.Second, Retries: -1, ScanID: "signed",
		DNSSEC: validate, TrustAnchors: w.anchors(), TrustAnchorSource: "test-root", Now: func() time.Time { return signedNow }}
	man, err := Run(context.Background(), cfg, []Input{{Path: writeFile(t, "list.txt", list)}}, out, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	doms, err := datasets.ReadTable[datasets.Domain](out, datasets.TableDomains)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := datasets.ReadTable[datasets.MXHost](out, datasets.TableMXHosts)
	if err != nil {
		t.Fatal(err)
	}
	dm, hm := map[string]datasets.Domain{}, map[string]datasets.MXHost{}
	for _, d := range doms {
		dm[d.Domain] = d
	}
	for _, h := range hosts {
		hm[h.Host] = h
	}
	return man, dm, hm
}

const signedList = "secure.test\nother.secure.test\nexp.secure.test\nalias.secure.test\n"

func TestRunDNSSEC(t *testing.T) {
	w := newSignedWorld(t, signedZones, ".", "test.", "secure.test.")
	w.expired[rrKey{"_25._tcp.mx2.secure.test.", dns.TypeTLSA}] = true
	man, doms, hosts := signedScan(t, w, signedList, true)

	type domWant struct {
		mxDNSSEC string
		mxSecure bool
		withTLSA int32
		all      bool
	}
	domTests := map[string]domWant{
		"secure.test":       {"secure", true, 1, true},
		"other.secure.test": {"secure", true, 0, false},
		"exp.secure.test":   {"secure", true, 0, false},
		"alias.secure.test": {"secure", true, 1, true},
	}
	for name, want := range domTests {
		t.Run("domain "+name, func(t *testing.T) {
			d := doms[name]
			got := domWant{d.MX.DNSSEC, d.MXSecure, d.MXHostsWithTLSA, d.TLSAAllMX}
			if got != want {
				t.Errorf("(-want +got):\n- %+v\n+ %+v (mx reason %q)", want, got, d.MX.DNSSECReason)
			}
			// The row names the algorithm that signed the answer, so a
			// survey can count deprecated ones (RSA/SHA-1).
			if !reflect.DeepEqual(d.MX.DNSSECAlgorithms, []int32{int32(dns.ECDSAP256SHA256)}) {
				t.Errorf("mx_dnssec_algorithms = %v, want [%d]", d.MX.DNSSECAlgorithms, dns.ECDSAP256SHA256)
			}
		})
	}

	type hostWant struct {
		aDNSSEC, aReason       string
		addressesSecure        bool
		tlsaFailure            string
		tlsaDNSSEC, tlsaReason string
		state                  datasets.TLSAState
	}
	hostTests := map[string]hostWant{
		// RFC 7672 §2.2: secure addresses and secure TLSA records.
		"mx.secure.test": {"secure", "", true, "", "secure", "", datasets.TLSAStateDANE},
		// Addresses in an unsigned zone: a DANE sender skips TLSA, but
		// the scan records it with its status (issue 10, fix 3).
		"mx.plain.test": {"insecure", "no_ds", false, "", "insecure", "no_ds", datasets.TLSAStateSkipped},
		// A bogus TLSA RRset is unusable, not "no TLSA".
		"mx2.secure.test": {"secure", "", true, "", "bogus", "signature_expired", datasets.TLSAStateUnusable},
		// An alias whose CNAME is secure: the expanded name's TLSA.
		"mail.secure.test": {"secure", "", true, "", "secure", "", datasets.TLSAStateDANE},
	}
	for name, want := range hostTests {
		t.Run("host "+name, func(t *testing.T) {
			h, ok := hosts[name]
			if !ok {
				t.Fatalf("no mx_hosts row for %s", name)
			}
			got := hostWant{h.A.DNSSEC, h.A.DNSSECReason, h.AddressesSecure, h.TLSA.Failure, h.TLSA.DNSSEC, h.TLSA.DNSSECReason, h.TLSAState}
			if got != want {
				t.Errorf("(-want +got):\n- %+v\n+ %+v", want, got)
			}
		})
	}
	t.Run("TLSA in an unsigned zone is recorded", func(t *testing.T) {
		h := hosts["mx.plain.test"]
		if len(h.TLSA.Records) == 0 || h.TLSABaseDomain != "mx.plain.test" {
			t.Errorf("tlsa_records %q at base %q: the unsigned zone's TLSA should be recorded", h.TLSA.Records, h.TLSABaseDomain)
		}
	})
	t.Run("expanded TLSA base domain behind a secure CNAME", func(t *testing.T) {
		h := hosts["mail.secure.test"]
		if h.Canonical != "mx.secure.test" || h.TLSABaseDomain != "mx.secure.test" {
			t.Errorf("canonical %q, tlsa_base_domain %q", h.Canonical, h.TLSABaseDomain)
		}
	})
	t.Run("secure denial", func(t *testing.T) {
		h := hosts["mx.secure.test"]
		if h.AAAA.Failure != "nodata" || h.AAAA.DNSSEC != "secure" || h.AAAA.DNSSECReason != "nsec_denial" {
			t.Errorf("AAAA of mx.secure.test: failure %q dnssec %q reason %q", h.AAAA.Failure, h.AAAA.DNSSEC, h.AAAA.DNSSECReason)
		}
		d := doms["secure.test"]
		if d.MTASTS.Failure != "nxdomain" || d.MTASTS.DNSSEC != "secure" {
			t.Errorf("_mta-sts TXT: failure %q dnssec %q reason %q", d.MTASTS.Failure, d.MTASTS.DNSSEC, d.MTASTS.DNSSECReason)
		}
	})
	t.Run("every query carries CD", func(t *testing.T) {
		if cd, all := w.withCD.Load(), w.queries.Load(); cd != all {
			t.Errorf("%d of %d queries with CD", cd, all)
		}
	})
	t.Run("manifest", func(t *testing.T) {
		if man.Config["dnssec_enabled"] != true || man.Config["trust_anchors"] != "test-root" {
			t.Errorf("config = %v", man.Config)
		}
		c := man.Counts
		counts := map[string]int64{"mx_secure": c.MXSecure, "hosts_tlsa_dane": c.HostsTLSA["dane"], "hosts_tlsa_unusable": c.HostsTLSA["unusable"],
			"hosts_tlsa_skipped": c.HostsTLSA["skipped"], "hosts_addresses_secure": c.HostsAddressesSecure, "tlsa_all_mx": c.TLSAAllMX}
		for k, want := range map[string]int64{"mx_secure": 4, "hosts_tlsa_dane": 2, "hosts_tlsa_unusable": 1, "hosts_tlsa_skipped": 1, "hosts_addresses_secure": 3, "tlsa_all_mx": 2} {
			if got := counts[k]; got != want {
				t.Errorf("counts[%s] = %d, want %d", k, got, want)
			}
		}
		// Each zone's chain is validated once; every later RRset of the
		// zone finds it in the cache.
		if w := c.DNSSECWork; w == nil || w.DNSSECVerifications == 0 || w.DNSSECCacheHits <= w.DNSSECCacheMisses {
			t.Errorf("validator counters: %+v", w)
		}
	})
}

// TestRunDNSSECOff scans the signed world without validation: every RRset
// says not_validated and TLSA is looked up as before.
func TestRunDNSSECOff(t *testing.T) {
	w := newSignedWorld(t, signedZones, ".", "test.", "secure.test.")
	w.expired[rrKey{"_25._tcp.mx2.secure.test.", dns.TypeTLSA}] = true
	man, doms, hosts := signedScan(t, w, signedList, false)
	for name, d := range doms {
		for _, r := range []datasets.RRset{d.MX, d.MTASTS, d.TLSRPT} {
			if r.DNSSEC != datasets.DNSSECNotValidated || r.DNSSECReason != "" {
				t.Errorf("%s %s: dnssec %q reason %q", name, r.QName, r.DNSSEC, r.DNSSECReason)
			}
		}
		if d.MXSecure {
			t.Errorf("%s: mx_secure without validation", name)
		}
	}
	for name, h := range hosts {
		for _, r := range []datasets.RRset{h.A, h.AAAA, h.TLSA} {
			if r.DNSSEC != datasets.DNSSECNotValidated {
				t.Errorf("%s %s: dnssec %q", name, r.QName, r.DNSSEC)
			}
		}
		if h.AddressesSecure || h.TLSAState != "" {
			t.Errorf("%s: addresses_secure %v tlsa_state %q without validation", name, h.AddressesSecure, h.TLSAState)
		}
		if len(h.TLSA.Records) != 1 {
			t.Errorf("%s: TLSA looked up as before: %+v", name, h.TLSA)
		}
	}
	if d := doms["other.secure.test"]; d.MXHostsWithTLSA != 1 || !d.TLSAAllMX {
		t.Errorf("without validation an insecure TLSA RRset counts: %+v", d)
	}
	if man.Config["dnssec_enabled"] != false {
		t.Errorf("config = %v", man.Config)
	}
	if n := w.withCD.Load(); n != 0 {
		t.Errorf("%d queries with CD without validation", n)
	}
}

// TestRunDNSSECCNAMERequery: a resolver that does not chase CNAMEs makes
// the scanner ask again for the target; the CNAME links answered before are
// validated on their own, and an expired CNAME signature makes the host's
// addresses bogus.
func TestRunDNSSECCNAMERequery(t *testing.T) {
	tests := []struct {
		name            string
		expireCNAME     bool
		aDNSSEC         string
		addressesSecure bool
		state           datasets.TLSAState
	}{
		{"secure chain", false, "secure", true, datasets.TLSAStateDANE},
		{"expired CNAME signature", true, "bogus", false, datasets.TLSAStateSkipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newSignedWorld(t, signedZones, ".", "test.", "secure.test.")
			w.noChase = true
			w.expired[rrKey{"mail.secure.test.", dns.TypeCNAME}] = tt.expireCNAME
			_, _, hosts := signedScan(t, w, "alias.secure.test\n", true)
			h := hosts["mail.secure.test"]
			if h.A.DNSSEC != tt.aDNSSEC || h.AddressesSecure != tt.addressesSecure || h.TLSAState != tt.state || h.Canonical != "mx.secure.test" {
				t.Errorf("a_dnssec %q (%s), addresses_secure %v, tlsa_state %q, canonical %q; want %q, %v, %q",
					h.A.DNSSEC, h.A.DNSSECReason, h.AddressesSecure, h.TLSAState, h.Canonical, tt.aDNSSEC, tt.addressesSecure, tt.state)
			}
		})
	}
}

// TestStatusNames pins the dataset's status strings to the validator's.
func TestStatusNames(t *testing.T) {
	pairs := map[dnssec.Status]string{
		dnssec.Secure:        datasets.DNSSECSecure,
		dnssec.Insecure:      datasets.DNSSECInsecure,
		dnssec.Bogus:         datasets.DNSSECBogus,
		dnssec.Indeterminate: datasets.DNSSECIndeterminate,
	}
	for st, col := range pairs {
		if string(st) != col {
			t.Errorf("dnssec.%s is %q in the dataset", st, col)
		}
	}
}
