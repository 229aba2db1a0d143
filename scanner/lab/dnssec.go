package lab

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// secMode is how a zone of a DNSSEC world is signed. The broken modes
// each make the zone show one status and reason of scanner/dnssec.
type secMode uint8

const (
	secNSEC          secMode = iota // signed, NSEC denials
	secNSEC3                        // signed, NSEC3 denials (SHA-1, 0 iterations, no salt)
	secUnsigned                     // not signed, delegated without DS
	secExpired                      // every RRSIG but the DNSKEY one has expired
	secNotYetValid                  // every RRSIG but the DNSKEY one is valid from tomorrow
	secNoRRSIG                      // only the DNSKEY RRset is signed
	secUnknownKey                   // RRsets are signed by a key not in the DNSKEY set
	secBadSig                       // the signatures of RRsets have a bit flipped
	secDNSKEYNotByDS                // KSK and ZSK; the DNSKEY RRset is signed by the ZSK only
	secDSMismatch                   // the DS digest matches no key
	secNoDNSKEY                     // a DS, but no DNSKEY RRset
	secNSECProof                    // the NSEC of the apex claims MX (a zone without MX)
	secNSEC3Proof                   // the NSEC3 of the apex claims MX (a zone without MX)
	secNSEC3Iter                    // NSEC3 with 500 iterations (a zone without MX): insecure
	secDSUnknownAlg                 // the DS names algorithm 253 (private): insecure
)

// brokenModes are the modes given to one domain zone each in worlds of
// minSpecial domains or more, with the status and reason a validator
// finds for the zone's MX query.
var brokenModes = []struct {
	mode           secMode
	noMX           bool // needs a zone without MX records (a denial)
	status, reason string
}{
	{secExpired, false, "bogus", "signature_expired"},
	{secNotYetValid, false, "bogus", "signature_not_yet_valid"},
	{secNoRRSIG, false, "bogus", "no_rrsig"},
	{secUnknownKey, false, "bogus", "rrsig_unknown_key"},
	{secBadSig, false, "bogus", "signature_invalid"},
	{secDNSKEYNotByDS, false, "bogus", "dnskey_not_signed_by_ds"},
	{secDSMismatch, false, "bogus", "ds_mismatch"},
	{secNoDNSKEY, false, "bogus", "no_dnskey"},
	{secNSECProof, true, "bogus", "nsec_proof"},
	{secNSEC3Proof, true, "bogus", "nsec3_proof"},
	{secNSEC3Iter, true, "insecure", "nsec3_iterations"},
	{secDSUnknownAlg, false, "insecure", "unsupported_algorithm"},
}

// zoneSec is the signing state of one zone of a DNSSEC world.
type zoneSec struct {
	mode   secMode
	nsec3  bool
	optOut bool   // NSEC3 opt-out: unsigned delegations have no NSEC3
	iter   uint16 // NSEC3 iterations
	keys   []signKey
	ksk    signKey // signs the DNSKEY RRset
	zsk    signKey // signs every other RRset
	ds     *dns.DS // the DS in the parent zone; nil for none
	// tlsaExpired: the RRSIGs of the zone's TLSA RRsets have expired,
	// every other signature is valid (the tlsa-bogus case).
	tlsaExpired bool
}

// signKey is a DNSKEY with its private key.
type signKey struct {
	rr   *dns.DNSKEY
	priv crypto.Signer
}

// tldSec returns the denial style of a TLD zone: .com uses NSEC3 with
// opt-out, .de NSEC3, the others NSEC.
func tldSec(name string) (nsec3, optOut bool) {
	switch name {
	case "com":
		return true, true
	case "de":
		return true, false
	}
	return false, false
}

// secModes draws the signing mode of every domain zone from its own
// random stream, so that the population is the same with and without
// DNSSEC, and sets the DNSSEC truth of every line made so far.
func (g *generator) secModes() {
	w := g.w
	r := rand.New(rand.NewPCG(g.cfg.Seed, 0x6c61622d646e7373)) // "lab-dnss"
	if g.cfg.Population == Realistic {
		g.secModesRealistic(r)
	} else {
		g.secModesStress(r)
	}
	byName := make(map[string]int32, len(w.entries))
	for i := range w.entries {
		byName[w.entries[i].name] = int32(i)
	}
	for i, idx := range g.lineEnt {
		if idx < 0 {
			continue
		}
		e := &w.entries[idx]
		if e.cat == catAlias && e.target != "" {
			e = &w.entries[byName[e.target]]
		}
		w.truth[i].DNSSEC, w.truth[i].DNSSECReason = g.secTruth(e)
	}
}

