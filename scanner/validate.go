package scanner

import (
	"context"
	"errors"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/dnssec"
	"github.com/danescan/danescan/scanner/lookup"
)

// AnchorsIANARoot is the manifest's label for the built-in IANA root trust
// anchors.
const AnchorsIANARoot = "iana-root"

// newValidator returns the validator of one Run: it fetches DS and DNSKEY
// RRsets through client (which sets CD, so that bogus data still arrives)
// and counts the queries in stats.
func newValidator(cfg *Config, client *lookup.Client, stats *Stats) *dnssec.Validator {
	return &dnssec.Validator{
		Anchors:  cfg.TrustAnchors,
		Now:      cfg.Now,
		Counters: &stats.DNSSEC,
		Fetch: func(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
			a, err := client.Lookup(ctx, name, qtype)
			stats.Queries.Add(int64(a.Attempts))
			if !answered(&a) {
				if err == nil {
					err = errors.New("no usable response")
				}
				return nil, err
			}
			return a.Msg, nil
		},
	}
}

// answered reports whether a lookup ended with a response that can be
// validated: one arrived, complete, and it was not read past as a
// mismatch. A response with an error rcode counts; the validator classifies
// it.
func answered(a *lookup.Answer) bool {
	if a.Msg == nil || a.Msg.Truncated {
		return false
	}
	switch a.Failure {
	case lookup.FailTimeout, lookup.FailNetwork, lookup.FailMismatch, lookup.FailMalformed,
		lookup.FailTruncatedTCPFailed, lookup.FailCanceled:
		return false
	}
	return true
}

// validate returns the DNSSEC status of a lookup's answer. The final
// response is validated from the name it asked for; when the lookup had to
// ask again for a CNAME target (the resolver stopped at a CNAME), the CNAME
// links answered before are fetched and validated one by one, and the
// weakest link decides.
func (s *scan) validate(ctx context.Context, a *lookup.Answer) dnssec.Result {
	if !answered(a) {
		detail := "no usable response"
		if a.Failure != "" {
			detail += ": " + string(a.Failure)
		}
		return dnssec.Result{Status: dnssec.Indeterminate, Reason: dnssec.ReasonLookupFailed, Detail: detail}
	}
	asked := a.QName
	if len(a.Msg.Question) == 1 {
		asked = lookupName(a.Msg.Question[0].Name)
	}
	res := s.validator.Validate(ctx, asked, a.QType, a.Msg)
	// The links before the final question, if any: QName, CNAMEs... up to
	// the name the final response was asked for.
	chain := append([]string{a.QName}, a.CNAMEs...)
	for _, name := range chain {
		if name == asked {
			break
		}
		c, _ := s.client.Lookup(ctx, name, dns.TypeCNAME)
		s.stats.Queries.Add(int64(c.Attempts))
		var r dnssec.Result
		if answered(&c) {
			r = s.validator.Validate(ctx, name, dns.TypeCNAME, c.Msg)
		} else {
			r = dnssec.Result{Status: dnssec.Indeterminate, Reason: dnssec.ReasonLookupFailed, Detail: "CNAME " + name + ": no usable response"}
		}
		if r.Status.Rank() > res.Status.Rank() {
			res = r
		}
	}
	return res
}

// lookupName is a name as lookup reports it: lowercase, no trailing dot.
func lookupName(name string) string {
	n := dns.CanonicalName(name)
	if n == "." {
		return n
	}
	return n[:len(n)-1]
}

// addressStatus returns the weakest DNSSEC status (dnssec.Status.Rank) of
// the address answers that the host's addresses came from (those with
// records), and whether they are all secure (RFC 7672 §2.2). With no
// address it returns "" and false.
func addressStatus(answers ...*answer) (dnssec.Status, bool) {
	var worst dnssec.Status
	for _, a := range answers {
		if len(a.Records) == 0 {
			continue
		}
		if worst == "" || a.dnssec.Status.Rank() > worst.Rank() {
			worst = a.dnssec.Status
		}
	}
	return worst, worst == dnssec.Secure
}

// tlsaState classifies a validated TLSA lookup for a DANE sender (RFC 7672
// §2.2): secure records are dane; a secure denial or an insecure RRset is
// no_tlsa (senders ignore insecure TLSA records); anything bogus or
// indeterminate is unusable, and a lookup that failed at the resolver is
// indeterminate.
func tlsaState(a *answer) datasets.TLSAState {
	switch a.dnssec.Status {
	case dnssec.Secure:
		if len(a.Records) > 0 {
			return datasets.TLSAStateDANE
		}
		return datasets.TLSAStateNoTLSA
	case dnssec.Insecure:
		return datasets.TLSAStateNoTLSA
	}
	return datasets.TLSAStateUnusable
}
