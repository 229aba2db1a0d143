package scanner

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/dane"
	"github.com/danescan/danescan/scanner/dnssec"
	"github.com/danescan/danescan/scanner/lookup"
	"github.com/danescan/danescan/scanner/starttls"
)

// tlsaAnswer is a TLSA answer for _25._tcp.mx.example with the given
// records (presentation form "u s m hex") and DNSSEC status.
func tlsaAnswer(t *testing.T, status dnssec.Status, reason dnssec.Reason, records ...string) answer {
	t.Helper()
	a := answer{Answer: lookup.Answer{QName: "_25._tcp.mx.example", QType: dns.TypeTLSA}}
	a.dnssec = dnssec.Result{Status: status, Reason: reason}
	for _, r := range records {
		rr, err := dns.NewRR("_25._tcp.mx.example. 3600 IN TLSA " + r)
		if err != nil {
			t.Fatalf("TLSA %q: %v", r, err)
		}
		a.Records = append(a.Records, rr)
	}
	if len(a.Records) == 0 {
		a.Failure = lookup.FailNoData
	}
	return a
}

// testHost is a host probe of mx.example with the given TLSA answer and
// state, its records decoded as probeHost does.
func testHost(validating bool, state datasets.TLSAState, tlsa answer) *hostProbe {
	p := &hostProbe{name: "mx.example", base: "mx.example", validating: validating, tlsaState: state, tlsa: tlsa}
	p.keepRecords()
	return p
}

// TestVerdictApplicability checks the rules that decide whether and how
// DANE is judged (RFC 7672 §2.2): only for a host whose tlsa_state is dane
// when validating, only for a host with TLSA records without validation; a
// bogus or indeterminate TLSA lookup is a failure of its own before any
// probe result; a probe failure where DANE applies is transport_failed.
func TestVerdictApplicability(t *testing.T) {
	rec := "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"
	tests := []struct {
		name       string
		state      datasets.TLSAState
		status     dnssec.Status
		reason     dnssec.Reason
		records    []string
		validating bool
		failure    starttls.Failure
		want       datasets.DANEStatus
		wantReason string
	}{
		{"validating, no tlsa", datasets.TLSAStateNoTLSA, dnssec.Secure, dnssec.ReasonNSECDenial, nil, true, "", datasets.DANENotApplicable, ""},
		{"validating, insecure tlsa ignored", datasets.TLSAStateNoTLSA, dnssec.Insecure, dnssec.ReasonNoDS, []string{rec}, true, "", datasets.DANENotApplicable, ""},
		{"validating, skipped behind insecure addresses, records recorded", datasets.TLSAStateSkipped, dnssec.Insecure, dnssec.ReasonNoDS, []string{rec}, true, starttls.FailureSTARTTLSNotOffered, datasets.DANENotApplicable, ""},
		{"validating, dane, no starttls", datasets.TLSAStateDANE, dnssec.Secure, "", []string{rec}, true, starttls.FailureSTARTTLSNotOffered, datasets.DANETransportFailed, string(starttls.FailureSTARTTLSNotOffered)},
		{"validating, bogus tlsa", datasets.TLSAStateUnusable, dnssec.Bogus, dnssec.ReasonSignatureExpired, []string{rec}, true, "", datasets.DANETLSALookupFailed, "signature_expired"},
		{"validating, indeterminate tlsa, probe failed too", datasets.TLSAStateUnusable, dnssec.Indeterminate, dnssec.ReasonLookupFailed, nil, true, starttls.FailureConnectRefused, datasets.DANETLSALookupFailed, "lookup_failed"},
		{"not validating, tlsa, refused", "", "", "", []string{rec}, false, starttls.FailureConnectRefused, datasets.DANETransportFailed, string(starttls.FailureConnectRefused)},
		{"not validating, no tlsa", "", "", "", nil, false, "", datasets.DANENotApplicable, ""},
		{"validating, dane, empty chain", datasets.TLSAStateDANE, dnssec.Secure, "", []string{rec}, true, "", datasets.DANEFail, string(dane.ReasonNoChain)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testHost(tc.validating, tc.state, tlsaAnswer(t, tc.status, tc.reason, tc.records...))
			e := &endpointProbe{addr: netip.MustParseAddr("192.0.2.1"), mode: starttls.SigAlgsAny, res: starttls.Result{Failure: tc.failure}}
			judge(e, p, time.Now(), nil)
			if e.status != tc.want || e.reason != tc.wantReason {
				t.Errorf("verdict = %q %q, want %q %q", e.status, e.reason, tc.want, tc.wantReason)
			}
			row := endpointRow("scan", p, e)
			if row.DANEStatus != tc.want || row.TLSAState != tc.state {
				t.Errorf("row dane_status %q tlsa_state %q, want %q %q", row.DANEStatus, row.TLSAState, tc.want, tc.state)
			}
		})
	}
}

