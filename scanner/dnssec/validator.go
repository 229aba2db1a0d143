package dnssec

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"
)

// DefaultMaxZones is the number of names whose chain-of-trust state a
// Validator keeps when MaxZones is zero.
const DefaultMaxZones = 100000

// DefaultFailureTTL is how long a Validator remembers a failed
// chain-of-trust walk when FailureTTL is zero.
const DefaultFailureTTL = 30 * time.Second

// maxChain bounds the CNAME links followed in one answer.
const maxChain = 16

// maxSigners bounds the distinct signer names tried for one RRset.
const maxSigners = 4

// maxDenialRRsets bounds the NSEC and NSEC3 RRsets checked in one response;
// a real proof needs at most four (RFC 5155 §7.2.1 plus a wildcard).
const maxDenialRRsets = 32

// Validator validates DNS responses from trust anchors. It fetches the DS
// and DNSKEY RRsets of each zone on the way down once, and caches the
// outcome per name (validated keys, or the insecure, bogus result); calls
// for the same name at the same time share one fetch. The zero value
// validates from the IANA root anchors but cannot fetch: set Fetch. A
// Validator is safe for concurrent use and must not be copied after first
// use; it starts no goroutines.
type Validator struct {
	// Anchors are the trust anchors, DS or DNSKEY records (RootAnchors or
	// the records of ParseAnchors). Empty means RootAnchors(). The fields
	// must not change after the first call.
	Anchors []dns.RR
	// Fetch asks the resolver for name/qtype with DO and CD set and returns
	// its response. A non-nil error, or a response other than NOERROR or
	// NXDOMAIN, ends the chain as indeterminate with lookup_failed.
	Fetch func(ctx context.Context, name string, qtype uint16) (*dns.Msg, error)
	// Now returns the time at which signatures are checked; nil means
	// time.Now.
	Now func() time.Time
	// MaxZones bounds the cache of per-name states; zero means
	// DefaultMaxZones. When full, an arbitrary entry is dropped.
	MaxZones int
	// Counters, when set, counts the validator's work.
	Counters *Counters

	// MaxVerified bounds the verified signatures remembered; zero means
	// DefaultMaxVerified.
	MaxVerified int
	// FailureTTL is how long an indeterminate chain-of-trust state (a DS
	// or DNSKEY lookup that failed or timed out) is remembered, so that
	// every RRset below a zone whose servers are silent does not wait for
	// them again (RFC 9520 §3.2: resolution failures are cached for at
	// least 1 s, at most 5 min). Zero means DefaultFailureTTL; negative
	// means failures are not cached. A walk that ended because its ctx
	// ended is never cached.
	FailureTTL time.Duration
	// Clock returns the time for FailureTTL (Now is the validation time,
	// which may be fixed); nil means time.Now.
	Clock func() time.Time

	mu     sync.Mutex
	names  map[string]nameState // guarded by mu
	group  singleflight.Group
	vfOnce sync.Once
	vf     *verifier // set once by verifier()
}

// Counters counts a Validator's work; the fields may be read while it
// runs.
type Counters struct {
	// Verifications counts cryptographic signature verifications (one
	// RRSIG against one public key).
	Verifications atomic.Int64
	// SignatureHits counts signatures found verified before (the same
	// signature over the same data with the same key), which cost a
	// SHA-256 instead of a verification.
	SignatureHits atomic.Int64
	// CacheHits counts chain-of-trust states found in the cache.
	CacheHits atomic.Int64
	// CacheMisses counts chain-of-trust states that had to be fetched and
	// validated (DS and DNSKEY lookups).
	CacheMisses atomic.Int64
}

// verifier returns the Validator's signature checker, with its caches.
func (v *Validator) verifier() *verifier {
	v.vfOnce.Do(func() {
		v.vf = &verifier{counters: v.Counters, max: v.MaxVerified}
	})
	return v.vf
}

// nameState is what the chain of trust says about one name: the closest
// enclosing zone (the name itself at a zone cut), that zone's validated
// keys when secure, and the status of the chain there.
type nameState struct {
	zone string
	keys []*dns.DNSKEY
	res  Result
	// expires is when a cached indeterminate state is dropped; zero for
	// the other states, which are kept.
	expires time.Time
}

