package dane

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"strings"

	"github.com/miekg/dns"
)

// TLSA parameter values (RFC 6698 §2.1, names from RFC 7218).
const (
	UsagePKIXTA = 0 // PKIX-TA: not usable for SMTP (RFC 7672 §3.1.3)
	UsagePKIXEE = 1 // PKIX-EE: not usable for SMTP (RFC 7672 §3.1.3)
	UsageDANETA = 2 // DANE-TA: a trust anchor in the presented chain
	UsageDANEEE = 3 // DANE-EE: the leaf itself

	SelectorCert = 0 // the whole certificate, DER
	SelectorSPKI = 1 // the SubjectPublicKeyInfo, DER

	MatchingFull   = 0 // the selected bytes themselves
	MatchingSHA256 = 1 // SHA2-256 of the selected bytes
	MatchingSHA512 = 2 // SHA2-512 of the selected bytes
)

// Record is one TLSA record's parameters and decoded association data.
type Record struct {
	Usage        uint8 // certificate usage, 0-3 defined (RFC 6698 §2.1.1)
	Selector     uint8 // 0 Cert, 1 SPKI (RFC 6698 §2.1.2)
	MatchingType uint8 // 0 Full, 1 SHA2-256, 2 SHA2-512 (RFC 6698 §2.1.3)
	// Data is the certificate association data, decoded from hex.
	Data []byte
	// BadHex is set by FromTLSA when the record's hex did not decode;
	// Data is then nil and the record is unusable (UnusableBadHex).
	BadHex bool
}

// FromTLSA returns the Record of rr. The hex association data is decoded
// case-insensitively, ignoring white space; if it does not decode, Data is
// nil and BadHex is set. FromTLSA does not check the parameters: Verify
// reports unusable records.
func FromTLSA(rr *dns.TLSA) Record {
	r := Record{Usage: rr.Usage, Selector: rr.Selector, MatchingType: rr.MatchingType}
	s := strings.Join(strings.Fields(rr.Certificate), "")
	data, err := hex.DecodeString(s)
	if err != nil {
		r.BadHex = true
		return r
	}
	r.Data = data
	return r
}

// unusable returns why r cannot be used for SMTP, or "" if it can.
func unusable(r Record) Unusable {
	switch {
	case r.Usage == UsagePKIXTA || r.Usage == UsagePKIXEE:
		return UnusablePKIXUsage
	case r.Usage > UsageDANEEE:
		return UnusableUndefinedUsage
	case r.Selector > SelectorSPKI:
		return UnusableUndefinedSelector
	case r.MatchingType > MatchingSHA512:
		return UnusableUndefinedMatchingType
	case r.BadHex:
		return UnusableBadHex
	case len(r.Data) == 0:
		return UnusableEmptyData
	case r.MatchingType == MatchingSHA256 && len(r.Data) != sha256.Size,
		r.MatchingType == MatchingSHA512 && len(r.Data) != sha512.Size:
		return UnusableBadLength
	}
	return ""
}
