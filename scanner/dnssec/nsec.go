package dnssec

import (
	"fmt"

	"github.com/miekg/dns"
)

// nsecRR is an NSEC record of the zone in canonical form.
type nsecRR struct {
	owner, next dname
	types       []uint16
}

// verdict is what the type bitmap at a name says about a NODATA claim.
type verdict int

const (
	verdictBogus  verdict = iota // the bitmap contradicts the claim
	verdictNoData                // the type does not exist at the name
	verdictNoDS                  // a delegation without DS (RFC 4035 §5.2)
)

// nodataVerdict judges the type bitmap of the NSEC or NSEC3 record that
// matches qname for a NODATA answer to qtype (RFC 4035 §5.4, RFC 5155 §8.5,
// §8.6, RFC 6840 §4.3). For DS, NS without SOA is an insecure delegation;
// SOA means the record is the child's apex, from the wrong side of the cut.
// For other types, NS without SOA means the record is the parent's record of
// a delegation and cannot deny anything in the child.
func nodataVerdict(bitmap []uint16, qtype uint16) (verdict, string) {
	switch {
	case hasType(bitmap, qtype):
		return verdictBogus, "the type bitmap at qname lists " + typeName(qtype)
	case hasType(bitmap, dns.TypeCNAME):
		return verdictBogus, "the type bitmap at qname lists CNAME"
	case qtype == dns.TypeDS && hasType(bitmap, dns.TypeSOA):
		return verdictBogus, "the record at qname has the SOA bit: it is the child zone's apex, from the wrong side of the cut, and cannot deny DS"
	case qtype == dns.TypeDS && hasType(bitmap, dns.TypeNS):
		return verdictNoDS, ""
	case qtype != dns.TypeDS && isDelegation(bitmap):
		return verdictBogus, "the record at qname is the parent's record of a delegation (NS without SOA) and cannot deny " + typeName(qtype)
	}
	return verdictNoData, ""
}

// wildcardVerdict judges the type bitmap of the wildcard that would have
// matched qname for a wildcard NODATA answer (RFC 4592 §4, RFC 5155 §8.7).
func wildcardVerdict(wc dname, bitmap []uint16, qtype uint16) (verdict, string) {
	switch {
	case hasType(bitmap, qtype):
		return verdictBogus, "the wildcard " + wc.String() + " has type " + typeName(qtype)
	case hasType(bitmap, dns.TypeCNAME):
		return verdictBogus, "the wildcard " + wc.String() + " has a CNAME"
	}
	return verdictNoData, ""
}

// nsecChain holds the usable NSEC records of one zone.
type nsecChain struct {
	zone, qname dname
	recs        []nsecRR
}

// DenialNSEC checks that nsecs, whose RRSIGs the caller has verified,
// prove the negative answer for qname and qtype in zone (RFC 4035 §5.4,
// RFC 4034 §4, RFC 6840 §4.1 and §4.3, RFC 4592). Names may be in any case,
// with or without the trailing dot. Only records owned at or below zone,
// with a next name at or below zone, are used.
//
// For dns.RcodeNameError an NSEC must cover qname (and not show it to be an
// empty non-terminal) and an NSEC must cover the wildcard at the closest
// encloser. For dns.RcodeSuccess (NODATA) one of these must hold: an NSEC
// owned by qname lists neither qtype nor CNAME; an NSEC covers qname and its
// next name is below qname (an empty non-terminal); an NSEC covers qname and
// the NSEC of the wildcard at the closest encloser lists neither qtype nor
// CNAME. An NSEC whose owner is a delegation (NS without SOA) or a DNAME
// above qname never proves that qname does not exist (RFC 6840 §4.1).
//
// A proof returns Status Secure with ReasonNSECDenial. For qtype DS, an
// NSEC at qname with NS and without DS and SOA returns Insecure with
// ReasonNoDS. Anything missing or contradictory, another rcode, or a qname
// outside zone returns Bogus with ReasonNSECProof and Detail saying what is
// missing. Zone in the Result is zone in canonical form.
func DenialNSEC(zone, qname string, qtype uint16, rcode int, nsecs []*dns.NSEC) Result {
	c, bad, ok := newNSECChain(zone, qname, nsecs)
	if !ok {
		return bad
	}
	switch rcode {
	case dns.RcodeNameError:
		return c.nameError()
	case dns.RcodeSuccess:
		return c.noData(qtype)
	}
	return c.bogus(fmt.Sprintf("rcode %d is neither NOERROR nor NXDOMAIN", rcode))
}

