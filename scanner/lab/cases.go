package lab

import (
	"math/rand/v2"
	"net/netip"
	"strings"
)

// dcase is a DANE case of a self-hosted entry: what its server does and
// which TLSA records it publishes beyond the ordinary variants. Each case
// of specialCases is given to one entry in worlds of minSpecial domains or
// more; the table in doc.go lists them with their verdicts.
type dcase uint8

const (
	caseNone         dcase = iota // the entry's TLSA variant (or none), an ordinary server
	casePKIX                      // "1 1 1" of the leaf and "0 1 1" of the intermediate
	caseTARoot                    // "2 1 1" of the root; the server sends leaf, intermediate and root
	caseTALeafOnly                // "2 1 1" of the intermediate; the server sends the leaf only
	caseStale                     // "3 1 1" of the key used before a rollover
	caseRollover                  // "3 1 1" of the old key and "3 1 1" of the current one
	caseExpiredEE                 // an expired leaf under "3 1 1"
	caseExpiredTA                 // an expired leaf under "2 1 1"
	caseNameMismatch              // a leaf naming another host, under "2 1 1"
	caseRSA                       // an RSA leaf only, "3 1 1" of it
	caseSplit                     // ECDSA and RSA leaves, "3 1 1" of the RSA key only
	caseDual                      // ECDSA and RSA leaves, "3 1 1" of each
	caseNoSTARTTLS                // EHLO does not offer STARTTLS
	caseRejected                  // STARTTLS answered with 454
	caseHandshake                 // a handshake_failure alert in answer to the ClientHello
	caseStall                     // the greeting stops after "220-" and its first line
	caseRefused                   // every connection refused
	caseUnreachable               // the IPv6 address is unreachable, the IPv4 one works
	caseLargeCert                 // a leaf of largeLeafSize bytes under "3 0 0" of it
	caseTLSABogus                 // "3 1 1" of the leaf; the TLSA RRset's RRSIG has expired (DNSSEC worlds)
	caseTLSAServfail              // "3 1 1" of the leaf; the server answers SERVFAIL at the TLSA name
	caseUnsignedZone              // "3 1 1" of the leaf in a zone without DS (DNSSEC worlds)
	caseRolled                    // "3 1 1" of the leaf of epoch 0; with Config.Rolled the leaf has a new key
)

// specialCases are given, in this order, to self-hosted entries with one
// host ("mx.<domain>") and no TLSA records; the first five set an ordinary
// variant so that every world of some size has it.
var specialCases = []struct {
	name string
	tlsa int8 // an ordinary TLSA variant, -1 for none
	dc   dcase
}{
	{"dane-ee-spki-sha256", comboIndex(3, 1, 1), caseNone},
	{"dane-ee-cert-sha256", comboIndex(3, 0, 1), caseNone},
	{"dane-ee-spki-sha512", comboIndex(3, 1, 2), caseNone},
	{"dane-ee-cert-full", comboIndex(3, 0, 0), caseNone},
	{"dane-ta-intermediate", comboIndex(2, 1, 1), caseNone},
	{"pkix-usages-only", -1, casePKIX},
	{"dane-ta-root", -1, caseTARoot},
	{"dane-ta-leaf-only", -1, caseTALeafOnly},
	{"stale-after-rollover", -1, caseStale},
	{"rollover-one-matches", -1, caseRollover},
	{"expired-leaf-dane-ee", -1, caseExpiredEE},
	{"expired-leaf-dane-ta", -1, caseExpiredTA},
	{"name-mismatch-dane-ta", -1, caseNameMismatch},
	{"rsa-only", -1, caseRSA},
	{"rsa-ecdsa-split", -1, caseSplit},
	{"rsa-ecdsa-both", -1, caseDual},
	{"starttls-not-offered", -1, caseNoSTARTTLS},
	{"starttls-rejected", -1, caseRejected},
	{"tls-handshake-failure", -1, caseHandshake},
	{"banner-stall", -1, caseStall},
	{"connect-refused", -1, caseRefused},
	{"ipv6-unreachable", -1, caseUnreachable},
	{"tlsa-300-large", -1, caseLargeCert},
	{"tlsa-bogus", -1, caseTLSABogus},
	{"tlsa-indeterminate", -1, caseTLSAServfail},
	{"tlsa-unsigned-zone", -1, caseUnsignedZone},
	{CaseRolledOver, -1, caseRolled},
}

