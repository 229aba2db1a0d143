// Package dane matches TLSA records against the certificate chain an SMTP
// server presents, as RFC 6698 (DANE TLSA), RFC 7671 (DANE operational
// guidance) and RFC 7672 §3 (DANE for SMTP) define it, and diagnoses why a
// chain does not match.
//
// It does no I/O and starts no goroutines: Verify and Inspect are pure
// functions of their inputs (Inspect reads the system roots only when given
// a nil pool). Their string results come from the closed vocabularies in
// verdict.go.
//
// Work is bounded: only the first MaxChain presented certificates are
// parsed, hashed, searched for trust anchors or used as intermediates;
// further certificates are ignored as if they had not been sent.
package dane

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"strings"
	"time"
)

// MaxChain is the number of presented certificates that Verify and Inspect
// look at. Real chains have 1 to 5 certificates; 32 leaves room for odd
// servers while bounding the work of a hostile one that sends hundreds.
const MaxChain = 32

// Input is what Verify checks: the TLSA RRset of one MX host and the chain
// one of its addresses presented.
type Input struct {
	// Records is the TLSA RRset, in the order it is reported.
	Records []Record
	// Chain is the DER certificates as the server presented them, leaf
	// first. Unparsable entries are allowed.
	Chain [][]byte
	// BaseDomain is the TLSA base domain (RFC 7672 §2.2.2), e.g. the MX
	// host name or the target of its CNAME. Compared case-insensitively,
	// a trailing dot is ignored. May be empty.
	BaseDomain string
	// MXHost is the MX host name, the other reference identifier of
	// RFC 7672 §3.2.2. Same rules as BaseDomain.
	MXHost string
	// Now is the time against which validity dates are checked (DANE-TA
	// only).
	Now time.Time
}

// Verdict is the DANE outcome for one endpoint.
type Verdict struct {
	// Status is StatusPass, StatusFail or StatusNoUsableRecords.
	Status Status
	// Reason is empty unless Status is StatusFail; then it is one of the
	// Reason constants, from the record that got furthest (see verdict.go).
	Reason Reason
	// Match is the index in Input.Records of the first record that
	// authenticated the chain, -1 if none.
	Match int
	// MatchUsage is the usage of that record (2 or 3), 0 if none.
	MatchUsage uint8
	// Depth is the chain position of the certificate the matching record
	// named (0 = leaf; for DANE-TA the trust anchor's position), -1 if none.
	Depth int
	// NearMiss is a NearMiss constant when Status is not StatusPass and a
	// chain was presented; empty otherwise.
	NearMiss NearMiss
	// NearMissRecord is the index of the record the near miss is about,
	// -1 for NearMissNone or when NearMiss is empty.
	NearMissRecord int
	// NearMissDepth is the chain position of the presented certificate the
	// record's data would have matched, -1 if none (NearMissEmptyHash,
	// NearMissNone).
	NearMissDepth int
	// NearMissUsage, NearMissSelector and NearMissMatchingType are the
	// parameters under which the record's data would have matched the
	// certificate at NearMissDepth: the fixed record for the single-field
	// categories. Zero when NearMissDepth is -1.
	NearMissUsage        uint8
	NearMissSelector     uint8 // see NearMissUsage
	NearMissMatchingType uint8 // see NearMissUsage
	// Records holds one result per Input.Records entry, in order.
	Records []RecordResult
}

// RecordResult is the outcome of one TLSA record.
type RecordResult struct {
	// Usable reports whether the record can be used for SMTP.
	Usable bool
	// Unusable is an Unusable constant when Usable is false, else empty.
	Unusable Unusable
	// Matched reports whether the record authenticated the chain: for
	// DANE-EE the leaf matched; for DANE-TA the trust anchor was found and
	// the chain, the name and the dates checked out.
	Matched bool
	// Depth is the chain position of the certificate the record's data
	// matched (0 = leaf), even when a later DANE-TA check failed; -1 if the
	// data matched no presented certificate.
	Depth int
	// Reason is a Reason constant when the record is usable but did not
	// authenticate the chain, else empty.
	Reason Reason
}

