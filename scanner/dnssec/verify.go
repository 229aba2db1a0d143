package dnssec

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// algorithmSupported reports whether this validator verifies signatures of
// DNSSEC algorithm alg. RFC 8624 §3.1: RSASHA1 (5) and RSASHA1-NSEC3-SHA1 (7)
// are still validated; Result.Algorithms lets the row mark them.
func algorithmSupported(alg uint8) bool {
	switch alg {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512,
		dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519:
		return true
	}
	return false
}

// digestSupported reports whether DS digest type d is implemented
// (RFC 4034 SHA-1, RFC 4509 SHA-256, RFC 6605 SHA-384).
func digestSupported(d uint8) bool {
	return d == dns.SHA1 || d == dns.SHA256 || d == dns.SHA384
}

// sigFailure ranks why one RRSIG did not validate; a higher rank is closer to
// a verification and so the more precise reason for the whole RRset.
type sigFailure int

const (
	failNone sigFailure = iota
	failUnsupported
	failMalformed
	failUnknownKey
	failNotYetValid
	failExpired
	failInvalid
)

// reasonFor maps a failure rank to the status and reason of the RRset.
func reasonFor(f sigFailure) (Status, Reason) {
	switch f {
	case failUnsupported:
		return Insecure, ReasonUnsupportedAlgorithm
	case failMalformed:
		return Bogus, ReasonMalformed
	case failUnknownKey:
		return Bogus, ReasonRRSIGUnknownKey
	case failNotYetValid:
		return Bogus, ReasonSignatureNotYetValid
	case failExpired:
		return Bogus, ReasonSignatureExpired
	default:
		return Bogus, ReasonSignatureInvalid
	}
}

// VerifyRRset checks the signatures of one RRset as RFC 4035 §5.3 asks. The
// RRSIGs used are those in sigs whose owner, class and type covered match the
// RRset and whose signer name is the owner name of keys (the zone); each is
// matched to keys by key tag, algorithm and signer, checked for its validity
// window at now (RFC 1982 serial arithmetic, RFC 4034 §3.1.5) and its Labels
// field, and verified cryptographically. One valid RRSIG makes the RRset
// secure; the Result then lists the algorithms that validated, and its
// Detail starts with "wildcard expansion of" when the RRSIG's Labels field
// shows that the RRset was synthesised from a wildcard (RFC 4035 §5.3.4):
// the caller must then ask for the proof that the name itself does not
// exist. Otherwise the Result is bogus with the most precise reason
// (no_rrsig, rrsig_unknown_key, signature_expired, signature_not_yet_valid,
// signature_invalid, malformed), or insecure with unsupported_algorithm when
// every candidate RRSIG uses an algorithm this package does not implement and
// so does every key in keys (with a supported key it is rrsig_unknown_key).
// It never panics: nil entries and malformed records end as malformed.
func VerifyRRset(rrset []dns.RR, sigs []*dns.RRSIG, keys []*dns.DNSKEY, now time.Time) Result {
	res, _ := (*verifier)(nil).verifyRRset(rrset, sigs, keys, now)
	return res
}

// maxVerifications bounds the cryptographic checks (one RRSIG with one
// key) made for one RRset. A genuine RRset needs one, a key or algorithm
// rollover a few; KeyTrap (CVE-2023-50387) sends n keys sharing one key
// tag and n signatures of that tag, n*n checks, seconds of CPU in one
// response. Unbound stops at 8 RRSIGs per RRset (MAX_VALIDATE_RRSIGS);
// past the budget the RRset is bogus with signature_invalid.
const maxVerifications = 8

