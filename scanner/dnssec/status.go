// Package dnssec validates DNS answers in-process from trust anchors, as a
// security-aware resolver does (RFC 4033, RFC 4034, RFC 4035 §5), and says
// why: every RRset gets a status from RFC 4035 §4.3 (secure, insecure,
// bogus, indeterminate) and a reason from a closed vocabulary.
//
// It implements signature checks (RFC 4034 §3, RFC 4035 §5.3), the chain of
// trust through DS and DNSKEY (RFC 4035 §5.2), authenticated denial of
// existence with NSEC (RFC 4035 §5.4) and NSEC3 (RFC 5155 §8), the
// algorithm rules of RFC 6840 §5.2 and RFC 8624, and the NSEC3 iteration
// limit of RFC 9276.
//
// Hostile input costs bounded work: RSA moduli above 4096 bits are
// refused, at most 8 signature checks are made per RRset (KeyTrap,
// CVE-2023-50387), NSEC3 hashes past 150 iterations are not computed, and
// a failed DS or DNSKEY lookup is remembered for a while (RFC 9520) so
// that the RRsets below a silent zone do not each wait for it.
package dnssec

// Status is the DNSSEC status of an RRset or a denial (RFC 4035 §4.3).
type Status string

// The four statuses of RFC 4035 §4.3.
const (
	Secure        Status = "secure"
	Insecure      Status = "insecure"
	Bogus         Status = "bogus"
	Indeterminate Status = "indeterminate"
)

// Statuses returns the four statuses, best first (Status.Rank order).
func Statuses() []Status { return []Status{Secure, Insecure, Indeterminate, Bogus} }

// Rank orders statuses from best to worst, the one order danescan uses
// wherever links or RRsets are combined: Secure 0, Insecure 1,
// Indeterminate 2, Bogus 3; anything else (no status: not validated)
// ranks worst, 4.
func (s Status) Rank() int {
	switch s {
	case Secure:
		return 0
	case Insecure:
		return 1
	case Indeterminate:
		return 2
	case Bogus:
		return 3
	}
	return 4
}

// Reason says why a status is what it is. The vocabulary is closed; the
// dataset documents it in datasets/SCHEMA.md.
type Reason string

// Reasons. Secure results carry ReasonNone or, for a secure denial,
// ReasonNSECDenial or ReasonNSEC3Denial.
const (
	ReasonNone Reason = ""

	// Secure denials.
	ReasonNSECDenial  Reason = "nsec_denial"  // NXDOMAIN or NODATA proven with NSEC
	ReasonNSEC3Denial Reason = "nsec3_denial" // NXDOMAIN or NODATA proven with NSEC3

	// Insecure.
	ReasonNoDS                 Reason = "no_ds"                 // a delegation above is proven to have no DS
	ReasonNSEC3OptOut          Reason = "nsec3_opt_out"         // an opt-out NSEC3 covers the delegation (RFC 5155 §6)
	ReasonUnsupportedAlgorithm Reason = "unsupported_algorithm" // only DS/DNSKEY algorithms this validator does not implement (RFC 6840 §5.2)
	ReasonUnsupportedDigest    Reason = "unsupported_digest"    // only DS digest types this validator does not implement (RFC 6840 §5.2)
	ReasonNSEC3Iterations      Reason = "nsec3_iterations"      // NSEC3 iterations above the RFC 9276 limit: treated as insecure

	// Bogus.
	ReasonSignatureExpired     Reason = "signature_expired"       // every RRSIG's expiration is in the past
	ReasonSignatureNotYetValid Reason = "signature_not_yet_valid" // every RRSIG's inception is in the future
	ReasonNoRRSIG              Reason = "no_rrsig"                // a signed zone answered without RRSIG for the RRset
	ReasonRRSIGUnknownKey      Reason = "rrsig_unknown_key"       // the RRSIGs name keys not in the zone's DNSKEY set
	ReasonSignatureInvalid     Reason = "signature_invalid"       // an RRSIG by a known key does not verify
	ReasonDNSKEYNotSignedBySEP Reason = "dnskey_not_signed_by_ds" // the DNSKEY set is not signed by a key that a DS matches
	ReasonDSMismatch           Reason = "ds_mismatch"             // no DNSKEY matches any DS digest
	ReasonNoDNSKEY             Reason = "no_dnskey"               // the zone has a DS but no DNSKEY set
	ReasonNSECProof            Reason = "nsec_proof"              // an NSEC denial is missing or does not prove the answer
	ReasonNSEC3Proof           Reason = "nsec3_proof"             // an NSEC3 denial is missing or does not prove the answer
	ReasonMalformed            Reason = "malformed"               // a DNSSEC record cannot be used as it is (bad length, bad key)
	ReasonCNAMELoop            Reason = "cname_loop"              // a CNAME chain loops or is too long to validate
	ReasonZoneCutLoop          Reason = "zone_cut_loop"           // the zone cuts found do not descend towards the name

	// Indeterminate.
	ReasonLookupFailed  Reason = "lookup_failed"   // a DS, DNSKEY or other lookup needed for the proof failed
	ReasonNoTrustAnchor Reason = "no_trust_anchor" // no configured trust anchor is at or above the name (RFC 4035 §4.3)
)

// Reasons returns every reason, ReasonNone first, then in the order above.
func Reasons() []Reason {
	return []Reason{ReasonNone,
		ReasonNSECDenial, ReasonNSEC3Denial,
		ReasonNoDS, ReasonNSEC3OptOut, ReasonUnsupportedAlgorithm, ReasonUnsupportedDigest, ReasonNSEC3Iterations,
		ReasonSignatureExpired, ReasonSignatureNotYetValid, ReasonNoRRSIG, ReasonRRSIGUnknownKey, ReasonSignatureInvalid,
		ReasonDNSKEYNotSignedBySEP, ReasonDSMismatch, ReasonNoDNSKEY, ReasonNSECProof, ReasonNSEC3Proof, ReasonMalformed,
		ReasonCNAMELoop, ReasonZoneCutLoop,
		ReasonLookupFailed, ReasonNoTrustAnchor}
}

// Result is the outcome of validating one RRset or denial.
type Result struct {
	Status Status
	Reason Reason
	// Detail is a human-readable explanation (which key, which time).
	Detail string
	// Zone is the zone whose keys signed the data (the RRSIG signer name),
	// or the zone where the chain ended; lowercase, trailing dot.
	Zone string
	// Algorithms lists the DNSSEC algorithm numbers of the RRSIGs that
	// validated (or were tried), so a survey can count RSA/SHA-1 (5, 7).
	Algorithms []uint8
}
