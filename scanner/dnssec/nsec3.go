package dnssec

import (
	"bytes"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// maxNSEC3Iterations is the largest NSEC3 iteration count this validator
// hashes: 150. RFC 9276 §3.2 lets a validator treat NSEC3 records with more
// iterations than it is willing to compute as insecure; 150 is the
// threshold widely used by validators after RFC 9276, and well above the 0
// that RFC 9276 §3.1 asks zones to use, so a survey sees the zones above it
// as insecure rather than bogus.
const maxNSEC3Iterations = 150

// nsec3OptOut is the Opt-Out bit of the NSEC3 Flags field (RFC 5155 §3.1.2.1).
const nsec3OptOut = 0x01

// decodeHash decodes an NSEC3 hash in base32hex (RFC 4648 §7, RFC 5155
// §3.3), without padding and in any case.
func decodeHash(s string) ([]byte, error) {
	return base32.HexEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(s))
}

// nsec3RR is an NSEC3 record of the zone with its hashes decoded.
type nsec3RR struct {
	owner      dname
	hash, next []byte
	flags      uint8
	types      []uint16
}

// nsec3Params are the hash parameters every NSEC3 of a proof shares.
type nsec3Params struct {
	alg   uint8
	iter  uint16
	salt  string // uppercase hex, empty for no salt
	valid bool
}

// nsec3Chain holds the usable NSEC3 records of one zone and their common
// parameters.
type nsec3Chain struct {
	zone, qname dname
	params      nsec3Params
	recs        []nsec3RR
}

// DenialNSEC3 checks that nsec3s, whose RRSIGs the caller has verified,
// prove the negative answer for qname and qtype in zone (RFC 5155 §8).
// Names may be in any case, with or without the trailing dot. Only records
// owned by <hash>.<zone> with Flags 0 or 1 (RFC 5155 §8.2) are used, and
// they must all share hash algorithm, iterations and salt; any salt is
// accepted.
//
// For dns.RcodeNameError: the closest encloser proof (RFC 5155 §8.3: an
// NSEC3 matches the closest encloser, which is neither a delegation nor a
// DNAME, and one covers the next closer name) and an NSEC3 covering the
// wildcard at the closest encloser (§8.4). For dns.RcodeSuccess: an NSEC3
// matching qname that lists neither qtype nor CNAME (§8.5, §8.6), or the
// closest encloser proof and a matching wildcard NSEC3 that lists neither
// (§8.7).
//
// It returns Secure with ReasonNSEC3Denial for a proof. It returns Insecure
// with ReasonNSEC3OptOut when the proof stands but the next closer name is
// covered by an opt-out NSEC3 (RFC 5155 §6, §8.6; also for NODATA of other
// types, since an empty non-terminal that only leads to unsigned
// delegations in an opt-out span has no NSEC3, RFC 5155 §7.1);
// Insecure with ReasonNoDS for DS at qname matched by an NSEC3 with NS and
// without DS and SOA; Insecure with ReasonUnsupportedAlgorithm when the hash
// algorithm is not SHA-1; Insecure with ReasonNSEC3Iterations above
// maxNSEC3Iterations. Anything missing or contradictory, mixed parameters,
// another rcode, or a qname outside zone returns Bogus with
// ReasonNSEC3Proof and a Detail.
func DenialNSEC3(zone, qname string, qtype uint16, rcode int, nsec3s []*dns.NSEC3) Result {
	c, stop, ok := newNSEC3Chain(zone, qname, nsec3s)
	if !ok {
		return stop
	}
	switch rcode {
	case dns.RcodeNameError:
		return c.nameError()
	case dns.RcodeSuccess:
		return c.noData(qtype)
	}
	return c.bogus(fmt.Sprintf("rcode %d is neither NOERROR nor NXDOMAIN", rcode))
}

// WildcardNSEC3 checks that nsec3s prove that qname itself does not exist,
// for a positive answer synthesised from a wildcard (RFC 5155 §8.8): labels
// is the Labels field of the answer's RRSIG, smaller than qname's label
// count, so the closest encloser is the rightmost labels labels of qname and
// an NSEC3 must cover the next closer name (one label more). It returns
// Secure with ReasonNSEC3Denial, Bogus with ReasonNSEC3Proof and a Detail,
// or the same Insecure results as DenialNSEC3 for an unknown hash algorithm
// or too many iterations.
func WildcardNSEC3(zone, qname string, labels uint8, nsec3s []*dns.NSEC3) Result {
	c, stop, ok := newNSEC3Chain(zone, qname, nsec3s)
	if !ok {
		return stop
	}
	n := len(c.qname)
	if int(labels) >= n || int(labels) < len(c.zone) {
		return c.bogus(fmt.Sprintf("RRSIG labels %d is not a wildcard expansion of %s in zone %s", labels, c.qname, c.zone))
	}
	nc := c.qname[n-int(labels)-1:]
	r, err := c.cover(nc)
	if err != "" {
		return c.bogus(err)
	}
	if r == nil {
		return c.bogus("no NSEC3 covers the next closer name " + nc.String())
	}
	return c.secure()
}

