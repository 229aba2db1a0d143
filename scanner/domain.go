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
	FailSkipped     = "skipped"
	FailOversized   = "oversized"
)

// Limits on what one RRset may put into a row.
const (
	maxRecords     = 100
	maxRecordBytes = 4096
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

// lookup makes one lookup and returns its answer and its columns, with the
// DNSSEC status when the scan validates.
func (s *scan) lookup(ctx context.Context, name string, qtype uint16) (lookup.Answer, datasets.RRset) {
	a, err := s.client.Lookup(ctx, name, qtype)
	s.stats.Queries.Add(int64(a.Attempts))
	row := rrset(&a, err)
	if s.validator != nil {
		res := s.validate(ctx, &a)
		row.DNSSEC, row.DNSSECReason = string(res.Status), string(res.Reason)
		for _, alg := range res.Algorithms {
			row.DNSSECAlgorithms = append(row.DNSSECAlgorithms, int32(alg))
		}
	}
	return a, row
}

// rrset turns a lookup's answer into its columns.
func rrset(a *lookup.Answer, err error) datasets.RRset {
	r := datasets.RRset{
		QName:     a.QName,
		Rcode:     a.Rcode(),
		AD:        a.AD(),
		TTL:       int64(a.TTL()),
		CNAMEs:    a.CNAMEs,
		Failure:   a.Failure,
		DNSSEC:    datasets.DNSSECNotValidated,
		Transport: a.Transport,
		Attempts:  int32(a.Attempts),
	}
	if err != nil {
		r.Error = err.Error()
	}
	for i, rr := range a.Records {
		if i == maxRecords {
			r.Failure = FailOversized
			r.Error = fmt.Sprintf("kept %d of %d records", maxRecords, len(a.Records))
			break
		}
		r.Records = append(r.Records, rdata(rr))
	}
	return r
}

// rdata is the presentation form of rr without owner, TTL, class and type,
// cut to maxRecordBytes.
func rdata(rr dns.RR) string {
	full := rr.String()
	s := strings.TrimPrefix(full, rr.Header().String())
	if len(s) > maxRecordBytes {
		s = s[:maxRecordBytes] + "...(cut)"
	}
	return s
}

// skipped is the RRset of a lookup not made, with the reason.
func skipped(qname, why string) datasets.RRset {
	return datasets.RRset{QName: qname, Failure: FailSkipped, Error: why, DNSSEC: datasets.DNSSECNotValidated}
}

func invalidRow(scanID string, e datasets.Entry, now time.Time) *datasets.Domain {
	return &datasets.Domain{
		ScanID:    scanID,
		InputFile: e.File,
		InputLine: e.Line,
		Input:     e.Raw,
		Rank:      e.Rank,
		Failure:   FailInvalidName,
		Error:     e.Err.Error(),
		MXKind:    KindUnknown,
		MX:        skipped("", "invalid name"),
		MTASTS:    skipped("", "invalid name"),
		TLSRPT:    skipped("", "invalid name"),
		ScannedAt: now,
	}
}

// resolverFailure reports whether a failure class says the resolver could
// not answer for the name (as opposed to an answer that denies it).
func resolverFailure(class string) bool {
	switch class {
	case "", lookup.FailNoData, lookup.FailNXDomain, FailOversized:
		return false
	}
	return true
}

// domain scans one valid, distinct domain and returns its row.
func (s *scan) domain(ctx context.Context, e datasets.Entry) *datasets.Domain {
	start := s.cfg.Now()
	d := &datasets.Domain{
		ScanID:    s.cfg.ScanID,
		InputFile: e.File,
		InputLine: e.Line,
		Input:     e.Raw,
		Rank:      e.Rank,
		Domain:    e.Domain,
		ScannedAt: start.UTC(),
	}
	mx, mxRow := s.lookup(ctx, e.Domain, dns.TypeMX)
	d.MX = mxRow
	var hosts []string
	switch {
	case len(mx.Records) > 0:
		hosts, d.MXKind = mxHosts(mx.Records)
	case mx.Failure == lookup.FailNoData:
		// RFC 5321 §5.1: no MX, so the domain (its canonical name) is the
		// implicit MX when it has an address.
		target := mx.Target()
		a, _ := s.client.Lookup(ctx, target, dns.TypeA)
		aaaa, _ := s.client.Lookup(ctx, target, dns.TypeAAAA)
		s.stats.Queries.Add(int64(a.Attempts + aaaa.Attempts))
		switch {
		case len(a.Records) > 0 || len(aaaa.Records) > 0:
			d.MXKind = KindImplicit
			hosts = []string{target}
		case resolverFailure(a.Failure):
			d.MXKind, d.Failure, d.Error = KindUnknown, a.Failure, "implicit MX: A lookup failed: "+a.Failure
		case resolverFailure(aaaa.Failure):
			d.MXKind, d.Failure, d.Error = KindUnknown, aaaa.Failure, "implicit MX: AAAA lookup failed: "+aaaa.Failure
		default:
			d.MXKind, d.Failure, d.Error = KindNone, FailNoMail, "no MX and no address records"
		}
	case mx.Failure == lookup.FailNXDomain:
		d.MXKind, d.Failure, d.Error = KindNone, lookup.FailNXDomain, "the domain does not exist"
	default:
		d.MXKind, d.Failure, d.Error = KindUnknown, mx.Failure, mxRow.Error
	}
	if len(hosts) > s.cfg.MaxMXHosts {
		d.Error = fmt.Sprintf("note: %d MX hosts, only the first %d probed", len(hosts), s.cfg.MaxMXHosts)
		hosts = hosts[:s.cfg.MaxMXHosts]
	}
	d.MXHosts = hosts
	d.MXHostCount = int32(len(hosts))
	interrupted := mx.Failure == lookup.FailCanceled
	if s.validator != nil && len(mx.Records) > 0 {
		d.MXSecure = mxRow.DNSSEC == datasets.DNSSECSecure
	}
	var firstMiss string
	probed := false
	for _, h := range hosts {
		sum := s.host(ctx, h)
		probed = probed || sum.daneStatus != ""
		if sum.daneStatus == datasets.DANEPass {
			d.MXHostsPassing++
		} else if firstMiss == "" {
			firstMiss = h + ": " + sum.daneStatus
			if sum.daneStatus == "" {
				firstMiss = h + ": not probed"
			}
			if sum.daneReason != "" {
				firstMiss += " " + sum.daneReason
			}
		}
		switch {
		case s.validator == nil && sum.hasTLSA:
			d.MXHostsWithTLSA++
		case s.validator != nil && sum.tlsaState == datasets.TLSAStateDANE:
			// RFC 7672 §2.2: only secure TLSA records reached through
			// secure address records make DANE apply.
			d.MXHostsWithTLSA++
		}
		if s.validator != nil && d.MXKind == KindImplicit {
			d.MXSecure = sum.addressesSecure
		}
		interrupted = interrupted || sum.interrupted
	}
	d.TLSAAllMX = len(hosts) > 0 && int(d.MXHostsWithTLSA) == len(hosts)
	if s.smtp != nil && probed {
		switch {
		case int(d.MXHostsPassing) == len(hosts):
			d.DANE = datasets.DANEAll
		case d.MXHostsPassing > 0:
			d.DANE, d.DANEReason = datasets.DANESome, firstMiss
		default:
			d.DANE, d.DANEReason = datasets.DANENone, firstMiss
		}
	}

	if d.Failure == lookup.FailNXDomain || resolverFailure(d.Failure) {
		why := "not queried: the MX lookup failed with " + d.Failure
		d.MTASTS = skipped("_mta-sts."+e.Domain, why)
		d.TLSRPT = skipped("_smtp._tls."+e.Domain, why)
	} else {
		var sts, rpt lookup.Answer
		sts, d.MTASTS = s.lookup(ctx, "_mta-sts."+e.Domain, dns.TypeTXT)
		rpt, d.TLSRPT = s.lookup(ctx, "_smtp._tls."+e.Domain, dns.TypeTXT)
		d.MTASTSPublished = versionRecords(sts.Records, "v=STSv1") == 1
		d.TLSRPTPublished = versionRecords(rpt.Records, "v=TLSRPTv1") == 1
		interrupted = interrupted || sts.Failure == lookup.FailCanceled || rpt.Failure == lookup.FailCanceled
	}
	if interrupted {
		d.Failure, d.Error = FailInterrupted, "the scan was stopped before this domain was finished"
	}
	d.DurationMS = s.cfg.Now().Sub(start).Milliseconds()
	return d
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
