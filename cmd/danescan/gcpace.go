package main

import (
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// The garbage collector lets the heap grow to the live heap plus GOGC
// percent of it (100 by default) before it collects again. A scan's live
// heap has two parts: what comes and goes with the domains in flight (the
// writer's row groups, lookups, the host cache: bounded), and the sets
// that grow with the input and are never garbage (the duplicate filter
// and the set of hosts written, scanner.Stats.SetBytes, about 12.4 bytes a
// domain when every domain has its own MX host). Headroom for the second
// part buys nothing, since it never turns into garbage, but at the
// default it doubles what the sets cost: on 10^7 domains the sets hold
// about 130 MB and the collector would let the heap run 130 MB more.
//
// startGCPacer sets the collector's percentage, once a second, so that
// the headroom is GOGC percent of the first part only:
//
//	percent = GOGC * (live - sets) / live
//
// which gives a heap goal of live + GOGC% * (live - sets). GOGC=off is
// left alone, and GOGC or --memory-limit still apply (the runtime's soft
// limit works beside the percentage). It returns the function that stops
// it and puts the percentage back. The percentage is the process's: while
// one pacer runs, another (a second scan in the same process, as in
// tests) does nothing.
func startGCPacer(sets *atomic.Int64, every time.Duration) (stop func()) {
	if !pacing.CompareAndSwap(false, true) {
		return func() {}
	}
	base := setGCPercent(100)
	setGCPercent(base)
	if base <= 0 {
		pacing.Store(false)
		return func() {}
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		tick := time.NewTicker(every)
		defer tick.Stop()
		cur := base
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return // not this runtime's metric: leave GOGC as it is
			}
			p := pacedPercent(base, sample[0].Value.Uint64(), sets.Load())
			// A change of a few percent moves the goal by less than the
			// heap's own noise.
			if p != cur && (p-cur > 2 || cur-p > 2 || p == base) {
				setGCPercent(p)
				cur = p
			}
		}
	}()
	return func() {
		close(done)
		<-ended
		setGCPercent(base)
		pacing.Store(false)
	}
}

// pacing is set while a pacer runs.
var pacing atomic.Bool

// setGCPercent is debug.SetGCPercent; tests watch it.
var setGCPercent = debug.SetGCPercent

// pacedPercent returns GOGC's share of the live heap that is not the sets:
// base * (live - sets) / live, at least 5 (a heap of sets alone is still
// collected now and then, not continuously), base when the live heap is
// not known yet or the sets are not counted.
func pacedPercent(base int, live uint64, sets int64) int {
	if live == 0 || sets <= 0 {
		return base
	}
	if uint64(sets) >= live {
		return 5
	}
	p := int(uint64(base) * (live - uint64(sets)) / live)
	return max(p, 5)
}