// Verify checks the TLSA records in.Records against in.Chain by the rules of
// RFC 7672 §3.1 and RFC 7671: DANE-EE(3) matches the leaf and ignores names
// and dates; DANE-TA(2) needs its trust anchor among the presented
// certificates, a valid signature path from it to the leaf, a leaf naming
// in.BaseDomain or in.MXHost, and valid dates at in.Now. The endpoint passes
// when any usable record matches. Verify never fails: malformed certificates
// and records are results, not errors.
func Verify(in Input) Verdict {
	c := newChecker(in)
	v := Verdict{
		Match:          -1,
		Depth:          -1,
		NearMissRecord: -1,
		NearMissDepth:  -1,
		Records:        make([]RecordResult, len(in.Records)),
	}
	usable := 0
	for i, r := range in.Records {
		res := c.eval(r)
		v.Records[i] = res
		if !res.Usable {
			continue
		}
		usable++
		switch {
		case res.Matched && v.Match < 0:
			v.Match, v.MatchUsage, v.Depth = i, r.Usage, res.Depth
		case !res.Matched && reasonRank(res.Reason) > reasonRank(v.Reason):
			v.Reason = res.Reason
		}
	}
	switch {
	case v.Match >= 0:
		v.Status, v.Reason = StatusPass, ""
		return v
	case usable == 0:
		v.Status, v.Reason = StatusNoUsableRecords, ""
	default:
		v.Status = StatusFail
	}
	if len(c.certs) > 0 {
		c.nearMiss(in.Records, &v)
	}
	return v
}

// reasonRank orders failure reasons by how far the record got (see
// verdict.go); higher is more informative.
func reasonRank(reason Reason) int {
	switch reason {
	case ReasonNoChain:
		return 1
	case ReasonNoMatch:
		return 2
	case ReasonTANotInChain:
		return 3
	case ReasonChainInvalid:
		return 4
	case ReasonNameMismatch:
		return 5
	case ReasonExpired:
		return 6
	}
	return 0
}

// presented is one certificate of the chain, parsed and hashed lazily.
type presented struct {
	der     []byte
	parsed  bool              // parse was attempted
	cert    *x509.Certificate // nil if unparsable
	undated *x509.Certificate // cert with its dates widened, for chain building
	sums    [2][3][]byte      // [selector][matching type], nil until computed
}

// checker holds the state of one Verify call: the presented certificates and
// the cached results of trust-anchor checks.
type checker struct {
	certs   []presented
	names   []string // reference identifiers, normalized
	now     time.Time
	anchors map[int]Reason // depth -> anchor check result ("" = ok)
	inter   *x509.CertPool // undated presented certificates, built lazily
}

func newChecker(in Input) *checker {
	n := min(len(in.Chain), MaxChain)
	c := &checker{certs: make([]presented, n), now: in.Now, anchors: map[int]Reason{}}
	for i := range n {
		c.certs[i].der = in.Chain[i]
	}
	for _, name := range []string{in.BaseDomain, in.MXHost} {
		if name = normalizeName(name); name != "" {
			c.names = append(c.names, name)
		}
	}
	return c
}

// farFuture is the NotAfter of undated certificates.
var farFuture = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// parse returns the certificate at depth d, nil if it does not parse.
func (c *checker) parse(d int) *x509.Certificate {
	p := &c.certs[d]
	if !p.parsed {
		p.parsed = true
		if cert, err := x509.ParseCertificate(p.der); err == nil {
			p.cert = cert
			// Signatures cover RawTBSCertificate, not these fields, so the
			// copy still verifies; crypto/x509 then checks everything but
			// dates, which checkAnchor checks itself to tell
			// chain_invalid from expired.
			u := *cert
			u.NotBefore, u.NotAfter = time.Time{}, farFuture
			p.undated = &u
		}
	}
	return p.cert
}