// CaseRolledOver is the case whose host rolls its key over between the
// epochs of a world (Config.Rolled): it passes in epoch 0 and fails with
// no_match in the rolled epoch, its TLSA records unchanged.
const CaseRolledOver = "tlsa-rolled-over"

// The dedicated addresses of the cases whose server misbehaves before TLS
// (192.0.2.2-9 are used by nothing else); every other address is shared
// by hosts that differ only after the SNI.
const (
	addrStall         = "192.0.2.2"
	addrNoSTARTTLS    = "192.0.2.3"
	addrRejected      = "192.0.2.4"
	addrRefused       = "192.0.2.5"
	addrHandshake     = "192.0.2.6"
	addrUnreachableV6 = "2001:db8:dead::1"
)

// srvMode is how the SMTP server at an address behaves.
type srvMode uint8

const (
	srvNormal srvMode = iota
	srvStall
	srvNoSTARTTLS
	srvRejected
	srvHandshake
	srvRefused
	srvUnreachable
)

// caseHost records which entry shows a special case.
type caseHost struct {
	name  string
	entry int32
}

// DANECase names the MX host that shows one case of the table in doc.go.
type DANECase struct {
	Name   string // the case, e.g. "dane-ta-leaf-only"
	Domain string // the domain (A-label, lowercase)
	Host   string // its MX host
}

// DANECases returns the special cases of the world with their hosts, in
// the order of the table in doc.go; empty in worlds of fewer than 200
// domains. The caller owns the slice.
func (w *World) DANECases() []DANECase {
	out := make([]DANECase, 0, len(w.cases))
	for _, c := range w.cases {
		e := &w.entries[c.entry]
		out = append(out, DANECase{Name: c.name, Domain: e.name, Host: selfHosts(e)[0]})
	}
	return out
}

// assignCases gives each special case to one self-hosted entry, drawn
// from a random stream of its own so that the rest of the population is
// the same as without cases.
func (g *generator) assignCases() {
	w := g.w
	if g.cfg.Domains < minSpecial || g.cfg.Population == Realistic {
		return
	}
	perm := g.caseRNG().Perm(len(w.entries))
	k := 0
	for _, i := range perm {
		if k == len(specialCases) {
			break
		}
		e := &w.entries[i]
		if e.cat != catSelf || e.hosts != hostMX || e.tlsa >= 0 {
			continue
		}
		sc := specialCases[k]
		k++
		e.special, e.dcase = true, sc.dc
		if sc.tlsa >= 0 {
			e.tlsa, e.tlsaN = sc.tlsa, 1
		}
		w.cases = append(w.cases, caseHost{name: sc.name, entry: int32(i)})
		if sc.dc == caseTLSAServfail {
			w.faults[tlsaOwner(selfHosts(e)[0])] = faultServfail
		}
	}
	for i, idx := range g.lineEnt {
		if idx >= 0 && w.entries[idx].special {
			// The SERVFAIL case publishes records that no lookup gets.
			w.truth[i].TLSAAll = w.entries[idx].dcase != caseTLSAServfail
		}
	}
}

// tlsaOwner returns the TLSA owner name of an MX host (RFC 7672 section
// 2.2.1), fully qualified.
func tlsaOwner(host string) string { return "_25._tcp." + host + "." }

// selfAddrs returns the IPv4 and IPv6 ("" for none) addresses of address
// slot 0 or 1 of a self-hosted entry, as rendered.
func (w *World) selfAddrs(e *entry, slot int) (v4, v6 string) {
	v4, v6 = docAddrs(e, slot)
	return w.hostV4(v4), v6
}

// docAddrs returns the addresses of selfAddrs in the documentation
// networks.
func docAddrs(e *entry, slot int) (v4, v6 string) {
	switch e.dcase {
	case caseStall:
		return addrStall, ""
	case caseNoSTARTTLS:
		return addrNoSTARTTLS, ""
	case caseRejected:
		return addrRejected, ""
	case caseRefused:
		return addrRefused, ""
	case caseHandshake:
		return addrHandshake, ""
	case caseUnreachable:
		return poolV4(e.v4 + int32(slot)), addrUnreachableV6
	}
	v4 = poolV4(e.v4 + int32(slot))
	if e.v6 {
		v6 = selfV6(e.v6i, slot)
	}
	return v4, v6
}

