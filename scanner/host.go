package scanner

import (
	"container/list"
	"context"
	"hash/maphash"
	"net/netip"
	"sync"

	"github.com/miekg/dns"
	"golang.org/x/sync/singleflight"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/lookup"
)

// hostSummary is what a domain needs to know of one of its MX hosts. The
// host's full row is written once, by whichever domain probed it first.
type hostSummary struct {
	hasTLSA     bool
	interrupted bool
	// addressesSecure and tlsaState are the host row's addresses_secure
	// and tlsa_state (false and "" without DNSSEC validation).
	addressesSecure bool
	tlsaState       string
	// daneStatus and daneReason are the host row's dane_status and
	// dane_reason ("" without SMTP probes).
	daneStatus, daneReason string
}

// hostCache remembers host summaries (bounded, least recently used out) and
// which hosts already have their row (a set of 64-bit hashes: 8 bytes a
// host, so a host evicted from the cache and probed again is not written
// twice).
type hostCache struct {
	mu      sync.Mutex
	cap     int
	order   *list.List // front: most recently used; values are *cacheEntry
	entries map[string]*list.Element
	written map[uint64]struct{}
	seed    maphash.Seed
	flight  singleflight.Group
}

type cacheEntry struct {
	host string
	sum  hostSummary
}

func newHostCache(capacity int) *hostCache {
	return &hostCache{
		cap:     capacity,
		order:   list.New(),
		entries: make(map[string]*list.Element),
		written: make(map[uint64]struct{}),
		seed:    maphash.MakeSeed(),
	}
}

func (c *hostCache) get(host string) (hostSummary, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[host]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*cacheEntry).sum, true
	}
	return hostSummary{}, false
}

// add stores sum and reports whether host's row is still to be written.
func (c *hostCache) add(host string, sum hostSummary) (first bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !sum.interrupted {
		if el, ok := c.entries[host]; ok {
			el.Value.(*cacheEntry).sum = sum
			c.order.MoveToFront(el)
		} else {
			c.entries[host] = c.order.PushFront(&cacheEntry{host, sum})
			if c.order.Len() > c.cap {
				old := c.order.Remove(c.order.Back()).(*cacheEntry)
				delete(c.entries, old.host)
			}
		}
	}
	h := maphash.String(c.seed, host)
	if _, done := c.written[h]; done {
		return false
	}
	c.written[h] = struct{}{}
	return true
}

// host returns the summary of an MX host, probing it when no summary is
// cached; concurrent callers for the same host share one probe.
func (s *scan) host(ctx context.Context, host string) hostSummary {
	if sum, ok := s.hosts.get(host); ok {
		return sum
	}
	v, _, _ := s.hosts.flight.Do(host, func() (any, error) {
		if sum, ok := s.hosts.get(host); ok {
			return sum, nil
		}
		row := s.probeHost(ctx, host)
		var eps []*datasets.Endpoint
		if s.smtp != nil && len(row.Addresses) > 0 && row.Failure == "" {
			eps = s.probeEndpoints(ctx, row)
			hostVerdict(row, eps)
		}
		sum := hostSummary{
			hasTLSA:         len(row.TLSA.Records) > 0,
			interrupted:     row.Failure == FailInterrupted,
			addressesSecure: row.AddressesSecure,
			tlsaState:       row.TLSAState,
			daneStatus:      row.DANEStatus,
			daneReason:      row.DANEReason,
		}
		if s.hosts.add(host, sum) {
			s.stats.Hosts.Add(1)
			s.rows <- rowMsg{host: row}
			for _, e := range eps {
				s.rows <- rowMsg{endpoint: e}
			}
		}
		return sum, nil
	})
	return v.(hostSummary)
}