// newNSEC3Chain parses the names, keeps the NSEC3 records of zone and
// checks their parameters. When the proof cannot go on it returns false and
// the result to return (Bogus, or Insecure for an unknown hash algorithm or
// too many iterations).
func newNSEC3Chain(zone, qname string, nsec3s []*dns.NSEC3) (*nsec3Chain, Result, bool) {
	z, ok := parseName(zone)
	if !ok {
		return nil, nsec3Result(dns.CanonicalName(zone), Bogus, ReasonNSEC3Proof, "the zone name is not a domain name"), false
	}
	q, ok := parseName(qname)
	if !ok {
		return nil, nsec3Result(z.String(), Bogus, ReasonNSEC3Proof, "qname is not a domain name"), false
	}
	c := &nsec3Chain{zone: z, qname: q}
	if !q.isSubdomain(z) {
		return nil, c.bogus(fmt.Sprintf("qname %s is not in zone %s", q, z)), false
	}
	for _, rr := range nsec3s {
		r, p, ok := parseNSEC3(z, rr)
		if !ok {
			continue
		}
		if !c.params.valid {
			c.params = p
		} else if p != c.params {
			return nil, c.bogus(fmt.Sprintf("NSEC3 records with different parameters: hash %d, %d iterations, salt %q and hash %d, %d iterations, salt %q",
				c.params.alg, c.params.iter, c.params.salt, p.alg, p.iter, p.salt)), false
		}
		c.recs = append(c.recs, r)
	}
	switch {
	case len(c.recs) == 0:
		return nil, c.bogus("no usable NSEC3 record of zone " + z.String()), false
	case c.params.alg != dns.SHA1:
		return nil, nsec3Result(z.String(), Insecure, ReasonUnsupportedAlgorithm, fmt.Sprintf("NSEC3 hash algorithm %d is not supported", c.params.alg)), false
	case c.params.iter > maxNSEC3Iterations:
		return nil, nsec3Result(z.String(), Insecure, ReasonNSEC3Iterations, fmt.Sprintf("NSEC3 iterations %d above the limit of %d (RFC 9276)", c.params.iter, maxNSEC3Iterations)), false
	}
	return c, Result{}, true
}

// parseNSEC3 returns rr in usable form if it belongs to zone z: owned by
// one label of base32hex hash below the apex, with Flags 0 or 1, hashes of
// equal length (20 octets for SHA-1) and a salt in hex.
func parseNSEC3(z dname, rr *dns.NSEC3) (nsec3RR, nsec3Params, bool) {
	if rr == nil || rr.Flags&^nsec3OptOut != 0 {
		return nsec3RR{}, nsec3Params{}, false
	}
	owner, ok := parseName(rr.Hdr.Name)
	if !ok || len(owner) != len(z)+1 || !owner.isSubdomain(z) {
		return nsec3RR{}, nsec3Params{}, false
	}
	hash, err1 := decodeHash(owner[0])
	next, err2 := decodeHash(rr.NextDomain)
	if err1 != nil || err2 != nil || len(hash) == 0 || len(hash) != len(next) {
		return nsec3RR{}, nsec3Params{}, false
	}
	if rr.Hash == dns.SHA1 && len(hash) != 20 {
		return nsec3RR{}, nsec3Params{}, false
	}
	salt := strings.ToUpper(rr.Salt)
	if salt == "-" {
		salt = ""
	}
	if _, err := hex.DecodeString(salt); err != nil {
		return nsec3RR{}, nsec3Params{}, false
	}
	p := nsec3Params{alg: rr.Hash, iter: rr.Iterations, salt: salt, valid: true}
	return nsec3RR{owner: owner, hash: hash, next: next, flags: rr.Flags, types: rr.TypeBitMap}, p, true
}

// hash returns the NSEC3 hash of n with the chain's parameters, using
// dns.HashName on n's escaped lowercase presentation form.
func (c *nsec3Chain) hash(n dname) ([]byte, bool) {
	s := dns.HashName(n.String(), c.params.alg, c.params.iter, c.params.salt)
	if s == "" {
		return nil, false
	}
	h, err := decodeHash(s)
	return h, err == nil
}

// match returns the NSEC3 whose hash is that of n, or nil; a non-empty
// string says why n could not be hashed.
func (c *nsec3Chain) match(n dname) (*nsec3RR, string) {
	h, ok := c.hash(n)
	if !ok {
		return nil, "cannot hash " + n.String()
	}
	for i := range c.recs {
		if bytes.Equal(c.recs[i].hash, h) {
			return &c.recs[i], ""
		}
	}
	return nil, ""
}