// specialModes returns the server behaviour of the dedicated addresses.
func specialModes() map[netip.Addr]srvMode {
	return map[netip.Addr]srvMode{
		netip.MustParseAddr(addrStall):         srvStall,
		netip.MustParseAddr(addrNoSTARTTLS):    srvNoSTARTTLS,
		netip.MustParseAddr(addrRejected):      srvRejected,
		netip.MustParseAddr(addrRefused):       srvRefused,
		netip.MustParseAddr(addrHandshake):     srvHandshake,
		netip.MustParseAddr(addrUnreachableV6): srvUnreachable,
	}
}

// hostRef locates an MX host of the world.
type hostRef struct {
	prov  int32 // provider index, -1 for an entry's host
	entry int32 // entry index, -1 for a provider host
	h     int32 // provider host index; position in selfHosts; 1 for mail.<d> of an in-zone MX CNAME
	alias bool  // mx.<d> of catMXCNAME: a CNAME to a provider host or to mail.<d>
}

// hostIndex returns every MX host name of the world (lowercase, no
// trailing dot) with its reference, built on first use.
func (w *World) hostIndex() map[string]hostRef {
	w.hostOnce.Do(func() {
		m := make(map[string]hostRef, len(w.entries)+64)
		for p := range w.providers {
			for h, ph := range w.providers[p].hosts {
				m[ph.name] = hostRef{prov: int32(p), entry: -1, h: int32(h)}
			}
		}
		for i := range w.entries {
			e := &w.entries[i]
			ref := hostRef{prov: -1, entry: int32(i)}
			switch e.cat {
			case catSelf, catManyMX, catBigTLSA, catBigTXT, catBigSTS, catMixedNullMX, catMXLoop:
				for h, name := range selfHosts(e) {
					ref.h = int32(h)
					m[name] = ref
				}
			case catImplicit:
				m[e.name] = ref
			case catMXCNAME:
				m["mx."+e.name] = hostRef{prov: -1, entry: int32(i), alias: true}
				if e.prov < 0 {
					m["mail."+e.name] = hostRef{prov: -1, entry: int32(i), h: 1}
				}
			}
		}
		w.hostIdx = m
	})
	return w.hostIdx
}

// target returns the host an alias points to; other refs unchanged.
func (w *World) target(ref hostRef) hostRef {
	if !ref.alias {
		return ref
	}
	e := &w.entries[ref.entry]
	if e.prov >= 0 {
		return hostRef{prov: int32(e.prov), entry: -1, h: int32(e.cnHost)}
	}
	return hostRef{prov: -1, entry: ref.entry, h: 1}
}

// refName returns the name of a host (not following aliases).
func (w *World) refName(ref hostRef) string {
	if ref.prov >= 0 {
		return w.providers[ref.prov].hosts[ref.h].name
	}
	e := &w.entries[ref.entry]
	switch {
	case e.cat == catImplicit:
		return e.name
	case e.cat == catMXCNAME && ref.h == 1:
		return "mail." + e.name
	}
	return selfHosts(e)[ref.h]
}

// addrs returns the addresses of a host as rendered, IPv4 first.
func (w *World) addrs(ref hostRef) []string { return w.addrsInto(ref, nil) }

// addrsInto appends the addresses of a host to buf.
func (w *World) addrsInto(ref hostRef, buf []string) []string {
	ref = w.target(ref)
	if ref.prov >= 0 {
		ph := &w.providers[ref.prov].hosts[ref.h]
		return append(append(buf, ph.v4...), ph.v6...)
	}
	e := &w.entries[ref.entry]
	if e.cat == catMXLoop {
		return buf
	}
	slot := 0
	if e.cat != catMXCNAME {
		slot = int(ref.h) % 2
	}
	v4, v6 := w.selfAddrs(e, slot)
	buf = append(buf, v4)
	if v6 != "" {
		buf = append(buf, v6)
	}
	return buf
}

