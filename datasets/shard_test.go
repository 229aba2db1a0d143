package datasets

import (
	"errors"
	"fmt"
	"testing"
)

func TestParseShard(t *testing.T) {
	for _, ok := range []string{"0/1", "0/4", "3/4", " 2/3 ", "1048575/1048576"} {
		if _, err := ParseShard(ok); err != nil {
			t.Errorf("ParseShard(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "4/4", "-1/4", "1", "1/0", "a/b", "1/2/3", "0/1048577", "1/-2", "0x1/4"} {
		if s, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) = %v, want an error", bad, s)
		}
	}
}

// TestShardOf pins the documented function (the values come from the
// Python one-liner in ShardOf's comment): a change would move entries
// between the shards of scans already running.
func TestShardOf(t *testing.T) {
	for _, c := range []struct {
		key  string
		want [4]int // n = 2, 4, 7, 1000
	}{
		{"example.com", [4]int{1, 1, 5, 309}},
		{"mail.test", [4]int{1, 3, 1, 607}},
		{"Not A Name!", [4]int{1, 3, 6, 719}},
		{"xn--bcher-kva.example", [4]int{0, 0, 3, 160}},
	} {
		for i, n := range []int{2, 4, 7, 1000} {
			if got := ShardOf(c.key, n); got != c.want[i] {
				t.Errorf("ShardOf(%q, %d) = %d, want %d", c.key, n, got, c.want[i])
			}
		}
	}
}

// TestShardsPartition: every entry, valid or not, is held by exactly one
// shard of N, and the shards are about even.
func TestShardsPartition(t *testing.T) {
	const n, entries = 4, 4000
	per := make([]int, n)
	for i := range entries {
		e := Entry{Domain: fmt.Sprintf("d%d.example", i)}
		if i%10 == 0 {
			e = Entry{Raw: fmt.Sprintf("BAD %d", i), Err: errors.New("invalid")}
		}
		holders := 0
		for k := range n {
			if (Shard{Index: k, Count: n}).Holds(ShardKey(e)) {
				holders++
				per[k]++
			}
		}
		if holders != 1 {
			t.Fatalf("entry %+v held by %d shards", e, holders)
		}
	}
	for k, c := range per {
		if c < entries/n*8/10 || c > entries/n*12/10 {
			t.Errorf("shard %d holds %d of %d entries: not about a quarter", k, c, entries)
		}
	}
	if !(Shard{}).Holds("anything") {
		t.Error("the zero Shard must hold every entry")
	}
}
