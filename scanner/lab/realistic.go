package lab

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/fnv"
	"math/big"
	"math/rand/v2"
	"strings"

	"github.com/miekg/dns"
)

// Population is the kind of world Generate makes. The zero value is
// Stress, the world of earlier versions, byte for byte.
type Population uint8

const (
	// Stress is a world that makes validation and DANE look busier than
	// on the internet: about 90% of its domain zones are signed, mostly
	// with Ed25519, about a quarter of its MX hosts have TLSA records, and
	// one domain shows each special case of the table in doc.go.
	Stress Population = iota
	// Realistic is a world calibrated on published measurements (the
	// table realistic, with its sources): few signed zones outside a few
	// ccTLDs, RSA/SHA-256 the most common algorithm, a few mail
	// providers serving most domains, TLSA records mostly at DANE-enabled
	// hosters, failures of the kinds the report counts at measured
	// rates, and no special cases.
	Realistic
)

// String returns "stress" or "realistic".
func (p Population) String() string {
	if p == Realistic {
		return "realistic"
	}
	return "stress"
}

// ParsePopulation returns the population named s ("realistic" or
// "stress"), or an error naming the values it accepts.
func ParsePopulation(s string) (Population, error) {
	switch s {
	case "realistic":
		return Realistic, nil
	case "stress":
		return Stress, nil
	}
	return Stress, fmt.Errorf("unknown population %q (want realistic or stress)", s)
}

// calibration holds the parameters of the realistic population. Shares
// are fractions (0.17 is 17%).
type calibration struct {
	TLDs      []tldParam      // TLDs, their weight in the domain list and the share of signed second-level zones
	Algs      []algParam      // DNSSEC algorithm mix of the signed domain zones
	NSEC3     float64         // share of signed domain zones that deny with NSEC3 (the rest: NSEC)
	Providers []providerParam // mail providers, their share of the provider-hosted domains and their DANE
	// DANEHostersSigned is the share of the signed provider-hosted domains
	// at a DANE-enabled hoster; DANEHostersUnsigned that of the unsigned
	// ones.
	DANEHostersSigned, DANEHostersUnsigned float64
	TLSASigned                             float64   // share of signed self-hosted domains with TLSA records at their MX hosts
	TLSANoDNSSEC                           float64   // share of the self-hosted TLSA domains whose zone is not signed
	TLSAMix                                []tlsaMix // TLSA parameters of the self-hosted hosts' records
	NextKey                                float64   // share of self-hosted TLSA hosts publishing a second record (the next key)
	Partial                                float64   // share of two-host TLSA domains with TLSA at one host only
	Stale                                  float64   // share of signed self-hosted TLSA hosts whose record matches the key before a rollover
	TALeafOnly                             float64   // share whose "2 1 1" names an issuer the server does not send
	NoSTARTTLS                             float64   // share whose server does not offer STARTTLS
	Bogus                                  float64   // share of signed self-hosted zones with a DNSSEC error (bogus)
}

// tldParam is one TLD of the realistic population.
type tldParam struct {
	name   string
	weight float64 // share of the domain list
	signed float64 // share of its second-level zones that are signed
}

// algParam is one DNSSEC algorithm and its share.
type algParam struct {
	alg   uint8
	share float64
}

// providerParam is one mail provider of the realistic population.
type providerParam struct {
	domain   string  // its zone, in a TLD of the table
	share    float64 // share of the provider-hosted domains (DANE hosters: of those hosted at a DANE hoster)
	hosts    int     // MX hosts
	tlsa     uint8   // ptlsaNone ... : a DANE hoster when not ptlsaNone
	unsigned bool    // its zone is not signed
}

// tlsaMix is the share of one TLSA parameter combination ("u s m");
// u 9 stands for the other valid combinations, u 10 for malformed records.
type tlsaMix struct {
	u, s, m uint8
	share   float64
}