// hostProfile is what the server of a host presents.
type hostProfile struct {
	name     string // the host name; it selects the pool keys
	certName string // the DNS name in the leaves
	ec, rsa  bool   // which leaves the server has (ECDSA is preferred)
	expired  bool   // the leaves expired in 1999
	large    bool   // the ECDSA leaf is padded to largeLeafSize bytes
	keyShift int    // added to the pool index of the host's keys: 1 after the rollover of the rolled case
	chain    uint8  // certificates sent: 1 leaf only, 2 leaf and intermediate, 3 and root
	mode     srvMode
}

// profile returns the server profile of a host (following aliases).
func (w *World) profile(ref hostRef) hostProfile {
	ref = w.target(ref)
	name := w.refName(ref)
	p := hostProfile{name: name, certName: name, ec: true, chain: 2}
	if ref.prov >= 0 {
		return p
	}
	switch w.entries[ref.entry].dcase {
	case caseTARoot:
		p.chain = 3
	case caseTALeafOnly:
		p.chain = 1
	case caseExpiredEE, caseExpiredTA:
		p.expired = true
	case caseNameMismatch:
		p.certName = mismatchCertName
	case caseRSA:
		p.ec, p.rsa = false, true
	case caseLargeCert:
		p.large = true
	case caseRolled:
		if w.cfg.Rolled {
			p.keyShift = 1
		}
	case caseSplit, caseDual:
		p.rsa = true
	case caseStall:
		p.mode = srvStall
	case caseNoSTARTTLS:
		p.mode = srvNoSTARTTLS
	case caseRejected:
		p.mode = srvRejected
	case caseRefused:
		p.mode = srvRefused
	case caseHandshake:
		p.mode = srvHandshake
	}
	return p
}

// leafSpec returns the spec of the profile's leaf of key type k.
func (p hostProfile) leafSpec(k keyType) leafSpec {
	return leafSpec{name: p.certName, key: k, keyIdx: poolIndex(p.name) + p.keyShift, expired: p.expired, large: p.large && k == keyECDSA}
}

// Targets of TLSA records: what their data is made from.
const (
	tgtLeaf    = iota // the ECDSA leaf
	tgtLeafRSA        // the RSA leaf
	tgtInter          // the intermediate CA
	tgtRoot           // the root CA
	tgtOld            // the ECDSA key the host had before a rollover
	tgtPrev           // the ECDSA key of the rolled case's host in epoch 0, replaced in the rolled epoch
	tgtRaw            // random data, rendered from recSpec.raw
)

// recSpec is one TLSA record as the generator means it.
type recSpec struct {
	u, s, m uint8
	tgt     uint8
	raw     string // the whole rdata of a tgtRaw record; "" when only the truth is wanted
	usable  bool   // tgtRaw: a DANE client can use it (its data matches nothing)
}