// WildcardNSEC checks that nsecs prove that qname itself does not exist,
// for a positive answer synthesised from a wildcard (RFC 4035 §5.3.4,
// RFC 4592): labels is the Labels field of the answer's RRSIG, smaller than
// qname's label count, so the wildcard is *.<the rightmost labels labels of
// qname>. An NSEC must cover qname and show that no name between qname and
// that closest encloser exists. It returns Secure with ReasonNSECDenial, or
// Bogus with ReasonNSECProof and a Detail.
func WildcardNSEC(zone, qname string, labels uint8, nsecs []*dns.NSEC) Result {
	c, bad, ok := newNSECChain(zone, qname, nsecs)
	if !ok {
		return bad
	}
	n := len(c.qname)
	if int(labels) >= n || int(labels) < len(c.zone) {
		return c.bogus(fmt.Sprintf("RRSIG labels %d is not a wildcard expansion of %s in zone %s", labels, c.qname, c.zone))
	}
	ce := c.qname[n-int(labels):]
	detail := "no NSEC covers " + c.qname.String()
	for _, r := range c.recs {
		if ok, why := c.coversUsable(r, c.qname); !ok {
			if why != "" {
				detail = why
			}
			continue
		}
		if got := c.closestEncloser(r); !got.equal(ce) {
			detail = fmt.Sprintf("the NSEC %s shows closest encloser %s, not the wildcard's parent %s", r.owner, got, ce)
			continue
		}
		return c.secure()
	}
	return c.bogus(detail)
}

// newNSECChain parses the names and keeps the NSEC records of zone. When
// nothing can be used it returns false and the Bogus result to return.
func newNSECChain(zone, qname string, nsecs []*dns.NSEC) (*nsecChain, Result, bool) {
	z, ok := parseName(zone)
	if !ok {
		return nil, nsecBogus(zone, "the zone name is not a domain name"), false
	}
	q, ok := parseName(qname)
	if !ok {
		return nil, nsecBogus(zone, "qname is not a domain name"), false
	}
	c := &nsecChain{zone: z, qname: q}
	if !q.isSubdomain(z) {
		return nil, c.bogus(fmt.Sprintf("qname %s is not in zone %s", q, z)), false
	}
	for _, rr := range nsecs {
		if rr == nil {
			continue
		}
		owner, ok1 := parseName(rr.Hdr.Name)
		next, ok2 := parseName(rr.NextDomain)
		if !ok1 || !ok2 || !owner.isSubdomain(z) || !next.isSubdomain(z) {
			continue
		}
		c.recs = append(c.recs, nsecRR{owner: owner, next: next, types: rr.TypeBitMap})
	}
	if len(c.recs) == 0 {
		return nil, c.bogus("no usable NSEC record of zone " + z.String() + " (owner and next name at or below the zone)"), false
	}
	return c, Result{}, true
}

// coversUsable reports whether r covers name and may be used to deny it:
// an NSEC owned by a delegation point or a DNAME above name proves nothing
// about names below it (RFC 6840 §4.1). When r covers name but may not be
// used, why says so.
func (c *nsecChain) coversUsable(r nsecRR, name dname) (ok bool, why string) {
	if !coversName(r.owner, r.next, name) {
		return false, ""
	}
	if name.isProperSubdomain(r.owner) && (isDelegation(r.types) || hasType(r.types, dns.TypeDNAME)) {
		return false, "the NSEC " + r.owner.String() + " covers " + name.String() + " but is owned by a delegation or DNAME above it (RFC 6840 §4.1)"
	}
	return true, ""
}

