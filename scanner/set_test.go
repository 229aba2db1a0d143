package scanner

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
)

// TestHashSetAgreesWithMap adds the same hashes, repeats included, to a
// hashSet and a map: every Add must say what the map says, whatever the
// bucket (clustered hashes fill one bucket or one segment, spread ones
// all of them).
func TestHashSetAgreesWithMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  func(r *rand.Rand) uint64
	}{
		{"spread", func(r *rand.Rand) uint64 { return r.Uint64() >> r.IntN(4) }},
		{"one bucket", func(r *rand.Rand) uint64 { return r.Uint64N(5000) }},
		// One segment, its buckets unevenly filled: spreads that move
		// buckets both ways, and growths.
		{"one segment", func(r *rand.Rand) uint64 { return r.Uint64() >> (8 + r.IntN(3)) }},
		{"edges", func(r *rand.Rand) uint64 { return []uint64{0, 1, ^uint64(0), 1 << 63, 1<<48 - 1}[r.IntN(5)] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var s hashSet
			m := map[uint64]bool{}
			var added []uint64
			for i := range 200_000 {
				h := tc.gen(r)
				if i%3 == 0 && len(added) > 0 {
					h = added[r.IntN(len(added))] // a repeat
				}
				want := !m[h]
				if want {
					added = append(added, h)
				}
				m[h] = true
				if got := s.Add(h); got != want {
					t.Fatalf("Add(%#x) #%d = %v, want %v", h, i, got, want)
				}
			}
			if s.Len() != len(m) {
				t.Errorf("Len() = %d, want %d", s.Len(), len(m))
			}
			for h := range m {
				if s.Add(h) {
					t.Fatalf("Add(%#x) of a member = true", h)
				}
			}
		})
	}
}

// TestHashSetBytes holds the set to its promise: at most 7.5 bytes a hash
// at a million hashes, all counted, where a Go map takes 10 to 20 (the
// 6-byte entries and the segments' free room; near 6.2 at 10^7); and the
// counter it is given follows what it holds.
func TestHashSetBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var held atomic.Int64
	s := hashSet{held: &held}
	const n = 1_000_000
	for s.Len() < n {
		s.Add(r.Uint64())
	}
	if per := float64(s.Bytes()) / n; per > 7.5 {
		t.Errorf("%.2f bytes a hash at %d hashes, want at most 7.5", per, n)
	}
	if got, want := held.Load(), int64(s.Bytes()); got != want {
		t.Errorf("the counter says %d bytes; the set holds %d", got, want)
	}
}

// TestHashSetHeap checks that growing sets leave no memory behind in the
// heap beyond what Bytes counts: two sets grown side by side, as a scan's
// duplicate filter and set of hosts written are, once held 30 % more heap
// than their buckets (the old slices of every allocator size class the
// buckets grew through), memory the runtime could not give back.
func TestHashSetHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("adds 4 million hashes")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := rand.New(rand.NewPCG(7, 8))
	var a, b hashSet
	for a.Len() < 2_000_000 {
		a.Add(r.Uint64())
		b.Add(r.Uint64())
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := a.Bytes() + b.Bytes()
	inuse := int64(after.HeapInuse) - int64(before.HeapInuse)
	if float64(inuse) > 1.08*float64(held) {
		t.Errorf("the heap in use grew by %d bytes for sets that hold %d (%.0f %% more)", inuse, held, 100*(float64(inuse)/float64(held)-1))
	}
	runtime.KeepAlive(&a)
	runtime.KeepAlive(&b)
}

func TestNameSet(t *testing.T) {
	s := newNameSet(nil)
	for i := range 1000 {
		if !s.Add(fmt.Sprintf("d%d.example", i)) {
			t.Fatalf("name %d taken for a duplicate", i)
		}
	}
	if s.Add("d7.example") {
		t.Error("a name added twice was not taken for a duplicate")
	}
}

func BenchmarkHashSetAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	var s hashSet
	for b.Loop() {
		s.Add(r.Uint64())
	}
	b.ReportMetric(float64(s.Bytes())/float64(max(s.Len(), 1)), "bytes/entry")
}

func BenchmarkMapAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	m := map[uint64]struct{}{}
	for b.Loop() {
		h := r.Uint64()
		if _, ok := m[h]; !ok {
			m[h] = struct{}{}
		}
	}
}