// records returns the TLSA records of a host, nil for none; old holds
// the random rdata drawn for the entry's variant (nil for the truth).
func (w *World) records(ref hostRef, old []string) []recSpec {
	raw := func(i int, u, s, m uint8, usable bool) recSpec {
		r := recSpec{u: u, s: s, m: m, tgt: tgtRaw, usable: usable}
		if i < len(old) {
			r.raw = old[i]
		}
		return r
	}
	if ref.prov >= 0 {
		switch w.providers[ref.prov].tlsa {
		case ptlsa311:
			return []recSpec{{u: 3, s: 1, m: 1, tgt: tgtLeaf}}
		case ptlsaRollover:
			return []recSpec{{u: 3, s: 1, m: 1, tgt: tgtLeaf}, raw(1, 3, 1, 1, true)}
		case ptlsaTA:
			return []recSpec{{u: 2, s: 1, m: 1, tgt: tgtInter}, {u: 3, s: 1, m: 1, tgt: tgtLeaf}}
		}
		return nil
	}
	e := &w.entries[ref.entry]
	if ref.alias || ref.h > 0 && e.partial {
		return nil
	}
	if e.cat == catBigTLSA && ref.h == 0 {
		recs := make([]recSpec, 20)
		for i := range 19 {
			recs[i] = raw(i, 3, 1, 2, true)
		}
		recs[19] = recSpec{u: 3, s: 1, m: 2, tgt: tgtLeaf}
		return recs
	}
	if e.cat != catSelf {
		return nil
	}
	ee := func(t uint8) recSpec { return recSpec{u: 3, s: 1, m: 1, tgt: t} }
	ta := func(t uint8) recSpec { return recSpec{u: 2, s: 1, m: 1, tgt: t} }
	switch e.dcase {
	case casePKIX:
		return []recSpec{{u: 1, s: 1, m: 1, tgt: tgtLeaf}, {u: 0, s: 1, m: 1, tgt: tgtInter}}
	case caseTARoot:
		return []recSpec{ta(tgtRoot)}
	case caseTALeafOnly, caseExpiredTA, caseNameMismatch:
		return []recSpec{ta(tgtInter)}
	case caseStale:
		return []recSpec{ee(tgtOld)}
	case caseRollover:
		return []recSpec{ee(tgtOld), ee(tgtLeaf)}
	case caseRSA, caseSplit:
		return []recSpec{ee(tgtLeafRSA)}
	case caseDual:
		return []recSpec{ee(tgtLeaf), ee(tgtLeafRSA)}
	case caseLargeCert:
		return []recSpec{{u: 3, s: 0, m: 0, tgt: tgtLeaf}}
	case caseRolled:
		if w.cfg.Rolled {
			return []recSpec{ee(tgtPrev)} // the same record as in epoch 0
		}
		return []recSpec{ee(tgtLeaf)}
	case caseExpiredEE, caseNoSTARTTLS, caseRejected, caseHandshake, caseStall, caseRefused, caseUnreachable,
		caseTLSABogus, caseTLSAServfail, caseUnsignedZone:
		return []recSpec{ee(tgtLeaf)}
	}
	if e.tlsa < 0 {
		return nil
	}
	n := max(1, int(e.tlsaN))
	if e.tlsa >= numTLSACombos { // malformed: random data, unusable
		recs := make([]recSpec, n)
		for i := range recs {
			recs[i] = raw(i, 0, 0, 0, false)
		}
		return recs
	}
	u, s, m := uint8(e.tlsa/6), uint8(e.tlsa/3%2), uint8(e.tlsa%3)
	t := uint8(tgtInter)
	if u == 1 || u == 3 {
		t = tgtLeaf
	}
	recs := []recSpec{{u: u, s: s, m: m, tgt: t}}
	if n == 2 { // the next key of a rollover: no server presents it yet
		recs = append(recs, raw(1, u, s, m, u >= 2))
	}
	return recs
}

// rdata returns the presentation form of a record of the host with
// profile p.
func (w *World) rdata(p hostProfile, r recSpec) string {
	if r.tgt == tgtRaw {
		return r.raw
	}
	var cert, spki []byte
	leaf := func(s leafSpec) {
		spki = w.pki.key(s).spki
		if r.s == 0 {
			cert, _ = w.pki.leaf(s) // fails only on a bug; the truth tests would notice
		}
	}
	switch r.tgt {
	case tgtLeaf:
		leaf(p.leafSpec(keyECDSA))
	case tgtLeafRSA:
		leaf(p.leafSpec(keyRSA))
	case tgtOld:
		s := p.leafSpec(keyECDSA)
		s.keyIdx++
		leaf(s)
	case tgtPrev:
		s := p.leafSpec(keyECDSA)
		s.keyIdx -= p.keyShift
		leaf(s)
	case tgtInter:
		cert, spki = w.pki.inter, w.pki.interSPKI
	case tgtRoot:
		cert, spki = w.pki.root, w.pki.rootSPKI
	}
	return string(rune('0'+r.u)) + " " + string(rune('0'+r.s)) + " " + string(rune('0'+r.m)) + " " + association(cert, spki, r.s, r.m)
}

// EndpointTruth is what a correct scanner finds for one address of one
// MX host, from the case the generator made (not from scanner/dane or
// scanner/starttls).
type EndpointTruth struct {
	Host    string // the MX host name, lowercase, no trailing dot
	Address string // IPv4 dotted quad or IPv6 in RFC 5952 form
	// Verdict is the outcome of an ordinary handshake (SigAlgs "any").
	Verdict
	// ECDSA and RSA are the outcomes with starttls.Config.SigAlgs "ecdsa"
	// and "rsa" (TLS 1.2 limited to one certificate type).
	ECDSA, RSA Verdict
}

