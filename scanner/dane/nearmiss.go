package dane

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
)

// SHA2-256 and SHA2-512 of the empty string.
var (
	emptySHA256 = sha256.Sum256(nil)
	emptySHA512 = sha512.Sum512(nil)
)

// miss is one record's nearest miss.
type miss struct {
	sub                    int // orders misses of the same kind: reasonRank for ta_found
	kind                   NearMiss
	depth                  int
	usage, selector, mtype uint8
}

// nearMissRank orders the near-miss categories; higher wins.
func nearMissRank(kind NearMiss) int {
	switch kind {
	case NearMissNone:
		return 1
	case NearMissEmptyHash:
		return 2
	case NearMissWrongFields:
		return 3
	case NearMissWrongDepth:
		return 4
	case NearMissTAFound:
		return 5
	case NearMissWrongMatchingType:
		return 6
	case NearMissWrongSelector:
		return 7
	case NearMissWrongUsage:
		return 8
	}
	return 0
}

// nearMiss fills the NearMiss fields of v from the best miss among records.
func (c *checker) nearMiss(records []Record, v *Verdict) {
	v.NearMiss = NearMissNone
	sub := 0
	for i, r := range records {
		m, ok := c.recordMiss(r)
		if !ok {
			continue
		}
		if k, best := nearMissRank(m.kind), nearMissRank(v.NearMiss); k < best || k == best && m.sub <= sub {
			continue
		}
		sub = m.sub
		v.NearMiss, v.NearMissRecord, v.NearMissDepth = m.kind, i, m.depth
		v.NearMissUsage, v.NearMissSelector, v.NearMissMatchingType = m.usage, m.selector, m.mtype
	}
}

// recordMiss returns how near r came to authenticating the chain; ok is
// false when r relates to no presented certificate at all. It tries, in
// order: a change of usage, of selector, of matching type alone (each
// judged by a full evaluation of the changed record); a DANE-TA anchor found
// in the chain; then any relation of the data to a presented certificate;
// then the empty-input digests.
func (c *checker) recordMiss(r Record) (m miss, ok bool) {
	if r.BadHex || len(r.Data) == 0 {
		return miss{}, false
	}
	var usages []uint8
	switch r.Usage {
	case UsageDANEEE:
		usages = []uint8{UsageDANETA}
	case UsageDANETA:
		usages = []uint8{UsageDANEEE}
	default:
		usages = []uint8{UsageDANEEE, UsageDANETA}
	}
	type variant struct {
		kind NearMiss
		r    Record
	}
	var variants []variant
	for _, u := range usages {
		variants = append(variants, variant{NearMissWrongUsage, Record{Usage: u, Selector: r.Selector, MatchingType: r.MatchingType, Data: r.Data}})
	}
	for s := range uint8(SelectorSPKI + 1) {
		if s != r.Selector {
			variants = append(variants, variant{NearMissWrongSelector, Record{Usage: r.Usage, Selector: s, MatchingType: r.MatchingType, Data: r.Data}})
		}
	}
	for mt := range uint8(MatchingSHA512 + 1) {
		if mt != r.MatchingType {
			variants = append(variants, variant{NearMissWrongMatchingType, Record{Usage: r.Usage, Selector: r.Selector, MatchingType: mt, Data: r.Data}})
		}
	}
	for _, vr := range variants {
		if res := c.eval(vr.r); res.Matched {
			return miss{kind: vr.kind, depth: res.Depth, usage: vr.r.Usage, selector: vr.r.Selector, mtype: vr.r.MatchingType}, true
		}
	}

	if r.Usage == UsageDANETA {
		if res := c.eval(r); res.Usable && res.Depth >= 0 {
			return miss{kind: NearMissTAFound, sub: reasonRank(res.Reason), depth: res.Depth,
				usage: r.Usage, selector: r.Selector, mtype: r.MatchingType}, true
		}
	}

	// The data names a presented certificate, but no single change helps.
	// Under the record's own selector and matching type, a DANE-EE record
	// naming a certificate above the leaf is at the wrong depth; a DANE-TA
	// record naming a presented certificate is not a near miss (its Reason
	// says what failed after the anchor was found).
	var related *miss
	for d := range c.certs {
		for s := range uint8(SelectorSPKI + 1) {
			for mt := range uint8(MatchingSHA512 + 1) {
				if !bytes.Equal(c.digest(d, s, mt), r.Data) {
					continue
				}
				own := s == r.Selector && mt == r.MatchingType
				if own && r.Usage == UsageDANEEE && d > 0 {
					return miss{kind: NearMissWrongDepth, depth: d, usage: r.Usage, selector: s, mtype: mt}, true
				}
				if own && r.Usage == UsageDANETA {
					continue
				}
				if related == nil {
					u := uint8(UsageDANETA)
					if d == 0 {
						u = UsageDANEEE
					}
					related = &miss{kind: NearMissWrongFields, depth: d, usage: u, selector: s, mtype: mt}
				}
			}
		}
	}
	if related != nil {
		return *related, true
	}
	if bytes.Equal(r.Data, emptySHA256[:]) || bytes.Equal(r.Data, emptySHA512[:]) {
		return miss{kind: NearMissEmptyHash, depth: -1}, true
	}
	return miss{}, false
}