// closestEncloser returns the closest encloser of qname that the covering
// NSEC r shows: the longer of qname's common ancestors with r's owner and
// next name (RFC 4592 §3.3.1).
func (c *nsecChain) closestEncloser(r nsecRR) dname {
	a := commonAncestor(c.qname, r.owner)
	b := commonAncestor(c.qname, r.next)
	if len(b) > len(a) {
		a = b
	}
	if len(a) < len(c.zone) {
		return c.zone
	}
	return a
}

// nameError proves NXDOMAIN.
func (c *nsecChain) nameError() Result {
	for _, r := range c.recs {
		if r.owner.equal(c.qname) {
			return c.bogus("an NSEC owned by " + c.qname.String() + " shows that it exists")
		}
	}
	// The closest encloser is an ancestor of qname, so it is known by its
	// label count; each wildcard is looked for once.
	tried := make(map[int]bool)
	detail := "no NSEC covers " + c.qname.String()
	for _, r := range c.recs {
		if ok, why := c.coversUsable(r, c.qname); !ok {
			if why != "" {
				detail = why
			}
			continue
		}
		if r.next.isProperSubdomain(c.qname) {
			detail = "the NSEC " + r.owner.String() + " shows that " + c.qname.String() + " is an empty non-terminal"
			continue
		}
		ce := c.closestEncloser(r)
		if tried[len(ce)] {
			continue
		}
		tried[len(ce)] = true
		wc := wildcardOf(ce)
		detail = "no NSEC covers the wildcard " + wc.String()
		for _, w := range c.recs {
			if ok, _ := c.coversUsable(w, wc); ok {
				return c.secure()
			}
			if w.owner.equal(wc) {
				detail = "the wildcard " + wc.String() + " exists, so it would have matched " + c.qname.String()
			}
		}
	}
	return c.bogus(detail)
}

// noData proves NODATA for qtype.
func (c *nsecChain) noData(qtype uint16) Result {
	for _, r := range c.recs {
		if r.owner.equal(c.qname) {
			v, detail := nodataVerdict(r.types, qtype)
			return c.verdict(v, detail)
		}
	}
	tried := make(map[int]bool) // closest enclosers by label count, as in nameError
	detail := "no NSEC matches or covers " + c.qname.String()
	for _, r := range c.recs {
		if ok, why := c.coversUsable(r, c.qname); !ok {
			if why != "" {
				detail = why
			}
			continue
		}
		if r.next.isProperSubdomain(c.qname) {
			return c.secure() // empty non-terminal
		}
		ce := c.closestEncloser(r)
		if tried[len(ce)] {
			continue
		}
		tried[len(ce)] = true
		wc := wildcardOf(ce)
		detail = "an NSEC covers " + c.qname.String() + " but no NSEC is owned by the wildcard " + wc.String()
		for _, w := range c.recs {
			if w.owner.equal(wc) {
				v, d := wildcardVerdict(wc, w.types, qtype)
				return c.verdict(v, d)
			}
		}
	}
	return c.bogus(detail)
}

// verdict turns a bitmap verdict into a Result.
func (c *nsecChain) verdict(v verdict, detail string) Result {
	switch v {
	case verdictNoData:
		return c.secure()
	case verdictNoDS:
		return Result{Status: Insecure, Reason: ReasonNoDS, Detail: "the NSEC at " + c.qname.String() + " shows a delegation without DS", Zone: c.zone.String()}
	}
	return c.bogus(detail)
}

// secure is the result of a complete NSEC proof.
func (c *nsecChain) secure() Result {
	return Result{Status: Secure, Reason: ReasonNSECDenial, Zone: c.zone.String()}
}

// bogus is the result of a missing or contradictory NSEC proof.
func (c *nsecChain) bogus(detail string) Result {
	return Result{Status: Bogus, Reason: ReasonNSECProof, Detail: detail, Zone: c.zone.String()}
}

// nsecBogus is the Bogus result before the zone name has been parsed.
func nsecBogus(zone, detail string) Result {
	return Result{Status: Bogus, Reason: ReasonNSECProof, Detail: detail, Zone: dns.CanonicalName(zone)}
}
