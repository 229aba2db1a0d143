package scanner

import (
	"testing"
	"time"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/starttls"
)

// TestVerdictApplicability checks the rules that decide whether DANE is
// judged at all (RFC 7672 §2.2): only for a host whose tlsa_state is dane
// when validating, only for a host with TLSA records without validation;
// a probe failure where DANE applies is transport_failed.
func TestVerdictApplicability(t *testing.T) {
	recs := []string{"3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"}
	tests := []struct {
		name       string
		state      string
		records    []string
		validating bool
		failure    string
		want       string
		reason     string
	}{
		{"validating, no tlsa", datasets.TLSAStateNoTLSA, nil, true, "", datasets.DANENotApplicable, ""},
		{"validating, insecure tlsa ignored", datasets.TLSAStateNoTLSA, recs, true, "", datasets.DANENotApplicable, ""},
		{"validating, skipped", datasets.TLSAStateSkipped, nil, true, starttls.FailureSTARTTLSNotOffered, datasets.DANENotApplicable, ""},
		{"validating, dane, no starttls", datasets.TLSAStateDANE, recs, true, starttls.FailureSTARTTLSNotOffered, datasets.DANETransportFailed, starttls.FailureSTARTTLSNotOffered},
		{"not validating, tlsa, refused", "", recs, false, starttls.FailureConnectRefused, datasets.DANETransportFailed, starttls.FailureConnectRefused},
		{"not validating, no tlsa", "", nil, false, "", datasets.DANENotApplicable, ""},
		{"validating, dane, empty chain", datasets.TLSAStateDANE, recs, true, "", "fail", "no_chain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &datasets.MXHost{Host: "mx.example", TLSABaseDomain: "mx.example", TLSAState: tc.state}
			h.TLSA.Records = tc.records
			records, err := tlsaRecords(tc.records)
			if err != nil {
				t.Fatal(err)
			}
			e := &datasets.Endpoint{}
			verdict(e, &starttls.Result{Failure: tc.failure}, records, h, tc.validating, time.Now(), nil)
			if e.DANEStatus != tc.want || e.DANEReason != tc.reason {
				t.Errorf("verdict = %q %q, want %q %q", e.DANEStatus, e.DANEReason, tc.want, tc.reason)
			}
		})
	}
}

func TestTLSARecords(t *testing.T) {
	recs, err := tlsaRecords([]string{"3 1 1 ABCD", "2 0 2 ab cd", "x 1 1 00", "3 1"})
	if err == nil {
		t.Error("a record with bad parameters gave no error")
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4 (one per row entry, so indexes stay aligned)", len(recs))
	}
	if r := recs[0]; r.Usage != 3 || r.Selector != 1 || r.MatchingType != 1 || len(r.Data) != 2 || r.BadHex {
		t.Errorf("record 0 = %+v", r)
	}
	if r := recs[1]; r.Usage != 2 || r.MatchingType != 2 || len(r.Data) != 2 {
		t.Errorf("record 1 (hex split by a space) = %+v", r)
	}
	if !recs[2].BadHex || !recs[3].BadHex {
		t.Errorf("records 2 and 3 should be unusable: %+v %+v", recs[2], recs[3])
	}
}

func TestHostVerdict(t *testing.T) {
	pass := &datasets.Endpoint{Address: "192.0.2.1", SigAlgs: "any", DANEStatus: datasets.DANEPass}
	fail := &datasets.Endpoint{Address: "2001:db8::1", SigAlgs: "rsa", DANEStatus: "fail", DANEReason: "no_match"}
	h := &datasets.MXHost{}
	hostVerdict(h, []*datasets.Endpoint{pass, pass})
	if h.DANEStatus != datasets.DANEPass || h.Endpoints != 2 {
		t.Errorf("two passing endpoints: %q, %d", h.DANEStatus, h.Endpoints)
	}
	h = &datasets.MXHost{}
	hostVerdict(h, []*datasets.Endpoint{pass, fail})
	if h.DANEStatus != "fail" || h.DANEReason != "2001:db8::1 (rsa): no_match" {
		t.Errorf("one failing endpoint: %q %q", h.DANEStatus, h.DANEReason)
	}
}
