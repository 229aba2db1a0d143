package scanner

import (
	"bytes"
	"net/netip"
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
			if p, err := netip.ParsePrefix(line); err == nil {
				p = p.Masked()
				first, last := p.Addr(), lastAddr(p)
				for _, a := range []netip.Addr{first, last, mapped(first), mapped(last)} {
					// An IPv6 prefix that reaches into the IPv4-mapped
					// range but is wider than it excludes IPv6 only.
					if a.Is4In6() && p.Bits() < 96 {
						continue
					}
					if !x.Address(a) {
						t.Fatalf("prefix %q listed, %s not excluded", line, a)
					}
				}
				continue
			}
			if a, err := netip.ParseAddr(line); err == nil {
				a = a.WithZone("")
				if !x.Address(a) || !x.Address(a.Unmap()) || !x.Address(mapped(a)) {
					t.Fatalf("address %q listed, not excluded", line)
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
