package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // 0: an error
	}{
		{"768MiB", 768 << 20},
		{"1GiB", 1 << 30},
		{"2TiB", 2 << 40},
		{"67108864", 64 << 20},
		{"65536KiB", 64 << 20},
		{"1MiB", 0}, // below 64 MiB
		{"1GB", 0},
		{"-1GiB", 0},
		{"GiB", 0},
		{"1.5GiB", 0},
		{"99999999999TiB", 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSize(tc.in)
			if tc.want == 0 {
				if err == nil {
					t.Errorf("parseSize(%q) = %d, want an error", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestMemoryLimitRefused: a --memory-limit that is not a size is a usage
// error of one line, before anything is scanned.
func TestMemoryLimitRefused(t *testing.T) {
	dir := t.TempDir()
	list := writeFile(t, dir, "list.txt", []byte("example.org\n"))
	code, _, stderr := runCLI(t, "scan", list, "--out", filepath.Join(dir, "out"), "--resolver", "127.0.0.1:1", "--memory-limit", "lots")
	if code != exitUsage || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "--memory-limit") {
		t.Errorf("exit %d, stderr %q; want exit %d and one line naming --memory-limit", code, stderr, exitUsage)
	}
}
