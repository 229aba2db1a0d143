package scanner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/time/rate"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/dane"
	"github.com/danescan/danescan/scanner/starttls"
)

// FailExcluded is the failure class of domains and endpoints that the
// exclusion list (Config.Exclude) keeps the scan away from.
const FailExcluded = "excluded"

// maxChainKept bounds the certificates kept in an endpoints row.
const maxChainKept = dane.MaxChain

// smtpPool is the politeness machinery of one Run's SMTP probes: a bound on
// probes at once, a global rate of new connections, and per address at most
// one connection at a time and a minimum interval between connections.
type smtpPool struct {
	sem      chan struct{} // a token per running probe; filled and drained by endpoint probes
	limiter  *rate.Limiter // nil: no global rate
	interval time.Duration
	modes    []string
	roots    *x509.CertPool // nil: system roots, loaded once by dane.Inspect's caller

	mu    sync.Mutex
	slots map[netip.Addr]*addrSlot // guarded by mu
	// seen holds the probes of endpoints whose TLSA base domain is not
	// the host name (the host is an alias): another host name that is an
	// alias of the same name shares its endpoints, so each (address, base
	// domain, mode) is probed once per scan. Guarded by mu; bounded.
	seen map[endpointKey]starttls.Result
}

// endpointKey names an endpoint for the dedup of probes.
type endpointKey struct {
	addr       netip.Addr
	base, mode string
}

// maxSeen bounds the probes kept for dedup.
const maxSeen = 20000

// shared returns the probe of an endpoint already probed for another host
// name with the same TLSA base domain.
func (p *smtpPool) shared(k endpointKey) (starttls.Result, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.seen[k]
	return r, ok
}

func (p *smtpPool) share(k endpointKey, r starttls.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen == nil {
		p.seen = map[endpointKey]starttls.Result{}
	}
	if len(p.seen) < maxSeen {
		p.seen[k] = r
	}
}

// addrSlot serialises the connections to one address.
type addrSlot struct {
	mu   sync.Mutex // held for the duration of a connection
	last time.Time  // guarded by mu: when the last connection ended
}

func newSMTPPool(cfg *Config) (*smtpPool, error) {
	modes, err := starttls.SigAlgsModes(cfg.SigAlgs)
	if err != nil {
		return nil, err
	}
	p := &smtpPool{
		sem:      make(chan struct{}, cfg.SMTPWorkers),
		interval: cfg.AddressInterval,
		modes:    modes,
		roots:    cfg.Roots,
		slots:    map[netip.Addr]*addrSlot{},
	}
	if cfg.SMTPRate > 0 {
		p.limiter = rate.NewLimiter(rate.Limit(cfg.SMTPRate), max(1, int(cfg.SMTPRate/10)))
	}
	if p.roots == nil {
		// Loaded once: information beside the DANE verdict (PKIX with the
		// MX host name). Without system roots Inspect says no_roots.
		p.roots, _ = x509.SystemCertPool()
	}
	return p, nil
}

func (p *smtpPool) slot(a netip.Addr) *addrSlot {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.slots[a]
	if s == nil {
		s = &addrSlot{}
		p.slots[a] = s
	}
	return s
}

// probe runs one STARTTLS probe under the politeness limits. It returns
// false when ctx ended while waiting.
func (p *smtpPool) probe(ctx context.Context, cfg starttls.Config, addr netip.AddrPort, sni string, now func() time.Time) (starttls.Result, bool) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return starttls.Result{}, false
	}
	defer func() { <-p.sem }()
	slot := p.slot(addr.Addr())
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if wait := p.interval - now().Sub(slot.last); !slot.last.IsZero() && wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return starttls.Result{}, false
		}
	}
	if p.limiter != nil {
		if err := p.limiter.Wait(ctx); err != nil {
			return starttls.Result{}, false
		}
	}
	res, _ := starttls.Probe(ctx, cfg, addr, sni)
	slot.last = now()
	return res, true
}