// digest returns the association data of the certificate at depth d for
// the selector and matching type, nil if it cannot be computed (selector 1
// of an unparsable certificate) or the parameters are undefined.
func (c *checker) digest(d int, selector, matching uint8) []byte {
	if selector > SelectorSPKI || matching > MatchingSHA512 {
		return nil
	}
	p := &c.certs[d]
	if s := p.sums[selector][matching]; s != nil {
		return s
	}
	var b []byte
	switch selector {
	case SelectorCert:
		// The DER bytes as presented, parsable or not.
		b = p.der
	case SelectorSPKI:
		cert := c.parse(d)
		if cert == nil {
			return nil
		}
		b = cert.RawSubjectPublicKeyInfo
	}
	var s []byte
	switch matching {
	case MatchingFull:
		s = b
	case MatchingSHA256:
		h := sha256.Sum256(b)
		s = h[:]
	case MatchingSHA512:
		h := sha512.Sum512(b)
		s = h[:]
	}
	if s == nil { // an empty DER entry: keep nil-means-uncomputed apart
		s = []byte{}
	}
	p.sums[selector][matching] = s
	return s
}

// matches reports whether r's data matches the certificate at depth d under
// r's selector and matching type.
func (c *checker) matches(r Record, d int) bool {
	s := c.digest(d, r.Selector, r.MatchingType)
	return len(s) > 0 && bytes.Equal(s, r.Data)
}

// eval checks one record against the chain.
func (c *checker) eval(r Record) RecordResult {
	res := RecordResult{Depth: -1}
	if why := unusable(r); why != "" {
		res.Unusable = why
		return res
	}
	res.Usable = true
	if len(c.certs) == 0 {
		res.Reason = ReasonNoChain
		return res
	}
	switch r.Usage {
	case UsageDANEEE:
		// RFC 7672 §3.1.1: the leaf only; names and dates are ignored.
		if c.matches(r, 0) {
			res.Matched, res.Depth = true, 0
		} else {
			res.Reason = ReasonNoMatch
		}
	case UsageDANETA:
		// RFC 7672 §3.1.2: the trust anchor must be in the presented
		// chain. Try every position it occurs at (a server may send a
		// certificate twice); the leaf itself is allowed (RFC 7671 §5.2).
		for d := range c.certs {
			if !c.matches(r, d) {
				continue
			}
			why := c.anchor(d)
			if why == "" {
				res.Matched, res.Depth, res.Reason = true, d, ""
				return res
			}
			if res.Depth < 0 || reasonRank(why) > reasonRank(res.Reason) {
				res.Depth, res.Reason = d, why
			}
		}
		if res.Depth < 0 {
			res.Reason = ReasonTANotInChain
		}
	}
	return res
}

// anchor returns "" if the certificate at depth d, taken as a DANE-TA trust
// anchor, authenticates the leaf, else a Reason. Results are cached per
// depth, so many records naming the same anchor cost one chain build.
func (c *checker) anchor(d int) Reason {
	if why, ok := c.anchors[d]; ok {
		return why
	}
	why := c.checkAnchor(d)
	c.anchors[d] = why
	return why
}

