package dnssec

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/miekg/dns"
)

// RootAnchors returns the IANA trust anchors of the root zone as DS records
// (https://data.iana.org/root-anchors/root-anchors.xml, RFC 9718): KSK-2017
// (key tag 20326) and KSK-2024 (key tag 38696), both RSA/SHA-256 with
// SHA-256 digests. Each call returns fresh records that the caller may keep.
func RootAnchors() []dns.RR {
	ds := func(tag uint16, digest string) dns.RR {
		return &dns.DS{
			Hdr:        dns.RR_Header{Name: ".", Rrtype: dns.TypeDS, Class: dns.ClassINET, Ttl: 172800},
			KeyTag:     tag,
			Algorithm:  dns.RSASHA256,
			DigestType: dns.SHA256,
			Digest:     digest,
		}
	}
	return []dns.RR{
		ds(20326, "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"),
		ds(38696, "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16"),
	}
}

// ParseAnchors reads trust anchors in zone-file syntax: DS or DNSKEY records
// with absolute owner names, one per entry; entries may span lines inside
// parentheses, and ';' starts a comment. Blank lines, comments and $TTL
// lines are skipped. It returns an error naming the line for anything else
// (a syntax error, another record type, a relative name, a DNSKEY without
// the zone key flag, a digest that is not hex or a key that is not base64)
// and an error when the input holds no anchor; r is read to the end and
// not closed.
func ParseAnchors(r io.Reader) ([]dns.RR, error) {
	var (
		out     []dns.RR
		entry   strings.Builder
		start   int
		depth   int
		lineNum int
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		lineNum++
		line, delta := scanLine(sc.Text())
		if depth == 0 {
			trimmed := strings.TrimSpace(line)
			if trimmed == "" {
				continue
			}
			if strings.HasPrefix(trimmed, "$") {
				if strings.HasPrefix(strings.ToUpper(trimmed), "$TTL") {
					continue
				}
				return nil, fmt.Errorf("trust anchors: line %d: directive %q not supported", lineNum, strings.Fields(trimmed)[0])
			}
			start = lineNum
			entry.Reset()
		}
		depth += delta
		if depth < 0 {
			return nil, fmt.Errorf("trust anchors: line %d: unbalanced ')'", lineNum)
		}
		entry.WriteString(line)
		entry.WriteByte(' ')
		if depth > 0 {
			continue
		}
		rr, err := parseAnchor(entry.String())
		if err != nil {
			return nil, fmt.Errorf("trust anchors: line %d: %w", start, err)
		}
		out = append(out, rr)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trust anchors: line %d: %w", lineNum+1, err)
	}
	if depth > 0 {
		return nil, fmt.Errorf("trust anchors: line %d: unclosed '('", start)
	}
	if len(out) == 0 {
		return nil, errors.New("trust anchors: no DS or DNSKEY record")
	}
	return out, nil
}

// scanLine reads one line as RFC 1035 §5.1 does: it drops the comment (from
// ';') and turns parentheses into blanks, returning the line and the change
// of the parenthesis depth. A backslash escapes the next character (so
// "\(" and "\;" in a name are characters, not syntax) and quoted text is
// kept as it is.
func scanLine(line string) (string, int) {
	var b strings.Builder
	delta, quoted := 0, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line):
			b.WriteByte(c)
			b.WriteByte(line[i+1])
			i++
			continue
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ';':
			return b.String(), delta
		case c == '(':
			delta, c = delta+1, ' '
		case c == ')':
			delta, c = delta-1, ' '
		}
		b.WriteByte(c)
	}
	return b.String(), delta
}

// parseAnchor parses one DS or DNSKEY record.
func parseAnchor(s string) (dns.RR, error) {
	if owner := firstToken(s); owner != "" && !dns.IsFqdn(owner) {
		return nil, fmt.Errorf("owner %q is not absolute", owner)
	}
	rr, err := dns.NewRR(s)
	if err != nil {
		return nil, err
	}
	if rr == nil {
		return nil, errors.New("empty record")
	}
	switch a := rr.(type) {
	case *dns.DS:
		if a.Digest == "" {
			return nil, fmt.Errorf("DS %d without a digest", a.KeyTag)
		}
	case *dns.DNSKEY:
		if a.Flags&dns.ZONE == 0 || a.Protocol != 3 {
			return nil, fmt.Errorf("DNSKEY %d is not a zone key", a.KeyTag())
		}
	default:
		return nil, fmt.Errorf("%s record is not a trust anchor (want DS or DNSKEY)", dns.TypeToString[rr.Header().Rrtype])
	}
	// The text parser takes a digest that is not hex or a key that is not
	// base64 as it is; such an anchor would match no key.
	if _, err := dns.PackRR(rr, make([]byte, dns.MaxMsgSize), 0, nil, false); err != nil {
		return nil, fmt.Errorf("%s record: %w", dns.TypeToString[rr.Header().Rrtype], err)
	}
	return rr, nil
}

// firstToken returns the first white-space separated token of s, where a
// backslash escapes the character after it ("a\ b." is one name).
func firstToken(s string) string {
	s = strings.TrimLeft(s, " \t")
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ' ', '\t':
			return s[:i]
		}
	}
	return s
}
