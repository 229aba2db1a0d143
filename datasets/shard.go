package datasets

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Shard is one part of a scan split over several processes or machines
// (danescan scan --shard K/N): shard Index of Count. An input entry belongs
// to shard ShardOf(ShardKey(entry), Count); every shard of a scan reads the
// whole input and scans the entries that belong to it.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// MaxShards bounds N in K/N.
const MaxShards = 1 << 20

// ParseShard reads a shard spec "K/N" with 0 <= K < N <= MaxShards.
func ParseShard(spec string) (Shard, error) {
	k, n, ok := strings.Cut(strings.TrimSpace(spec), "/")
	ki, err1 := strconv.Atoi(k)
	ni, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || ni < 1 || ni > MaxShards || ki < 0 || ki >= ni {
		return Shard{}, fmt.Errorf("shard %q: want K/N with 0 <= K < N <= %d (e.g. 0/4)", spec, MaxShards)
	}
	return Shard{Index: ki, Count: ni}, nil
}

// String is the spec "K/N".
func (s Shard) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count) }

// Holds reports whether the entry with shard key key belongs to s. The
// zero Shard (no sharding) holds every entry.
func (s Shard) Holds(key string) bool {
	return s.Count <= 1 || ShardOf(key, s.Count) == s.Index
}

// ShardKey is the name an entry is assigned to a shard by: its normalised
// domain name, or for an entry that is not a valid name its text as
// written (Raw), lower-cased. It depends on nothing but the entry's text,
// so an entry lands in the same shard whatever the order of the list, the
// file it is in or the machine.
func ShardKey(e Entry) string {
	if e.Err == nil {
		return e.Domain
	}
	return strings.ToLower(e.Raw)
}

// ShardOf is the shard of n that key belongs to: the first 8 bytes of the
// SHA-256 of key, read as a big-endian unsigned integer, modulo n. In
// Python: int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % n.
func ShardOf(key string, n int) int {
	if n <= 1 {
		return 0
	}
	sum := sha256.Sum256([]byte(key))
	return int(binary.BigEndian.Uint64(sum[:8]) % uint64(n))
}
