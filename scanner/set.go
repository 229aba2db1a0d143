package scanner

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
	"sync/atomic"
)

// setBuckets is the number of buckets of a hashSet: the top setBits bits
// of a hash choose its bucket.
const (
	setBits    = 16
	setBuckets = 1 << setBits
)

// entryBytes is what a hash takes in its bucket: its low 48 bits, big
// endian. The top 16 bits are the bucket's number, so the set still tells
// apart every two of the 2^64 hashes.
const entryBytes = 6

// hashSet is a set of 64-bit hashes that costs about 6.4 bytes an entry
// (6 and a share of its bucket's spare room),
// plus 1.5 MiB of bucket headers taken at the first Add, and grows in
// small steps: a Go map costs 10 to 20 bytes an entry and doubles its
// tables. The 65,536 buckets are sorted runs of 6-byte entries chosen by
// the top 16 bits of the hash; a full bucket grows by an eighth, so no
// step copies more than one bucket (at 10^8 entries, about 1,500 hashes,
// 9 KB). The zero value is an empty set; it is not safe for concurrent
// use.
type hashSet struct {
	buckets [][]byte
	n       int
	// held, when set, is kept up to date with the bytes the set holds
	// (buckets' capacity and headers): Stats.SetBytes, which the garbage
	// collector's pacing leaves out (see cmd/danescan's gcPacer).
	held *atomic.Int64
}

// Add adds h and reports whether it was not in the set yet.
func (s *hashSet) Add(h uint64) (added bool) {
	if s.buckets == nil {
		s.buckets = make([][]byte, setBuckets)
		s.account(setHeaderBytes)
	}
	b := &s.buckets[h>>(64-setBits)]
	low := h & (1<<48 - 1)
	i, found := search(*b, low)
	if found {
		return false
	}
	if cap(*b)-len(*b) < entryBytes {
		// Ask for a sixteenth more and take all of what the allocator
		// gives (slices.Grow rounds up to its size class, about 12 %
		// apart at a kilobyte): a set of 10^7 names in buckets of about
		// 150 entries holds 6.4 bytes a name, all of it counted.
		grown := slices.Grow([]byte(nil), len(*b)+max(len(*b)/16, 2*entryBytes))
		grown = append(grown, *b...)
		s.account(cap(grown) - cap(*b))
		*b = grown
	}
	o := i * entryBytes
	*b = (*b)[:len(*b)+entryBytes]
	copy((*b)[o+entryBytes:], (*b)[o:])
	binary.BigEndian.PutUint16((*b)[o:], uint16(low>>32))
	binary.BigEndian.PutUint32((*b)[o+2:], uint32(low))
	s.n++
	return true
}

// search returns the place of low in the sorted bucket b and whether it
// is there.
func search(b []byte, low uint64) (int, bool) {
	lo, hi := 0, len(b)/entryBytes
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if entryAt(b, m) < low {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(b)/entryBytes && entryAt(b, lo) == low
}

func entryAt(b []byte, i int) uint64 {
	o := i * entryBytes
	return uint64(binary.BigEndian.Uint16(b[o:]))<<32 | uint64(binary.BigEndian.Uint32(b[o+2:]))
}

func (s *hashSet) account(n int) {
	if s.held != nil {
		s.held.Add(int64(n))
	}
}

// Len returns the number of hashes in the set.
func (s *hashSet) Len() int { return s.n }

// Bytes returns the memory the set holds in its buckets' capacity; the
// bucket headers add setHeaderBytes once the set is used.
func (s *hashSet) Bytes() int {
	total := 0
	for _, b := range s.buckets {
		total += cap(b)
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

// newNameSet returns an empty set; held, when not nil, counts the bytes
// it holds (hashSet.held).
func newNameSet(held *atomic.Int64) *nameSet {
	return &nameSet{seed: maphash.MakeSeed(), set: hashSet{held: held}}
}

// countIn makes held count the bytes the set holds, from now on and what
// it holds already.
func (s *nameSet) countIn(held *atomic.Int64) {
	s.set.held = held
	if s.set.buckets != nil {
		held.Add(int64(s.set.Bytes() + setHeaderBytes))
	}
}

// Add adds name and reports whether it was not in the set yet.
func (s *nameSet) Add(name string) (added bool) {
	return s.set.Add(maphash.String(s.seed, name))
}
