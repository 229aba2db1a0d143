package dnssec

import (
	"cmp"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// dname is a domain name as its labels, leftmost first, in wire form
// (escapes resolved) with US-ASCII letters lowercased: the canonical form of
// RFC 4034 §6.2. The root is the empty dname.
type dname []string

// parseName turns a presentation-format name (any case, with or without
// the trailing dot, with RFC 1035 escapes) into a dname. It reports false
// for names that are not valid domain names (empty labels, labels longer
// than 63 octets, names longer than 255 octets, bad escapes).
func parseName(s string) (dname, bool) {
	buf := make([]byte, 256)
	off, err := dns.PackDomainName(dns.Fqdn(s), buf, 0, nil, false)
	if err != nil || off <= 0 || off > 255 {
		return nil, false
	}
	var n dname
	for i := 0; i < off; {
		l := int(buf[i])
		if l == 0 {
			return n, true
		}
		if l > 63 || i+1+l > off {
			return nil, false
		}
		n = append(n, lowerASCII(buf[i+1:i+1+l]))
		i += 1 + l
	}
	return nil, false
}

// lowerASCII returns b as a string with only US-ASCII letters lowercased
// (RFC 4034 §6.2).
func lowerASCII(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}

// String returns n in presentation format with a trailing dot. Every octet
// other than a lowercase letter, a digit, '-', '_' or '*' is written as a
// \DDD escape, so the result parses back to the same labels.
func (n dname) String() string {
	if len(n) == 0 {
		return "."
	}
	var b strings.Builder
	for _, l := range n {
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
				b.WriteByte(c)
			default:
				b.WriteByte('\\')
				s := strconv.Itoa(int(c))
				b.WriteString(strings.Repeat("0", 3-len(s)))
				b.WriteString(s)
			}
		}
		b.WriteByte('.')
	}
	return b.String()
}

// compareNames orders a and b canonically (RFC 4034 §6.1): label by label
// from the right, each label as a string of octets (already lowercased), a
// missing label sorting first. It returns -1, 0 or +1.
func compareNames(a, b dname) int {
	la, lb := len(a), len(b)
	for i := 1; i <= la && i <= lb; i++ {
		if c := strings.Compare(a[la-i], b[lb-i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(la, lb)
}

// canonicalLess reports whether a sorts before b in canonical DNS name
// order (RFC 4034 §6.1). Names are compared case-insensitively (US-ASCII
// only), with or without the trailing dot. Strings that are not valid
// domain names sort after every valid name, and among themselves by byte
// value, so the order stays total.
func canonicalLess(a, b string) bool {
	na, okA := parseName(a)
	nb, okB := parseName(b)
	switch {
	case okA && okB:
		return compareNames(na, nb) < 0
	case okA != okB:
		return okA
	default:
		return a < b
	}
}

// equal reports whether a and b are the same name.
func (n dname) equal(o dname) bool { return compareNames(n, o) == 0 }

// isSubdomain reports whether n is at or below parent.
func (n dname) isSubdomain(parent dname) bool {
	if len(n) < len(parent) {
		return false
	}
	off := len(n) - len(parent)
	for i, l := range parent {
		if n[off+i] != l {
			return false
		}
	}
	return true
}

// isProperSubdomain reports whether n is strictly below parent.
func (n dname) isProperSubdomain(parent dname) bool {
	return len(n) > len(parent) && n.isSubdomain(parent)
}

// commonAncestor returns the longest name that both a and b are at or
// below (at worst the root).
func commonAncestor(a, b dname) dname {
	i := 0
	for i < len(a) && i < len(b) && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return a[len(a)-i:]
}

// wildcardOf returns the wildcard name *.n (RFC 4592).
func wildcardOf(n dname) dname {
	w := make(dname, 0, len(n)+1)
	w = append(w, "*")
	return append(w, n...)
}

// coversName reports whether the span (owner, next) of an NSEC chain
// covers name: owner < name < next in canonical order, or, for the last
// record of the chain whose next name wraps round to the apex (next <=
// owner), name > owner or name < next. The ends never count as covered.
func coversName(owner, next, name dname) bool {
	if compareNames(owner, next) < 0 {
		return compareNames(owner, name) < 0 && compareNames(name, next) < 0
	}
	return compareNames(owner, name) < 0 || compareNames(name, next) < 0
}

// hasType reports whether the type bitmap lists t.
func hasType(bitmap []uint16, t uint16) bool {
	for _, b := range bitmap {
		if b == t {
			return true
		}
	}
	return false
}

// isDelegation reports whether a type bitmap is that of a delegation point
// seen from the parent: NS without SOA (RFC 6840 §4.1).
func isDelegation(bitmap []uint16) bool {
	return hasType(bitmap, dns.TypeNS) && !hasType(bitmap, dns.TypeSOA)
}

// typeName returns the mnemonic of t, or TYPEnnn.
func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}