// probeHost looks up an MX host's addresses and its TLSA records. The TLSA
// base domain follows RFC 7672 §2.2.2 and RFC 7671 §7: when the host name is
// an alias, the CNAME-expanded name is tried first, then the original name.
// With DNSSEC validation (RFC 7672 §2.2) TLSA is looked up only when the
// address records are secure, the expanded name is tried only when the
// CNAME chain to it is secure, and the row gets its tlsa_state.
func (s *scan) probeHost(ctx context.Context, host string) *datasets.MXHost {
	start := s.cfg.Now()
	h := &datasets.MXHost{ScanID: s.cfg.ScanID, Host: host, ScannedAt: start.UTC()}
	defer func() { h.DurationMS = s.cfg.Now().Sub(start).Milliseconds() }()
	tlsaName := func(base string) string { return "_25._tcp." + base }
	if norm, err := datasets.NormalizeDomain(host); err != nil || norm != host {
		why := "MX target is not a valid host name"
		if err != nil {
			why = err.Error()
		}
		h.Failure, h.Error = FailInvalidName, why
		h.A, h.AAAA = skipped(host, why), skipped(host, why)
		h.TLSA = skipped(tlsaName(host), why)
		if s.validator != nil {
			h.TLSAState = datasets.TLSAStateSkipped
		}
		return h
	}
	a, aRow := s.lookup(ctx, host, dns.TypeA)
	aaaa, aaaaRow := s.lookup(ctx, host, dns.TypeAAAA)
	h.A, h.AAAA = aRow, aaaaRow
	h.Addresses = addresses(a.Records, aaaa.Records)
	switch {
	case a.Target() != host:
		h.Canonical = a.Target()
	case aaaa.Target() != host:
		h.Canonical = aaaa.Target()
	}
	canceled := a.Failure == lookup.FailCanceled || aaaa.Failure == lookup.FailCanceled
	if len(h.Addresses) == 0 {
		switch {
		case canceled:
			h.Failure = FailInterrupted
		case resolverFailure(a.Failure):
			h.Failure, h.Error = a.Failure, aRow.Error
		case resolverFailure(aaaa.Failure):
			h.Failure, h.Error = aaaa.Failure, aaaaRow.Error
		default:
			h.Failure, h.Error = FailNoAddress, "no A or AAAA records"
		}
		h.TLSA = skipped(tlsaName(host), "not queried: the host has no address")
		h.TLSABaseDomain = host
		if s.validator != nil {
			h.TLSAState = datasets.TLSAStateSkipped
		}
		return h
	}
	validating := s.validator != nil
	if validating {
		status, secure := addressStatus(&h.A, &h.AAAA)
		h.AddressesSecure = secure
		if !secure {
			// RFC 7672 §2.2: without secure address records a DANE sender
			// does not look for TLSA.
			h.TLSA = skipped(tlsaName(host), skippedTLSA(status))
			h.TLSABaseDomain, h.TLSAState = host, datasets.TLSAStateSkipped
			return h
		}
	}
	bases := []string{host}
	if h.Canonical != "" && (!validating || chainSecure(h)) {
		bases = []string{h.Canonical, host}
	}
	for _, base := range bases {
		h.TLSACandidates = append(h.TLSACandidates, tlsaName(base))
		t, row := s.lookup(ctx, tlsaName(base), dns.TypeTLSA)
		h.TLSA, h.TLSABaseDomain = row, base
		if validating {
			h.TLSAState = tlsaState(&row)
			if h.TLSAState != datasets.TLSAStateNoTLSA || resolverFailure(t.Failure) {
				// Secure records, or a lookup a DANE sender may not skip
				// past (RFC 7671 §7).
				break
			}
			continue
		}
		if len(t.Records) > 0 || resolverFailure(t.Failure) {
			// Found, or a failure that a DANE client may not skip past.
			break
		}
	}
	if h.TLSA.Failure == lookup.FailCanceled {
		h.Failure = FailInterrupted
	}
	return h
}

// chainSecure reports whether the CNAME chain that led the address lookup
// to the host's canonical name is secure (RFC 7672 §2.2.2): the validated
// lookup that found the canonical name covers every link of it.
func chainSecure(h *datasets.MXHost) bool {
	for _, r := range []*datasets.RRset{&h.A, &h.AAAA} {
		if n := len(r.CNAMEs); n > 0 && r.CNAMEs[n-1] == h.Canonical {
			return r.DNSSEC == datasets.DNSSECSecure
		}
	}
	return false
}

// addresses returns the A then AAAA addresses, deduplicated.
func addresses(a, aaaa []dns.RR) []string {
	var out []string
	seen := make(map[netip.Addr]bool)
	add := func(ip netip.Addr) {
		if ip.IsValid() && !seen[ip] {
			seen[ip] = true
			out = append(out, ip.String())
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
