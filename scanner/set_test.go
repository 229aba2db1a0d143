package scanner

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// TestHashSetAgreesWithMap adds the same hashes, repeats included, to a
// hashSet and a map: every Add must say what the map says, whatever the
// bucket (clustered hashes fill one bucket, spread ones all of them).
func TestHashSetAgreesWithMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  func(r *rand.Rand) uint64
	}{
		{"spread", func(r *rand.Rand) uint64 { return r.Uint64() >> r.IntN(4) }},
		{"one bucket", func(r *rand.Rand) uint64 { return r.Uint64N(5000) }},
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

// TestHashSetBytes holds the set to its promise: at most 7 bytes a hash
// at a million hashes, where a Go map takes 10 to 20, plus the bucket
// headers; and the counter it is given follows what it holds.
func TestHashSetBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var held atomic.Int64
	s := hashSet{held: &held}
	const n = 1_000_000
	for s.Len() < n {
		s.Add(r.Uint64())
	}
	if per := float64(s.Bytes()) / n; per > 7 {
		t.Errorf("%.2f bytes a hash at %d hashes, want at most 7", per, n)
	}
	if got, want := held.Load(), int64(s.Bytes()+setHeaderBytes); got != want {
		t.Errorf("the counter says %d bytes; the set holds %d", got, want)
	}
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
	b.ReportMetric(float64(s.Bytes()+setHeaderBytes)/float64(max(s.Len(), 1)), "bytes/entry")
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