// checkAnchor checks, in order: a signature path from the leaf to the
// anchor, the leaf's name, and the dates of the leaf and of the
// certificates between it and the anchor.
//
// The anchor is the presented certificate at depth d, whether the record
// named it by certificate (selector 0) or by key (selector 1). RFC 7671
// §5.2.2 allows a bare TA key; we still use the presented certificate that
// carries it as the only root, as OpenSSL (and so Postfix) does when that
// certificate is in the chain, so its basic constraints, path length and
// name constraints apply. Its validity dates do not: a trust anchor is an
// input to path validation, not a certificate checked by it (RFC 5280
// §6.1.1(d)), and a DANE-TA key outlives the certificate that carries it.
//
// Extended key usage is not checked (ExtKeyUsageAny): RFC 7672 does not
// require serverAuth and Postfix does not enforce it for DANE.
func (c *checker) checkAnchor(d int) Reason {
	leaf := c.parse(0)
	if leaf == nil {
		return ReasonChainInvalid
	}
	var paths [][]*x509.Certificate // certificates whose dates count
	if d == 0 {
		// The leaf is its own trust anchor: nothing to verify, but
		// RFC 7671 §5.2 still wants name and dates checked.
		paths = [][]*x509.Certificate{{leaf}}
	} else {
		if c.parse(d) == nil {
			return ReasonChainInvalid
		}
		roots := x509.NewCertPool()
		roots.AddCert(c.certs[d].undated)
		chains, err := c.certs[0].undated.Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: c.intermediates(),
			CurrentTime:   c.now,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		if err != nil || len(chains) == 0 {
			return ReasonChainInvalid
		}
		for _, chain := range chains {
			// Without the anchor, but always with the leaf: a chain of
			// one is a leaf that was sent again as its own anchor.
			path := chain[:len(chain)-1]
			if len(path) == 0 {
				path = chain
			}
			paths = append(paths, path)
		}
	}
	if !c.nameMatches(leaf) {
		return ReasonNameMismatch
	}
	for _, path := range paths {
		if c.datesValid(path) {
			return ""
		}
	}
	return ReasonExpired
}

// intermediates returns the pool of all parsable presented certificates
// but the leaf, undated.
func (c *checker) intermediates() *x509.CertPool {
	if c.inter == nil {
		c.inter = x509.NewCertPool()
		for d := 1; d < len(c.certs); d++ {
			if c.parse(d) != nil {
				c.inter.AddCert(c.certs[d].undated)
			}
		}
	}
	return c.inter
}

// datesValid reports whether every certificate of path is valid at c.now.
// path may hold undated copies; their originals are looked up by Raw.
func (c *checker) datesValid(path []*x509.Certificate) bool {
	for _, u := range path {
		cert := c.original(u)
		if cert == nil || c.now.Before(cert.NotBefore) || c.now.After(cert.NotAfter) {
			return false
		}
	}
	return true
}

// original returns the parsed presented certificate that u is, or is an
// undated copy of.
func (c *checker) original(u *x509.Certificate) *x509.Certificate {
	for i := range c.certs {
		p := &c.certs[i]
		if p.cert != nil && (p.cert == u || p.undated == u || bytes.Equal(p.cert.Raw, u.Raw)) {
			return p.cert
		}
	}
	return nil
}

// nameMatches reports whether the leaf carries one of the reference
// identifiers (RFC 7672 §3.2.2): a DNS SAN equal to it or a wildcard
// "*.rest" standing for exactly one label; the subject CN only when the
// certificate has no DNS SANs, as Postfix does.
func (c *checker) nameMatches(leaf *x509.Certificate) bool {
	presentedNames := leaf.DNSNames
	if len(presentedNames) == 0 && leaf.Subject.CommonName != "" {
		presentedNames = []string{leaf.Subject.CommonName}
	}
	for _, want := range c.names {
		for _, have := range presentedNames {
			if matchName(normalizeName(have), want) {
				return true
			}
		}
	}
	return false
}

// matchName reports whether the presented name pattern (normalized) matches
// the reference identifier name (normalized): equal, or pattern is
// "*.rest" and name is one nonempty label followed by ".rest". Partial
// wildcards ("mx*.example.com") are not honoured.
func matchName(pattern, name string) bool {
	if pattern == "" {
		return false
	}
	if pattern == name {
		return !strings.Contains(pattern, "*")
	}
	rest, ok := strings.CutPrefix(pattern, "*.")
	if !ok || rest == "" || strings.Contains(rest, "*") {
		return false
	}
	label, tail, ok := strings.Cut(name, ".")
	return ok && label != "" && tail == rest
}

// normalizeName lowercases an ASCII DNS name and drops one trailing dot.
func normalizeName(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}
