package lab

import (
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// zoneDNSSEC is what the server keeps about a zone of a DNSSEC world.
type zoneDNSSEC struct {
	sec   *zoneSec          // nil when the zone is not signed
	cuts  map[string]*rrset // delegations to child zones: the DS RRset the parent holds (maybe empty)
	chain *chain            // the NSEC or NSEC3 chain; nil when the zone is not signed
}

// chain is the NSEC or NSEC3 chain of a signed zone (RFC 4034 section 4,
// RFC 5155 section 7.1), built at load time; the records themselves are
// made and signed when first served.
type chain struct {
	nsec3  bool
	names  []string   // owner names, in canonical order (NSEC) or hash order (NSEC3)
	hashes []string   // NSEC3: base32hex hashes of names, sorted
	types  [][]uint16 // type bitmaps, parallel to names
	recs   [][]dns.RR // the NSEC or NSEC3 records with their RRSIGs, parallel to names; made by presign
}

// newChain builds the chain of zone z from its parsed names and nodes
// and its delegations.
func newChain(z *zone, names []string, nodes []*node) *chain {
	zs := z.dz.sec
	c := &chain{nsec3: zs.nsec3}
	type item struct {
		name, hash string
		types      []uint16
	}
	var items []item
	add := func(name string, ts []uint16) {
		if !c.nsec3 {
			ts = append(ts, dns.TypeRRSIG, dns.TypeNSEC)
		}
		slices.Sort(ts)
		items = append(items, item{name: name, types: slices.Compact(ts)})
	}
	for j, name := range names {
		n := nodes[j]
		var ts []uint16
		for i := range n.sets {
			ts = append(ts, n.sets[i].typ)
		}
		switch {
		case n.lame:
			if zs.optOut {
				continue
			}
			ts = append(ts, dns.TypeNS)
		case len(ts) == 0 && !c.nsec3:
			continue // an empty non-terminal has no NSEC
		case len(ts) > 0:
			ts = append(ts, dns.TypeRRSIG)
		}
		if name == z.origin && (zs.mode == secNSECProof || zs.mode == secNSEC3Proof) {
			ts = append(ts, dns.TypeMX) // the lie that breaks the proof
		}
		add(name, ts)
	}
	for name, ds := range z.dz.cuts {
		ts := []uint16{dns.TypeNS}
		if len(ds.rrs) > 0 {
			ts = append(ts, dns.TypeDS, dns.TypeRRSIG)
		} else if zs.optOut {
			continue
		}
		add(name, ts)
	}
	if c.nsec3 {
		for i := range items {
			items[i].hash = dns.HashName(items[i].name, dns.SHA1, zs.iter, "")
		}
		slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.hash, b.hash) })
	} else {
		slices.SortFunc(items, func(a, b item) int { return canonCompare(a.name, b.name) })
	}
	for _, it := range items {
		c.names = append(c.names, it.name)
		c.types = append(c.types, it.types)
		if c.nsec3 {
			c.hashes = append(c.hashes, it.hash)
		}
	}
	return c
}

// canonCompare orders two lowercase fully qualified names canonically
// (RFC 4034 section 6.1): label by label from the right.
func canonCompare(a, b string) int {
	a, b = strings.TrimSuffix(a, "."), strings.TrimSuffix(b, ".")
	for {
		if a == "" || b == "" {
			return len(a) - len(b)
		}
		i, j := strings.LastIndexByte(a, '.'), strings.LastIndexByte(b, '.')
		if c := strings.Compare(a[i+1:], b[j+1:]); c != 0 {
			return c
		}
		a, b = a[:max(i, 0)], b[:max(j, 0)]
	}
}

// find returns the index of the NSEC record owned by key, or of the NSEC3
// record whose hash is key, and true; otherwise the index of the record
// that covers key, and false.
func (c *chain) find(key string) (int, bool) {
	var i int
	var ok bool
	if c.nsec3 {
		i, ok = slices.BinarySearch(c.hashes, key)
	} else {
		i, ok = slices.BinarySearchFunc(c.names, key, canonCompare)
	}
	if ok {
		return i, true
	}
	if i == 0 {
		return len(c.names) - 1, false // wraps round
	}
	return i - 1, false
}

// key returns what find looks for: the name itself in an NSEC chain, its
// hash in an NSEC3 chain.
func (c *chain) key(z *zone, name string) string {
	if c.nsec3 {
		return dns.HashName(name, dns.SHA1, z.dz.sec.iter, "")
	}
	return name
}