// verifyRRset is VerifyRRset that also returns the RRSIG that validated, or
// nil.
func (vf *verifier) verifyRRset(rrset []dns.RR, sigs []*dns.RRSIG, keys []*dns.DNSKEY, now time.Time) (Result, *dns.RRSIG) {
	rrset = slices.DeleteFunc(slices.Clone(rrset), func(rr dns.RR) bool { return rr == nil || rr.Header() == nil })
	if len(rrset) == 0 {
		return Result{Status: Bogus, Reason: ReasonMalformed, Detail: "empty RRset"}, nil
	}
	if !dns.IsRRset(rrset) {
		return Result{Status: Bogus, Reason: ReasonMalformed, Detail: "records do not form one RRset"}, nil
	}
	h := rrset[0].Header()
	owner := dns.CanonicalName(h.Name)
	ownerLabels := dns.CountLabel(owner)
	what := owner + " " + dns.TypeToString[h.Rrtype]
	if _, ok := dns.IsDomainName(owner); !ok {
		return Result{Status: Bogus, Reason: ReasonMalformed, Detail: "bad owner name " + what}, nil
	}

	var candidates []*dns.RRSIG
	for _, s := range sigs {
		if s == nil || s.TypeCovered != h.Rrtype || s.Hdr.Class != h.Class ||
			dns.CanonicalName(s.Hdr.Name) != owner {
			continue
		}
		candidates = append(candidates, s)
	}
	if len(candidates) == 0 {
		return Result{Status: Bogus, Reason: ReasonNoRRSIG, Detail: "no RRSIG for " + what}, nil
	}

	// Key tags are computed once: a hostile response may hold hundreds of
	// keys and signatures.
	type taggedKey struct {
		key *dns.DNSKEY
		tag uint16
	}
	var zoneKeys []taggedKey
	for _, k := range keys {
		if k != nil && k.Protocol == 3 && k.Flags&dns.ZONE != 0 {
			zoneKeys = append(zoneKeys, taggedKey{k, k.KeyTag()})
		}
	}
	res := Result{}
	worst := failNone
	var details []string
	fail := func(f sigFailure, s *dns.RRSIG, msg string) {
		if f > worst {
			worst = f
		}
		details = append(details, fmt.Sprintf("RRSIG %d/%d by %s: %s", s.KeyTag, s.Algorithm, s.SignerName, msg))
	}
	checks := 0
	for _, s := range candidates {
		if checks >= maxVerifications {
			fail(failInvalid, s, fmt.Sprintf("not tried: %d signature checks made for this RRset, the most allowed (KeyTrap, CVE-2023-50387)", checks))
			break
		}
		if !slices.Contains(res.Algorithms, s.Algorithm) {
			res.Algorithms = append(res.Algorithms, s.Algorithm)
		}
		signer := dns.CanonicalName(s.SignerName)
		if res.Zone == "" {
			res.Zone = signer
		}
		if _, ok := dns.IsDomainName(signer); !ok || !dns.IsSubDomain(signer, owner) {
			fail(failMalformed, s, "signer is not an ancestor of the owner")
			continue
		}
		if int(s.Labels) > ownerLabels {
			fail(failMalformed, s, fmt.Sprintf("labels %d above the owner's %d", s.Labels, ownerLabels))
			continue
		}
		if !algorithmSupported(s.Algorithm) {
			fail(failUnsupported, s, "unsupported algorithm")
			continue
		}
		var matching []*dns.DNSKEY
		for _, k := range zoneKeys {
			if k.tag == s.KeyTag && k.key.Algorithm == s.Algorithm && k.key.Hdr.Class == s.Hdr.Class &&
				dns.CanonicalName(k.key.Hdr.Name) == signer {
				matching = append(matching, k.key)
			}
		}
		if len(matching) == 0 {
			fail(failUnknownKey, s, "no such key in the DNSKEY set")
			continue
		}
		if expired, early := window(s, now); expired {
			fail(failExpired, s, "expired "+dns.TimeToString(s.Expiration))
			continue
		} else if early {
			fail(failNotYetValid, s, "not valid before "+dns.TimeToString(s.Inception))
			continue
		}
		var err error
		for _, k := range matching {
			if checks >= maxVerifications {
				err = fmt.Errorf("%w; the other keys of tag %d not tried (at most %d signature checks per RRset)", err, s.KeyTag, maxVerifications)
				break
			}
			checks++
			if err = vf.safeVerify(s, k, rrset); err == nil {
				break
			}
		}
		if err != nil {
			fail(failInvalid, s, err.Error())
			continue
		}
		res.Status, res.Zone = Secure, signer
		res.Algorithms = []uint8{s.Algorithm}
		if int(s.Labels) < ownerLabels && !(strings.HasPrefix(owner, "*.") && int(s.Labels) == ownerLabels-1) {
			res.Detail = "wildcard expansion of " + wildcardName(owner, int(s.Labels))
		}
		return res, s
	}
	res.Status, res.Reason = reasonFor(worst)
	if worst == failUnsupported && slices.ContainsFunc(keys, func(k *dns.DNSKEY) bool { return k != nil && algorithmSupported(k.Algorithm) }) {
		// The zone has keys of supported algorithms, so an RRset signed only
		// with others is not signed by the zone: no downgrade to insecure.
		res.Status, res.Reason = Bogus, ReasonRRSIGUnknownKey
	}
	res.Detail = what + ": " + strings.Join(details, "; ")
	return res, nil
}

// window reports whether sig has expired or is not yet valid at now,
// comparing the 32-bit times in serial number arithmetic (RFC 1982, as
// RFC 4034 §3.1.5 asks).
func window(sig *dns.RRSIG, now time.Time) (expired, notYetValid bool) {
	t := uint32(now.Unix())
	return int32(t-sig.Expiration) > 0, int32(sig.Inception-t) > 0
}

// safeVerify runs the cryptographic check and turns a panic on hostile
// input into an error.
func (vf *verifier) safeVerify(s *dns.RRSIG, k *dns.DNSKEY, rrset []dns.RR) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("verify: %v", r)
		}
	}()
	return vf.verify(s, k, rrset)
}

// wildcardName returns the wildcard owner "*.<last labels of owner>" from
// which an RRset at owner with an RRSIG Labels field of labels was expanded
// (RFC 4035 §5.3.2).
func wildcardName(owner string, labels int) string {
	idx := dns.Split(owner)
	n := len(idx)
	if labels <= 0 || n == 0 {
		return "*."
	}
	if labels >= n {
		return owner
	}
	return "*." + owner[idx[n-labels]:]
}