// ZoneKeys returns the validated DNSKEYs of zone, walking the chain of
// trust down from the closest trust anchor: at each name between the
// anchor's zone and zone it fetches the DS RRset (validated with the
// parent's keys, or its denial) and, at a zone cut, the child's DNSKEY
// RRset. The Result is secure when the keys are validated. Otherwise the
// keys are nil and the Result says why: insecure (a proven missing DS, an
// opt-out, unsupported algorithms), bogus (including zone_cut_loop when zone
// is not a zone cut), or indeterminate (lookup_failed, no_trust_anchor).
// The keys are shared with the cache and must not be modified.
func (v *Validator) ZoneKeys(ctx context.Context, zone string) (keys []*dns.DNSKEY, res Result) {
	defer func() {
		if p := recover(); p != nil {
			keys, res = nil, Result{Status: Bogus, Reason: ReasonMalformed, Detail: fmt.Sprintf("internal error: %v", p)}
		}
	}()
	zone = dns.CanonicalName(zone)
	if _, ok := dns.IsDomainName(zone); !ok {
		return nil, Result{Status: Bogus, Reason: ReasonMalformed, Detail: fmt.Sprintf("bad zone name %q", zone)}
	}
	st := v.state(ctx, zone)
	if st.res.Status != Secure {
		return nil, st.res
	}
	if st.zone != zone {
		return nil, Result{Status: Bogus, Reason: ReasonZoneCutLoop, Zone: st.zone,
			Detail: zone + " is not a zone cut (it is inside " + st.zone + ")"}
	}
	return st.keys, st.res
}

// Validate classifies the resolver's response msg to the query qname/qtype
// and returns its DNSSEC status. Positive answers are validated RRset by
// RRset along the CNAME chain from qname, each with the keys of its own
// signer's zone, and the weakest link decides (bogus, then indeterminate,
// then insecure, then secure); a wildcard expansion needs the NSEC or NSEC3
// proof that the name does not exist. Negative answers (NXDOMAIN, NODATA,
// also at the end of a CNAME chain) are proven with the NSEC or NSEC3
// records of the authority section. Records without signatures are insecure
// when the chain proves their zone unsigned and bogus otherwise. A nil
// response or a response code other than NOERROR and NXDOMAIN is
// indeterminate with lookup_failed. It never panics on hostile input.
func (v *Validator) Validate(ctx context.Context, qname string, qtype uint16, msg *dns.Msg) (res Result) {
	defer func() {
		// A safety net: hostile input must end as a status, never a crash.
		if p := recover(); p != nil {
			res = Result{Status: Bogus, Reason: ReasonMalformed, Detail: fmt.Sprintf("internal error: %v", p)}
		}
	}()
	if msg == nil {
		return Result{Status: Indeterminate, Reason: ReasonLookupFailed, Detail: "no response"}
	}
	if msg.Rcode != dns.RcodeSuccess && msg.Rcode != dns.RcodeNameError {
		return Result{Status: Indeterminate, Reason: ReasonLookupFailed,
			Detail: "response code " + dns.RcodeToString[msg.Rcode]}
	}
	qname = dns.CanonicalName(qname)
	if _, ok := dns.IsDomainName(qname); !ok {
		return Result{Status: Bogus, Reason: ReasonMalformed, Detail: fmt.Sprintf("bad name %q", qname)}
	}
	var out *Result
	add := func(r Result) Result {
		if out == nil {
			out = &r
		} else {
			*out = Weakest(*out, r)
		}
		return *out
	}
	cur := qname
	seen := map[string]bool{}
	for step := 0; ; step++ {
		if step > maxChain {
			return add(Result{Status: Bogus, Reason: ReasonCNAMELoop, Detail: "CNAME chain longer than the limit"})
		}
		if rrs, sigs := rrsetOf(msg.Answer, cur, qtype); len(rrs) > 0 {
			return add(v.positive(ctx, rrs, sigs, msg))
		}
		if qtype == dns.TypeCNAME {
			break
		}
		rrs, sigs := rrsetOf(msg.Answer, cur, dns.TypeCNAME)
		if len(rrs) == 0 {
			break
		}
		if len(rrs) != 1 {
			return add(Result{Status: Bogus, Reason: ReasonMalformed, Detail: "several CNAMEs at " + cur})
		}
		if r := add(v.cnameLink(ctx, rrs, sigs, msg)); r.Status == Bogus {
			return r
		}
		seen[cur] = true
		cur = dns.CanonicalName(rrs[0].(*dns.CNAME).Target)
		if seen[cur] {
			return add(Result{Status: Bogus, Reason: ReasonCNAMELoop, Detail: "CNAME chain loops at " + cur})
		}
	}
	return add(v.negative(ctx, cur, qtype, msg.Rcode, msg))
}