// probeEndpoints probes every address of host row h (once per certificate
// type mode) and returns the endpoints rows with their DANE verdicts.
func (s *scan) probeEndpoints(ctx context.Context, h *datasets.MXHost) []*datasets.Endpoint {
	records, _ := tlsaRecords(h.TLSA.Records)
	validating := s.validator != nil
	var out []*datasets.Endpoint
	for _, a := range h.Addresses {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			continue
		}
		for _, mode := range s.smtp.modes {
			e := &datasets.Endpoint{
				ScanID: s.cfg.ScanID, Host: h.Host, TLSABaseDomain: h.TLSABaseDomain,
				Address: ip.String(), Port: 25, SigAlgs: mode, TLSAState: h.TLSAState,
				DANEMatchRecord: -1, DANEMatchUsage: -1, DANEDepth: -1, NearMissRecord: -1,
				ScannedAt: s.cfg.Now().UTC(),
			}
			out = append(out, e)
			if s.cfg.Exclude.Address(ip) || s.cfg.Exclude.Name(h.Host) {
				e.Failure, e.Error, e.DANEStatus = FailExcluded, "excluded by the exclusion list", datasets.DANENotProbed
				continue
			}
			key := endpointKey{ip, h.TLSABaseDomain, mode}
			alias := h.TLSABaseDomain != h.Host
			res, ok := starttls.Result{}, false
			if alias {
				res, ok = s.smtp.shared(key)
			}
			if !ok {
				pcfg := s.cfg.STARTTLS
				pcfg.Dial = s.cfg.SMTPDial
				pcfg.SigAlgs = mode
				start := s.cfg.Now()
				if res, ok = s.smtp.probe(ctx, pcfg, netip.AddrPortFrom(ip, 25), h.TLSABaseDomain, s.cfg.Now); !ok {
					e.Failure, e.Error, e.DANEStatus = FailInterrupted, "the scan ended before the probe", datasets.DANENotProbed
					continue
				}
				s.stats.Endpoints.Add(1)
				e.DurationMS = s.cfg.Now().Sub(start).Milliseconds()
				if alias {
					s.smtp.share(key, res)
				}
			}
			fillProbe(e, &res)
			verdict(e, &res, records, h, validating, s.cfg.Now(), s.smtp.roots)
		}
	}
	return out
}

// fillProbe copies what the probe saw into the row.
func fillProbe(e *datasets.Endpoint, r *starttls.Result) {
	e.Failure, e.Stage, e.Error = r.Failure, r.Stage, r.Err
	e.Banner, e.BannerCode = r.Banner, int32(r.BannerCode)
	e.EHLO, e.Extensions, e.STARTTLSOffered = r.EHLOLines, r.Extensions, r.STARTTLSOffered
	e.ReplyCode, e.ReplyText = int32(r.ReplyCode), r.ReplyText
	if r.TLSVersion != 0 {
		e.TLSVersion = tls.VersionName(r.TLSVersion)
		e.CipherSuite = tls.CipherSuiteName(r.CipherSuite)
		e.TLSGroup = groupName(r.Group)
	}
	if r.AlertText != "" {
		e.TLSAlert = fmt.Sprintf("%s (%d)", r.AlertText, r.Alert)
	}
	e.ChainLength = int32(len(r.Chain))
	e.Chain = r.Chain[:min(len(r.Chain), maxChainKept)]
	e.HandshakeMS = r.Timings.Handshake.Milliseconds()
}

// groupName names a TLS key exchange group.
func groupName(g tls.CurveID) string {
	if g == 0 {
		return ""
	}
	s := g.String()
	if strings.HasPrefix(s, "CurveID(") {
		return strconv.Itoa(int(g))
	}
	return s
}

