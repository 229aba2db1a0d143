package dane

// The closed vocabularies of this package. Every string below may end up in a
// dataset column; datasets/SCHEMA.md documents them from this file, so add a
// value here first and never reuse one with another meaning.

// Status is the outcome for one endpoint (Verdict.Status); Statuses lists
// the values.
type Status string

// Verdict.Status values.
const (
	// StatusPass: at least one usable TLSA record authenticated the chain.
	StatusPass Status = "pass"
	// StatusFail: usable TLSA records exist but none authenticated the chain;
	// Verdict.Reason says why.
	StatusFail Status = "fail"
	// StatusNoUsableRecords: TLSA records were given but none is usable
	// (RFC 7672 §2.2: TLS is mandatory, but the peer cannot be
	// authenticated). Also returned when Input.Records is empty.
	StatusNoUsableRecords Status = "no_usable_records"
)

// Reason says why a usable record, or the endpoint as a whole, failed
// (Verdict.Reason, RecordResult.Reason); Reasons lists the values.
type Reason string

// Verdict.Reason and RecordResult.Reason values: why a usable record, or the
// endpoint as a whole, failed. When several records fail, the verdict reports the one
// that got furthest through the checks, in this order (highest first):
//
//	expired > name_mismatch > chain_invalid > ta_not_in_chain > no_match > no_chain
//
// The checks of a DANE-TA(2) record run in the order: trust anchor found in
// the chain, chain verifies, name matches, dates valid; so a record failing
// on dates was nearest to passing.
const (
	// ReasonNoChain: the server presented no certificate at all.
	ReasonNoChain Reason = "no_chain"
	// ReasonNoMatch: a DANE-EE(3) record whose data does not match the leaf.
	ReasonNoMatch Reason = "no_match"
	// ReasonTANotInChain: a DANE-TA(2) record whose data matches no
	// presented certificate (the TA was not sent, or the record is stale;
	// Verdict.NearMiss tells them apart when it can).
	ReasonTANotInChain Reason = "ta_not_in_chain"
	// ReasonChainInvalid: the DANE-TA(2) trust anchor is in the chain, but
	// no valid signature path leads from it to the leaf (wrong issuer,
	// bad signature, issuer not a CA, unparsable certificate, algorithm
	// that crypto/x509 refuses such as SHA-1).
	ReasonChainInvalid Reason = "chain_invalid"
	// ReasonNameMismatch: the chain verifies up to the DANE-TA(2) trust
	// anchor, but the leaf names neither the TLSA base domain nor the MX
	// host (RFC 7672 §3.2.2). Also used by Inspect for the PKIX check.
	ReasonNameMismatch Reason = "name_mismatch"
	// ReasonExpired: under DANE-TA(2), the chain and name check out, but
	// the leaf or a certificate between it and the trust anchor is expired
	// or not yet valid at Input.Now. Also used by Inspect for PKIX.
	ReasonExpired Reason = "expired"
)

// Unusable says why a TLSA record cannot be used for SMTP
// (RecordResult.Unusable); Unusables lists the values.
type Unusable string

// RecordResult.Unusable values: why a TLSA record cannot be used for SMTP
// (RFC 7672 §3.1.3, RFC 6698 §2.1, RFC 7671 §4). The checks run in this
// order and the first one that applies is reported.
const (
	// UnusablePKIXUsage: usage PKIX-TA(0) or PKIX-EE(1), not usable for
	// SMTP (RFC 7672 §3.1.3).
	UnusablePKIXUsage Unusable = "pkix_usage"
	// UnusableUndefinedUsage: a usage above 3.
	UnusableUndefinedUsage Unusable = "undefined_usage"
	// UnusableUndefinedSelector: a selector other than Cert(0) or SPKI(1).
	UnusableUndefinedSelector Unusable = "undefined_selector"
	// UnusableUndefinedMatchingType: a matching type other than Full(0),
	// SHA2-256(1) or SHA2-512(2).
	UnusableUndefinedMatchingType Unusable = "undefined_matching_type"
	// UnusableBadHex: the record's association data is not valid
	// hexadecimal (only from FromTLSA).
	UnusableBadHex Unusable = "bad_hex"
	// UnusableEmptyData: the association data is empty.
	UnusableEmptyData Unusable = "empty_data"
	// UnusableBadLength: a digest of the wrong length (not 32 bytes for
	// SHA2-256, not 64 bytes for SHA2-512).
	UnusableBadLength Unusable = "bad_length"
)

// NearMiss is the nearest miss of a verdict (Verdict.NearMiss); NearMisses
// lists the values.
type NearMiss string