// cnameLink validates one CNAME of a chain; a CNAME synthesised from a
// DNAME (RFC 6672 §5.3.1) is unsigned and stands on the DNAME's signature.
func (v *Validator) cnameLink(ctx context.Context, rrs []dns.RR, sigs []*dns.RRSIG, msg *dns.Msg) Result {
	if len(sigs) > 0 {
		return v.positive(ctx, rrs, sigs, msg)
	}
	owner := dns.CanonicalName(rrs[0].Header().Name)
	target := dns.CanonicalName(rrs[0].(*dns.CNAME).Target)
	for _, rr := range msg.Answer {
		d, ok := rr.(*dns.DNAME)
		if !ok {
			continue
		}
		dOwner := dns.CanonicalName(d.Hdr.Name)
		if dOwner == owner || !dns.IsSubDomain(dOwner, owner) {
			continue
		}
		prefix := owner[:len(owner)-len(dOwner)]
		if prefix+dns.CanonicalName(d.Target) != target {
			continue
		}
		if drrs, dsigs := rrsetOf(msg.Answer, dOwner, dns.TypeDNAME); len(drrs) > 0 {
			return v.positive(ctx, drrs, dsigs, msg)
		}
	}
	return v.positive(ctx, rrs, sigs, msg)
}

// positive validates one RRset of an answer.
func (v *Validator) positive(ctx context.Context, rrs []dns.RR, sigs []*dns.RRSIG, msg *dns.Msg) Result {
	if len(rrs) == 0 {
		return Result{Status: Bogus, Reason: ReasonMalformed, Detail: "empty RRset"}
	}
	owner := dns.CanonicalName(rrs[0].Header().Name)
	var signers []string
	for _, s := range sigs {
		if sn := dns.CanonicalName(s.SignerName); !slices.Contains(signers, sn) && len(signers) < maxSigners {
			signers = append(signers, sn)
		}
	}
	if len(signers) == 0 {
		return v.unsigned(ctx, owner, ReasonNoRRSIG)
	}
	var first *Result
	for _, signer := range signers {
		r := v.positiveBy(ctx, signer, owner, rrs, sigs, msg)
		if r.Status == Secure {
			return r
		}
		if first == nil {
			first = &r
		}
	}
	return *first
}

// positiveBy validates an RRset with the keys of one signer.
func (v *Validator) positiveBy(ctx context.Context, signer, owner string, rrs []dns.RR, sigs []*dns.RRSIG, msg *dns.Msg) Result {
	if _, ok := dns.IsDomainName(signer); !ok || !dns.IsSubDomain(signer, owner) {
		return Result{Status: Bogus, Reason: ReasonZoneCutLoop, Zone: signer,
			Detail: "signer " + signer + " is not an ancestor of " + owner}
	}
	keys, zr := v.ZoneKeys(ctx, signer)
	if zr.Status != Secure {
		return zr
	}
	r, sig := v.verifier().verifyRRset(rrs, sigs, keys, v.now())
	labels := dns.CountLabel(owner)
	if strings.HasPrefix(owner, "*.") {
		labels-- // the wildcard itself was asked for (RFC 4035 §5.3.2)
	}
	if r.Status != Secure || int(sig.Labels) >= labels {
		return r
	}
	// RFC 4035 §5.3.4: a wildcard expansion needs the proof that no closer
	// match exists.
	nsecs, nsec3s, pr := v.denialRecords(msg.Ns, signer, keys)
	if pr.Status != Secure {
		return pr
	}
	var w Result
	switch {
	case len(nsecs) > 0:
		w = WildcardNSEC(signer, owner, sig.Labels, nsecs)
	case len(nsec3s) > 0:
		w = WildcardNSEC3(signer, owner, sig.Labels, nsec3s)
	default:
		return Result{Status: Bogus, Reason: ReasonNSECProof, Zone: signer, Algorithms: r.Algorithms,
			Detail: r.Detail + " without NSEC or NSEC3 proof"}
	}
	if w.Status == Secure {
		return r
	}
	w.Zone = signer
	w.Algorithms = mergeAlgorithms(r.Algorithms, w.Algorithms)
	return w
}