// deny sets the authority section of a negative answer in zone z: the SOA
// and, when z is signed, its RRSIG and the NSEC or NSEC3 records (with
// RRSIGs) that prove that qname does not exist (nxdomain) or has no
// record of the queried type (RFC 4035 section 3.1.3, RFC 5155 section
// 7.2).
func (s *Server) deny(m *dns.Msg, z *zone, qname string, nxdomain bool) {
	if z.dz == nil || z.dz.chain == nil {
		return
	}
	c := z.dz.chain
	ns := make([]dns.RR, 0, 8)
	ns = append(ns, z.soa...)
	ns = append(ns, s.sigs(z, z.apex.set(dns.TypeSOA))...)
	var idx []int
	use := func(i int) {
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	i, ok := c.find(c.key(z, qname))
	switch {
	case ok:
		use(i) // NODATA: the record of the name
	case !c.nsec3:
		use(i) // covers qname, or shows an empty non-terminal
		if nxdomain {
			ce := parent(qname)
			for len(ce) > len(z.origin) && s.names[ce] == nil {
				ce = parent(ce)
			}
			w, _ := c.find("*." + ce)
			use(w)
		}
	default:
		// The closest encloser proof (RFC 5155 section 7.2.1).
		ce, nc := parent(qname), qname
		for len(ce) > len(z.origin) {
			if _, ok := c.find(c.key(z, ce)); ok {
				break
			}
			ce, nc = parent(ce), ce
		}
		match, _ := c.find(c.key(z, ce))
		use(match)
		cov, _ := c.find(c.key(z, nc))
		use(cov)
		if nxdomain {
			w, _ := c.find(c.key(z, "*."+ce))
			use(w)
		}
	}
	for _, i := range idx {
		ns = append(ns, s.chainRecord(z, i)...)
	}
	m.Ns = ns
}

// answerDS answers a DS query at the zone cut name from the parent zone p:
// the DS RRset, or NODATA with the proof that there is none.
func (s *Server) answerDS(m *dns.Msg, p *zone, name string, do bool) {
	if ds := p.dz.cuts[name]; ds != nil && len(ds.rrs) > 0 {
		m.Answer = append(m.Answer, ds.rrs...)
		if do {
			m.Answer = append(m.Answer, s.sigs(p, ds)...)
		}
		return
	}
	m.Ns = p.soa
	if do {
		s.deny(m, p, name, false)
	}
}

// presign signs every RRset of every signed zone, the DS RRsets at its
// cuts, and makes and signs its NSEC or NSEC3 chain, with GOMAXPROCS
// workers that end before it returns. Serving then only copies records: the
// zones are signed before they are served, as real zones are, so that a
// scan measured against the lab does not pay for the lab's signing, and
// no lock is taken per answer.
func (s *Server) presign() {
	type job struct {
		z   *zone
		set *rrset // or, when nil, chain record i of z
		i   int
	}
	var jobs []job
	zones := map[*zone]bool{}
	for _, n := range s.names {
		z := n.zone
		if z == nil || z.dz == nil || z.dz.sec == nil {
			continue
		}
		for i := range n.sets {
			jobs = append(jobs, job{z: z, set: &n.sets[i]})
		}
		zones[z] = true
	}
	for z := range zones {
		for _, ds := range z.dz.cuts {
			if len(ds.rrs) > 0 {
				jobs = append(jobs, job{z: z, set: ds})
			}
		}
		if c := z.dz.chain; c != nil {
			c.recs = make([][]dns.RR, len(c.names))
			for i := range c.names {
				jobs = append(jobs, job{z: z, i: i})
			}
		}
	}
	parallel(len(jobs), func(i int) {
		j := jobs[i]
		if j.set != nil {
			j.set.sigs = s.sign(j.z, j.set.typ, j.set.rrs)
		} else {
			j.z.dz.chain.recs[j.i] = s.makeChainRecord(j.z, j.i)
		}
	})
}

// sigs returns the RRSIGs of set, an RRset of zone z; nil when z is not
// signed.
func (s *Server) sigs(z *zone, set *rrset) []dns.RR {
	if z.dz == nil || z.dz.sec == nil || set == nil {
		return nil
	}
	return set.sigs
}

// chainRecord returns NSEC or NSEC3 record i of zone z and its RRSIGs.
func (s *Server) chainRecord(z *zone, i int) []dns.RR {
	return z.dz.chain.recs[i]
}

// makeChainRecord makes NSEC or NSEC3 record i of zone z and signs it.
func (s *Server) makeChainRecord(z *zone, i int) []dns.RR {
	c, zs := z.dz.chain, z.dz.sec
	next := (i + 1) % len(c.names)
	var rr dns.RR
	hdr := dns.RR_Header{Name: c.names[i], Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttlDefault}
	if c.nsec3 {
		hdr.Name, hdr.Rrtype = strings.ToLower(c.hashes[i])+"."+z.origin, dns.TypeNSEC3
		var flags uint8
		if zs.optOut {
			flags = 1
		}
		rr = &dns.NSEC3{Hdr: hdr, Hash: dns.SHA1, Flags: flags, Iterations: zs.iter,
			HashLength: 20, NextDomain: c.hashes[next], TypeBitMap: c.types[i]}
	} else {
		rr = &dns.NSEC{Hdr: hdr, NextDomain: c.names[next], TypeBitMap: c.types[i]}
	}
	return append([]dns.RR{rr}, s.sign(z, hdr.Rrtype, []dns.RR{rr})...)
}

// sign returns the RRSIG of an RRset of zone z as the zone's mode has it:
// valid around the server's signing time, or broken on purpose; nil for
// no signature.
func (s *Server) sign(z *zone, typ uint16, rrs []dns.RR) []dns.RR {
	zs := z.dz.sec
	key := zs.zsk
	incept, expire := s.signAt.Add(-time.Hour), s.signAt.Add(30*24*time.Hour)
	if typ == dns.TypeDNSKEY {
		key = zs.ksk
	} else {
		switch {
		case zs.mode == secNoRRSIG:
			return nil
		case zs.mode == secExpired, typ == dns.TypeTLSA && zs.tlsaExpired:
			incept, expire = s.signAt.Add(-60*24*time.Hour), s.signAt.Add(-24*time.Hour)
		case zs.mode == secNotYetValid:
			incept, expire = s.signAt.Add(24*time.Hour), s.signAt.Add(60*24*time.Hour)
		}
	}
	sig := &dns.RRSIG{
		Hdr:        dns.RR_Header{Ttl: rrs[0].Header().Ttl},
		Algorithm:  key.rr.Algorithm,
		KeyTag:     key.rr.KeyTag(),
		SignerName: z.origin,
		Inception:  uint32(incept.Unix()),
		Expiration: uint32(expire.Unix()),
	}
	if err := sig.Sign(key.priv, rrs); err != nil {
		return nil
	}
	if zs.mode == secBadSig && typ != dns.TypeDNSKEY {
		b, err := base64.StdEncoding.DecodeString(sig.Signature)
		if err == nil && len(b) > 0 {
			b[len(b)/2] ^= 0x10
			sig.Signature = base64.StdEncoding.EncodeToString(b)
		}
	}
	return []dns.RR{sig}
}

// closestEncloser returns the deepest existing ancestor of name.
func (s *Server) closestEncloser(name string) string {
	for p := parent(name); p != ""; p = parent(p) {
		if _, ok := s.names[p]; ok {
			return p
		}
	}
	return "."
}

// wildcard answers a query for name, which does not exist in zone z, from
// the wildcard at its closest encloser when there is one (RFC 4592): the
// wildcard's RRset with name as owner and, with do, its RRSIGs (whose
// Labels field shows the expansion) and the NSEC or NSEC3 records that
// prove that name itself does not exist (RFC 4035 section 3.1.3.3, RFC
// 5155 section 7.2.6); or, when the wildcard has no record of qtype, a
// wildcard NODATA (RFC 4035 section 3.1.3.4, RFC 5155 section 7.2.5). It
// reports false when no wildcard applies.
func (s *Server) wildcard(m *dns.Msg, z *zone, name string, qtype uint16, do bool) (int, bool) {
	ce := s.closestEncloser(name)
	wn, ok := s.names["*."+ce]
	if !ok || wn.zone != z || len(wn.sets) == 0 || wn.fault != faultNone {
		return 0, false
	}
	if set := wn.set(qtype); set != nil {
		for _, rr := range set.rrs {
			c := dns.Copy(rr)
			c.Header().Name = name
			m.Answer = append(m.Answer, c)
		}
		if do {
			for _, rr := range s.sigs(z, set) {
				c := dns.Copy(rr)
				c.Header().Name = name
				m.Answer = append(m.Answer, c)
			}
			s.wildcardProof(m, z, name, ce, false)
		}
		return dns.RcodeSuccess, true
	}
	m.Ns = z.soa
	if do {
		m.Ns = append(append([]dns.RR(nil), z.soa...), s.sigs(z, z.apex.set(dns.TypeSOA))...)
		s.wildcardProof(m, z, name, ce, true)
	}
	return dns.RcodeSuccess, true
}

// wildcardProof adds to the authority section the records that prove that
// name does not exist below its closest encloser ce, and with nodata also
// the record of the wildcard that shows it has no record of the type.
func (s *Server) wildcardProof(m *dns.Msg, z *zone, name, ce string, nodata bool) {
	c := z.dz.chain
	if c == nil {
		return
	}
	var idx []int
	use := func(i int) {
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	if c.nsec3 {
		nc := name
		for parent(nc) != ce {
			nc = parent(nc)
		}
		if nodata {
			i, _ := c.find(c.key(z, ce))
			use(i)
		}
		i, _ := c.find(c.key(z, nc))
		use(i)
		if nodata {
			i, _ := c.find(c.key(z, "*."+ce))
			use(i)
		}
	} else {
		i, _ := c.find(name)
		use(i)
		if nodata {
			i, _ := c.find("*." + ce)
			use(i)
		}
	}
	for _, i := range idx {
		m.Ns = append(m.Ns, s.chainRecord(z, i)...)
	}
}