// verdict sets the DANE columns of endpoint e from the probe result and the
// host's TLSA records (RFC 7672 §2.2, §3): not_applicable unless DANE
// applies to the host (tlsa_state dane; without validation, TLSA records
// exist), transport_failed when no TLS session came about, otherwise what
// package dane finds. The PKIX information is filled whenever a chain
// arrived.
func verdict(e *datasets.Endpoint, r *starttls.Result, records []dane.Record, h *datasets.MXHost, validating bool, now time.Time, roots *x509.CertPool) {
	if len(r.Chain) > 0 {
		info := dane.Inspect(r.Chain, h.Host, roots, now)
		e.PKIXValid, e.PKIXReason = info.PKIXValid, info.PKIXReason
		if info.KeyType != "" {
			days := int64(info.DaysToExpiry)
			e.LeafDaysLeft = &days
			e.LeafKeyType, e.LeafKeyBits = info.KeyType, int32(info.KeyBits)
		}
	}
	applicable := len(records) > 0
	if validating {
		applicable = h.TLSAState == datasets.TLSAStateDANE
	}
	switch {
	case !applicable:
		e.DANEStatus = datasets.DANENotApplicable
		return
	case r.Failure != "":
		e.DANEStatus, e.DANEReason = datasets.DANETransportFailed, r.Failure
		return
	}
	v := dane.Verify(dane.Input{Records: records, Chain: r.Chain, BaseDomain: h.TLSABaseDomain, MXHost: h.Host, Now: now})
	e.DANEStatus, e.DANEReason = v.Status, v.Reason
	if v.Match >= 0 {
		e.DANEMatchRecord, e.DANEMatchUsage, e.DANEDepth = int32(v.Match), int32(v.MatchUsage), int32(v.Depth)
	}
	e.NearMiss, e.NearMissRecord = v.NearMiss, int32(v.NearMissRecord)
	if v.NearMissDepth >= 0 && v.NearMiss != "" {
		e.NearMissParams = fmt.Sprintf("%d %d %d", v.NearMissUsage, v.NearMissSelector, v.NearMissMatchingType)
	}
	e.TLSAUnusable = make([]string, len(v.Records))
	for i, rr := range v.Records {
		e.TLSAUnusable[i] = rr.Unusable
	}
}

// tlsaRecords parses the TLSA records of a row ("usage selector type
// hex"), in order. A record that does not parse becomes a record with
// undecodable data, which package dane reports as unusable.
func tlsaRecords(rdata []string) ([]dane.Record, error) {
	var out []dane.Record
	var firstErr error
	for _, s := range rdata {
		f := strings.Fields(s)
		if len(f) < 3 {
			out = append(out, dane.Record{BadHex: true})
			continue
		}
		var p [3]uint8
		bad := false
		for i := range 3 {
			n, err := strconv.ParseUint(f[i], 10, 8)
			if err != nil {
				bad = true
			}
			p[i] = uint8(n)
		}
		if bad {
			if firstErr == nil {
				firstErr = fmt.Errorf("TLSA %q: bad parameters", s)
			}
			out = append(out, dane.Record{BadHex: true})
			continue
		}
		rr := &dns.TLSA{Usage: p[0], Selector: p[1], MatchingType: p[2], Certificate: strings.Join(f[3:], "")}
		out = append(out, dane.FromTLSA(rr))
	}
	return out, firstErr
}

// hostVerdict rolls the endpoints of a host up into its dane_status: pass
// when every endpoint passes, otherwise the first endpoint that does not.
func hostVerdict(h *datasets.MXHost, eps []*datasets.Endpoint) {
	h.Endpoints = int32(len(eps))
	if len(eps) == 0 {
		return
	}
	h.DANEStatus = datasets.DANEPass
	for _, e := range eps {
		if e.DANEStatus != datasets.DANEPass {
			h.DANEStatus = e.DANEStatus
			h.DANEReason = e.Address
			if e.SigAlgs != starttls.SigAlgsAny {
				h.DANEReason += " (" + e.SigAlgs + ")"
			}
			if e.DANEReason != "" {
				h.DANEReason += ": " + e.DANEReason
			}
			return
		}
	}
}
