package scanner

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/dnssec"
	"github.com/danescan/danescan/scanner/lookup"
)

// Limits on what one RRset may put into a row. They bound the row, not
// the decisions: verdicts use the records as received.
const (
	maxRecords     = 100
	maxRecordBytes = 4096
)

// answer is one lookup as the scanner decides on it: the typed answer with
// its records, the lookup's error, and the DNSSEC result when the scan
// validates. It becomes columns only in rrsetRow.
type answer struct {
	lookup.Answer
	// err is the lookup's error (nil when records arrived).
	err error
	// dnssec is the validation result; its Status is empty when the scan
	// does not validate or the lookup was not made.
	dnssec dnssec.Result
	// skip is why the lookup was not made; empty when it was.
	skip string
}

// secure reports whether the answer validated as secure.
func (a *answer) secure() bool { return a.dnssec.Status == dnssec.Secure }

// canceled reports whether the lookup ended because the scan's work was
// canceled.
func (a *answer) canceled() bool { return a.Failure == lookup.FailCanceled }

// skippedAnswer is the answer of a lookup not made, with the reason.
func skippedAnswer(qname string, qtype uint16, why string) answer {
	return answer{Answer: lookup.Answer{QName: qname, QType: qtype, Failure: FailSkipped}, skip: why}
}

// lookup makes one lookup and, when the scan validates, validates it.
func (s *scan) lookup(ctx context.Context, name string, qtype uint16) answer {
	a, err := s.client.Lookup(ctx, name, qtype)
	s.stats.Queries.Add(int64(a.Attempts))
	out := answer{Answer: a, err: err}
	if s.validator != nil {
		out.dnssec = s.validate(ctx, &out.Answer)
	}
	return out
}

// rrsetRow turns an answer into its columns: the only place where a
// lookup becomes strings. At most maxRecords records are kept (failure
// oversized past that) and each is cut after maxRecordBytes; the row's
// error says when either happened.
func rrsetRow(a *answer) datasets.RRset {
	r := datasets.RRset{
		QName:     a.QName,
		Rcode:     a.Rcode(),
		AD:        a.AD(),
		TTL:       int64(a.TTL()),
		CNAMEs:    a.CNAMEs,
		Failure:   string(a.Failure),
		DNSSEC:    datasets.DNSSECNotValidated,
		Transport: a.Transport,
		Attempts:  int32(a.Attempts),
	}
	switch {
	case a.skip != "":
		r.Error = a.skip
	case a.err != nil:
		r.Error = a.err.Error()
	}
	if a.dnssec.Status != "" {
		r.DNSSEC, r.DNSSECReason = string(a.dnssec.Status), string(a.dnssec.Reason)
		for _, alg := range a.dnssec.Algorithms {
			r.DNSSECAlgorithms = append(r.DNSSECAlgorithms, int32(alg))
		}
	}
	cut := 0
	for i, rr := range a.Records {
		if i == maxRecords {
			r.Failure = string(FailOversized)
			r.Error = fmt.Sprintf("kept %d of %d records", maxRecords, len(a.Records))
			break
		}
		text, whole := rdata(rr)
		if !whole {
			cut++
		}
		r.Records = append(r.Records, text)
	}
	if cut > 0 {
		note := fmt.Sprintf("%d record(s) cut after %d bytes in this row (ending in ...(cut)); verdicts used them whole", cut, maxRecordBytes)
		if r.Error != "" {
			note = r.Error + "; " + note
		}
		r.Error = note
	}
	return r
}

// rdata is the presentation form of rr without owner, TTL, class and type,
// cut to maxRecordBytes; whole is false when it was cut.
func rdata(rr dns.RR) (text string, whole bool) {
	full := rr.String()
	s := strings.TrimPrefix(full, rr.Header().String())
	if len(s) > maxRecordBytes {
		return s[:maxRecordBytes] + "...(cut)", false
	}
	return s, true
}