// realistic is the calibration of the realistic population: one row per
// parameter, each with its source and year, or marked as an estimate with
// the reason. The README's lab section has the same table.
var realistic = calibration{
	TLDs: []tldParam{
		// Weights: estimates, in the order of the registries' sizes (.com
		// far ahead); .nl had 6,229,639 names on 1 January 2022 (SIDN
		// Labs, "The state of .nl", 2022).
		{"com", 0.50, 0.03}, // estimate: 0.5% of .com was signed in 2016 (ISOC, "State of DNSSEC Deployment 2016"); grown since, no later figure found
		{"net", 0.06, 0.03}, // estimate, as .com
		{"org", 0.05, 0.03}, // estimate, as .com
		{"de", 0.10, 0.03},  // estimate: no figure found
		{"uk", 0.06, 0.02},  // estimate: no figure found
		{"nl", 0.07, 0.59},  // SIDN, "Majority of Dutch domains and internet users have DNSSEC security": nearly 60% of .nl signed (December 2022)
		{"se", 0.03, 0.50},  // estimate: .se is among the high-DNSSEC TLDs (Lee et al., USENIX Security 2020, chose it for that), no figure found
		{"cz", 0.03, 0.50},  // ISOC, "State of DNSSEC Deployment 2016": over 50% of .cz signed (2016)
		{"no", 0.02, 0.54},  // Norid, "Last chance for discount on DNSSEC signing": 54% of .no signed a few months after the 2014 launch (2017)
		{"fr", 0.04, 0.05},  // estimate: no figure found
		{"ch", 0.02, 0.10},  // ISOC Pulse, "10% and Rising Fast — Swiss Domains Adopt DNSSEC" (year not on the page as read)
		{"dk", 0.02, 0.10},  // estimate: no figure found
	},
	Algs: []algParam{
		// Estimates: RSA/SHA-256 was the overwhelming default and ECDSA
		// 5% and growing in 2016 (ISOC, "State of DNSSEC Deployment
		// 2016"); algorithm 13 adoption accelerating (SIDN Labs,
		// "Increasing use of algorithm 13 for DNSSEC signing", 2019);
		// Ed25519 rare. No recent mix of second-level zones found.
		{dns.RSASHA256, 0.55},       // estimate (see above)
		{dns.ECDSAP256SHA256, 0.42}, // estimate (see above)
		{dns.ED25519, 0.03},         // estimate (see above)
	},
	NSEC3: 0.50, // estimate: no published split of NSEC and NSEC3 among second-level zones found
	Providers: []providerParam{
		// Shares of provider-hosted domains without a DANE hoster. Liu et
		// al., "Who's Got Your Mail? Characterizing Mail Service Provider
		// Usage", IMC 2021: Google 28.5% and Microsoft 10.8% of popular
		// domains, GoDaddy 29% of smaller ones (June 2021).
		{"google-like.com", 0.27, 5, ptlsaNone, true},    // Liu et al. 2021 (Google); Google's zone is not signed
		{"microsoft-like.com", 0.11, 1, ptlsaNone, true}, // Liu et al. 2021 (Microsoft)
		{"godaddy-like.com", 0.14, 2, ptlsaNone, true},   // Liu et al. 2021 (GoDaddy, 29% of smaller domains; lowered for the mix of popular and small)
		{"ionos-like.de", 0.05, 2, ptlsaNone, false},     // estimate: a large European hoster
		{"ovh-like.fr", 0.04, 2, ptlsaNone, false},       // estimate: a large European hoster
		{"yandex-like.com", 0.03, 1, ptlsaNone, true},    // estimate
		// DANE hosters: shares of the domains at a DANE hoster, from the
		// domain counts of the top MX providers in V. Dukhovni's DANE
		// survey, "Update on stats" on the dane-users list (2023):
		// one.com 1,322,240, hostpoint.ch 302,353, infomaniak.ch
		// 209,052, transip.nl 171,630, mijndomein.nl 168,815,
		// domeneshop.no 109,926, loopia.se 105,948, forpsi.com 83,031.
		{"one-like.dk", 0.53, 2, ptlsa311, false},            // Dukhovni 2023
		{"hostpoint-like.ch", 0.12, 2, ptlsaRollover, false}, // Dukhovni 2023
		{"infomaniak-like.ch", 0.08, 2, ptlsaTA, false},      // Dukhovni 2023
		{"transip-like.nl", 0.07, 2, ptlsa311, false},        // Dukhovni 2023
		{"mijndomein-like.nl", 0.07, 1, ptlsa311, false},     // Dukhovni 2023
		{"domeneshop-like.no", 0.05, 2, ptlsa311, false},     // Dukhovni 2023
		{"loopia-like.se", 0.04, 2, ptlsa311, false},         // Dukhovni 2023
		{"forpsi-like.cz", 0.04, 2, ptlsa311, false},         // Dukhovni 2023
		// The long tail: hosters without DANE that share the remaining
		// 36% (estimate: Liu et al. 2021 find the rest spread over many).
		{"tail01-mail.com", 0.06, 2, ptlsaNone, false}, // estimate
		{"tail02-mail.net", 0.05, 2, ptlsaNone, false}, // estimate
		{"tail03-mail.de", 0.04, 2, ptlsaNone, false},  // estimate
		{"tail04-mail.com", 0.04, 2, ptlsaNone, true},  // estimate
		{"tail05-mail.uk", 0.03, 2, ptlsaNone, true},   // estimate
		{"tail06-mail.nl", 0.03, 2, ptlsaNone, false},  // estimate
		{"tail07-mail.org", 0.03, 1, ptlsaNone, true},  // estimate
		{"tail08-mail.com", 0.02, 1, ptlsaNone, true},  // estimate
		{"tail09-mail.se", 0.02, 1, ptlsaNone, false},  // estimate
		{"tail10-mail.cz", 0.02, 1, ptlsaNone, false},  // estimate
		{"tail11-mail.fr", 0.01, 1, ptlsaNone, true},   // estimate
		{"tail12-mail.net", 0.01, 1, ptlsaNone, true},  // estimate
	},
	DANEHostersSigned:   0.17,  // Dukhovni 2023: DANE TLSA on ~17% of the domains whose MX answers validate (3.9 of 23.2 million)
	DANEHostersUnsigned: 0.005, // estimate: DANE hosters sign their customers' zones; a few are registered elsewhere, unsigned
	TLSASigned:          0.17,  // Dukhovni 2023, as DANEHostersSigned
	TLSANoDNSSEC:        0.36,  // Lee et al., "A Longitudinal and Comprehensive Study of the DANE Ecosystem in Email", USENIX Security 2020: 36% of TLSA records cannot be validated (missing or incorrect DNSSEC)
	TLSAMix: []tlsaMix{
		// Estimates: "3 1 1" is the combination RFC 7671 recommends and
		// the surveys name first, "2 1 1" next; no published shares of
		// the combinations found.
		{3, 1, 1, 0.78},  // estimate
		{2, 1, 1, 0.10},  // estimate
		{3, 0, 1, 0.05},  // estimate
		{3, 1, 2, 0.02},  // estimate
		{9, 0, 0, 0.04},  // estimate: the other valid combinations, evenly
		{10, 0, 0, 0.01}, // estimate: malformed records (unassigned values, wrong lengths); Zhu et al., "Measuring DANE TLSA Deployment", PAM 2015: 7-13% of TLSA records invalid in .com/.net (2015)
	},
	NextKey:    0.25, // estimate: publishing the next key beside the current one is the rollover practice the DANE surveys recommend
	Partial:    0.02, // V. Dukhovni, "Update on stats" (dane-users, January 2017): 609 of ~106,000 DANE domains (0.6%) had TLSA at some MX hosts only; 0.6% of all TLSA domains is about 2% of those with two hosts
	Stale:      0.11, // Lee et al. 2020: 14.17% of TLSA records inconsistent with their certificates; split (estimate) 11 points stale after a rollover...
	TALeafOnly: 0.03, // ... and 3 points "2 1 1" without the issuer in the chain (Lee et al. 2020, split estimated)
	NoSTARTTLS: 0.01, // estimate: Dukhovni (January 2017) counted 63 of ~106,000 DANE domains with wrong TLSA or no STARTTLS, mostly at providers; higher for self-hosted servers
	Bogus:      0.04, // van Adrichem et al., "A measurement study of DNSSEC misconfigurations", 2015: over 4% of the evaluated domains (.bg .br .co .com .nl .se) misconfigured
}

