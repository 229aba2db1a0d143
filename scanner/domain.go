package scanner

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/dnssec"
	"github.com/danescan/danescan/scanner/lookup"
)

// Values of the domains table's mx_kind column.
const (
	KindMX          = "mx"
	KindNullMX      = "null_mx"
	KindMixedNullMX = "mixed_null_mx"
	KindImplicit    = "implicit"
	KindNone        = "none"
	KindUnknown     = "unknown"
)

// Domain and host failure classes beyond the lookup vocabulary.
const (
	FailInvalidName = "invalid_name"
	FailNoMail      = "no_mail"
	FailNoAddress   = "no_address"
	FailInterrupted = "interrupted"
)

// DNS failure classes that the scanner adds to those of package lookup in
// the <lookup>_failure columns.
const (
	// FailSkipped: the lookup was not made (the row's error says why).
	FailSkipped lookup.Failure = "skipped"
	// FailOversized: more records arrived than a row keeps.
	FailOversized lookup.Failure = "oversized"
)

// scan is the state shared by the workers of one Run.
type scan struct {
	cfg    *Config
	client *lookup.Client
	rows   chan<- rowMsg
	stats  *Stats
	hosts  *hostCache
	// validator is nil when the scan runs without DNSSEC validation.
	validator *dnssec.Validator
	// smtp is nil when the scan runs without SMTP probes.
	smtp *smtpPool
}

// skipped is the RRset of a lookup not made, with the reason.
func skipped(qname, why string) datasets.RRset {
	return datasets.RRset{QName: qname, Failure: string(FailSkipped), Error: why, DNSSEC: datasets.DNSSECNotValidated}
}

// invalidRow is the row of an input entry that is not a valid domain
// name (e.Err says why).
func invalidRow(scanID string, e datasets.Entry, now time.Time) *datasets.Domain {
	return unscannedRow(scanID, e, now, "", FailInvalidName, errText(e.Err), "invalid name")
}

// excludedRow is the row of an input domain on the exclusion list: it is
// never looked up.
func excludedRow(scanID string, e datasets.Entry, now time.Time) *datasets.Domain {
	return unscannedRow(scanID, e, now, e.Domain, FailExcluded, "excluded by the exclusion list: not looked up", "excluded")
}

// unscannedRow is the row of an input entry that is not looked up, with
// its failure class, the detail, and why its lookups were skipped.
func unscannedRow(scanID string, e datasets.Entry, now time.Time, domain, failure, detail, why string) *datasets.Domain {
	return &datasets.Domain{
		ScanID:    scanID,
		InputFile: e.File,
		InputLine: e.Line,
		Input:     e.Raw,
		Rank:      e.Rank,
		Domain:    domain,
		Failure:   failure,
		Error:     detail,
		MXKind:    KindUnknown,
		MX:        skipped("", why),
		MTASTS:    skipped("", why),
		TLSRPT:    skipped("", why),
		ScannedAt: now,
	}
}

// resolverFailure reports whether a failure class says the resolver could
// not answer for the name (as opposed to an answer that denies it).
func resolverFailure(class lookup.Failure) bool {
	switch class {
	case "", lookup.FailNoData, lookup.FailNXDomain, FailOversized:
		return false
	}
	return true
}

// domainProbe is what the scan learned of one domain, typed: its lookups
// and the decisions taken on them. domainRow turns it into the row.
type domainProbe struct {
	entry    datasets.Entry
	start    time.Time
	duration time.Duration
	mx       answer
	kind     string
	// failure and errText are the domain-level failure class and detail.
	failure, errText string
	hosts            []string
	mxSecure         bool
	withTLSA         int32
	allTLSA          bool
	passing          int32
	// dane and daneReason roll the hosts up; dane is empty when no host
	// was probed.
	dane            datasets.DANECoverage
	daneReason      string
	mtaSTS, tlsRPT  answer
	mtaSTSPublished bool
	tlsRPTPublished bool
}

