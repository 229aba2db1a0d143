package scanner

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/danescan/danescan/datasets"
)

// Exclude lists what a scan must never touch: address ranges that are
// never connected to, and domain names (with everything below them) that
// are neither looked up as input domains nor probed as MX hosts. It is
// read once, before the scan; the zero value excludes nothing.
type Exclude struct {
	prefixes []netip.Prefix
	names    map[string]bool
}

// ParseExclude reads an exclusion list: one entry per line, an IP address,
// a CIDR prefix (IPv4 or IPv6; an IPv4-mapped prefix such as
// ::ffff:192.0.2.0/120 stands for the IPv4 prefix it maps) or a domain
// name; '#' starts a comment. It returns an error naming the first line
// that is none of these.
func ParseExclude(r io.Reader) (*Exclude, error) {
	x := &Exclude{names: map[string]bool{}}
	err := eachEntry(r, "exclude list", func(n int, line string) error {
		// Address unmaps what it checks, so parsePrefix stores an
		// IPv4-mapped prefix as the IPv4 prefix it maps.
		if p, ok := parsePrefix(line); ok {
			x.prefixes = append(x.prefixes, p)
			return nil
		}
		name, err := datasets.NormalizeDomain(line)
		if err != nil {
			return fmt.Errorf("exclude list line %d: %q is not an address, a CIDR prefix or a domain name: %v", n, line, err)
		}
		x.names[name] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

// eachEntry calls f with each entry of a list file and its 1-based line
// number: one entry per line, '#' starts a comment, blank lines are
// skipped, white space around an entry is trimmed. It returns f's first
// error, or the read error wrapped as "<what>: ...".
func eachEntry(r io.Reader, what string, f func(n int, entry string) error) error {
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if err := f(n, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Len returns the number of entries.
func (x *Exclude) Len() int {
	if x == nil {
		return 0
	}
	return len(x.prefixes) + len(x.names)
}

// Address reports whether addr is in an excluded range.
func (x *Exclude) Address(addr netip.Addr) bool {
	if x == nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range x.prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Name reports whether name (normalised: lowercase, no trailing dot) or
// one of its parent domains is excluded.
func (x *Exclude) Name(name string) bool {
	if x == nil || len(x.names) == 0 {
		return false
	}
	for {
		if x.names[name] {
			return true
		}
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return false
		}
		name = name[i+1:]
	}
}