// realisticTLDs returns the TLD table of the realistic population.
func realisticTLDs() []tld {
	ts := make([]tld, len(realistic.TLDs))
	for i, p := range realistic.TLDs {
		ts[i] = tld{name: p.name, weight: p.weight}
	}
	return ts
}

// expectedSigned returns the share of signed zones the TLD weights and
// signed shares give.
func (c *calibration) expectedSigned() float64 {
	s, w := 0.0, 0.0
	for _, t := range c.TLDs {
		s += t.weight * t.signed
		w += t.weight
	}
	return s / w
}

// tlsaUnsigned returns the probability that an unsigned self-hosted
// domain has TLSA records, so that TLSANoDNSSEC of all self-hosted TLSA
// domains are unsigned.
func (c *calibration) tlsaUnsigned() float64 {
	s := c.expectedSigned()
	return c.TLSASigned * c.TLSANoDNSSEC / (1 - c.TLSANoDNSSEC) * s / (1 - s)
}

// providerWeights returns the weights of the providers for a signed or
// an unsigned domain: the DANE hosters share DANEHostersSigned (or
// DANEHostersUnsigned) in their proportions, the others the rest.
func (c *calibration) providerWeights(signed bool) []float64 {
	dane := c.DANEHostersUnsigned
	if signed {
		dane = c.DANEHostersSigned
	}
	var sumD, sumO float64
	for _, p := range c.Providers {
		if p.tlsa != ptlsaNone {
			sumD += p.share
		} else {
			sumO += p.share
		}
	}
	ws := make([]float64, len(c.Providers))
	for i, p := range c.Providers {
		if p.tlsa != ptlsaNone {
			ws[i] = dane * p.share / sumD
		} else {
			ws[i] = (1 - dane) * p.share / sumO
		}
	}
	return ws
}

