package main

import (
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPacedPercent(t *testing.T) {
	for _, tc := range []struct {
		base int
		live uint64
		sets int64
		want int
	}{
		{100, 0, 0, 100},         // no GC yet
		{100, 200 << 20, 0, 100}, // no sets
		{100, 200 << 20, 100 << 20, 50},
		{400, 200 << 20, 50 << 20, 300}, // the lab's GOGC=400 scaled too
		{100, 200 << 20, 199 << 20, 5},  // floor
		{100, 100 << 20, 150 << 20, 5},  // sets counted after the last GC
	} {
		if got := pacedPercent(tc.base, tc.live, tc.sets); got != tc.want {
			t.Errorf("pacedPercent(%d, %d, %d) = %d, want %d", tc.base, tc.live, tc.sets, got, tc.want)
		}
	}
}

// TestGCPacer: with most of the live heap counted as sets, the pacer
// lowers the collector's percentage within a few ticks, and puts it back
// when stopped.
func TestGCPacer(t *testing.T) {
	var mu sync.Mutex
	var set []int
	setGCPercent = func(p int) int {
		mu.Lock()
		set = append(set, p)
		mu.Unlock()
		return debug.SetGCPercent(p)
	}
	defer func() { setGCPercent = debug.SetGCPercent }()
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	ballast := make([]byte, 64<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	runtime.GC()
	var sets atomic.Int64
	sets.Store(int64(len(ballast)))
	stop := startGCPacer(&sets, 10*time.Millisecond)
	lowest := 100
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && lowest >= 50; {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		for _, p := range set {
			lowest = min(lowest, p)
		}
		mu.Unlock()
	}
	stop()
	runtime.KeepAlive(ballast)
	if lowest >= 50 {
		t.Errorf("with 64 MiB of a live heap of about 70 MiB counted as sets, the pacer set GOGC to %v, want under 50", set)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after stop, GOGC is %d, want 100 back", got)
	}
}