// domain scans one valid, distinct domain and returns its row.
func (s *scan) domain(ctx context.Context, e datasets.Entry) *datasets.Domain {
	p := &domainProbe{entry: e, start: s.cfg.Now()}
	p.mx = s.lookup(ctx, e.Domain, dns.TypeMX)
	mx := &p.mx
	var implicit *addressAnswers
	// failed is the failure of the lookup that left the mail routing
	// unknown or denied it (the MX, or the implicit MX's addresses).
	var failed lookup.Failure
	switch {
	case len(mx.Records) > 0:
		p.hosts, p.kind = mxHosts(mx.Records)
	case mx.Failure == lookup.FailNoData:
		// RFC 5321 §5.1: no MX, so the domain (its canonical name) is the
		// implicit MX when it has an address. Its address answers are the
		// host's: the host probe reuses them.
		target := mx.Target()
		implicit = &addressAnswers{a: s.lookup(ctx, target, dns.TypeA), aaaa: s.lookup(ctx, target, dns.TypeAAAA)}
		a, aaaa := &implicit.a, &implicit.aaaa
		switch {
		case len(a.Records) > 0 || len(aaaa.Records) > 0:
			p.kind = KindImplicit
			p.hosts = []string{target}
		case resolverFailure(a.Failure):
			failed, p.kind, p.errText = a.Failure, KindUnknown, "implicit MX: A lookup failed: "+string(a.Failure)
		case resolverFailure(aaaa.Failure):
			failed, p.kind, p.errText = aaaa.Failure, KindUnknown, "implicit MX: AAAA lookup failed: "+string(aaaa.Failure)
		default:
			p.kind, p.failure, p.errText = KindNone, FailNoMail, "no MX and no address records"
		}
	case mx.Failure == lookup.FailNXDomain:
		failed, p.kind, p.errText = lookup.FailNXDomain, KindNone, "the domain does not exist"
	default:
		failed, p.kind, p.errText = mx.Failure, KindUnknown, errText(mx.err)
	}
	if failed != "" {
		p.failure = string(failed)
	}
	if len(p.hosts) > s.cfg.MaxMXHosts {
		p.errText = fmt.Sprintf("note: %d MX hosts, only the first %d probed", len(p.hosts), s.cfg.MaxMXHosts)
		p.hosts = p.hosts[:s.cfg.MaxMXHosts]
	}
	interrupted := mx.canceled() || (implicit != nil && (implicit.a.canceled() || implicit.aaaa.canceled()))
	if s.validator != nil && len(mx.Records) > 0 {
		p.mxSecure = mx.secure()
	}
	verdicts := make([]hostDANE, len(p.hosts))
	for i, h := range p.hosts {
		var pre *addressAnswers
		if p.kind == KindImplicit {
			pre = implicit
		}
		sum := s.host(ctx, h, pre)
		verdicts[i] = hostDANE{status: sum.daneStatus, reason: sum.daneReason}
		switch {
		case s.validator == nil && sum.hasTLSA:
			p.withTLSA++
		case s.validator != nil && sum.tlsaState == datasets.TLSAStateDANE:
			// RFC 7672 §2.2: only secure TLSA records reached through
			// secure address records make DANE apply.
			p.withTLSA++
		}
		if s.validator != nil && p.kind == KindImplicit {
			p.mxSecure = sum.addressesSecure
		}
		interrupted = interrupted || sum.interrupted
	}
	p.allTLSA = len(p.hosts) > 0 && int(p.withTLSA) == len(p.hosts)
	p.dane, p.daneReason, p.passing = rollUpDomain(p.hosts, verdicts)

	if failed != "" {
		why := "not queried: the MX lookup failed with " + string(failed)
		p.mtaSTS = skippedAnswer("_mta-sts."+e.Domain, dns.TypeTXT, why)
		p.tlsRPT = skippedAnswer("_smtp._tls."+e.Domain, dns.TypeTXT, why)
	} else {
		p.mtaSTS = s.lookup(ctx, "_mta-sts."+e.Domain, dns.TypeTXT)
		p.tlsRPT = s.lookup(ctx, "_smtp._tls."+e.Domain, dns.TypeTXT)
		p.mtaSTSPublished = versionRecords(p.mtaSTS.Records, "v=STSv1") == 1
		p.tlsRPTPublished = versionRecords(p.tlsRPT.Records, "v=TLSRPTv1") == 1
		interrupted = interrupted || p.mtaSTS.canceled() || p.tlsRPT.canceled()
	}
	if interrupted {
		p.failure, p.errText = FailInterrupted, "the scan was stopped before this domain was finished"
	}
	p.duration = s.cfg.Now().Sub(p.start)
	return domainRow(s.cfg.ScanID, p)
}