// realisticProviders makes the providers of the realistic population,
// one IPv4 address per host (192.0.2.10 on), an IPv6 address for every
// other host.
func (g *generator) realisticProviders() {
	next4 := 10
	for i, pp := range realistic.Providers {
		_, t, _ := strings.Cut(pp.domain, ".")
		ti := -1
		for j := range g.w.tlds {
			if g.w.tlds[j].name == t {
				ti = j
			}
		}
		p := provider{domain: pp.domain, tld: ti, seed: g.rng.Uint64(), tlsa: pp.tlsa, weight: pp.share, unsigned: pp.unsigned}
		g.used[p.domain] = struct{}{}
		for h := range pp.hosts {
			ph := providerHost{name: fmt.Sprintf("mx%d.%s", h+1, p.domain)}
			ph.v4 = append(ph.v4, g.w.hostV4(fmt.Sprintf("192.0.2.%d", next4)))
			next4++
			if h%2 == 0 {
				ph.v6 = append(ph.v6, fmt.Sprintf("2001:db8:10:%x::%x", i+1, h+1))
			}
			p.hosts = append(p.hosts, ph)
		}
		g.w.providers = append(g.w.providers, p)
	}
	g.prvCW = cumulative(realistic.providerWeights(false))
	g.prvCWSigned = cumulative(realistic.providerWeights(true))
	g.signedP = make([]float64, len(g.w.tlds))
	for i, t := range realistic.TLDs {
		g.signedP[i] = t.signed
	}
}

// pickProvider returns the provider of an entry: in the realistic
// population it depends on whether the entry's zone is signed.
func (g *generator) pickProvider(e *entry) int8 {
	if g.cfg.Population == Realistic && e.signed {
		return int8(g.pick(g.prvCWSigned))
	}
	return int8(g.pick(g.prvCW))
}

// fillSelfRealistic makes the TLSA decisions of a self-hosted entry of
// the realistic population (its hosts already chosen).
func (g *generator) fillSelfRealistic(e *entry) {
	r, c := g.rng, &realistic
	p := c.tlsaUnsigned()
	if e.signed {
		p = c.TLSASigned
	}
	if r.Float64() >= p {
		return
	}
	e.tlsa, e.tlsaN = g.realisticTLSAVariant(), 1
	if r.Float64() < c.NextKey {
		e.tlsaN = 2
	}
	e.partial = e.hosts == hostTwo && r.Float64() < c.Partial
	if !e.signed {
		return
	}
	x := r.Float64()
	switch {
	case x < c.Stale:
		e.dcase = caseStale
	case x < c.Stale+c.TALeafOnly:
		e.dcase = caseTALeafOnly
	case x < c.Stale+c.TALeafOnly+c.NoSTARTTLS:
		e.dcase = caseNoSTARTTLS
	default:
		return
	}
	// The cases are made for one host, mx.<domain>.
	e.hosts, e.partial, e.tlsaN = hostMX, false, 1
}

