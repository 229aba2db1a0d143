package dane

// The closed vocabularies of this package. Every string below may end up in a
// dataset column; datasets/SCHEMA.md documents them from this file, so add a
// value here first and never reuse one with another meaning.

// Verdict.Status: the outcome for one endpoint.
const (
	// StatusPass: at least one usable TLSA record authenticated the chain.
	StatusPass = "pass"
	// StatusFail: usable TLSA records exist but none authenticated the chain;
	// Verdict.Reason says why.
	StatusFail = "fail"
	// StatusNoUsableRecords: TLSA records were given but none is usable
	// (RFC 7672 §2.2: TLS is mandatory, but the peer cannot be
	// authenticated). Also returned when Input.Records is empty.
	StatusNoUsableRecords = "no_usable_records"
)

// Verdict.Reason and RecordResult.Reason: why a usable record, or the endpoint
// as a whole, failed. When several records fail, the verdict reports the one
// that got furthest through the checks, in this order (highest first):
//
//	expired > name_mismatch > chain_invalid > ta_not_in_chain > no_match > no_chain
//
// The checks of a DANE-TA(2) record run in the order: trust anchor found in
// the chain, chain verifies, name matches, dates valid; so a record failing
// on dates was nearest to passing.
const (
	// ReasonNoChain: the server presented no certificate at all.
	ReasonNoChain = "no_chain"
	// ReasonNoMatch: a DANE-EE(3) record whose data does not match the leaf.
	ReasonNoMatch = "no_match"
	// ReasonTANotInChain: a DANE-TA(2) record whose data matches no
	// presented certificate (the TA was not sent, or the record is stale;
	// Verdict.NearMiss tells them apart when it can).
	ReasonTANotInChain = "ta_not_in_chain"
	// ReasonChainInvalid: the DANE-TA(2) trust anchor is in the chain, but
	// no valid signature path leads from it to the leaf (wrong issuer,
	// bad signature, issuer not a CA, unparsable certificate, algorithm
	// that crypto/x509 refuses such as SHA-1).
	ReasonChainInvalid = "chain_invalid"
	// ReasonNameMismatch: the chain verifies up to the DANE-TA(2) trust
	// anchor, but the leaf names neither the TLSA base domain nor the MX
	// host (RFC 7672 §3.2.2). Also used by Inspect for the PKIX check.
	ReasonNameMismatch = "name_mismatch"
	// ReasonExpired: under DANE-TA(2), the chain and name check out, but
	// the leaf or a certificate between it and the trust anchor is expired
	// or not yet valid at Input.Now. Also used by Inspect for PKIX.
	ReasonExpired = "expired"
)

// RecordResult.Unusable: why a TLSA record cannot be used for SMTP
// (RFC 7672 §3.1.3, RFC 6698 §2.1, RFC 7671 §4). The checks run in this
// order and the first one that applies is reported.
const (
	// UnusablePKIXUsage: usage PKIX-TA(0) or PKIX-EE(1), not usable for
	// SMTP (RFC 7672 §3.1.3).
	UnusablePKIXUsage = "pkix_usage"
	// UnusableUndefinedUsage: a usage above 3.
	UnusableUndefinedUsage = "undefined_usage"
	// UnusableUndefinedSelector: a selector other than Cert(0) or SPKI(1).
	UnusableUndefinedSelector = "undefined_selector"
	// UnusableUndefinedMatchingType: a matching type other than Full(0),
	// SHA2-256(1) or SHA2-512(2).
	UnusableUndefinedMatchingType = "undefined_matching_type"
	// UnusableBadHex: the record's association data is not valid
	// hexadecimal (only from FromTLSA).
	UnusableBadHex = "bad_hex"
	// UnusableEmptyData: the association data is empty.
	UnusableEmptyData = "empty_data"
	// UnusableBadLength: a digest of the wrong length (not 32 bytes for
	// SHA2-256, not 64 bytes for SHA2-512).
	UnusableBadLength = "bad_length"
)

// Verdict.NearMiss: when nothing authenticated the chain, the nearest miss
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
	NearMissWrongUsage = "wrong_usage"
	// NearMissWrongSelector: changing only the selector (0<->1) would have
	// made the record authenticate the chain.
	NearMissWrongSelector = "wrong_selector"
	// NearMissWrongMatchingType: changing only the matching type (among
	// 0, 1, 2) would have made the record authenticate the chain; e.g. a
	// SHA2-512 digest published as matching type 1.
	NearMissWrongMatchingType = "wrong_matching_type"
	// NearMissTAFound: not a miss of the data: a DANE-TA record's trust
	// anchor is in the chain, and the failure lies after it (Reason is
	// chain_invalid, name_mismatch or expired). Among several such records
	// the one whose failure ranks highest in the Reason order is reported.
	NearMissTAFound = "ta_found"
	// NearMissWrongDepth: the data matches a presented certificate under
	// the record's own selector and matching type, but at a depth the
	// record cannot use, and no change of usage alone fixes it (e.g. 3 1 1
	// naming the intermediate while the chain fails DANE-TA checks too).
	NearMissWrongDepth = "wrong_depth"
	// NearMissWrongFields: the data matches a presented certificate only
	// when two or more of usage, selector and matching type are changed.
	NearMissWrongFields = "wrong_fields"
	// NearMissEmptyHash: the data is SHA2-256 or SHA2-512 of the empty
	// string, a tooling bug (a digest computed over nothing).
	NearMissEmptyHash = "empty_hash"
	// NearMissNone: no record's data relates to any presented certificate
	// (under any selector and matching type): stale records after a key
	// rollover, a DANE-TA record whose anchor was not sent, or plain
	// mismatch.
	NearMissNone = "none"
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
