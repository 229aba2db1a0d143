package scanner

import (
	"hash/maphash"
	"slices"
)

// setBuckets is the number of buckets of a hashSet: the top setBits bits
// of a hash choose its bucket.
const (
	setBits    = 16
	setBuckets = 1 << setBits
)

// hashSet is a set of 64-bit hashes that costs 8.5 to 9 bytes an entry,
// plus 1.5 MiB of bucket headers taken at the first Add, and grows in
// small steps: a Go map costs 10 to 20 bytes an entry and doubles its
// tables. The 65,536 buckets are sorted slices chosen by the top 16 bits
// of the hash; a full bucket grows by an eighth, so no step copies more
// than one bucket (at 10^8 entries, about 1,500 hashes of 8 bytes).
// The zero value is an empty set; it is not safe for concurrent use.
type hashSet struct {
	buckets [][]uint64
	n       int
}

// Add adds h and reports whether it was not in the set yet.
func (s *hashSet) Add(h uint64) (added bool) {
	if s.buckets == nil {
		s.buckets = make([][]uint64, setBuckets)
	}
	b := &s.buckets[h>>(64-setBits)]
	i, found := slices.BinarySearch(*b, h)
	if found {
		return false
	}
	if len(*b) == cap(*b) {
		grown := make([]uint64, len(*b), len(*b)+len(*b)/8+2)
		copy(grown, *b)
		*b = grown
	}
	*b = (*b)[:len(*b)+1]
	copy((*b)[i+1:], (*b)[i:])
	(*b)[i] = h
	s.n++
	return true
}

// Len returns the number of hashes in the set.
func (s *hashSet) Len() int { return s.n }

// Bytes returns the memory the set holds in its buckets' capacity; the
// bucket headers add setHeaderBytes once the set is used.
func (s *hashSet) Bytes() int {
	total := 0
	for _, b := range s.buckets {
		total += cap(b) * 8
	}
	return total
}

// setHeaderBytes is what a used hashSet's bucket headers take.
const setHeaderBytes = setBuckets * 24

// nameSet is a hashSet of names: a name is kept as its 64-bit maphash
// under a seed of its own, so two names collide with probability 2^-64
// (for 10^8 names in one set, about 3 in 10,000 that any two do: one of
// them would be taken for a duplicate).
type nameSet struct {
	seed maphash.Seed
	set  hashSet
}

func newNameSet() *nameSet { return &nameSet{seed: maphash.MakeSeed()} }

// Add adds name and reports whether it was not in the set yet.
func (s *nameSet) Add(name string) (added bool) {
	return s.set.Add(maphash.String(s.seed, name))
}