// Verdict.NearMiss values: when nothing authenticated the chain, the nearest miss
// among all records (usable or not), following the categories of Lee et al.,
// "Under the Hood of DANE Mismanagement in SMTP" (USENIX Security 2022).
// Empty when the status is pass or the chain is empty. When several records
// miss, the first category in this list wins, then (ta_found only) the
// record whose Reason ranks highest, then the lowest record index.
const (
	// NearMissWrongUsage: changing only the usage (3<->2, or a PKIX or
	// undefined usage to 3 or 2) would have made the record authenticate
	// the chain; e.g. 3 1 1 with the SPKI digest of the intermediate, or
	// 2 1 1 naming the leaf when the name does not match.
	NearMissWrongUsage NearMiss = "wrong_usage"
	// NearMissWrongSelector: changing only the selector (0<->1) would have
	// made the record authenticate the chain.
	NearMissWrongSelector NearMiss = "wrong_selector"
	// NearMissWrongMatchingType: changing only the matching type (among
	// 0, 1, 2) would have made the record authenticate the chain; e.g. a
	// SHA2-512 digest published as matching type 1.
	NearMissWrongMatchingType NearMiss = "wrong_matching_type"
	// NearMissTAFound: not a miss of the data: a DANE-TA record's trust
	// anchor is in the chain, and the failure lies after it (Reason is
	// chain_invalid, name_mismatch or expired). Among several such records
	// the one whose failure ranks highest in the Reason order is reported.
	NearMissTAFound NearMiss = "ta_found"
	// NearMissWrongDepth: the data matches a presented certificate under
	// the record's own selector and matching type, but at a depth the
	// record cannot use, and no change of usage alone fixes it (e.g. 3 1 1
	// naming the intermediate while the chain fails DANE-TA checks too).
	NearMissWrongDepth NearMiss = "wrong_depth"
	// NearMissWrongFields: the data matches a presented certificate only
	// when two or more of usage, selector and matching type are changed.
	NearMissWrongFields NearMiss = "wrong_fields"
	// NearMissEmptyHash: the data is SHA2-256 or SHA2-512 of the empty
	// string, a tooling bug (a digest computed over nothing).
	NearMissEmptyHash NearMiss = "empty_hash"
	// NearMissNone: no record's data relates to any presented certificate
	// (under any selector and matching type): stale records after a key
	// rollover, a DANE-TA record whose anchor was not sent, or plain
	// mismatch.
	NearMissNone NearMiss = "none"
)

// Info.PKIXReason: why the chain does not validate under WebPKI rules
// (besides ReasonNoChain, ReasonNameMismatch and ReasonExpired above).
const (
	// PKIXUnknownAuthority: no path to a root of the given pool.
	PKIXUnknownAuthority = "unknown_authority"
	// PKIXMalformed: the leaf certificate cannot be parsed.
	PKIXMalformed = "malformed"
	// PKIXNoRoots: roots were nil and the system pool could not be loaded.
	PKIXNoRoots = "no_roots"
	// PKIXInvalid: any other failure of crypto/x509 verification (issuer
	// not a CA, constraints, extended key usage, insecure algorithm ...).
	PKIXInvalid = "invalid"
)

// Info.KeyType: the leaf's public key algorithm.
const (
	// KeyRSA: an RSA key; Info.KeyBits is the modulus size.
	KeyRSA = "rsa"
	// KeyECDSA: an ECDSA key; Info.KeyBits is the curve size.
	KeyECDSA = "ecdsa"
	// KeyEd25519: an Ed25519 key; Info.KeyBits is 256.
	KeyEd25519 = "ed25519"
	// KeyOther: any other algorithm (DSA, unknown); Info.KeyBits is 0.
	KeyOther = "other"
)

// Statuses returns the values of Status.
func Statuses() []Status { return []Status{StatusPass, StatusFail, StatusNoUsableRecords} }

// Reasons returns the values of Reason, in the order of the ranking above
// (lowest first).
func Reasons() []Reason {
	return []Reason{ReasonNoChain, ReasonNoMatch, ReasonTANotInChain, ReasonChainInvalid, ReasonNameMismatch, ReasonExpired}
}

// Unusables returns the values of Unusable, in the order they are checked.
func Unusables() []Unusable {
	return []Unusable{UnusablePKIXUsage, UnusableUndefinedUsage, UnusableUndefinedSelector,
		UnusableUndefinedMatchingType, UnusableBadHex, UnusableEmptyData, UnusableBadLength}
}

// NearMisses returns the values of NearMiss, in order of precedence.
func NearMisses() []NearMiss {
	return []NearMiss{NearMissWrongUsage, NearMissWrongSelector, NearMissWrongMatchingType,
		NearMissTAFound, NearMissWrongDepth, NearMissWrongFields, NearMissEmptyHash, NearMissNone}
}
