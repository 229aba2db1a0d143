package scanner

import (
	"fmt"
	"net/netip"
	"os"
)

// FailSpecialPurpose is the failure class of endpoints whose address is a
// special-purpose address (SpecialPurpose) that Config.Allow does not
// name: the scan does not connect to it.
const FailSpecialPurpose = "special_purpose"

// specialRange is one range of the IANA special-purpose address
// registries (RFC 6890) that is not globally reachable.
type specialRange struct {
	prefix netip.Prefix
	name   string
}

// specialRanges returns the ranges that a scan refuses by default: the
// entries of the IANA IPv4 and IPv6 Special-Purpose Address Registries
// (RFC 6890) that are not globally reachable, and multicast.
func specialRanges() []specialRange {
	r := func(p, name string) specialRange { return specialRange{netip.MustParsePrefix(p), name} }
	return []specialRange{
		r("0.0.0.0/8", `"this network" (RFC 791)`),
		r("10.0.0.0/8", "private (RFC 1918)"),
		r("100.64.0.0/10", "shared address space, carrier-grade NAT (RFC 6598)"),
		r("127.0.0.0/8", "loopback (RFC 1122)"),
		r("169.254.0.0/16", "link-local (RFC 3927)"),
		r("172.16.0.0/12", "private (RFC 1918)"),
		r("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
		r("192.0.2.0/24", "documentation (RFC 5737)"),
		r("192.88.99.0/24", "deprecated 6to4 relay anycast (RFC 7526)"),
		r("192.168.0.0/16", "private (RFC 1918)"),
		r("198.18.0.0/15", "benchmarking (RFC 2544)"),
		r("198.51.100.0/24", "documentation (RFC 5737)"),
		r("203.0.113.0/24", "documentation (RFC 5737)"),
		r("224.0.0.0/4", "multicast (RFC 5771)"),
		r("240.0.0.0/4", "reserved (RFC 1112), limited broadcast (RFC 919)"),
		r("::/128", "unspecified (RFC 4291)"),
		r("::1/128", "loopback (RFC 4291)"),
		r("64:ff9b:1::/48", "local-use IPv4/IPv6 translation (RFC 8215)"),
		r("100::/64", "discard-only (RFC 6666)"),
		r("2001:2::/48", "benchmarking (RFC 5180)"),
		r("2001:10::/28", "deprecated ORCHID (RFC 4843)"),
		r("2001:db8::/32", "documentation (RFC 3849)"),
		r("3fff::/20", "documentation (RFC 9637)"),
		r("5f00::/16", "segment routing SIDs (RFC 9602)"),
		r("fc00::/7", "unique local (RFC 4193)"),
		r("fe80::/10", "link-local (RFC 4291)"),
		r("ff00::/8", "multicast (RFC 4291)"),
	}
}

// SpecialPurpose reports whether a is a special-purpose address that a
// scan does not connect to unless allowed, and names its range. An
// IPv4-mapped IPv6 address is judged by the IPv4 address it maps.
func SpecialPurpose(a netip.Addr) (string, bool) {
	a = a.Unmap()
	for _, r := range specialRanges() {
		if r.prefix.Contains(a) {
			return r.name, true
		}
	}
	return "", false
}

// allowed reports whether Config.Allow names a.
func (c *Config) allowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c.Allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseAllow reads --allow values: each an address, a CIDR prefix, or the
// path of a file with one of those per line ('#' starts a comment). It
// returns an error naming the first value or line that is neither.
func ParseAllow(values []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range values {
		if p, ok := parsePrefix(v); ok {
			out = append(out, p)
			continue
		}
		f, err := os.Open(v)
		if err != nil {
			return nil, fmt.Errorf("--allow %q: not an address, a CIDR prefix or a readable file", v)
		}
		err = eachEntry(f, "--allow file "+v, func(n int, line string) error {
			p, ok := parsePrefix(line)
			if !ok {
				return fmt.Errorf("--allow file %s line %d: %q is not an address or a CIDR prefix", v, n, line)
			}
			out = append(out, p)
			return nil
		})
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parsePrefix reads an address (as a one-address prefix) or a prefix,
// IPv4-mapped addresses unmapped.
func parsePrefix(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}
