package main

import (
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
)

// parseSize reads a size as GOMEMLIMIT spells it: a number of bytes with
// an optional unit B, KiB, MiB, GiB or TiB ("768MiB", "1GiB"). It refuses
// anything else, and sizes below 64 MiB, with an error that says so.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	num, mult := s, int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit B, KiB, MiB, GiB or TiB, e.g. 768MiB", s)
	}
	if n*mult < 64<<20 {
		return 0, fmt.Errorf("size %q: below 64MiB, the scan would do little but collect garbage", s)
	}
	return n * mult, nil
}

// setMemoryLimit sets the Go runtime's soft memory limit from
// --memory-limit (see parseSize); "" leaves the runtime's (GOMEMLIMIT, or
// none).
func setMemoryLimit(spec string) error {
	if spec == "" {
		return nil
	}
	n, err := parseSize(spec)
	if err != nil {
		return fmt.Errorf("--memory-limit: %w", err)
	}
	debug.SetMemoryLimit(n)
	return nil
}