// cover returns an NSEC3 whose span covers the hash of n on the hash ring,
// or nil; a non-empty string says why n could not be hashed. The last
// record's next hash wraps round to the first; the ends never count.
func (c *nsec3Chain) cover(n dname) (*nsec3RR, string) {
	h, ok := c.hash(n)
	if !ok {
		return nil, "cannot hash " + n.String()
	}
	for i := range c.recs {
		r := &c.recs[i]
		if bytes.Compare(r.hash, r.next) < 0 {
			if bytes.Compare(r.hash, h) < 0 && bytes.Compare(h, r.next) < 0 {
				return r, ""
			}
		} else if bytes.Compare(r.hash, h) < 0 || bytes.Compare(h, r.next) < 0 {
			return r, ""
		}
	}
	return nil, ""
}

// closestEncloser runs the closest encloser proof for qname (RFC 5155
// §8.3): the longest ancestor of qname with a matching NSEC3, which must be
// neither a delegation nor a DNAME, and an NSEC3 covering the next closer
// name. It returns the closest encloser and the covering record, or a
// Detail saying what is missing.
func (c *nsec3Chain) closestEncloser() (dname, *nsec3RR, string) {
	q := c.qname
	for i := 1; len(q)-i >= len(c.zone); i++ {
		ce := q[i:]
		m, err := c.match(ce)
		if err != "" {
			return nil, nil, err
		}
		if m == nil {
			continue
		}
		if isDelegation(m.types) || hasType(m.types, dns.TypeDNAME) {
			return nil, nil, "the closest encloser " + ce.String() + " is a delegation or a DNAME"
		}
		nc := q[i-1:]
		r, err := c.cover(nc)
		if err != "" {
			return nil, nil, err
		}
		if r == nil {
			return nil, nil, "no NSEC3 covers the next closer name " + nc.String()
		}
		return ce, r, ""
	}
	return nil, nil, "no NSEC3 matches an ancestor of " + q.String() + " (closest encloser proof)"
}

// nameError proves NXDOMAIN (RFC 5155 §8.4).
func (c *nsec3Chain) nameError() Result {
	m, err := c.match(c.qname)
	if err != "" {
		return c.bogus(err)
	}
	if m != nil {
		return c.bogus("an NSEC3 matches " + c.qname.String() + ": it exists")
	}
	ce, nc, err := c.closestEncloser()
	if err != "" {
		return c.bogus(err)
	}
	wc := wildcardOf(ce)
	w, err := c.cover(wc)
	if err != "" {
		return c.bogus(err)
	}
	if w == nil {
		if m, _ := c.match(wc); m != nil {
			return c.bogus("the wildcard " + wc.String() + " exists, so it would have matched " + c.qname.String())
		}
		return c.bogus("no NSEC3 covers the wildcard " + wc.String())
	}
	if nc.flags&nsec3OptOut != 0 {
		return c.optOut()
	}
	return c.secure()
}

// noData proves NODATA for qtype (RFC 5155 §8.5 to §8.7).
func (c *nsec3Chain) noData(qtype uint16) Result {
	m, err := c.match(c.qname)
	if err != "" {
		return c.bogus(err)
	}
	if m != nil {
		v, detail := nodataVerdict(m.types, qtype)
		switch v {
		case verdictNoData:
			return c.secure()
		case verdictNoDS:
			return nsec3Result(c.zone.String(), Insecure, ReasonNoDS, "the NSEC3 of "+c.qname.String()+" shows a delegation without DS")
		}
		return c.bogus(detail)
	}
	ce, nc, err := c.closestEncloser()
	if err != "" {
		return c.bogus("no NSEC3 matches " + c.qname.String() + " and " + err)
	}
	if nc.flags&nsec3OptOut != 0 {
		return c.optOut()
	}
	wc := wildcardOf(ce)
	w, err := c.match(wc)
	if err != "" {
		return c.bogus(err)
	}
	if w == nil {
		return c.bogus("no NSEC3 matches " + c.qname.String() + " or the wildcard " + wc.String() + ", and the next closer name is not in an opt-out span")
	}
	if v, detail := wildcardVerdict(wc, w.types, qtype); v != verdictNoData {
		return c.bogus(detail)
	}
	return c.secure()
}

// optOut is the Insecure result for a next closer name in an opt-out span.
func (c *nsec3Chain) optOut() Result {
	return nsec3Result(c.zone.String(), Insecure, ReasonNSEC3OptOut, "the next closer name of "+c.qname.String()+" is covered by an opt-out NSEC3")
}

// secure is the result of a complete NSEC3 proof.
func (c *nsec3Chain) secure() Result {
	return nsec3Result(c.zone.String(), Secure, ReasonNSEC3Denial, "")
}

// bogus is the result of a missing or contradictory NSEC3 proof.
func (c *nsec3Chain) bogus(detail string) Result {
	return nsec3Result(c.zone.String(), Bogus, ReasonNSEC3Proof, detail)
}

// nsec3Result builds a Result for zone.
func nsec3Result(zone string, s Status, r Reason, detail string) Result {
	return Result{Status: s, Reason: r, Detail: detail, Zone: zone}
}
