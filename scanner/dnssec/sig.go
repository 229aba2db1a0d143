package dnssec

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"math/bits"
	"slices"
	"sync"

	"github.com/miekg/dns"
)

// DefaultMaxVerified is the number of verified signatures a Validator
// remembers when MaxVerified is zero (the table's size is the power of two
// at or above it).
const DefaultMaxVerified = 50000

// maxKeysCached bounds the decoded public keys a Validator keeps.
const maxKeysCached = 50000

// errSig is the error of a signature that does not verify.
var errSig = errors.New("signature does not verify")

// verifier checks RRSIGs cryptographically (RFC 4034 §3.1.8.1, RFC 4035
// §5.3.2). A nil *verifier works and caches nothing; a Validator's keeps
// the public keys it decoded (so that a zone's keys are decoded once per
// scan, not once per signature) and the digests of the signatures it
// verified (so that an RRset met again, such as the NSEC record that
// proves both _mta-sts and _smtp._tls of a domain absent, costs a SHA-256
// instead of a public-key operation). Only successes are remembered, and a
// digest covers the signed data, the signature and the key, so a hit is
// exactly a repeated verification.
type verifier struct {
	counters *Counters
	max      int

	mu   sync.Mutex
	keys map[keyID]*pubKey // guarded by mu
	// verified is a direct-mapped table of digests (guarded by mu): a
	// digest lives in the slot its first 8 bytes choose, and a newer one
	// takes its place. Its size is a power of two, at least max; at the
	// default, 65,536 slots of 32 bytes (2 MiB), where a map of 50,000
	// digests with deletions took 8 MB. The repeats it serves come
	// within moments of each other, long before the slot is taken again.
	// The all-zero digest (never a SHA-256 in practice) marks an empty
	// slot.
	verified [][32]byte
}

// keyID names a public key: its algorithm and base64 text.
type keyID struct {
	alg uint8
	key string
}

// pubKey is a DNSKEY's public key, decoded; err says why it could not be.
type pubKey struct {
	ed  ed25519.PublicKey
	ec  *ecdsa.PublicKey
	rsa *rsa.PublicKey
	err error
}

// key returns the decoded public key of k.
func (vf *verifier) key(k *dns.DNSKEY) *pubKey {
	if vf == nil {
		return decodeKey(k)
	}
	id := keyID{k.Algorithm, k.PublicKey}
	vf.mu.Lock()
	pk, ok := vf.keys[id]
	vf.mu.Unlock()
	if ok {
		return pk
	}
	pk = decodeKey(k)
	vf.mu.Lock()
	defer vf.mu.Unlock()
	if vf.keys == nil {
		vf.keys = make(map[keyID]*pubKey)
	}
	makeRoom(vf.keys, maxKeysCached)
	vf.keys[id] = pk
	return pk
}

// decodeKey decodes the public key of k (RFC 3110 RSA, RFC 6605 ECDSA,
// RFC 8080 Ed25519).
func decodeKey(k *dns.DNSKEY) *pubKey {
	b, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil {
		return &pubKey{err: fmt.Errorf("public key: %w", err)}
	}
	switch k.Algorithm {
	case dns.ED25519:
		if len(b) != ed25519.PublicKeySize {
			return &pubKey{err: fmt.Errorf("Ed25519 public key of %d bytes", len(b))}
		}
		return &pubKey{ed: ed25519.PublicKey(b)}
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384:
		curve := elliptic.P256()
		if k.Algorithm == dns.ECDSAP384SHA384 {
			curve = elliptic.P384()
		}
		n := (curve.Params().BitSize + 7) / 8
		if len(b) != 2*n {
			return &pubKey{err: fmt.Errorf("ECDSA public key of %d bytes", len(b))}
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append([]byte{4}, b...))
		if err != nil {
			return &pubKey{err: fmt.Errorf("ECDSA public key: %w", err)}
		}
		return &pubKey{ec: pub}
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		// RFC 3110 §2: exponent length (one octet, or zero and two
		// octets), exponent, modulus.
		if len(b) < 3 {
			return &pubKey{err: errors.New("RSA public key too short")}
		}
		elen, off := int(b[0]), 1
		if elen == 0 {
			elen, off = int(binary.BigEndian.Uint16(b[1:3])), 3
		}
		if elen == 0 || elen > 4 || off+elen >= len(b) {
			return &pubKey{err: fmt.Errorf("RSA public key: exponent of %d bytes", elen)}
		}
		var e int
		for _, x := range b[off : off+elen] {
			e = e<<8 | int(x)
		}
		mod := b[off+elen:]
		if len(mod) > 4096/8 || len(mod) < 512/8 {
			return &pubKey{err: fmt.Errorf("RSA modulus of %d bytes", len(mod))}
		}
		return &pubKey{rsa: &rsa.PublicKey{N: new(big.Int).SetBytes(mod), E: e}}
	}
	return &pubKey{err: fmt.Errorf("unsupported algorithm %d", k.Algorithm)}
}

