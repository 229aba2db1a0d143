package scanner

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/dane"
)

// hostSummary is what a domain needs to know of one of its MX hosts. The
// host's full row is written once, by whichever domain probed it first.
type hostSummary struct {
	hasTLSA     bool
	interrupted bool
	// addressesSecure and tlsaState are the host row's addresses_secure
	// and tlsa_state (false and "" without DNSSEC validation).
	addressesSecure bool
	tlsaState       datasets.TLSAState
	// daneStatus and daneReason are the host row's dane_status and
	// dane_reason ("" without SMTP probes).
	daneStatus datasets.DANEStatus
	daneReason string
}

// hostCache remembers host summaries (bounded, least recently used out) and
// which hosts already have their row (a set of 64-bit hashes: about 6.4
// bytes a host, so a host evicted from the cache and probed again is not
// written twice).
//
// The entries are slots of one slice, chained in recency order by index,
// and the index is a map from host name to slot: about 100 bytes a host
// (48 the slot, the name's bytes, the map's share), where a container/list
// of entries took about 220. A scan of distinct hosts keeps the cache
// full (HostCacheSize hosts, 200,000 by default): this is a fifth of a
// 200,000-domain DNS-only scan's live heap less.
type hostCache struct {
	mu    sync.Mutex
	cap   int
	index map[string]int32
	// slots are taken in chunks of slotChunk as the cache fills: no
	// chunk is ever copied, and at most one is partly used.
	slots [][]cacheSlot
	n     int
	// head and tail are the most and least recently used slots; -1 when
	// the cache is empty.
	head, tail int32
	// codes and names intern the enumerated fields of the summaries
	// (tlsa_state, dane_status), so that a slot holds a byte for each.
	codes   map[string]uint8
	names   []string
	written *nameSet
	flight  singleflight.Group
}

// cacheSlot is one cached host: its name, its summary packed, and its
// neighbours in recency order (toward head: prev; -1 at the ends).
type cacheSlot struct {
	host       string
	daneReason string
	prev, next int32
	tlsaState  uint8
	daneStatus uint8
	flags      uint8
}

const (
	slotHasTLSA uint8 = 1 << iota
	slotAddressesSecure
)

func newHostCache(capacity int) *hostCache {
	return &hostCache{
		cap:     capacity,
		index:   make(map[string]int32),
		head:    -1,
		tail:    -1,
		codes:   make(map[string]uint8),
		written: newNameSet(nil),
	}
}

func (c *hostCache) get(host string) (hostSummary, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.index[host]
	if !ok {
		return hostSummary{}, false
	}
	c.toFront(i)
	sl := c.at(i)
	return hostSummary{
		hasTLSA:         sl.flags&slotHasTLSA != 0,
		addressesSecure: sl.flags&slotAddressesSecure != 0,
		tlsaState:       datasets.TLSAState(c.names[sl.tlsaState]),
		daneStatus:      datasets.DANEStatus(c.names[sl.daneStatus]),
		daneReason:      sl.daneReason,
	}, true
}

// add stores sum and reports whether host's row is still to be written.
// An interrupted host's summary is not cached: a later domain probes it
// again.
func (c *hostCache) add(host string, sum hostSummary) (first bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !sum.interrupted && c.cap > 0 {
		c.put(host, sum)
	}
	return c.written.Add(host)
}

// put caches sum as host's summary, evicting the least recently used host
// when the cache is full. Called with c.mu held.
func (c *hostCache) put(host string, sum hostSummary) {
	tlsa, ok1 := c.code(string(sum.tlsaState))
	status, ok2 := c.code(string(sum.daneStatus))
	if !ok1 || !ok2 {
		// More than 256 distinct values: never with the enumerations of
		// the schema; the host is simply not cached.
		return
	}
	var flags uint8
	if sum.hasTLSA {
		flags |= slotHasTLSA
	}
	if sum.addressesSecure {
		flags |= slotAddressesSecure
	}
	i, ok := c.index[host]
	switch {
	case ok:
	case c.n < c.cap:
		i = int32(c.n)
		if c.n%slotChunk == 0 {
			c.slots = append(c.slots, make([]cacheSlot, slotChunk))
		}
		c.n++
		c.index[host] = i
		c.link(i)
	default:
		// Reuse the least recently used slot.
		i = c.tail
		delete(c.index, c.at(i).host)
		c.index[host] = i
	}
	sl := c.at(i)
	sl.host, sl.daneReason = host, sum.daneReason
	sl.tlsaState, sl.daneStatus, sl.flags = tlsa, status, flags
	c.toFront(i)
}

