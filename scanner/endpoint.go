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

// endpointProbe is one endpoint of a host (an address, a certificate type
// mode), typed: what the probe saw and the verdict on it. endpointRow turns
// it into the endpoints row.
type endpointProbe struct {
	addr     netip.Addr
	mode     string
	start    time.Time
	duration time.Duration
	// failure and errText are set when the endpoint was not probed
	// (excluded, interrupted); res is the probe otherwise.
	failure, errText string
	res              starttls.Result
	// info is the PKIX information, set when a chain arrived.
	info dane.Info
	// status and reason are the DANE verdict; v is what package dane
	// found when it was asked (judged).
	status datasets.DANEStatus
	reason string
	judged bool
	v      dane.Verdict
}

// endpointsOf returns the endpoints of host p in the host's order: its
// addresses, at most MaxAddresses of them, once per certificate type mode.
// The decisions taken before any connection are made here: an endpoint
// that the exclusion list names, or whose special-purpose address is not
// allowed, has its failure and status not_probed.
func (s *scan) endpointsOf(p *hostProbe) []*endpointProbe {
	var eps []*endpointProbe
	for _, ip := range p.addrs[:min(len(p.addrs), MaxAddresses)] {
		for _, mode := range s.smtp.modes {
			e := &endpointProbe{addr: ip, mode: mode, start: s.cfg.Now()}
			eps = append(eps, e)
			s.decide(p, e)
		}
	}
	return eps
}

// decide takes the decisions about endpoint e of host p that come before
// any connection: excluded when the exclusion list names its address or
// the host, special_purpose when its address is a special-purpose address
// that Config.Allow does not name (both not_probed).
func (s *scan) decide(p *hostProbe, e *endpointProbe) {
	if s.cfg.Exclude.Address(e.addr) || s.cfg.Exclude.Name(p.name) {
		e.failure, e.errText, e.status = FailExcluded, "excluded by the exclusion list", datasets.DANENotProbed
		return
	}
	if kind, special := SpecialPurpose(e.addr); special && !s.cfg.allowed(e.addr) {
		e.failure, e.status = FailSpecialPurpose, datasets.DANENotProbed
		e.errText = "special-purpose address, " + kind + ": not connected to (--allow names the ranges a scan may probe)"
	}
}

// probeEndpoints probes the endpoints of host p (endpointsOf) and judges
// each.
func (s *scan) probeEndpoints(ctx context.Context, p *hostProbe) {
	p.endpoints = s.endpointsOf(p)
	for _, e := range p.endpoints {
		if e.failure != "" {
			continue
		}
		e.start = s.cfg.Now()
		key := endpointKey{e.addr, p.base, e.mode}
		alias := p.base != p.name
		res, ok := starttls.Result{}, false
		if alias {
			res, ok = s.smtp.shared(key)
		}
		if !ok {
			if res, ok = s.connect(ctx, p.base, e); !ok {
				continue
			}
			if alias {
				s.smtp.share(key, res)
			}
		}
		e.res = res
		judge(e, p, s.cfg.Now(), s.smtp.roots)
	}
}

// connect probes endpoint e, with sni as the server name, under the
// pool's politeness limits, and sets e's duration. It reports false, with
// e marked interrupted, when the scan ended before or during the probe.
func (s *scan) connect(ctx context.Context, sni string, e *endpointProbe) (starttls.Result, bool) {
	pcfg := s.cfg.STARTTLS
	pcfg.Dial = s.cfg.SMTPDial
	pcfg.SigAlgs = e.mode
	start := s.cfg.Now()
	res, ok := s.smtp.probe(ctx, pcfg, netip.AddrPortFrom(e.addr, 25), sni, s.cfg.Now)
	if !ok {
		e.failure, e.errText, e.status = FailInterrupted, "the scan ended before the probe", datasets.DANENotProbed
		return res, false
	}
	if ctx.Err() != nil && res.Failure == starttls.FailureCanceled {
		// Cut by the end of the grace period: not a finding about the
		// server.
		e.failure, e.errText, e.status = FailInterrupted, "the scan ended during the probe", datasets.DANENotProbed
		return res, false
	}
	s.stats.Endpoints.Add(1)
	e.duration = s.cfg.Now().Sub(start)
	return res, true
}