// verify checks sig over rrset with key k: a nil error means the signature
// is valid. The caller has checked the names, key tag, algorithm and
// validity window.
func (vf *verifier) verify(sig *dns.RRSIG, k *dns.DNSKEY, rrset []dns.RR) error {
	raw, err := base64.StdEncoding.DecodeString(sig.Signature)
	if err != nil || len(raw) == 0 {
		return errors.New("signature is not base64")
	}
	data, err := signedData(sig, rrset)
	if err != nil {
		return err
	}
	var digest [32]byte
	if vf != nil {
		h := sha256.New()
		h.Write(data)
		h.Write(raw)
		h.Write([]byte{k.Algorithm})
		h.Write([]byte(k.PublicKey))
		h.Sum(digest[:0])
		vf.mu.Lock()
		ok := len(vf.verified) > 0 && vf.verified[vf.slot(digest)] == digest
		vf.mu.Unlock()
		if ok {
			if vf.counters != nil {
				vf.counters.SignatureHits.Add(1)
			}
			return nil
		}
		if vf.counters != nil {
			vf.counters.Verifications.Add(1)
		}
	}
	pk := vf.key(k)
	if pk.err != nil {
		return pk.err
	}
	if err := checkSignature(sig.Algorithm, pk, data, raw); err != nil {
		return err
	}
	if vf != nil {
		vf.remember(digest)
	}
	return nil
}

// remember records a verified signature, in place of the one in its slot.
func (vf *verifier) remember(digest [32]byte) {
	vf.mu.Lock()
	defer vf.mu.Unlock()
	if vf.verified == nil {
		limit := vf.max
		if limit <= 0 {
			limit = DefaultMaxVerified
		}
		vf.verified = make([][32]byte, 1<<bits.Len(uint(limit-1)))
	}
	vf.verified[vf.slot(digest)] = digest
}

// slot returns the slot of digest in vf.verified, which is allocated.
func (vf *verifier) slot(digest [32]byte) int {
	return int(binary.LittleEndian.Uint64(digest[:8]) & uint64(len(vf.verified)-1))
}

// checkSignature verifies raw, a signature of algorithm alg, over data.
func checkSignature(alg uint8, pk *pubKey, data, raw []byte) error {
	switch alg {
	case dns.ED25519:
		if pk.ed == nil {
			return errors.New("key is not Ed25519")
		}
		if !ed25519.Verify(pk.ed, data, raw) {
			return errSig
		}
		return nil
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384:
		if pk.ec == nil {
			return errors.New("key is not ECDSA")
		}
		var sum []byte
		if alg == dns.ECDSAP256SHA256 {
			s := sha256.Sum256(data)
			sum = s[:]
		} else {
			s := sha512.Sum384(data)
			sum = s[:]
		}
		n := (pk.ec.Curve.Params().BitSize + 7) / 8
		if len(raw) != 2*n {
			return fmt.Errorf("ECDSA signature of %d bytes", len(raw))
		}
		r, s := new(big.Int).SetBytes(raw[:n]), new(big.Int).SetBytes(raw[n:])
		if !ecdsa.Verify(pk.ec, sum, r, s) {
			return errSig
		}
		return nil
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		if pk.rsa == nil {
			return errors.New("key is not RSA")
		}
		var h hash.Hash
		var id crypto.Hash
		switch alg {
		case dns.RSASHA256:
			h, id = sha256.New(), crypto.SHA256
		case dns.RSASHA512:
			h, id = sha512.New(), crypto.SHA512
		default:
			h, id = sha1.New(), crypto.SHA1
		}
		h.Write(data)
		if err := rsa.VerifyPKCS1v15(pk.rsa, id, h.Sum(nil), raw); err != nil {
			return errSig
		}
		return nil
	}
	return fmt.Errorf("unsupported algorithm %d", alg)
}