// slotChunk is the number of slots allocated at a time (192 KiB).
const slotChunk = 4096

// at returns slot i, which is taken.
func (c *hostCache) at(i int32) *cacheSlot { return &c.slots[i/slotChunk][i%slotChunk] }

// code returns the byte that stands for v, interning it at first use.
func (c *hostCache) code(v string) (uint8, bool) {
	if k, ok := c.codes[v]; ok {
		return k, true
	}
	if len(c.names) > 255 {
		return 0, false
	}
	k := uint8(len(c.names))
	c.codes[v] = k
	c.names = append(c.names, v)
	return k, true
}

// link puts the unlinked slot i at the head of the recency chain.
func (c *hostCache) link(i int32) {
	sl := c.at(i)
	sl.prev, sl.next = -1, c.head
	if c.head >= 0 {
		c.at(c.head).prev = i
	}
	c.head = i
	if c.tail < 0 {
		c.tail = i
	}
}

// toFront makes slot i the most recently used.
func (c *hostCache) toFront(i int32) {
	if c.head == i {
		return
	}
	sl := c.at(i)
	// Unlink: i is not the head, so it has a prev.
	c.at(sl.prev).next = sl.next
	if sl.next >= 0 {
		c.at(sl.next).prev = sl.prev
	} else {
		c.tail = sl.prev
	}
	c.link(i)
}

// host returns the summary of an MX host, probing it when no summary is
// cached; concurrent callers for the same host share one probe. pre, when
// not nil, holds address answers the caller already has for the host (the
// implicit MX): a probe uses them instead of asking again.
func (s *scan) host(ctx context.Context, host string, pre *addressAnswers) hostSummary {
	if sum, ok := s.hosts.get(host); ok {
		return sum
	}
	v, _, _ := s.hosts.flight.Do(host, func() (any, error) {
		if sum, ok := s.hosts.get(host); ok {
			return sum, nil
		}
		p := s.probeHost(ctx, host, pre)
		var handover []*datasets.Handover
		switch {
		case s.smtp == nil || len(p.addrs) == 0 || p.failure != "":
		case s.cfg.SMTPHandover:
			handover = s.handOver(p)
		default:
			s.probeEndpoints(ctx, p)
			hostVerdict(p)
		}
		sum := p.summary()
		if s.hosts.add(host, sum) {
			s.stats.Hosts.Add(1)
			s.rows <- rowMsg{host: hostRow(s.cfg.ScanID, p)}
			for _, e := range p.endpoints {
				s.rows <- rowMsg{endpoint: endpointRow(s.cfg.ScanID, p, e)}
			}
			for _, h := range handover {
				s.rows <- rowMsg{handover: h}
			}
		}
		return sum, nil
	})
	return v.(hostSummary)
}

// addressAnswers are the A and AAAA answers of one name.
type addressAnswers struct{ a, aaaa answer }

// hostProbe is what the scan learned of one MX host, typed: its lookups,
// the decisions taken on them and its endpoints. hostRow turns it into the
// mx_hosts row; the verdicts use its TLSA records as received.
type hostProbe struct {
	name     string
	start    time.Time
	duration time.Duration
	// failure and errText are the host-level failure class and detail.
	failure, errText string
	a, aaaa          answer
	addrs            []netip.Addr
	canonical        string
	// base is the TLSA base domain; candidates the TLSA names tried.
	base       string
	candidates []string
	tlsa       answer
	// records are the TLSA records of tlsa as received, for the verdicts.
	records []dane.Record
	// validating is set when the scan validates DNSSEC; addressesSecure
	// and tlsaState are the RFC 7672 §2.2 decisions taken then.
	validating      bool
	addressesSecure bool
	tlsaState       datasets.TLSAState
	endpoints       []*endpointProbe
	// daneStatus and daneReason roll the endpoints up (hostVerdict).
	daneStatus datasets.DANEStatus
	daneReason string
}