// negative validates an NXDOMAIN or NODATA answer for name/qtype.
func (v *Validator) negative(ctx context.Context, name string, qtype uint16, rcode int, msg *dns.Msg) Result {
	signer, soaOwner := "", ""
	for _, rr := range msg.Ns {
		switch r := rr.(type) {
		case *dns.RRSIG:
			if r.TypeCovered != dns.TypeNSEC && r.TypeCovered != dns.TypeNSEC3 && r.TypeCovered != dns.TypeSOA {
				continue
			}
			sn := dns.CanonicalName(r.SignerName)
			if _, ok := dns.IsDomainName(sn); ok && dns.IsSubDomain(sn, name) && len(sn) > len(signer) {
				signer = sn
			}
		case *dns.SOA:
			if o := dns.CanonicalName(r.Hdr.Name); dns.IsSubDomain(o, name) {
				soaOwner = o
			}
		}
	}
	if signer == "" {
		at := name
		if soaOwner != "" {
			at = soaOwner
		}
		return v.unsigned(ctx, at, ReasonNSECProof)
	}
	keys, zr := v.ZoneKeys(ctx, signer)
	if zr.Status != Secure {
		return zr
	}
	return v.denial(signer, keys, name, qtype, rcode, msg.Ns)
}

// denial verifies the NSEC or NSEC3 records of an authority section with
// the keys of zone and checks that they prove the negative answer.
func (v *Validator) denial(zone string, keys []*dns.DNSKEY, name string, qtype uint16, rcode int, auth []dns.RR) Result {
	nsecs, nsec3s, pr := v.denialRecords(auth, zone, keys)
	if pr.Status != Secure {
		return pr
	}
	var d Result
	switch {
	case len(nsecs) > 0:
		d = DenialNSEC(zone, name, qtype, rcode, nsecs)
	case len(nsec3s) > 0:
		d = DenialNSEC3(zone, name, qtype, rcode, nsec3s)
	default:
		return Result{Status: Bogus, Reason: ReasonNSECProof, Zone: zone,
			Detail: "denial for " + name + " without NSEC or NSEC3"}
	}
	d.Zone = zone
	d.Algorithms = mergeAlgorithms(pr.Algorithms, d.Algorithms)
	return d
}

// denialRecords returns the NSEC and NSEC3 records of auth after checking
// their signatures with the keys of zone; the Result is secure when every
// such RRset verifies, and otherwise names the first failure.
func (v *Validator) denialRecords(auth []dns.RR, zone string, keys []*dns.DNSKEY) ([]*dns.NSEC, []*dns.NSEC3, Result) {
	var nsecs []*dns.NSEC
	var nsec3s []*dns.NSEC3
	type key struct {
		name  string
		rtype uint16
	}
	var order []key
	sets := map[key]bool{}
	for _, rr := range auth {
		var k key
		switch r := rr.(type) {
		case *dns.NSEC:
			nsecs = append(nsecs, r)
			k = key{dns.CanonicalName(r.Hdr.Name), dns.TypeNSEC}
		case *dns.NSEC3:
			nsec3s = append(nsec3s, r)
			k = key{dns.CanonicalName(r.Hdr.Name), dns.TypeNSEC3}
		default:
			continue
		}
		if !sets[k] {
			sets[k] = true
			order = append(order, k)
		}
	}
	if len(order) > maxDenialRRsets {
		return nil, nil, Result{Status: Bogus, Reason: ReasonMalformed, Zone: zone,
			Detail: fmt.Sprintf("%d NSEC/NSEC3 RRsets in one response", len(order))}
	}
	res := Result{Status: Secure, Zone: zone}
	now := v.now()
	for _, k := range order {
		rrs, sigs := rrsetOf(auth, k.name, k.rtype)
		r, _ := v.verifier().verifyRRset(rrs, sigs, keys, now)
		if r.Status != Secure {
			if r.Status == Insecure {
				r.Status = Bogus
			}
			r.Zone = zone
			return nil, nil, r
		}
		res.Algorithms = mergeAlgorithms(res.Algorithms, r.Algorithms)
	}
	return nsecs, nsec3s, res
}