// judge sets the DANE verdict of endpoint e of host p from the probe and
// the host's TLSA records as received (RFC 7672 §2.2, §3):
//   - tlsa_lookup_failed when the host's TLSA lookup is bogus or
//     indeterminate (a DANE sender defers without connecting);
//   - not_applicable unless DANE applies to the host (tlsa_state dane;
//     without validation, TLSA records exist);
//   - transport_failed when no TLS session came about;
//   - otherwise what package dane finds.
//
// The PKIX information is filled whenever a chain arrived.
func judge(e *endpointProbe, p *hostProbe, now time.Time, roots *x509.CertPool) {
	r := &e.res
	if len(r.Chain) > 0 {
		e.info = dane.Inspect(r.Chain, p.name, roots, now)
	}
	applicable := len(p.records) > 0
	if p.validating {
		applicable = p.tlsaState == datasets.TLSAStateDANE
	}
	switch {
	case p.validating && p.tlsaState == datasets.TLSAStateUnusable:
		e.status, e.reason = datasets.DANETLSALookupFailed, string(p.tlsa.dnssec.Reason)
		if e.reason == "" {
			e.reason = string(p.tlsa.dnssec.Status)
		}
	case !applicable:
		e.status = datasets.DANENotApplicable
	case r.Failure != "":
		e.status, e.reason = datasets.DANETransportFailed, string(r.Failure)
	default:
		e.v = dane.Verify(dane.Input{Records: p.records, Chain: r.Chain, BaseDomain: p.base, MXHost: p.name, Now: now})
		e.judged = true
		e.status, e.reason = datasets.DANEStatus(e.v.Status), string(e.v.Reason)
	}
}

// endpointRow is the endpoints row of endpoint e of host p.
func endpointRow(scanID string, p *hostProbe, e *endpointProbe) *datasets.Endpoint {
	row := &datasets.Endpoint{
		ScanID: scanID, Host: p.name, TLSABaseDomain: p.base,
		Address: e.addr.String(), Port: 25, SigAlgs: e.mode, TLSAState: p.tlsaState,
		Failure: e.failure, Error: e.errText,
		DANEStatus: e.status, DANEReason: e.reason,
		DANEMatchRecord: -1, DANEMatchUsage: -1, DANEDepth: -1, NearMissRecord: -1,
		ScannedAt: e.start.UTC(), DurationMS: e.duration.Milliseconds(),
	}
	if e.failure == "" {
		fillProbe(row, &e.res)
	}
	if len(e.res.Chain) > 0 {
		row.PKIXValid, row.PKIXReason = e.info.PKIXValid, e.info.PKIXReason
		if e.info.KeyType != "" {
			days := int64(e.info.DaysToExpiry)
			row.LeafDaysLeft = &days
			row.LeafKeyType, row.LeafKeyBits = e.info.KeyType, int32(e.info.KeyBits)
		}
	}
	if !e.judged {
		return row
	}
	v := &e.v
	if v.Match >= 0 {
		row.DANEMatchRecord, row.DANEMatchUsage, row.DANEDepth = int32(v.Match), int32(v.MatchUsage), int32(v.Depth)
	}
	row.NearMiss, row.NearMissRecord = string(v.NearMiss), int32(v.NearMissRecord)
	if v.NearMissDepth >= 0 && v.NearMiss != "" {
		row.NearMissParams = fmt.Sprintf("%d %d %d", v.NearMissUsage, v.NearMissSelector, v.NearMissMatchingType)
	}
	row.TLSAUnusable = make([]string, len(v.Records))
	for i, rr := range v.Records {
		row.TLSAUnusable[i] = string(rr.Unusable)
	}
	return row
}

// fillProbe copies what the probe saw into the row.
func fillProbe(e *datasets.Endpoint, r *starttls.Result) {
	e.Failure, e.Stage, e.Error = string(r.Failure), string(r.Stage), r.Err
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

// endpointVerdict is what the host verdict needs of one endpoint: its
// address, certificate type mode and DANE verdict.
type endpointVerdict struct {
	addr   netip.Addr
	mode   string
	status datasets.DANEStatus
	reason string
}

// rollUpHost rolls the endpoints of one host, in the host's order, up
// into the host's dane_status and dane_reason: pass when every endpoint
// passes, otherwise the status of the first endpoint that does not, and
// as reason its address (and certificate type mode) before its reason.
// A host without endpoints has no verdict (""). The scan and Merge both
// use it.
func rollUpHost(eps []endpointVerdict) (datasets.DANEStatus, string) {
	if len(eps) == 0 {
		return "", ""
	}
	for _, e := range eps {
		if e.status != datasets.DANEPass {
			reason := e.addr.String()
			if e.mode != starttls.SigAlgsAny {
				reason += " (" + e.mode + ")"
			}
			if e.reason != "" {
				reason += ": " + e.reason
			}
			return e.status, reason
		}
	}
	return datasets.DANEPass, ""
}

// hostVerdict sets the DANE status of host p from its endpoints
// (rollUpHost).
func hostVerdict(p *hostProbe) {
	eps := make([]endpointVerdict, len(p.endpoints))
	for i, e := range p.endpoints {
		eps[i] = endpointVerdict{addr: e.addr, mode: e.mode, status: e.status, reason: e.reason}
	}
	p.daneStatus, p.daneReason = rollUpHost(eps)
}