func (p *hostProbe) summary() hostSummary {
	return hostSummary{
		hasTLSA:         len(p.tlsa.Records) > 0,
		interrupted:     p.failure == FailInterrupted,
		addressesSecure: p.addressesSecure,
		tlsaState:       p.tlsaState,
		daneStatus:      p.daneStatus,
		daneReason:      p.daneReason,
	}
}

// MaxAddresses bounds the addresses of one MX host that are probed (IPv4
// first, in the order of the answer): a hostile zone must not be able to
// aim a scan's connections at hundreds of addresses through one name. The
// row keeps every address it received and its error says how many were
// probed.
const MaxAddresses = 16

// tlsaName is the TLSA query name of a base domain (RFC 7672 §2.2.2).
func tlsaName(base string) string { return "_25._tcp." + base }

// probeHost looks up an MX host's addresses and its TLSA records. The TLSA
// base domain follows RFC 7672 §2.2.2 and RFC 7671 §7: when the host name is
// an alias, the CNAME-expanded name is tried first, then the original name.
// With DNSSEC validation (RFC 7672 §2.2) the expanded name is tried only
// when the CNAME chain to it is secure, and the host gets its tlsa_state:
// TLSA records reached through address records that are not secure are
// still looked up and recorded with their DNSSEC status (a survey counts
// TLSA in unsigned zones), but a DANE sender ignores them (skipped).
func (s *scan) probeHost(ctx context.Context, host string, pre *addressAnswers) *hostProbe {
	p := &hostProbe{name: host, start: s.cfg.Now(), validating: s.validator != nil}
	defer func() { p.duration = s.cfg.Now().Sub(p.start) }()
	if norm, err := datasets.NormalizeDomain(host); err != nil || norm != host {
		why := "MX target is not a valid host name"
		if err != nil {
			why = err.Error()
		}
		p.failure, p.errText = FailInvalidName, why
		p.a, p.aaaa = skippedAnswer(host, dns.TypeA, why), skippedAnswer(host, dns.TypeAAAA, why)
		p.tlsa = skippedAnswer(tlsaName(host), dns.TypeTLSA, why)
		p.skipTLSA()
		return p
	}
	if pre != nil {
		p.a, p.aaaa = pre.a, pre.aaaa
	} else {
		p.a, p.aaaa = s.lookup(ctx, host, dns.TypeA), s.lookup(ctx, host, dns.TypeAAAA)
	}
	p.setAddresses(p.a.Records, p.aaaa.Records)
	switch {
	case p.a.Target() != host:
		p.canonical = p.a.Target()
	case p.aaaa.Target() != host:
		p.canonical = p.aaaa.Target()
	}
	if len(p.addrs) == 0 {
		switch {
		case p.a.canceled() || p.aaaa.canceled():
			p.failure = FailInterrupted
		case resolverFailure(p.a.Failure):
			p.failure, p.errText = string(p.a.Failure), errText(p.a.err)
		case resolverFailure(p.aaaa.Failure):
			p.failure, p.errText = string(p.aaaa.Failure), errText(p.aaaa.err)
		default:
			p.failure, p.errText = FailNoAddress, "no A or AAAA records"
		}
		p.tlsa = skippedAnswer(tlsaName(host), dns.TypeTLSA, "not queried: the host has no address")
		p.base = host
		p.skipTLSA()
		return p
	}
	bases := []string{host}
	if p.validating {
		_, p.addressesSecure = addressStatus(&p.a, &p.aaaa)
		if !p.addressesSecure {
			// RFC 7672 §2.2: without secure address records a DANE sender
			// does not look for TLSA. The lookup is made for measurement
			// only, at the host name.
			p.candidates = []string{tlsaName(host)}
			p.tlsa, p.base = s.lookup(ctx, tlsaName(host), dns.TypeTLSA), host
			p.tlsaState = datasets.TLSAStateSkipped
			if p.tlsa.canceled() {
				p.failure = FailInterrupted
			}
			p.keepRecords()
			return p
		}
	}
	if p.canonical != "" && (!p.validating || p.chainSecure()) {
		bases = []string{p.canonical, host}
	}
	for _, base := range bases {
		p.candidates = append(p.candidates, tlsaName(base))
		p.tlsa, p.base = s.lookup(ctx, tlsaName(base), dns.TypeTLSA), base
		if p.validating {
			p.tlsaState = tlsaState(&p.tlsa)
			if p.tlsaState != datasets.TLSAStateNoTLSA || resolverFailure(p.tlsa.Failure) {
				// Secure records, or a lookup a DANE sender may not skip
				// past (RFC 7671 §7).
				break
			}
			continue
		}
		if len(p.tlsa.Records) > 0 || resolverFailure(p.tlsa.Failure) {
			// Found, or a failure that a DANE client may not skip past.
			break
		}
	}
	if p.tlsa.canceled() {
		p.failure = FailInterrupted
	}
	p.keepRecords()
	return p
}