// unsigned decides about data at name that came without signatures:
// insecure when the chain of trust proves name's zone unsigned, bogus with
// reason when the zone is signed.
func (v *Validator) unsigned(ctx context.Context, name string, reason Reason) Result {
	if name != "." {
		parent := v.state(ctx, parentName(name))
		if parent.res.Status != Secure {
			return parent.res
		}
	}
	st := v.state(ctx, name)
	if st.res.Status == Insecure || st.res.Status == Indeterminate {
		return st.res
	}
	r := Result{Status: Bogus, Reason: reason, Zone: st.zone, Detail: "no signature for data at " + name + " in a signed zone"}
	if st.res.Status != Secure {
		r.Detail += " (" + string(st.res.Reason) + ": " + st.res.Detail + ")"
	}
	return r
}

// state returns the chain-of-trust state of name, from the cache or by
// walking down from the closest trust anchor. Concurrent calls for one name
// share one walk; indeterminate outcomes are cached for FailureTTL only,
// and not at all when ctx ended during the walk.
func (v *Validator) state(ctx context.Context, name string) nameState {
	if st, ok := v.cached(name); ok {
		if v.Counters != nil {
			v.Counters.CacheHits.Add(1)
		}
		return st
	}
	x, _, _ := v.group.Do(name, func() (any, error) {
		if st, ok := v.cached(name); ok {
			return st, nil
		}
		if v.Counters != nil {
			v.Counters.CacheMisses.Add(1)
		}
		st := v.resolve(ctx, name)
		switch {
		case st.res.Status != Indeterminate:
			v.store(name, st)
		case ctx.Err() == nil && v.failureTTL() > 0:
			st.expires = v.clock().Add(v.failureTTL())
			v.store(name, st)
		}
		return st, nil
	})
	st, _ := x.(nameState)
	return st
}

// cached returns the cached state of name.
func (v *Validator) cached(name string) (nameState, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	st, ok := v.names[name]
	if ok && !st.expires.IsZero() && !v.clock().Before(st.expires) {
		delete(v.names, name)
		return nameState{}, false
	}
	return st, ok
}

func (v *Validator) failureTTL() time.Duration {
	if v.FailureTTL == 0 {
		return DefaultFailureTTL
	}
	return v.FailureTTL
}

func (v *Validator) clock() time.Time {
	if v.Clock != nil {
		return v.Clock()
	}
	return time.Now()
}

// store caches the state of name, dropping an arbitrary entry when full.
func (v *Validator) store(name string, st nameState) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.names == nil {
		v.names = map[string]nameState{}
	}
	limit := v.MaxZones
	if limit <= 0 {
		limit = DefaultMaxZones
	}
	makeRoom(v.names, limit)
	v.names[name] = st
}

// resolve computes the state of name from its parent's.
func (v *Validator) resolve(ctx context.Context, name string) nameState {
	if ds, keys := v.anchorsAt(name); len(ds) > 0 || len(keys) > 0 {
		return v.anchorZone(ctx, name, ds, keys)
	}
	if name == "." {
		return nameState{zone: name, res: Result{Status: Indeterminate, Reason: ReasonNoTrustAnchor,
			Detail: "no trust anchor"}}
	}
	parent := parentName(name)
	if len(parent) >= len(name) {
		return nameState{zone: name, res: Result{Status: Bogus, Reason: ReasonMalformed, Detail: fmt.Sprintf("bad name %q", name)}}
	}
	p := v.state(ctx, parent)
	if p.res.Status != Secure {
		return p
	}
	return v.cut(ctx, p, name)
}

