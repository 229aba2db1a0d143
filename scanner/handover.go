package scanner

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/dane"
	"github.com/danescan/danescan/scanner/dnssec"
)

// A scan of many machines splits its work twice, so that the politeness
// rules per address (one connection at a time, Config.AddressInterval
// between two) hold for the whole scan and a shared MX host is probed once
// per scan, as in one process:
//
//  1. DNS by domain: Run with Config.Shard and Config.SMTPHandover looks up
//     the domains of its shard and their MX hosts as usual, but connects to
//     nothing; for every endpoint it would have probed it writes a row of
//     the handover table (handOver) with what the verdict needs, typed:
//     the TLSA records in wire form, the tlsa_state, whether DNSSEC was
//     validated, the decisions taken before connecting, the endpoint's
//     place in the host's order.
//  2. SMTP by address: Probe reads the handover of every DNS shard, keeps
//     the endpoints whose address belongs to its shard (datasets.ShardOf of
//     the address), probes each distinct (address, TLSA base domain, mode)
//     once with the politeness of one scan, judges every endpoint against
//     its records and writes the endpoints rows.
//  3. Merge combines the DNS shard's rows with the endpoints rows of every
//     probe shard, rolling them up into the host and domain verdicts with
//     the functions the scan uses (rollUpHost, rollUpDomain).

// handoverSink is a sink that takes handover rows (*datasets.Writer made
// with CreateOptions.Handover).
type handoverSink interface {
	WriteHandover(*datasets.Handover) error
}

// writeHandover writes h to out.
func writeHandover(out sink, h *datasets.Handover) error {
	hs, ok := out.(handoverSink)
	if !ok {
		return errors.New("write handover: the output takes no handover rows")
	}
	return hs.WriteHandover(h)
}

// handOver returns the handover rows of host p: one per endpoint that
// probeEndpoints would probe, in the host's order, with the decisions
// taken before any connection (endpointsOf).
func (s *scan) handOver(p *hostProbe) []*datasets.Handover {
	eps := s.endpointsOf(p)
	wire := tlsaWire(p.tlsa.Records)
	rows := make([]*datasets.Handover, len(eps))
	for i, e := range eps {
		rows[i] = &datasets.Handover{
			ScanID:         s.cfg.ScanID,
			Host:           p.name,
			TLSABaseDomain: p.base,
			Address:        e.addr.String(),
			SigAlgs:        e.mode,
			Position:       int32(i),
			Endpoints:      int32(len(eps)),
			Validating:     p.validating,
			TLSAState:      p.tlsaState,
			TLSADNSSEC:     string(p.tlsa.dnssec.Status),
			TLSADNSSECWhy:  string(p.tlsa.dnssec.Reason),
			TLSAWire:       wire,
			Failure:        e.failure,
			Error:          e.errText,
		}
	}
	return rows
}

// tlsaWire returns the TLSA records of rrs in wire form, in order (the
// order of keepRecords and of the row's tlsa_records). A record that
// cannot be packed (never one that arrived over the wire) is left empty,
// which decoding refuses.
func tlsaWire(rrs []dns.RR) [][]byte {
	var out [][]byte
	for _, rr := range rrs {
		t, ok := rr.(*dns.TLSA)
		if !ok {
			continue
		}
		buf := make([]byte, dns.Len(t))
		n, err := dns.PackRR(t, buf, 0, nil, false)
		if err != nil {
			out = append(out, nil)
			continue
		}
		out = append(out, buf[:n])
	}
	return out
}

// fromHandover returns the host and the endpoint that a handover row
// describes, as the scan had them when it wrote the row: the host's name,
// TLSA base domain, DNSSEC decisions and TLSA records decoded from wire
// form; the endpoint's address, mode and the decision taken before
// connecting. It returns an error for a row that does not decode.
func fromHandover(h *datasets.Handover) (*hostProbe, *endpointProbe, error) {
	addr, err := netip.ParseAddr(h.Address)
	if err != nil {
		return nil, nil, fmt.Errorf("handover row of %s: address: %w", h.Host, err)
	}
	p := &hostProbe{
		name:       h.Host,
		base:       h.TLSABaseDomain,
		validating: h.Validating,
		tlsaState:  h.TLSAState,
	}
	p.tlsa.dnssec = dnssec.Result{Status: dnssec.Status(h.TLSADNSSEC), Reason: dnssec.Reason(h.TLSADNSSECWhy)}
	for i, b := range h.TLSAWire {
		rr, _, err := dns.UnpackRR(b, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("handover row of %s: TLSA record %d: %w", h.Host, i, err)
		}
		t, ok := rr.(*dns.TLSA)
		if !ok {
			return nil, nil, fmt.Errorf("handover row of %s: TLSA record %d is not a TLSA record", h.Host, i)
		}
		p.tlsa.Records = append(p.tlsa.Records, t)
		p.records = append(p.records, dane.FromTLSA(t))
	}
	e := &endpointProbe{addr: addr, mode: h.SigAlgs, failure: h.Failure, errText: h.Error}
	if e.failure != "" {
		e.status = datasets.DANENotProbed
	}
	return p, e, nil
}