// Verdict is the expected probe failure and DANE verdict of one probe.
type Verdict struct {
	// Probe is the scanner/starttls failure class, "" when the handshake
	// succeeds.
	Probe string
	// DANEStatus is "pass", "fail", "no_usable_records", "transport_failed",
	// "tlsa_lookup_failed" (validated: the TLSA lookup is bogus or
	// indeterminate, whatever the probe found) or "not_applicable" (no
	// TLSA records at the host, or, when validated, records that are not
	// secure).
	DANEStatus string
	// DANEReason is a scanner/dane reason for "fail", the Probe class for
	// "transport_failed", the TLSA RRset's DNSSEC reason for
	// "tlsa_lookup_failed", "" otherwise.
	DANEReason string
}

// HostTruth is what a correct scanner finds for the TLSA lookup of one
// MX host (its mx_hosts row).
type HostTruth struct {
	Host string // the MX host name, lowercase, no trailing dot
	// TLSARecords is the number of TLSA records the lookup gets: the
	// host's records, also when its zone is unsigned (validated scans look
	// TLSA up whatever the status of the address records) or when they are
	// bogus (a validating scanner queries with CD set); 0 when the server
	// answers SERVFAIL.
	TLSARecords int
	// TLSADNSSEC is the DNSSEC status of the TLSA lookup when validated
	// ("secure", "insecure", "bogus", "indeterminate"), "" otherwise.
	TLSADNSSEC string
	// TLSAReason is its reason for "bogus" and "indeterminate", ""
	// otherwise (the reasons of secure and insecure answers are not
	// modelled).
	TLSAReason string
	// TLSAState is mx_hosts.tlsa_state when validated ("dane", "no_tlsa",
	// "unusable", "skipped": the address records are insecure), ""
	// otherwise.
	TLSAState string
}

// Host returns the truth about the TLSA lookup of the MX host named host
// (matched without regard to case or a trailing dot), validated or not
// as for Endpoints. It reports false when the name is no MX host of the
// world, when it has no address, when it is an alias (mx.<domain> of an
// MX CNAME domain: the TLSA base domain then depends on the CNAME
// chain's status) and, validated, when its zone is broken on purpose
// (its address records are bogus: what a scanner does next is not
// modelled).
func (w *World) Host(host string, validated bool) (HostTruth, bool) {
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	ref, ok := w.hostIndex()[name]
	if !ok || ref.alias || len(w.addrs(ref)) == 0 {
		return HostTruth{}, false
	}
	lk := w.tlsaLookup(ref, validated)
	if !lk.known {
		return HostTruth{}, false
	}
	return HostTruth{Host: name, TLSARecords: len(lk.recs), TLSADNSSEC: lk.status, TLSAReason: lk.reason, TLSAState: lk.state}, true
}

// tlsaLookup is what the TLSA lookup of a host gets.
type tlsaLookup struct {
	recs           []recSpec // the records of the answer; nil for none or SERVFAIL
	status, reason string    // validated: the DNSSEC status and, for bogus and indeterminate, reason
	state          string    // validated: mx_hosts.tlsa_state
	known          bool      // false when the truth does not model the lookup (see Host)
}

// tlsaLookup returns the truth about the TLSA lookup of a host: at its
// target for an alias; with validated, with the DNSSEC status that
// decides whether DANE applies (RFC 7672 section 2.2).
func (w *World) tlsaLookup(ref hostRef, validated bool) tlsaLookup {
	tref := w.target(ref)
	lk := tlsaLookup{recs: w.records(tref, nil), known: true}
	dc := caseNone
	if tref.prov < 0 {
		dc = w.entries[tref.entry].dcase
	}
	if dc == caseTLSAServfail {
		lk.recs = nil
	}
	if !validated {
		return lk
	}
	switch {
	case !w.secure(ref) || !w.secure(tref):
		lk.status, lk.state = "insecure", "skipped"
		lk.known = w.cfg.DNSSEC && !w.broken(ref) && !w.broken(tref)
	case dc == caseTLSAServfail:
		lk.status, lk.reason, lk.state = "indeterminate", "lookup_failed", "unusable"
	case dc == caseTLSABogus:
		lk.status, lk.reason, lk.state = "bogus", "signature_expired", "unusable"
	case len(lk.recs) > 0:
		lk.status, lk.state = "secure", "dane"
	default:
		lk.status, lk.state = "secure", "no_tlsa"
	}
	return lk
}