// anchorsAt returns the trust anchors configured for zone.
func (v *Validator) anchorsAt(zone string) ([]*dns.DS, []*dns.DNSKEY) {
	anchors := v.Anchors
	if len(anchors) == 0 {
		anchors = RootAnchors()
	}
	var ds []*dns.DS
	var keys []*dns.DNSKEY
	for _, rr := range anchors {
		switch a := rr.(type) {
		case *dns.DS:
			if dns.CanonicalName(a.Hdr.Name) == zone {
				ds = append(ds, a)
			}
		case *dns.DNSKEY:
			if dns.CanonicalName(a.Hdr.Name) == zone {
				keys = append(keys, a)
			}
		}
	}
	return ds, keys
}

// anchorZone validates the DNSKEY RRset of a zone that has trust anchors.
func (v *Validator) anchorZone(ctx context.Context, zone string, ds []*dns.DS, anchorKeys []*dns.DNSKEY) nameState {
	dnskeys, sigs, fr := v.fetchKeys(ctx, zone)
	if fr != nil {
		return nameState{zone: zone, res: *fr}
	}
	var keys []*dns.DNSKEY
	var r Result
	if len(ds) > 0 {
		keys, r = v.verifier().verifyDNSKEYs(dnskeys, sigs, ds, v.now())
	}
	if len(anchorKeys) > 0 && (len(ds) == 0 || r.Status != Secure) {
		supported := slices.DeleteFunc(slices.Clone(anchorKeys), func(k *dns.DNSKEY) bool { return !algorithmSupported(k.Algorithm) })
		switch {
		case len(supported) == 0:
			if len(ds) == 0 {
				keys, r = nil, Result{Status: Insecure, Reason: ReasonUnsupportedAlgorithm,
					Detail: "no trust anchor with a supported algorithm"}
			}
		case len(dnskeys) == 0:
			keys, r = nil, Result{Status: Bogus, Reason: ReasonNoDNSKEY, Detail: "no DNSKEY at " + zone}
		default:
			keys, r = v.verifier().verifyKeySet(dnskeys, sigs, supported, v.now())
		}
	}
	r.Zone = zone
	return nameState{zone: zone, keys: keys, res: r}
}

// cut finds out whether name, inside the secure zone of p, is a zone cut,
// and returns its state: a new secure zone, an insecure delegation, or
// p's zone again when name is not a cut.
func (v *Validator) cut(ctx context.Context, p nameState, name string) nameState {
	msg, err := v.fetch(ctx, name, dns.TypeDS)
	if err != nil {
		return nameState{zone: p.zone, res: Result{Status: Indeterminate, Reason: ReasonLookupFailed,
			Zone: p.zone, Detail: err.Error()}}
	}
	now := v.now()
	if rrs, sigs := rrsetOf(msg.Answer, name, dns.TypeDS); len(rrs) > 0 {
		r, _ := v.verifier().verifyRRset(rrs, sigs, p.keys, now)
		if r.Status != Secure {
			if len(sigs) > 0 && !signedBy(sigs, p.zone) {
				r.Status, r.Reason = Bogus, ReasonZoneCutLoop
				r.Detail = "DS at " + name + " is not signed by its parent zone " + p.zone
			}
			r.Zone = p.zone
			return nameState{zone: name, res: r}
		}
		ds := make([]*dns.DS, 0, len(rrs))
		for _, rr := range rrs {
			ds = append(ds, rr.(*dns.DS))
		}
		dnskeys, ksigs, fr := v.fetchKeys(ctx, name)
		if fr != nil {
			return nameState{zone: name, res: *fr}
		}
		keys, kr := v.verifier().verifyDNSKEYs(dnskeys, ksigs, ds, now)
		kr.Zone = name
		return nameState{zone: name, keys: keys, res: kr}
	}
	// A CNAME at name, signed by the parent, shows that name is no cut.
	if rrs, sigs := rrsetOf(msg.Answer, name, dns.TypeCNAME); len(rrs) > 0 {
		if r, _ := v.verifier().verifyRRset(rrs, sigs, p.keys, now); r.Status == Secure {
			return p
		}
	}
	d := v.denial(p.zone, p.keys, name, dns.TypeDS, msg.Rcode, msg.Ns)
	switch d.Status {
	case Secure:
		return p
	case Insecure:
		d.Zone = name
		return nameState{zone: name, res: d}
	default:
		return nameState{zone: name, res: d}
	}
}