// signedData returns the data an RRSIG signs (RFC 4034 §3.1.8.1): its RDATA
// without the signature, then the RRs of the RRset in canonical form (RFC
// 4034 §6.2: owner name lowercase, or the wildcard it was expanded from
// when the RRSIG's Labels field is below the owner's label count; the
// RRSIG's original TTL; domain names in the RDATA of the types RFC 4034
// §6.2 lists, as corrected by RFC 6840 §5.1, lowercase) and canonical order
// (RFC 4034 §6.3: by RDATA, duplicates removed).
func signedData(sig *dns.RRSIG, rrset []dns.RR) ([]byte, error) {
	buf := make([]byte, 0, 512)
	buf = binary.BigEndian.AppendUint16(buf, sig.TypeCovered)
	buf = append(buf, sig.Algorithm, sig.Labels)
	buf = binary.BigEndian.AppendUint32(buf, sig.OrigTtl)
	buf = binary.BigEndian.AppendUint32(buf, sig.Expiration)
	buf = binary.BigEndian.AppendUint32(buf, sig.Inception)
	buf = binary.BigEndian.AppendUint16(buf, sig.KeyTag)
	var err error
	if buf, err = appendName(buf, sig.SignerName); err != nil {
		return nil, err
	}

	owner := dns.CanonicalName(rrset[0].Header().Name)
	if n := dns.CountLabel(owner); n > int(sig.Labels) {
		owner = wildcardName(owner, int(sig.Labels))
	}
	head, err := appendName(nil, owner)
	if err != nil {
		return nil, err
	}
	h0 := rrset[0].Header()
	head = binary.BigEndian.AppendUint16(head, h0.Rrtype)
	head = binary.BigEndian.AppendUint16(head, h0.Class)
	head = binary.BigEndian.AppendUint32(head, sig.OrigTtl)

	rdatas := make([][]byte, 0, len(rrset))
	scratch := make([]byte, 0, 512)
	for _, rr := range rrset {
		rd, err := canonicalRDATA(rr, scratch[:cap(scratch)])
		if err != nil {
			return nil, err
		}
		rdatas = append(rdatas, slices.Clone(rd))
	}
	slices.SortFunc(rdatas, bytes.Compare)
	rdatas = slices.CompactFunc(rdatas, bytes.Equal)
	for _, rd := range rdatas {
		if len(rd) > 0xffff {
			return nil, errors.New("RDATA too long")
		}
		buf = append(buf, head...)
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(rd)))
		buf = append(buf, rd...)
	}
	return buf, nil
}

// appendName appends the uncompressed wire form of name, lowercase.
func appendName(buf []byte, name string) ([]byte, error) {
	var tmp [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), tmp[:], 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("name %q: %w", name, err)
	}
	start := len(buf)
	buf = append(buf, tmp[:n]...)
	lower(buf[start:])
	return buf, nil
}

// lower lowercases the US-ASCII letters of a wire-format name in place.
// Label length octets are below 64 and so are never letters.
func lower(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}

// canonicalRDATA returns the RDATA of rr in canonical form, packed into
// scratch when it fits.
func canonicalRDATA(rr dns.RR, scratch []byte) ([]byte, error) {
	h := rr.Header()
	if h == nil {
		return nil, errors.New("record without header")
	}
	var off int
	var err error
	for range 2 {
		off, err = dns.PackRR(rr, scratch, 0, nil, false)
		if err == nil || len(scratch) >= 1<<16+512 {
			break
		}
		scratch = make([]byte, 1<<16+512)
	}
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", dns.TypeToString[h.Rrtype], err)
	}
	// Skip the owner name, then type (2) class (2) TTL (4) RDLENGTH (2).
	start := 0
	for start < off {
		l := int(scratch[start])
		start += 1 + l
		if l == 0 {
			break
		}
	}
	start += 10
	if start > off {
		return nil, errors.New("short record")
	}
	rd := scratch[start:off]
	switch h.Rrtype {
	case dns.TypeNS, dns.TypeMD, dns.TypeMF, dns.TypeCNAME, dns.TypeMB, dns.TypeMG, dns.TypeMR,
		dns.TypePTR, dns.TypeDNAME:
		lowerNames(rd, 0, 1)
	case dns.TypeSOA, dns.TypeMINFO, dns.TypeRP:
		lowerNames(rd, 0, 2)
	case dns.TypeMX, dns.TypeAFSDB, dns.TypeRT, dns.TypeKX:
		lowerNames(rd, 2, 1)
	case dns.TypePX:
		lowerNames(rd, 2, 2)
	case dns.TypeSRV:
		lowerNames(rd, 6, 1)
	case dns.TypeSIG:
		lowerNames(rd, 18, 1)
	case dns.TypeNAPTR:
		// The replacement name follows three variable strings.
		i := 4
		for range 3 {
			if i < len(rd) {
				i += 1 + int(rd[i])
			}
		}
		if i < len(rd) {
			lowerNames(rd, i, 1)
		}
	}
	return rd, nil
}

// lowerNames lowercases count consecutive uncompressed names in rd from
// offset off.
func lowerNames(rd []byte, off, count int) {
	for range count {
		start := off
		for off < len(rd) {
			l := int(rd[off])
			off += 1 + l
			if l == 0 {
				break
			}
		}
		lower(rd[start:min(off, len(rd))])
	}
}

// makeRoom drops arbitrary entries of m until it holds fewer than limit,
// so that one more fits: the caches of this package are bounded, and any
// entry is as good to lose as another.
func makeRoom[K comparable, V any](m map[K]V, limit int) {
	for k := range m {
		if len(m) < limit {
			return
		}
		delete(m, k)
	}
}