// broken reports whether a host's zone is broken on purpose (one of
// brokenModes).
func (w *World) broken(ref hostRef) bool {
	if ref.prov >= 0 || !w.cfg.DNSSEC {
		return false
	}
	switch w.entries[ref.entry].sec {
	case secNSEC, secNSEC3, secUnsigned:
		return false
	}
	return true
}

// applies returns whether DANE applies to a host after its TLSA lookup
// and, when the lookup failed (validated: bogus or indeterminate), the
// reason of the failure.
func (lk *tlsaLookup) applies(validated bool) (bool, string) {
	if !validated {
		return len(lk.recs) > 0, ""
	}
	if lk.state == "unusable" {
		return false, lk.reason
	}
	return lk.state == "dane", ""
}

// Endpoints returns the truth for every address of the MX host named
// host (matched without regard to case or a trailing dot), IPv4 first;
// nil for a name that is no MX host of the world or has no address.
// With validated, TLSA records count only when their zone is secure (a
// DNSSEC world scanned with validation); without, whenever they exist.
// For an MX host that is a CNAME (mx.<domain> of an MX CNAME domain) the
// truth is the target's, with the target as TLSA base domain and SNI,
// and not_applicable when validated and the alias's zone is not secure.
func (w *World) Endpoints(host string, validated bool) []EndpointTruth {
	ref, ok := w.hostIndex()[strings.TrimSuffix(strings.ToLower(host), ".")]
	if !ok {
		return nil
	}
	return w.endpoints(ref, validated)
}

func (w *World) endpoints(ref hostRef, validated bool) []EndpointTruth {
	addrs := w.addrs(ref)
	if len(addrs) == 0 {
		return nil
	}
	name := w.refName(ref)
	prof := w.profile(w.target(ref))
	lk := w.tlsaLookup(ref, validated)
	applies, failed := lk.applies(validated)
	out := make([]EndpointTruth, 0, len(addrs))
	for _, a := range addrs {
		mode := prof.mode
		if a == addrUnreachableV6 {
			mode = srvUnreachable
		}
		t := EndpointTruth{Host: name, Address: netip.MustParseAddr(a).String()}
		t.Verdict = verdictOf(prof, lk.recs, mode, applies, failed, "any")
		t.ECDSA = verdictOf(prof, lk.recs, mode, applies, failed, "ecdsa")
		t.RSA = verdictOf(prof, lk.recs, mode, applies, failed, "rsa")
		out = append(out, t)
	}
	return out
}

// secure reports whether the records of a host's zone validate as secure.
func (w *World) secure(ref hostRef) bool {
	if !w.cfg.DNSSEC {
		return false
	}
	if ref.prov >= 0 {
		return !w.providers[ref.prov].unsigned
	}
	s := w.entries[ref.entry].sec
	return s == secNSEC || s == secNSEC3
}