// fetchKeys fetches the DNSKEY RRset of zone and its RRSIGs; the Result is
// non-nil when the lookup failed.
func (v *Validator) fetchKeys(ctx context.Context, zone string) ([]*dns.DNSKEY, []*dns.RRSIG, *Result) {
	msg, err := v.fetch(ctx, zone, dns.TypeDNSKEY)
	if err != nil {
		return nil, nil, &Result{Status: Indeterminate, Reason: ReasonLookupFailed, Zone: zone, Detail: err.Error()}
	}
	rrs, sigs := rrsetOf(msg.Answer, zone, dns.TypeDNSKEY)
	keys := make([]*dns.DNSKEY, 0, len(rrs))
	for _, rr := range rrs {
		keys = append(keys, rr.(*dns.DNSKEY))
	}
	return keys, sigs, nil
}

// fetch calls Fetch and turns a missing response or a response code other
// than NOERROR and NXDOMAIN into an error.
func (v *Validator) fetch(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	op := name + " " + dns.TypeToString[qtype]
	if v.Fetch == nil {
		return nil, errors.New(op + ": no Fetch function")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	msg, err := v.Fetch(ctx, name, qtype)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if msg == nil {
		return nil, errors.New(op + ": no response")
	}
	if msg.Rcode != dns.RcodeSuccess && msg.Rcode != dns.RcodeNameError {
		return nil, errors.New(op + ": response code " + dns.RcodeToString[msg.Rcode])
	}
	return msg, nil
}

// now returns the validation time.
func (v *Validator) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// rrsetOf returns the records of section owned by name (canonical) of type
// rtype, without duplicates, and the RRSIGs covering them.
func rrsetOf(section []dns.RR, name string, rtype uint16) ([]dns.RR, []*dns.RRSIG) {
	var rrs []dns.RR
	var sigs []*dns.RRSIG
	for _, rr := range section {
		if rr == nil || rr.Header() == nil || dns.CanonicalName(rr.Header().Name) != name {
			continue
		}
		if s, ok := rr.(*dns.RRSIG); ok {
			if s.TypeCovered == rtype {
				sigs = append(sigs, s)
			}
			continue
		}
		if rr.Header().Rrtype != rtype {
			continue
		}
		switch rtype {
		// Guard the type assertions of the callers against records whose
		// header type disagrees with their Go type.
		case dns.TypeDS:
			_, ok := rr.(*dns.DS)
			if !ok {
				continue
			}
		case dns.TypeDNSKEY:
			if _, ok := rr.(*dns.DNSKEY); !ok {
				continue
			}
		case dns.TypeCNAME:
			if _, ok := rr.(*dns.CNAME); !ok {
				continue
			}
		}
		rrs = append(rrs, rr)
	}
	if len(rrs) > 1 {
		rrs = dns.Dedup(rrs, nil)
	}
	return rrs, sigs
}

// signedBy reports whether one of sigs names zone as signer.
func signedBy(sigs []*dns.RRSIG, zone string) bool {
	for _, s := range sigs {
		if dns.CanonicalName(s.SignerName) == zone {
			return true
		}
	}
	return false
}

// parentName returns the name one label up from name ("." for a TLD).
func parentName(name string) string {
	if name == "." || name == "" {
		return "."
	}
	off, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[off:]
}

// dsAlgorithms lists the distinct algorithms of a DS RRset.
func dsAlgorithms(ds []*dns.DS) []uint8 {
	var out []uint8
	for _, d := range ds {
		if d != nil && !slices.Contains(out, d.Algorithm) {
			out = append(out, d.Algorithm)
		}
	}
	return out
}

// mergeAlgorithms returns a with the algorithms of b not yet in it.
func mergeAlgorithms(a, b []uint8) []uint8 {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// Weakest combines the results of two links of a chain: the worse status
// (Status.Rank) wins, the first on a tie except between secure links, where
// the later zone is kept; algorithms are merged.
func Weakest(a, b Result) Result {
	out := a
	if b.Status.Rank() > a.Status.Rank() || (a.Status == Secure && b.Status == Secure) {
		out = b
	}
	out.Algorithms = mergeAlgorithms(a.Algorithms, b.Algorithms)
	return out
}