// bigCert returns a self-signed certificate whose DER is at least size
// bytes (long subjectAltName names fill it).
func bigCert(t *testing.T, size int) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := 0; len(names)*62 < size+200; i++ {
		names = append(names, fmt.Sprintf("%02d-%s.mx.example", i, strings.Repeat("a", 40)))
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.example"},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(der) < size {
		t.Fatalf("certificate of %d bytes, want at least %d", len(der), size)
	}
	return der
}

// TestLargeTLSARecord is issue 10's first verdict fix: a "3 0 0" record of
// a 4 KiB certificate is longer than the row keeps (each record is cut
// after maxRecordBytes), and the verdict must come from the record as
// received, not from the row's copy. The row says that it cut.
func TestLargeTLSARecord(t *testing.T) {
	der := bigCert(t, 4092)
	p := testHost(true, datasets.TLSAStateDANE, tlsaAnswer(t, dnssec.Secure, "", "3 0 0 "+hex.EncodeToString(der)))
	e := &endpointProbe{addr: netip.MustParseAddr("192.0.2.1"), mode: starttls.SigAlgsAny, res: starttls.Result{Chain: [][]byte{der}}}
	judge(e, p, time.Now(), nil)
	if e.status != datasets.DANEPass {
		t.Errorf("verdict %q %q, want pass (the record as received matches the leaf)", e.status, e.reason)
	}
	row := hostRow("scan", p)
	if len(row.TLSA.Records) != 1 || !strings.HasSuffix(row.TLSA.Records[0], "...(cut)") || len(row.TLSA.Records[0]) > maxRecordBytes+len("...(cut)") {
		t.Errorf("row record of %d bytes, want one cut to %d bytes and marked", len(row.TLSA.Records[0]), maxRecordBytes)
	}
	if !strings.Contains(row.TLSA.Error, "cut after 4096 bytes") {
		t.Errorf("row error %q does not say the record was cut", row.TLSA.Error)
	}
	if got := endpointRow("scan", p, e); got.DANEMatchRecord != 0 || got.DANEMatchUsage != 3 {
		t.Errorf("endpoint row match record %d usage %d, want 0 and 3", got.DANEMatchRecord, got.DANEMatchUsage)
	}
}

func TestHostVerdict(t *testing.T) {
	pass := &endpointProbe{addr: netip.MustParseAddr("192.0.2.1"), mode: starttls.SigAlgsAny, status: datasets.DANEPass}
	fail := &endpointProbe{addr: netip.MustParseAddr("2001:db8::1"), mode: "rsa", status: datasets.DANEFail, reason: string(dane.ReasonNoMatch)}
	lookupFailed := &endpointProbe{addr: netip.MustParseAddr("192.0.2.2"), mode: starttls.SigAlgsAny, status: datasets.DANETLSALookupFailed, reason: "signature_expired"}
	tests := []struct {
		name       string
		eps        []*endpointProbe
		wantStatus datasets.DANEStatus
		reason     string
	}{
		{"two passing", []*endpointProbe{pass, pass}, datasets.DANEPass, ""},
		{"one failing", []*endpointProbe{pass, fail}, datasets.DANEFail, "2001:db8::1 (rsa): no_match"},
		{"tlsa lookup failed", []*endpointProbe{lookupFailed}, datasets.DANETLSALookupFailed, "192.0.2.2: signature_expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &hostProbe{endpoints: tc.eps}
			hostVerdict(p)
			if p.daneStatus != tc.wantStatus || p.daneReason != tc.reason {
				t.Errorf("host verdict %q %q, want %q %q", p.daneStatus, p.daneReason, tc.wantStatus, tc.reason)
			}
			if row := hostRow("scan", p); row.Endpoints != int32(len(tc.eps)) {
				t.Errorf("endpoints %d, want %d", row.Endpoints, len(tc.eps))
			}
		})
	}
}