// realisticTLSAVariant draws a TLSA variant from realistic.TLSAMix.
func (g *generator) realisticTLSAVariant() int8 {
	x := g.rng.Float64()
	for _, m := range realistic.TLSAMix {
		if x -= m.share; x >= 0 {
			continue
		}
		switch m.u {
		case 9:
			return int8(g.rng.IntN(numTLSACombos))
		case 10:
			return int8(numTLSACombos + g.rng.IntN(numTLSAVariants-numTLSACombos))
		}
		return comboIndex(int(m.u), int(m.s), int(m.m))
	}
	return comboIndex(3, 1, 1)
}

// secModesRealistic draws the signing mode of every domain zone of the
// realistic population: unsigned unless the entry was drawn signed, NSEC3
// or NSEC, and a bogus mode for a share of the signed self-hosted zones.
func (g *generator) secModesRealistic(r *rand.Rand) {
	var bogus []secMode
	for _, b := range brokenModes {
		if !b.noMX && b.status == "bogus" {
			bogus = append(bogus, b.mode)
		}
	}
	for i := range g.w.entries {
		e := &g.w.entries[i]
		x, y := r.Float64(), r.Float64()
		switch {
		case !e.signed:
			e.sec = secUnsigned
		case e.cat == catSelf && e.dcase == caseNone && x < realistic.Bogus:
			e.sec = bogus[r.IntN(len(bogus))]
		case y < realistic.NSEC3:
			e.sec = secNSEC3
		default:
			e.sec = secNSEC
		}
	}
}

// realisticAlg returns the algorithm of a signed zone of the realistic
// population, drawn from realistic.Algs by a hash of its origin.
func realisticAlg(origin string) uint8 {
	h := fnv.New64a()
	h.Write([]byte(origin))
	h.Write([]byte("alg"))
	x := float64(h.Sum64()>>11) / (1 << 53)
	for _, a := range realistic.Algs {
		if x -= a.share; x < 0 {
			return a.alg
		}
	}
	return realistic.Algs[0].alg
}

// rsaOperator is the RSA key pair of one DNS operator of the realistic
// population: a KSK and a ZSK that sign every RSA zone it serves.
type rsaOperator struct {
	ksk, zsk signKey // owner names left empty
}

// rsaOperators parses the operators' keys (rsakeys.go). It fails only on
// a bug.
func rsaOperators() ([]rsaOperator, error) {
	parse := func(s string, flags uint16) (signKey, error) {
		b, _ := pem.Decode([]byte(s))
		if b == nil {
			return signKey{}, errors.New("RSA operator key: no PEM block")
		}
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return signKey{}, fmt.Errorf("RSA operator key: %w", err)
		}
		priv, ok := k.(*rsa.PrivateKey)
		if !ok {
			return signKey{}, errors.New("RSA operator key: not RSA")
		}
		// RFC 3110 section 2: exponent length, exponent, modulus.
		e := big.NewInt(int64(priv.E)).Bytes()
		pub := append([]byte{byte(len(e))}, e...)
		pub = append(pub, priv.N.Bytes()...)
		rr := &dns.DNSKEY{
			Hdr:       dns.RR_Header{Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: ttlDefault},
			Flags:     flags,
			Protocol:  3,
			Algorithm: dns.RSASHA256,
			PublicKey: base64.StdEncoding.EncodeToString(pub),
		}
		return signKey{rr: rr, priv: crypto.Signer(priv)}, nil
	}
	ops := make([]rsaOperator, len(operatorKSKPEMs))
	for i := range ops {
		var err error
		if ops[i].ksk, err = parse(operatorKSKPEMs[i], 257); err != nil {
			return nil, err
		}
		if ops[i].zsk, err = parse(operatorZSKPEMs[i], 256); err != nil {
			return nil, err
		}
	}
	return ops, nil
}

// withOwner returns a copy of k whose DNSKEY has the given owner name.
func (k signKey) withOwner(origin string) signKey {
	rr := *k.rr
	rr.Hdr.Name = origin
	return signKey{rr: &rr, priv: k.priv}
}

// operatorOf returns the RSA operator of a zone: a provider's own, the
// provider's for a domain hosted there, else one drawn by a hash of the
// origin.
func (w *World) operatorOf(origin string, ref zoneRef) int {
	n := len(w.rsaOps)
	switch {
	case ref.kind == zoneProvider:
		return int(ref.index) % n
	case ref.kind == zoneDomain && w.entries[ref.index].prov >= 0:
		return int(w.entries[ref.index].prov) % n
	}
	h := fnv.New64a()
	h.Write([]byte(origin))
	return int(h.Sum64() % uint64(n))
}
