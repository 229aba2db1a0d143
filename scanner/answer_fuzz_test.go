package scanner

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/scanner/lookup"
)

// FuzzRRsetRow turns the answer section of arbitrary DNS messages into
// the columns of a row, the MX hosts and the policy record counts, as the
// scanner does with a lookup's records. A row keeps at most maxRecords
// records (failure oversized past that), each valid UTF-8 (the dataset's
// string columns) and cut after maxRecordBytes; the MX hosts are distinct,
// lowercase, without the trailing dot, and a null MX has none. Seeds are
// below.
func FuzzRRsetRow(f *testing.F) {
	for _, records := range [][]string{
		{"example.com. 300 IN MX 10 mx.example.com.", "example.com. 300 IN MX 5 MX.example.com.", "example.com. 300 IN MX 0 ."},
		{"example.com. 300 IN MX 0 ."},
		{"_mta-sts.example.com. 300 IN TXT \"v=STSv1; id=1\" \"\"", "_mta-sts.example.com. 300 IN TXT \"v=STSv1x\"", "_mta-sts.example.com. 300 IN TXT \"\\255\\000 v=\""},
		{"_25._tcp.mx.example.com. 300 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		{"example.com. 300 IN TYPE65534 \\# 3 010203", "example.com. 300 IN CAA 0 issue \"ca.example\""},
	} {
		m := new(dns.Msg)
		m.SetQuestion("example.com.", dns.TypeMX)
		for _, s := range records {
			rr, err := dns.NewRR(s)
			if err != nil {
				f.Fatal(err)
			}
			m.Answer = append(m.Answer, rr)
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := new(dns.Msg)
		if m.Unpack(data) != nil {
			return
		}
		a := answer{Answer: lookup.Answer{QName: "example.com", QType: dns.TypeMX, Msg: m, Records: m.Answer, Transport: "udp"}}
		r := rrsetRow(&a)
		if len(r.Records) > maxRecords || (r.Failure == string(FailOversized)) != (len(m.Answer) > maxRecords) {
			t.Fatalf("%d records of %d kept, failure %q", len(r.Records), len(m.Answer), r.Failure)
		}
		for _, s := range r.Records {
			if !utf8.ValidString(s) || len(s) > maxRecordBytes+len("...(cut)") {
				t.Fatalf("record text %q (%d bytes)", s, len(s))
			}
		}
		if !utf8.ValidString(r.Rcode) || !utf8.ValidString(r.Error) {
			t.Fatalf("row %+v", r)
		}
		hosts, kind := mxHosts(m.Answer)
		seen := map[string]bool{}
		for _, h := range hosts {
			if seen[h] || h == "" || h != strings.ToLower(h) || strings.HasSuffix(h, ".") || !utf8.ValidString(h) {
				t.Fatalf("MX hosts %q", hosts)
			}
			seen[h] = true
		}
		switch kind {
		case KindMX, KindMixedNullMX:
		case KindNullMX:
			if len(hosts) > 0 {
				t.Fatalf("null MX with hosts %q", hosts)
			}
		default:
			t.Fatalf("mx_kind %q", kind)
		}
		txt := 0
		for _, rr := range m.Answer {
			if _, ok := rr.(*dns.TXT); ok {
				txt++
			}
		}
		for _, tag := range []string{"v=STSv1", "v=TLSRPTv1"} {
			if n := versionRecords(m.Answer, tag); n < 0 || n > txt {
				t.Fatalf("%d %s records of %d TXT", n, tag, txt)
			}
		}
	})
}