// VerifyDNSKEYs authenticates a zone's DNSKEY RRset with the DS RRset from
// its parent, as RFC 4035 §5.2 asks: a DS of a supported algorithm and
// digest type (SHA-1, SHA-256, SHA-384, compared case-insensitively; SHA-1
// ignored when SHA-256 is present, RFC 4509 §3) must match a zone key in
// dnskeys, and that key must sign the DNSKEY RRset. On success it returns
// the zone keys of the set and a secure Result. Otherwise the keys are nil
// and the Result says why: no_dnskey, ds_mismatch, dnskey_not_signed_by_ds
// or the precise signature failure (expired, not yet valid, invalid,
// malformed); insecure with unsupported_algorithm or unsupported_digest when
// no DS can be used (RFC 6840 §5.2).
func VerifyDNSKEYs(dnskeys []*dns.DNSKEY, sigs []*dns.RRSIG, ds []*dns.DS, now time.Time) ([]*dns.DNSKEY, Result) {
	return (*verifier)(nil).verifyDNSKEYs(dnskeys, sigs, ds, now)
}

// verifyDNSKEYs is VerifyDNSKEYs with vf's caches.
func (vf *verifier) verifyDNSKEYs(dnskeys []*dns.DNSKEY, sigs []*dns.RRSIG, ds []*dns.DS, now time.Time) ([]*dns.DNSKEY, Result) {
	var usable []*dns.DS
	algOK, hasSHA256 := false, false
	for _, d := range ds {
		if d == nil || !algorithmSupported(d.Algorithm) {
			continue
		}
		algOK = true
		if digestSupported(d.DigestType) {
			usable = append(usable, d)
			hasSHA256 = hasSHA256 || d.DigestType == dns.SHA256
		}
	}
	zone := ""
	if len(ds) > 0 && ds[0] != nil {
		zone = dns.CanonicalName(ds[0].Hdr.Name)
	}
	if len(usable) == 0 {
		if !algOK {
			return nil, Result{Status: Insecure, Reason: ReasonUnsupportedAlgorithm, Zone: zone,
				Algorithms: dsAlgorithms(ds), Detail: "no DS with a supported algorithm"}
		}
		return nil, Result{Status: Insecure, Reason: ReasonUnsupportedDigest, Zone: zone,
			Algorithms: dsAlgorithms(ds), Detail: "no DS with a supported digest type"}
	}
	if hasSHA256 {
		usable = slices.DeleteFunc(usable, func(d *dns.DS) bool { return d.DigestType == dns.SHA1 })
	}
	keys := slices.DeleteFunc(slices.Clone(dnskeys), func(k *dns.DNSKEY) bool { return k == nil })
	if len(keys) == 0 {
		return nil, Result{Status: Bogus, Reason: ReasonNoDNSKEY, Zone: zone, Detail: "no DNSKEY at " + zone}
	}
	var trusted []*dns.DNSKEY
	for _, k := range keys {
		if k.Flags&dns.ZONE == 0 || k.Protocol != 3 {
			continue
		}
		tag := k.KeyTag()
		for _, d := range usable {
			if d.KeyTag != tag || d.Algorithm != k.Algorithm || dns.CanonicalName(d.Hdr.Name) != dns.CanonicalName(k.Hdr.Name) {
				continue
			}
			if got := k.ToDS(d.DigestType); got != nil && strings.EqualFold(got.Digest, d.Digest) {
				trusted = append(trusted, k)
				break
			}
		}
	}
	if len(trusted) == 0 {
		return nil, Result{Status: Bogus, Reason: ReasonDSMismatch, Zone: zone,
			Detail: fmt.Sprintf("none of %d DNSKEYs matches any of %d DS at %s", len(keys), len(usable), zone)}
	}
	return vf.verifyKeySet(keys, sigs, trusted, now)
}

// verifyKeySet checks that the DNSKEY RRset keys is signed by one of the
// trusted keys (matched by DS, or configured as trust anchors) and returns
// its zone keys.
func (vf *verifier) verifyKeySet(keys []*dns.DNSKEY, sigs []*dns.RRSIG, trusted []*dns.DNSKEY, now time.Time) ([]*dns.DNSKEY, Result) {
	rrset := make([]dns.RR, 0, len(keys))
	for _, k := range keys {
		rrset = append(rrset, k)
	}
	res, _ := vf.verifyRRset(rrset, sigs, trusted, now)
	if res.Status != Secure {
		if res.Reason == ReasonNoRRSIG || res.Reason == ReasonRRSIGUnknownKey {
			res.Reason = ReasonDNSKEYNotSignedBySEP
		}
		if res.Status == Insecure {
			// The trusted keys use supported algorithms, so a set signed only
			// with others is not signed by them.
			res.Status, res.Reason = Bogus, ReasonDNSKEYNotSignedBySEP
		}
		return nil, res
	}
	var zoneKeys []*dns.DNSKEY
	for _, k := range keys {
		if k.Flags&dns.ZONE != 0 && k.Protocol == 3 {
			zoneKeys = append(zoneKeys, k)
		}
	}
	res.Detail = ""
	return zoneKeys, res
}
