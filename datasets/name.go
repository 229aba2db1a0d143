package datasets

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
)

// idnaProfile converts IDNs to A-labels: the UTS #46 mapping for lookup
// (case folding, NFC, full-width dots), IDNA2008 non-transitional processing,
// the Bidi rule (RFC 5893), STD3 ASCII rules (no '_' or '*') and DNS length
// limits. Hyphen checks are done by NormalizeDomain itself, more leniently
// than UTS #46 CheckHyphens (which would reject "ab--cd"). A Profile is
// immutable and safe for concurrent use.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.VerifyDNSLength(true),
	idna.CheckHyphens(false),
)

// NormalizeDomain returns s as a domain name to scan: surrounding whitespace
// and one trailing dot removed, lowercase, internationalised labels converted
// to A-labels ("bücher.de" becomes "xn--bcher-kva.de"; existing A-labels must
// decode to valid U-labels). It returns an error saying why s is not a
// valid name when
//
//   - s is empty or the root ".";
//   - s is an IP address literal (also "[::1]"), or its last label is all
//     digits (RFC 3696 section 2: no top-level domain is numeric);
//   - a label is empty ("a..b"), longer than 63 octets, or the name is longer
//     than 253 octets (RFC 1035 section 2.3.4, in A-label form);
//   - a label starts or ends with a hyphen;
//   - a character other than a letter, a digit or a hyphen remains after
//     IDNA processing (RFC 1123 host names): spaces, '*' wildcards and '_'
//     are rejected. Underscore labels name services (_25._tcp, _dmarc), not
//     mail domains, so a list entry that has one is a mistake;
//   - IDNA processing fails (disallowed code points, the Bidi rule).
//
// A single label such as "com" is valid: a TLD can publish MX records, and
// the scan records what it finds. NormalizeDomain is safe for concurrent use.
func NormalizeDomain(s string) (string, error) {
	name := strings.TrimSpace(s)
	if name == "" {
		return "", fmt.Errorf("empty name")
	}
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return "", fmt.Errorf("the root %q is not a domain name to scan", s)
	}
	if _, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")); err == nil {
		return "", fmt.Errorf("%q is an IP address, not a domain name", name)
	}
	if isASCII(name) {
		name = strings.ToLower(name)
	} else {
		a, err := idnaProfile.ToASCII(name)
		if err != nil {
			return "", fmt.Errorf("%q is not a valid internationalised domain name: %w", name, err)
		}
		name = a
	}
	if len(name) > 253 {
		return "", fmt.Errorf("name is %d octets long, more than 253", len(name))
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return "", fmt.Errorf("%q: %w", name, err)
		}
	}
	if allDigits(labels[len(labels)-1]) {
		return "", fmt.Errorf("%q: the last label is numeric, no top-level domain is", name)
	}
	return name, nil
}

// checkLabel checks one lowercase ASCII label.
func checkLabel(l string) error {
	switch {
	case l == "":
		return fmt.Errorf("empty label")
	case len(l) > 63:
		return fmt.Errorf("label %.20q... is %d octets long, more than 63", l, len(l))
	case l[0] == '-':
		return fmt.Errorf("label %q starts with a hyphen", l)
	case l[len(l)-1] == '-':
		return fmt.Errorf("label %q ends with a hyphen", l)
	}
	for _, c := range []byte(l) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return fmt.Errorf("character %q is not allowed in a host name (letters, digits and hyphens only)", c)
		}
	}
	if strings.HasPrefix(l, "xn--") {
		if _, err := idnaProfile.ToUnicode(l); err != nil {
			return fmt.Errorf("label %q is not a valid A-label: %w", l, err)
		}
	}
	return nil
}

// isASCII reports whether s holds only ASCII bytes.
func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// allDigits reports whether s is a non-empty string of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