// setAddresses takes the host's addresses from its A and AAAA records and
// notes in the row when more than MaxAddresses will not all be probed.
func (p *hostProbe) setAddresses(a, aaaa []dns.RR) {
	p.addrs = addresses(a, aaaa)
	if len(p.addrs) > MaxAddresses {
		p.errText = fmt.Sprintf("note: %d addresses, only the first %d probed", len(p.addrs), MaxAddresses)
	}
}

// skipTLSA marks the TLSA lookup as not made.
func (p *hostProbe) skipTLSA() {
	if p.validating {
		p.tlsaState = datasets.TLSAStateSkipped
	}
}

// keepRecords decodes the TLSA records as received for the verdicts.
func (p *hostProbe) keepRecords() {
	for _, rr := range p.tlsa.Records {
		if t, ok := rr.(*dns.TLSA); ok {
			p.records = append(p.records, dane.FromTLSA(t))
		}
	}
}

// chainSecure reports whether the CNAME chain that led the address lookup
// to the host's canonical name is secure (RFC 7672 §2.2.2): the validated
// lookup that found the canonical name covers every link of it.
func (p *hostProbe) chainSecure() bool {
	for _, a := range []*answer{&p.a, &p.aaaa} {
		if n := len(a.CNAMEs); n > 0 && a.CNAMEs[n-1] == p.canonical {
			return a.secure()
		}
	}
	return false
}

// hostRow is the mx_hosts row of a probed host.
func hostRow(scanID string, p *hostProbe) *datasets.MXHost {
	h := &datasets.MXHost{
		ScanID:          scanID,
		Host:            p.name,
		Failure:         p.failure,
		Error:           p.errText,
		A:               rrsetRow(&p.a),
		AAAA:            rrsetRow(&p.aaaa),
		AddressesSecure: p.addressesSecure,
		Canonical:       p.canonical,
		TLSABaseDomain:  p.base,
		TLSACandidates:  p.candidates,
		TLSA:            rrsetRow(&p.tlsa),
		TLSAState:       p.tlsaState,
		DANEStatus:      p.daneStatus,
		DANEReason:      p.daneReason,
		Endpoints:       int32(len(p.endpoints)),
		ScannedAt:       p.start.UTC(),
		DurationMS:      p.duration.Milliseconds(),
	}
	for _, ip := range p.addrs {
		h.Addresses = append(h.Addresses, ip.String())
	}
	return h
}

// errText is err's text, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// addresses returns the A then AAAA addresses, deduplicated.
func addresses(a, aaaa []dns.RR) []netip.Addr {
	var out []netip.Addr
	seen := make(map[netip.Addr]bool)
	add := func(ip netip.Addr) {
		if ip.IsValid() && !seen[ip] {
			seen[ip] = true
			out = append(out, ip)
		}
	}
	for _, rr := range a {
		if r, ok := rr.(*dns.A); ok {
			ip, _ := netip.AddrFromSlice(r.A.To4())
			add(ip)
		}
	}
	for _, rr := range aaaa {
		if r, ok := rr.(*dns.AAAA); ok {
			ip, _ := netip.AddrFromSlice(r.AAAA.To16())
			add(ip)
		}
	}
	return out
}
