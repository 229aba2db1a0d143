package scanner

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/danescan/danescan/datasets"
)

// TestHostCacheLRU: the cache gives back what was stored, evicts the least
// recently used host when full (a get counts as a use), never caches an
// interrupted host, and says a host's row is to be written only the first
// time, evicted or not.
func TestHostCacheLRU(t *testing.T) {
	c := newHostCache(3)
	sum := func(i int) hostSummary {
		return hostSummary{
			hasTLSA:         i%2 == 0,
			addressesSecure: i%3 == 0,
			tlsaState:       []datasets.TLSAState{datasets.TLSAStateDANE, datasets.TLSAStateNoTLSA, ""}[i%3],
			daneStatus:      []datasets.DANEStatus{datasets.DANEPass, datasets.DANEFail, ""}[i%3],
			daneReason:      fmt.Sprintf("reason %d", i),
		}
	}
	for i, h := range []string{"a", "b", "c"} {
		if !c.add(h, sum(i)) {
			t.Fatalf("add(%s): not first", h)
		}
	}
	if got, ok := c.get("a"); !ok || got != sum(0) {
		t.Fatalf("get(a) = %+v, %v; want %+v", got, ok, sum(0))
	}
	c.add("d", sum(3)) // evicts b, the least recently used
	if _, ok := c.get("b"); ok {
		t.Error("b is still cached after d filled the cache; a was used after b")
	}
	for i, h := range []string{"a", "", "c", "d"} {
		if h == "" {
			continue
		}
		if got, ok := c.get(h); !ok || got != sum(i) {
			t.Errorf("get(%s) = %+v, %v; want %+v", h, got, ok, sum(i))
		}
	}
	if c.add("b", sum(1)) {
		t.Error("add(b) after its eviction says its row is still to be written: it would be written twice")
	}
	if c.add("e", hostSummary{interrupted: true}) != true {
		t.Error("add(e) the first time is not first")
	}
	if _, ok := c.get("e"); ok {
		t.Error("an interrupted host was cached: later domains would take its half-made summary")
	}
	// An update of a cached host replaces its summary.
	c.add("d", sum(5))
	if got, _ := c.get("d"); got != sum(5) {
		t.Errorf("get(d) after an update = %+v, want %+v", got, sum(5))
	}
}

// TestHostCacheModel runs random adds and gets against a plain LRU list
// and compares every answer, on a small cache and on one of several slot
// chunks.
func TestHostCacheModel(t *testing.T) {
	for _, tc := range []struct{ capacity, hosts, steps int }{{50, 120, 20000}, {2*slotChunk + 100, 2*slotChunk + 400, 20000}} {
		t.Run(fmt.Sprint(tc.capacity), func(t *testing.T) {
			c := newHostCache(tc.capacity)
			var order []string // most recently used first
			model := map[string]hostSummary{}
			touch := func(h string) {
				order = slices.DeleteFunc(order, func(x string) bool { return x == h })
				order = slices.Insert(order, 0, h)
			}
			r := rand.New(rand.NewPCG(1, 2))
			for step := range tc.hosts + tc.steps {
				// Every host once (the cache fills and evicts), then at random.
				h := fmt.Sprintf("mx%d.example", step)
				if step >= tc.hosts {
					h = fmt.Sprintf("mx%d.example", r.IntN(tc.hosts))
				}
				if step < tc.hosts || r.IntN(2) == 0 {
					s := hostSummary{hasTLSA: r.IntN(2) == 0, daneReason: fmt.Sprint(step)}
					c.add(h, s)
					model[h] = s
					touch(h)
					if len(order) > tc.capacity {
						delete(model, order[tc.capacity])
						order = order[:tc.capacity]
					}
					continue
				}
				got, ok := c.get(h)
				want, wok := model[h]
				if ok != wok || got != want {
					t.Fatalf("step %d: get(%s) = %+v, %v; the model has %+v, %v", step, h, got, ok, want, wok)
				}
				if ok {
					touch(h)
				}
			}
		})
	}
}