// secModesStress gives one domain zone each broken mode, then draws the
// mode of every other zone: about 90% signed.
func (g *generator) secModesStress(r *rand.Rand) {
	w := g.w
	taken := make([]bool, len(w.entries))
	perm := r.Perm(len(w.entries))
	for _, b := range brokenModes {
		if g.cfg.Domains < minSpecial {
			break // like the special categories: only in worlds of some size
		}
		for _, i := range perm {
			e := &w.entries[i]
			ok := e.cat == catSelf && !e.special
			if b.noMX {
				ok = e.cat == catNone || e.cat == catImplicit
			}
			if ok && !taken[i] {
				taken[i] = true
				e.sec = b.mode
				break
			}
		}
	}
	for i := range w.entries {
		x := r.Float64()
		if taken[i] {
			continue
		}
		e := &w.entries[i]
		switch {
		case e.dcase == caseUnsignedZone:
			e.sec = secUnsigned
		case e.special && x < 0.25:
			e.sec = secNSEC3
		case e.special:
			e.sec = secNSEC
		case x < 0.10:
			e.sec = secUnsigned
		case x < 0.25:
			e.sec = secNSEC3
		default:
			e.sec = secNSEC
		}
	}
}

// secTruth returns the status and reason of the MX query of entry e.
func (g *generator) secTruth(e *entry) (string, string) {
	tld := g.w.tlds[e.tld].name
	nsec3, optOut := tldSec(tld)
	switch e.cat {
	case catServfail, catTimeout, catRefused, catAliasLoop, catMismatch:
		// A mismatch answer is for another question: a correct client
		// takes nothing from it, so there is nothing to validate.
		return "indeterminate", "lookup_failed"
	case catNXDomain, catAlias: // an alias without target is an NXDOMAIN
		switch {
		case optOut:
			return "insecure", "nsec3_opt_out"
		case nsec3:
			return "secure", "nsec3_denial"
		}
		return "secure", "nsec_denial"
	}
	for _, b := range brokenModes {
		if b.mode == e.sec {
			return b.status, b.reason
		}
	}
	noMX := e.cat == catNone || e.cat == catImplicit
	switch {
	case e.sec == secUnsigned && optOut:
		return "insecure", "nsec3_opt_out"
	case e.sec == secUnsigned:
		return "insecure", "no_ds"
	case !noMX:
		return "secure", ""
	case e.sec == secNSEC3:
		return "secure", "nsec3_denial"
	}
	return "secure", "nsec_denial"
}

// keyPoolSize is the number of distinct keys per algorithm that the
// domain zones share: deriving a key costs a scalar multiplication, too
// much for 200,000 zones. Each zone still has its own DNSKEY (the owner
// name differs), DS digest and signatures.
const keyPoolSize = 4096

// poolAlgs are the algorithms of the domain zones' keys.
var poolAlgs = []uint8{dns.ED25519, dns.ECDSAP256SHA256}

// secKeys derives the keys of every zone from the seed, with GOMAXPROCS
// workers that end before it returns.
func (g *generator) secKeys() {
	w := g.w
	n := min(keyPoolSize, len(w.entries))
	if g.cfg.Population == Realistic {
		w.rsaOps, _ = rsaOperators() // fixed keys: fails only on a bug, which the tests would notice
	}
	pool := make([][]signKey, len(poolAlgs))
	for a := range pool {
		pool[a] = make([]signKey, n)
	}
	parallel(len(poolAlgs)*n, func(i int) {
		a, k := i/n, i%n
		pool[a][k] = deriveKey(w.cfg.Seed, "pool-"+strconv.Itoa(k)+".", 0, poolAlgs[a], 257)
	})
	secs := make([]*zoneSec, len(w.origins))
	parallel(len(w.origins), func(i int) {
		secs[i] = w.newZoneSec(w.origins[i], w.zones[w.origins[i]], pool)
	})
	w.sec = make(map[string]*zoneSec, len(secs))
	for i, o := range w.origins {
		w.sec[o] = secs[i]
	}
}

