package scanner

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
	"sync/atomic"
	"unsafe"
)

// The top setBits bits of a hash choose its bucket; the buckets are kept
// in segCount segments of segBuckets buckets each.
const (
	setBits    = 16
	segBits    = 8
	segCount   = 1 << segBits
	segBuckets = 1 << (setBits - segBits)
)

// entryBytes is what a hash takes in its bucket: its low 48 bits, big
// endian. The top 16 bits are the bucket's number, so the set still tells
// apart every two of the 2^64 hashes.
const entryBytes = 6

// hashSet is a set of 64-bit hashes that costs about 6.2 bytes an entry
// at 10^7 entries (6, and the segments' free room of 1.6 to 4 %), plus
// 2 KiB a segment used; 7.4 at 10^6, where the free room kept for each
// bucket weighs more. A Go map costs 10 to 20 bytes an entry and doubles its tables.
//
// The 65,536 buckets are sorted runs of 6-byte entries chosen by the top
// 16 bits of the hash. They are not allocated one by one: each run of 256
// buckets shares one buffer (a segment), with the segment's free room
// spread between its buckets. A bucket that fills up makes its segment
// spread the free room again, and a segment with too little free room
// moves to a buffer about 3 % larger. Buckets grown one by one (each
// its own slice, as this set was) leave their old slices in every
// allocator size class they pass through, half-empty spans the heap
// cannot give back: 40 MB beside 122 MB of buckets for two sets of 10^7
// hashes. A segment past 32 KB is a large object whose freed pages the
// runtime returns to the system. The zero value is an empty set; it is
// not safe for concurrent use.
type hashSet struct {
	segs []*segment
	n    int
	// held, when set, is kept up to date with the bytes the set holds
	// (Bytes): Stats.SetBytes, which the garbage collector's pacing leaves
	// out (see cmd/danescan's gcPacer).
	held *atomic.Int64
}

// segment holds segBuckets buckets in one buffer: bucket k's n[k] entries
// start at entry start[k], and it may grow up to start[k+1].
type segment struct {
	data  []byte
	start [segBuckets + 1]uint32 // start[segBuckets]: the buffer's size in entries
	n     [segBuckets]uint32
	total int // entries in all buckets
}

// segmentBytes is what a segment takes besides its buffer; segsBytes is
// the table of segments of a used set.
const (
	segmentBytes = int(unsafe.Sizeof(segment{}))
	segsBytes    = segCount * int(unsafe.Sizeof((*segment)(nil)))
)

// Add adds h and reports whether it was not in the set yet.
func (s *hashSet) Add(h uint64) (added bool) {
	if s.segs == nil {
		s.segs = make([]*segment, segCount)
		s.account(segsBytes)
	}
	bucket := h >> (64 - setBits)
	g := s.segs[bucket>>(setBits-segBits)]
	if g == nil {
		g = new(segment)
		s.segs[bucket>>(setBits-segBits)] = g
		s.account(segmentBytes)
	}
	k := int(bucket & (segBuckets - 1))
	low := h & (1<<48 - 1)
	st, n := int(g.start[k]), int(g.n[k])
	i, found := search(g.data[st*entryBytes:(st+n)*entryBytes], low)
	if found {
		return false
	}
	if st+n == int(g.start[k+1]) {
		s.account(g.room(k))
		st = int(g.start[k])
	}
	o, end := (st+i)*entryBytes, (st+n)*entryBytes
	copy(g.data[o+entryBytes:end+entryBytes], g.data[o:end])
	binary.BigEndian.PutUint16(g.data[o:], uint16(low>>32))
	binary.BigEndian.PutUint32(g.data[o+2:], uint32(low))
	g.n[k]++
	g.total++
	s.n++
	return true
}

// room makes space for one more entry in bucket k, which is full, and
// returns by how many bytes the segment's buffer grew. It spreads the
// segment's free entries over its buckets again, in proportion to their
// sizes. When fewer than max(segBuckets, need/64) entries would be free,
// it first moves the segment to a buffer with need/32 + segBuckets
// entries more than it needs (taking all of the allocator's size class).
// A spread copies the segment once; keeping at least one free entry a
// bucket, and 1/64 of the segment past that, spaces spreads out so that
// they copy about 1 to 3 KB an insert at 10^7 entries.
func (g *segment) room(k int) (grown int) {
	need := g.total + 1
	data := g.data
	free := len(data)/entryBytes - need
	if free < max(segBuckets, need/64) {
		data = slices.Grow([]byte(nil), (need+need/32+segBuckets)*entryBytes)
		data = data[:cap(data)/entryBytes*entryBytes]
		grown = cap(data) - cap(g.data)
		free = len(data)/entryBytes - need
	}
	// The new starts: bucket j gets its entries (and k one more) and a
	// share of the free entries in proportion to its entries + 1.
	var ns [segBuckets + 1]uint32
	weight := need + segBuckets
	entries, acc := 0, 0
	for j := range segBuckets {
		nj := int(g.n[j])
		if j == k {
			nj++
		}
		entries += nj
		acc += nj + 1
		ns[j+1] = uint32(entries + int(uint64(free)*uint64(acc)/uint64(weight)))
	}
	if len(data) != len(g.data) { // a new, larger buffer
		for j := range segBuckets {
			g.move(data, j, ns[j])
		}
	} else {
		// In place: first the buckets that move left, from the left, then
		// those that move right, from the right. Neither lands on entries
		// not yet moved: a bucket's new room ends before the next bucket's
		// old entries when it moves left, and begins after them when the
		// bucket before it moves right.
		for j := range segBuckets {
			if ns[j] < g.start[j] {
				g.move(data, j, ns[j])
			}
		}
		for j := segBuckets - 1; j >= 0; j-- {
			if ns[j] > g.start[j] {
				g.move(data, j, ns[j])
			}
		}
	}
	g.data, g.start = data, ns
	return grown
}

// move copies bucket j's entries to dst (the buffer itself or a new
// one), starting at entry to.
func (g *segment) move(dst []byte, j int, to uint32) {
	from, n := int(g.start[j])*entryBytes, int(g.n[j])*entryBytes
	copy(dst[int(to)*entryBytes:], g.data[from:from+n])
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

// Bytes returns the memory the set holds: its segments' buffers and
// bookkeeping.
func (s *hashSet) Bytes() int {
	if s.segs == nil {
		return 0
	}
	total := segsBytes
	for _, g := range s.segs {
		if g != nil {
			total += segmentBytes + cap(g.data)
		}
	}
	return total
}

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
	held.Add(int64(s.set.Bytes()))
}

// Add adds name and reports whether it was not in the set yet.
func (s *nameSet) Add(name string) (added bool) {
	return s.set.Add(maphash.String(s.seed, name))
}