// hostDANE is what a domain's roll-up needs of one MX host: its
// dane_status and dane_reason (empty when the host was not probed).
type hostDANE struct {
	status datasets.DANEStatus
	reason string
}

// rollUpDomain rolls the verdicts of a domain's MX hosts (parallel to
// hosts, in preference order) up into its dane column, its dane_reason and
// mx_hosts_passing: all when every host passes, some when at least one
// does, none otherwise, with the first host that does not pass as the
// reason ("<host>: <status>[ <reason>]", "not probed" for a host without
// a verdict); dane is empty when no host has a verdict (no SMTP probes,
// no host with an address). The scan and Merge both use it.
func rollUpDomain(hosts []string, verdicts []hostDANE) (dane datasets.DANECoverage, reason string, passing int32) {
	var firstMiss string
	probed := false
	for i, h := range hosts {
		v := verdicts[i]
		probed = probed || v.status != ""
		if v.status == datasets.DANEPass {
			passing++
		} else if firstMiss == "" {
			firstMiss = h + ": " + string(v.status)
			if v.status == "" {
				firstMiss = h + ": not probed"
			}
			if v.reason != "" {
				firstMiss += " " + v.reason
			}
		}
	}
	switch {
	case !probed:
		return "", "", passing
	case int(passing) == len(hosts):
		return datasets.DANEAll, "", passing
	case passing > 0:
		return datasets.DANESome, firstMiss, passing
	}
	return datasets.DANENone, firstMiss, passing
}

// domainRow is the domains row of a scanned domain.
func domainRow(scanID string, p *domainProbe) *datasets.Domain {
	return &datasets.Domain{
		ScanID:          scanID,
		InputFile:       p.entry.File,
		InputLine:       p.entry.Line,
		Input:           p.entry.Raw,
		Rank:            p.entry.Rank,
		Domain:          p.entry.Domain,
		Failure:         p.failure,
		Error:           p.errText,
		MXKind:          p.kind,
		MX:              rrsetRow(&p.mx),
		MXHosts:         p.hosts,
		MXHostCount:     int32(len(p.hosts)),
		MXSecure:        p.mxSecure,
		MXHostsWithTLSA: p.withTLSA,
		TLSAAllMX:       p.allTLSA,
		MTASTS:          rrsetRow(&p.mtaSTS),
		MTASTSPublished: p.mtaSTSPublished,
		TLSRPT:          rrsetRow(&p.tlsRPT),
		TLSRPTPublished: p.tlsRPTPublished,
		DANE:            p.dane,
		DANEReason:      p.daneReason,
		MXHostsPassing:  p.passing,
		ScannedAt:       p.start.UTC(),
		DurationMS:      p.duration.Milliseconds(),
	}
}

// mxHosts returns the MX targets in order of preference (stable for equal
// preferences), deduplicated, and the mx_kind. RFC 7505: a lone "MX 0 ." is
// a null MX; a "." beside other records is ignored and flagged.
func mxHosts(rrs []dns.RR) ([]string, string) {
	type pref struct {
		p    uint16
		host string
	}
	var all []pref
	null := false
	for _, rr := range rrs {
		mx, ok := rr.(*dns.MX)
		if !ok {
			continue
		}
		h := strings.TrimSuffix(strings.ToLower(mx.Mx), ".")
		if h == "" {
			null = true
			continue
		}
		all = append(all, pref{mx.Preference, h})
	}
	if null && len(all) == 0 {
		return nil, KindNullMX
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].p < all[j].p })
	seen := make(map[string]bool, len(all))
	hosts := make([]string, 0, len(all))
	for _, p := range all {
		if !seen[p.host] {
			seen[p.host] = true
			hosts = append(hosts, p.host)
		}
	}
	if null {
		return hosts, KindMixedNullMX
	}
	return hosts, KindMX
}

// versionRecords counts TXT records whose text starts with the version tag
// followed by ';', whitespace or the end (RFC 8461 §3.1, RFC 8460 §3).
func versionRecords(rrs []dns.RR, tag string) int {
	n := 0
	for _, rr := range rrs {
		t, ok := rr.(*dns.TXT)
		if !ok {
			continue
		}
		text := strings.Join(t.Txt, "")
		if !strings.HasPrefix(text, tag) {
			continue
		}
		rest := text[len(tag):]
		if rest == "" || rest[0] == ';' || rest[0] == ' ' || rest[0] == '\t' {
			n++
		}
	}
	return n
}