// parallel calls f(0) ... f(n-1) from GOMAXPROCS workers that end before
// it returns.
func parallel(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// newZoneSec returns the signing state of a zone; domain zones take their
// CSK from pool (per algorithm of poolAlgs).
func (w *World) newZoneSec(origin string, ref zoneRef, pool [][]signKey) *zoneSec {
	zs := &zoneSec{}
	alg := uint8(dns.ED25519)
	switch ref.kind {
	case zoneTLD:
		zs.nsec3, zs.optOut = tldSec(w.tlds[ref.index].name)
	case zoneInfra:
		alg = dns.ECDSAP384SHA384
	case zoneProvider:
		alg = dns.ECDSAP256SHA256
		zs.nsec3 = ref.index%3 == 2
		if w.cfg.Population == Realistic {
			if w.providers[ref.index].unsigned {
				zs.mode = secUnsigned
				return zs
			}
			alg = realisticAlg(origin)
		}
	case zoneDomain:
		zs.mode = w.entries[ref.index].sec
		zs.tlsaExpired = w.entries[ref.index].dcase == caseTLSABogus
		switch zs.mode {
		case secUnsigned:
			return zs
		case secNSEC3, secNSEC3Proof:
			zs.nsec3 = true
		case secNSEC3Iter:
			zs.nsec3, zs.iter = true, 500
		}
		if ref.index%25 == 3 {
			alg = dns.ECDSAP256SHA256
		}
		if w.cfg.Population == Realistic {
			alg = realisticAlg(origin)
			if alg == dns.RSASHA256 && zs.mode != secNSEC && zs.mode != secNSEC3 {
				alg = dns.ECDSAP256SHA256 // the broken modes derive keys of their own: not RSA
			}
		}
	}
	if alg == dns.RSASHA256 && len(w.rsaOps) > 0 {
		// RSA zones (realistic population) are signed with the keys of
		// their DNS operator: a KSK for the DNSKEY RRset, a ZSK for the
		// rest, the DS naming the KSK.
		op := w.rsaOps[w.operatorOf(origin, ref)]
		ksk, zsk := op.ksk.withOwner(origin), op.zsk.withOwner(origin)
		zs.keys, zs.ksk, zs.zsk = []signKey{ksk, zsk}, ksk, zsk
		zs.ds = dsOf(ksk.rr)
		return zs
	}
	seed := w.cfg.Seed
	var csk signKey
	if ref.kind == zoneDomain {
		h := fnv.New64a()
		h.Write([]byte(origin))
		p := pool[slices.Index(poolAlgs, alg)]
		base := p[h.Sum64()%uint64(len(p))]
		k := *base.rr
		k.Hdr.Name = origin
		csk = signKey{rr: &k, priv: base.priv}
	} else {
		csk = deriveKey(seed, origin, 0, alg, 257)
	}
	zs.keys, zs.ksk, zs.zsk = []signKey{csk}, csk, csk
	switch zs.mode {
	case secDNSKEYNotByDS:
		zsk := deriveKey(seed, origin, 1, alg, 256)
		zs.keys = append(zs.keys, zsk)
		zs.ksk, zs.zsk = zsk, zsk
	case secUnknownKey:
		zs.zsk = deriveKey(seed, origin, 2, alg, 256)
	}
	zs.ds = dsOf(csk.rr)
	switch zs.mode {
	case secDSMismatch:
		d := []byte(zs.ds.Digest)
		if d[0] == '0' {
			d[0] = '1'
		} else {
			d[0] = '0'
		}
		zs.ds.Digest = string(d)
	case secDSUnknownAlg:
		zs.ds.Algorithm = dns.PRIVATEDNS
	}
	return zs
}

// dsOf returns the SHA-256 DS record of k (RFC 4034 section 5.1.4, RFC
// 4509), as DNSKEY.ToDS does for the names of the world (lowercase, no
// escapes), at a fraction of the cost.
func dsOf(k *dns.DNSKEY) *dns.DS {
	pub, _ := base64.StdEncoding.DecodeString(k.PublicKey)
	buf := make([]byte, 0, len(k.Hdr.Name)+8+len(pub))
	for _, l := range dns.SplitDomainName(k.Hdr.Name) {
		buf = append(buf, byte(len(l)))
		buf = append(buf, strings.ToLower(l)...)
	}
	buf = append(buf, 0)
	owner := len(buf)
	buf = binary.BigEndian.AppendUint16(buf, k.Flags)
	buf = append(buf, k.Protocol, k.Algorithm)
	buf = append(buf, pub...)
	var tag uint32 // RFC 4034 appendix B
	for i, b := range buf[owner:] {
		if i&1 == 0 {
			tag += uint32(b) << 8
		} else {
			tag += uint32(b)
		}
	}
	tag += tag >> 16 & 0xffff
	sum := sha256.Sum256(buf)
	return &dns.DS{
		Hdr:        dns.RR_Header{Name: k.Hdr.Name, Rrtype: dns.TypeDS, Class: dns.ClassINET, Ttl: ttlDefault},
		KeyTag:     uint16(tag),
		Algorithm:  k.Algorithm,
		DigestType: dns.SHA256,
		Digest:     strings.ToUpper(hex.EncodeToString(sum[:])),
	}
}

// deriveKey makes the key of a zone for a role (0 CSK or KSK, 1 ZSK, 2 an
// unpublished key) from the seed: the same world always has the same keys.
func deriveKey(seed uint64, origin string, role byte, alg uint8, flags uint16) signKey {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(origin))
	h.Write([]byte{role, alg})
	s := h.Sum(nil)
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: ttlDefault},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
	}
	var priv crypto.Signer
	switch alg {
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384:
		curve := elliptic.P256()
		if alg == dns.ECDSAP384SHA384 {
			curve = elliptic.P384()
			x := sha512.Sum384(s)
			s = x[:]
		}
		p, err := ecdsa.ParseRawPrivateKey(curve, s)
		for err != nil { // s is zero or not below the order: about 2^-32 for P-256
			x := sha512.Sum384(s)
			s = x[:len(s)]
			p, err = ecdsa.ParseRawPrivateKey(curve, s)
		}
		pub, _ := p.PublicKey.Bytes()
		k.PublicKey = base64.StdEncoding.EncodeToString(pub[1:])
		priv = p
	default:
		p := ed25519.NewKeyFromSeed(s)
		k.PublicKey = base64.StdEncoding.EncodeToString(p.Public().(ed25519.PublicKey))
		priv = p
	}
	return signKey{rr: k, priv: priv}
}

