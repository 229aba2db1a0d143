package lab

import (
	"math"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// within reports whether a share got of n draws is within four standard
// deviations (plus one point) of want.
func within(got float64, n int, want float64) bool {
	return math.Abs(got-want) <= 4*math.Sqrt(want*(1-want)/float64(max(n, 1)))+0.01
}

func ratio(k, n int) float64 { return float64(k) / float64(max(n, 1)) }

// TestRealisticCalibration generates a realistic world of a few thousand
// domains and checks it against its table (realistic): the share of
// signed zones per TLD and overall, the algorithm mix, NSEC3, the
// providers' shares and the share of signed domains with TLSA.
func TestRealisticCalibration(t *testing.T) {
	w, err := Generate(Config{Domains: 4000, Seed: 1, DNSSEC: true, Population: Realistic})
	if err != nil {
		t.Fatal(err)
	}
	c := &realistic
	zoneSec := func(e *entry) *zoneSec { return w.sec[e.name+"."] }

	// Signed second-level zones, per TLD and overall.
	nT, sT := make([]int, len(w.tlds)), make([]int, len(w.tlds))
	n, s := 0, 0
	wantAll := 0.0
	for i := range w.entries {
		e := &w.entries[i]
		if !hasZone(e.cat) {
			continue
		}
		signed := zoneSec(e).mode != secUnsigned
		nT[e.tld]++
		n++
		wantAll += c.TLDs[e.tld].signed
		if signed {
			sT[e.tld]++
			s++
		}
	}
	for i, p := range c.TLDs {
		if got := ratio(sT[i], nT[i]); !within(got, nT[i], p.signed) {
			t.Errorf(".%s: %d of %d zones signed (%.3f); want %.3f", p.name, sT[i], nT[i], got, p.signed)
		}
	}
	if got, want := ratio(s, n), wantAll/float64(n); !within(got, n, want) || math.Abs(want-c.expectedSigned()) > 0.02 {
		t.Errorf("%d of %d zones signed (%.3f); want %.3f (table: %.3f)", s, n, got, want, c.expectedSigned())
	}
	if s*100 > n*20 {
		t.Errorf("%d of %d zones signed: the realistic world must not look like the stress one", s, n)
	}

	// Algorithms and denial of the signed domain zones (those broken on
	// purpose have keys of their own).
	algs := map[uint8]int{}
	ksks := map[string]bool{}
	nsec3, ok := 0, 0
	for i := range w.entries {
		e := &w.entries[i]
		if !hasZone(e.cat) {
			continue
		}
		zs := zoneSec(e)
		if zs.mode != secNSEC && zs.mode != secNSEC3 {
			continue
		}
		ok++
		algs[zs.ksk.rr.Algorithm]++
		if zs.nsec3 {
			nsec3++
		}
		if zs.ksk.rr.Algorithm == dns.RSASHA256 {
			ksks[zs.ksk.rr.PublicKey] = true
			if zs.zsk.rr.Algorithm != dns.RSASHA256 || zs.zsk.rr.Flags != 256 || zs.ksk.rr.Flags != 257 || zs.ds.KeyTag != zs.ksk.rr.KeyTag() {
				t.Errorf("%s: RSA zone keys KSK %v ZSK %v DS %v; want a KSK (257) named by the DS and a ZSK (256)", e.name, zs.ksk.rr, zs.zsk.rr, zs.ds)
			}
		}
	}
	for _, a := range c.Algs {
		if got := ratio(algs[a.alg], ok); !within(got, ok, a.share) {
			t.Errorf("algorithm %s: %d of %d zones (%.3f); want %.3f", dns.AlgorithmToString[a.alg], algs[a.alg], ok, got, a.share)
		}
	}
	if algs[dns.RSASHA256] <= algs[dns.ECDSAP256SHA256] || algs[dns.ECDSAP256SHA256] <= algs[dns.ED25519] {
		t.Errorf("algorithm counts %v; want RSA/SHA-256 first, then ECDSA P-256, then Ed25519", algs)
	}
	if len(ksks) > len(operatorKSKPEMs) {
		t.Errorf("%d distinct RSA KSKs; want at most one per operator (%d)", len(ksks), len(operatorKSKPEMs))
	}
	if got := ratio(nsec3, ok); !within(got, ok, c.NSEC3) {
		t.Errorf("NSEC3 in %d of %d signed zones (%.3f); want %.3f", nsec3, ok, got, c.NSEC3)
	}

	// Providers: a few serve most domains; the shares depend on whether
	// the domain's zone is signed (DANE hosters sign theirs).
	wS, wU := c.providerWeights(true), c.providerWeights(false)
	per := make([]int, len(w.providers))
	nP, nPS, daneS := 0, 0, 0
	for i := range w.entries {
		e := &w.entries[i]
		if e.cat != catProvider {
			continue
		}
		per[e.prov]++
		nP++
		if e.signed {
			nPS++
			if w.providers[e.prov].tlsa != ptlsaNone {
				daneS++
			}
		}
	}
	for i, p := range w.providers {
		want := (float64(nPS)*wS[i] + float64(nP-nPS)*wU[i]) / float64(nP)
		if got := ratio(per[i], nP); !within(got, nP, want) {
			t.Errorf("provider %s: %d of %d provider-hosted domains (%.3f); want %.3f", p.domain, per[i], nP, got, want)
		}
		if p.unsigned != (w.sec[p.domain+"."].mode == secUnsigned) {
			t.Errorf("provider %s: zone signed %v; want %v", p.domain, w.sec[p.domain+"."].mode != secUnsigned, !p.unsigned)
		}
	}
	top := slices.Clone(per)
	slices.Sort(top)
	if top3 := top[len(top)-1] + top[len(top)-2] + top[len(top)-3]; top3*2 < nP {
		t.Errorf("the three biggest providers serve %d of %d provider-hosted domains; want most", top3, nP)
	}

	// TLSA at the MX hosts of signed domains.
	if got := ratio(daneS, nPS); !within(got, nPS, c.DANEHostersSigned) {
		t.Errorf("%d of %d signed provider-hosted domains at a DANE hoster (%.3f); want %.3f", daneS, nPS, got, c.DANEHostersSigned)
	}
	nSS, tSS := 0, 0
	for i := range w.entries {
		e := &w.entries[i]
		if e.cat == catSelf && e.signed {
			nSS++
			if e.tlsa >= 0 {
				tSS++
			}
		}
	}
	if got := ratio(tSS, nSS); !within(got, nSS, c.TLSASigned) {
		t.Errorf("%d of %d signed self-hosted domains with TLSA (%.3f); want %.3f", tSS, nSS, got, c.TLSASigned)
	}
	if len(w.DANECases()) != 0 {
		t.Errorf("a realistic world has %d special cases; want none", len(w.DANECases()))
	}
}

// TestRealisticTLSA generates a larger realistic world (the self-hosted
// TLSA hosts of a few thousand domains are too few to measure a mix) and
// checks the self-hosted TLSA records against the table: how many are in
// unsigned zones, their parameter combinations, and the failure rates of
// the signed ones (stale after a rollover, "2 1 1" without the issuer in
// the chain, STARTTLS not offered, bogus zones).
func TestRealisticTLSA(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 40,000 domains")
	}
	w, err := Generate(Config{Domains: 40000, Seed: 2, DNSSEC: true, Population: Realistic})
	if err != nil {
		t.Fatal(err)
	}
	c := &realistic
	var n, unsigned, signed, stale, taLeaf, noTLS int
	combos := map[string]int{}
	var signedSelf, bogus int
	for i := range w.entries {
		e := &w.entries[i]
		if e.cat != catSelf {
			continue
		}
		if e.signed && e.dcase == caseNone {
			signedSelf++
			if e.sec != secNSEC && e.sec != secNSEC3 {
				bogus++
			}
		}
		if e.tlsa < 0 {
			continue
		}
		n++
		if !e.signed {
			unsigned++
		} else {
			signed++
			switch e.dcase {
			case caseStale:
				stale++
			case caseTALeafOnly:
				taLeaf++
			case caseNoSTARTTLS:
				noTLS++
			}
		}
		r := w.records(hostRef{prov: -1, entry: int32(i)}, nil)[0]
		key := string([]byte{'0' + r.u, ' ', '0' + r.s, ' ', '0' + r.m})
		if r.tgt == tgtRaw && !r.usable {
			key = "malformed"
		}
		combos[key]++
	}
	if got := ratio(unsigned, n); !within(got, n, c.TLSANoDNSSEC) {
		t.Errorf("%d of %d self-hosted TLSA domains unsigned (%.3f); want %.3f", unsigned, n, got, c.TLSANoDNSSEC)
	}
	for _, f := range []struct {
		name string
		got  int
		want float64
	}{{"stale after rollover", stale, c.Stale}, {"2 1 1 without the issuer", taLeaf, c.TALeafOnly}, {"STARTTLS not offered", noTLS, c.NoSTARTTLS}} {
		if got := ratio(f.got, signed); !within(got, signed, f.want) {
			t.Errorf("%s: %d of %d signed TLSA hosts (%.3f); want %.3f", f.name, f.got, signed, got, f.want)
		}
	}
	if got := ratio(bogus, signedSelf); !within(got, signedSelf, c.Bogus) {
		t.Errorf("%d of %d signed self-hosted zones bogus (%.3f); want %.3f", bogus, signedSelf, got, c.Bogus)
	}
	// The mix as drawn, then the failure cases of the signed hosts,
	// which publish "3 1 1" (stale, STARTTLS) or "2 1 1".
	f := ratio(signed, n)
	kept := 1 - f*(c.Stale+c.TALeafOnly+c.NoSTARTTLS)
	want := map[string]float64{}
	for _, m := range c.TLSAMix {
		switch m.u {
		case 9: // drawn from the 24 valid combinations
			for u := range 4 {
				for s := range 2 {
					for mt := range 3 {
						want[string([]byte{'0' + byte(u), ' ', '0' + byte(s), ' ', '0' + byte(mt)})] += kept * m.share / numTLSACombos
					}
				}
			}
		case 10:
			want["malformed"] += kept * m.share
		default:
			want[string([]byte{'0' + m.u, ' ', '0' + m.s, ' ', '0' + m.m})] += kept * m.share
		}
	}
	want["3 1 1"] += f * (c.Stale + c.NoSTARTTLS)
	want["2 1 1"] += f * c.TALeafOnly
	for _, k := range []string{"3 1 1", "2 1 1", "3 0 1", "3 1 2", "malformed"} {
		if got := ratio(combos[k], n); !within(got, n, want[k]) {
			t.Errorf("TLSA %s: %d of %d hosts (%.3f); want %.3f", k, combos[k], n, got, want[k])
		}
	}
	if combos["3 1 1"] <= combos["2 1 1"] || combos["2 1 1"] <= combos["3 0 1"] {
		t.Errorf("TLSA combinations %v; want 3 1 1 first, 2 1 1 next", combos)
	}
}

// TestParsePopulation: the names round-trip, anything else is an error
// naming the accepted values.
func TestParsePopulation(t *testing.T) {
	for _, p := range []Population{Stress, Realistic} {
		if got, err := ParsePopulation(p.String()); err != nil || got != p {
			t.Errorf("ParsePopulation(%q) = %v, %v; want %v", p.String(), got, err, p)
		}
	}
	if _, err := ParsePopulation("real"); err == nil || err.Error() != `unknown population "real" (want realistic or stress)` {
		t.Errorf("ParsePopulation(\"real\") error %v", err)
	}
	var zero Config
	if zero.Population != Stress {
		t.Errorf("the zero Config has population %v; want stress", zero.Population)
	}
}