// verdictOf evaluates the records of a host against what its server
// presents in a SigAlgs mode: RFC 7672 section 3 applied to the case
// description, not to certificates. A failed TLSA lookup (failed is its
// reason) decides before the probe: a DANE sender defers delivery
// without connecting (RFC 7672 section 2.2).
func verdictOf(p hostProfile, recs []recSpec, mode srvMode, applies bool, failed, sigAlgs string) Verdict {
	var v Verdict
	switch mode {
	case srvStall:
		v.Probe = "banner_timeout"
	case srvNoSTARTTLS:
		v.Probe = "starttls_not_offered"
	case srvRejected:
		v.Probe = "starttls_rejected"
	case srvHandshake:
		v.Probe = "tls_handshake_failed"
	case srvRefused:
		v.Probe = "connect_refused"
	case srvUnreachable:
		v.Probe = "unreachable"
	default:
		if sigAlgs == "ecdsa" && !p.ec || sigAlgs == "rsa" && !p.rsa {
			v.Probe = "tls_handshake_failed"
		}
	}
	switch {
	case failed != "":
		v.DANEStatus, v.DANEReason = "tlsa_lookup_failed", failed
		return v
	case !applies:
		v.DANEStatus = "not_applicable"
		return v
	case v.Probe != "":
		v.DANEStatus, v.DANEReason = "transport_failed", v.Probe
		return v
	}
	leaf := uint8(tgtLeaf)
	if sigAlgs == "rsa" || sigAlgs == "any" && !p.ec {
		leaf = tgtLeafRSA
	}
	usable := 0
	reason := ""
	for _, r := range recs {
		if r.tgt == tgtRaw && !r.usable || r.tgt != tgtRaw && r.u < 2 {
			continue
		}
		usable++
		why := ""
		switch {
		case r.u == 3 && r.tgt != leaf:
			why = "no_match"
		case r.u == 2 && !(r.tgt == tgtInter && p.chain >= 2 || r.tgt == tgtRoot && p.chain == 3):
			why = "ta_not_in_chain"
		case r.u == 2 && p.certName != p.name:
			why = "name_mismatch"
		case r.u == 2 && p.expired:
			why = "expired"
		}
		if why == "" {
			v.DANEStatus = "pass"
			return v
		}
		if reasonRank(why) > reasonRank(reason) {
			reason = why
		}
	}
	if usable == 0 {
		v.DANEStatus = "no_usable_records"
		return v
	}
	v.DANEStatus, v.DANEReason = "fail", reason
	return v
}

// rollup returns Domain.DANE and Domain.DANEReason for a domain's hosts.
// It computes only the ordinary handshake's verdict, without allocating.
func (w *World) rollup(refs []hostRef, validated bool) (string, string) {
	n, passed := 0, 0
	reason := ""
	var buf [2]string
	for _, ref := range refs {
		prof := w.profile(w.target(ref))
		lk := w.tlsaLookup(ref, validated)
		applies, failed := lk.applies(validated)
		for _, a := range w.addrsInto(ref, buf[:0]) {
			mode := prof.mode
			if a == addrUnreachableV6 {
				mode = srvUnreachable
			}
			v := verdictOf(prof, lk.recs, mode, applies, failed, "any")
			n++
			if v.DANEStatus == "pass" {
				passed++
				continue
			}
			if reason == "" {
				reason = v.DANEReason
				if reason == "" {
					reason = v.DANEStatus
				}
			}
		}
	}
	switch {
	case n == 0:
		return "", ""
	case passed == n:
		return "all", ""
	case passed > 0:
		return "some", reason
	}
	return "none", reason
}

// entryRefs returns the MX hosts of an entry in the order of
// Domain.MXHosts.
func (w *World) entryRefs(idx int) []hostRef {
	e := &w.entries[idx]
	var refs []hostRef
	switch e.cat {
	case catProvider:
		for h := range w.providers[e.prov].hosts {
			refs = append(refs, hostRef{prov: int32(e.prov), entry: -1, h: int32(h)})
		}
	case catSelf, catManyMX, catBigTLSA, catBigTXT, catBigSTS, catMixedNullMX, catMXLoop, catImplicit:
		n := 1
		if e.cat != catImplicit {
			n = len(selfHosts(e))
		}
		for h := range n {
			refs = append(refs, hostRef{prov: -1, entry: int32(idx), h: int32(h)})
		}
	case catMXCNAME:
		refs = append(refs, hostRef{prov: -1, entry: int32(idx), alias: true})
	}
	return refs
}

// caseRNG returns the random stream that places the special cases.
func (g *generator) caseRNG() *rand.Rand {
	return rand.New(rand.NewPCG(g.cfg.Seed, 0x6c61622d64616e65)) // "lab-dane"
}

// reasonRank orders failure reasons as scanner/dane documents it:
// expired > name_mismatch > chain_invalid > ta_not_in_chain > no_match.
func reasonRank(reason string) int {
	switch reason {
	case "no_match":
		return 1
	case "ta_not_in_chain":
		return 2
	case "chain_invalid":
		return 3
	case "name_mismatch":
		return 4
	case "expired":
		return 5
	}
	return 0
}