// apexSec writes the DNSKEY and NSEC3PARAM records of a signed zone.
func (w *World) apexSec(z zw, origin string) {
	zs := w.sec[origin]
	if zs == nil || zs.mode == secUnsigned {
		return
	}
	if zs.mode != secNoDNSKEY {
		for _, k := range zs.keys {
			z.rr(origin, ttlDefault, "DNSKEY", fmt.Sprintf("%d 3 %d %s", k.rr.Flags, k.rr.Algorithm, k.rr.PublicKey))
		}
	}
	if zs.nsec3 {
		z.rr(origin, ttlDefault, "NSEC3PARAM", fmt.Sprintf("1 0 %d -", zs.iter))
	}
}

// dsLines writes the DS record of a child zone in its parent.
func (w *World) dsLines(z zw, child string) {
	zs := w.sec[child]
	if zs == nil || zs.ds == nil {
		return
	}
	d := zs.ds
	z.rr(child, ttlDefault, "DS", fmt.Sprintf("%d %d %d %s", d.KeyTag, d.Algorithm, d.DigestType, d.Digest))
}

// TrustAnchor returns the trust anchor of a DNSSEC world: the DS record of
// the root's key in zone file syntax (dnssec.ParseAnchors reads it),
// ending in a newline. It returns "" when the world is unsigned.
func (w *World) TrustAnchor() string {
	zs := w.sec["."]
	if zs == nil || zs.ds == nil {
		return ""
	}
	return "; trust anchor of the lab's root zone\n" + strings.ReplaceAll(zs.ds.String(), "\t", " ") + "\n"
}
