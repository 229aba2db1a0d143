package scanner

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danescan/danescan/datasets"
)

// FuzzParseExclude reads arbitrary exclusion lists. When ParseExclude
// accepts one, every entry of it must be excluded: each address, the first
// and the last address of each prefix (also written IPv4-mapped, and an
// IPv4-mapped prefix as IPv4), each name and the names below it; and there
// are no more entries than lines.
// Seeds are below and in testdata/fuzz/FuzzParseExclude.
func FuzzParseExclude(f *testing.F) {
	for _, s := range []string{
		"# never touch\n192.0.2.0/24\n2001:db8::1   # one address\n198.51.100.7\nExample.ORG.\n",
		"10.0.0.0/8\r\n::ffff:192.0.2.1\r\nbücher.de\r\n\r\n",
		"192.0.2.1/33\n",
		"fe80::1%eth0\n0.0.0.0/0\n::/0\n",
		"-bad-.example\n",
		"a..b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ParseExclude(bytes.NewReader(data))
		if err != nil {
			if x != nil || !strings.HasPrefix(err.Error(), "exclude list") {
				t.Fatalf("error %q with %v", err, x)
			}
			return
		}
		lines := 0
		for line := range strings.Lines(string(data)) {
			lines++
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if addrs, ok := listedAddrs(line); ok {
				for _, a := range addrs {
					if !x.Address(a) {
						t.Fatalf("%q listed, %s not excluded", line, a)
					}
				}
				continue
			}
			name, err := datasets.NormalizeDomain(line)
			if err != nil {
				t.Fatalf("line %q accepted, not a domain name: %v", line, err)
			}
			if !x.Name(name) || !x.Name("mx."+name) {
				t.Fatalf("name %q listed, %s not excluded", line, name)
			}
		}
		if x.Len() > lines {
			t.Fatalf("%d entries from %d lines", x.Len(), lines)
		}
	})
}

// FuzzParseAllow reads arbitrary --allow files: every address and prefix
// of an accepted file must be allowed (as FuzzParseExclude checks them),
// anything else must be refused, and there are no more prefixes than
// lines.
func FuzzParseAllow(f *testing.F) {
	for _, s := range []string{
		"# lab\n127.0.0.0/8\n::1 # loopback\n10.0.0.0/8\n",
		"::ffff:192.168.0.0/112\r\n\r\nfe80::1%eth0\n",
		"192.0.2.1/33\n",
		"example.com\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "allow.txt")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		prefixes, err := ParseAllow([]string{path})
		lines, bad := 0, false
		cfg := &Config{Allow: prefixes}
		for line := range strings.Lines(string(data)) {
			lines++
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			addrs, ok := listedAddrs(line)
			bad = bad || !ok
			if err != nil {
				continue
			}
			for _, a := range addrs {
				if !cfg.allowed(a) {
					t.Fatalf("%q listed, %s not allowed", line, a)
				}
			}
		}
		if err != nil {
			if prefixes != nil || !strings.HasPrefix(err.Error(), "--allow file "+path) {
				t.Fatalf("error %q with %v", err, prefixes)
			}
			return
		}
		if bad || len(prefixes) > lines {
			t.Fatalf("%d prefixes from %d lines, an entry that is no address accepted", len(prefixes), lines)
		}
	})
}

// listedAddrs returns the addresses that an exclusion or allow list line
// must cover, and false when the line is neither an address nor a
// prefix: an address (also unmapped and IPv4-mapped), and the first and
// last address of a prefix (also IPv4-mapped; an IPv4-mapped prefix as
// IPv4).
func listedAddrs(line string) ([]netip.Addr, bool) {
	if p, err := netip.ParsePrefix(line); err == nil {
		p = p.Masked()
		var out []netip.Addr
		first, last := p.Addr(), lastAddr(p)
		for _, a := range []netip.Addr{first, last, mapped(first), mapped(last)} {
			// An IPv6 prefix that reaches into the IPv4-mapped range
			// but is wider than it covers IPv6 only.
			if !a.Is4In6() || p.Bits() >= 96 {
				out = append(out, a)
			}
		}
		return out, true
	}
	if a, err := netip.ParseAddr(line); err == nil {
		a = a.WithZone("")
		return []netip.Addr{a, a.Unmap(), mapped(a)}, true
	}
	return nil, false
}

// lastAddr returns the last address of p (p masked).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// mapped returns a as an IPv4-mapped IPv6 address when it is IPv4, and a
// otherwise.
func mapped(a netip.Addr) netip.Addr {
	if a.Is4() {
		return netip.AddrFrom16(a.As16())
	}
	return a
}
