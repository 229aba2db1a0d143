package dnssec

import (
	"bytes"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzParseAnchors reads arbitrary trust anchor files. What ParseAnchors
// accepts must be DS records or zone-key DNSKEY records with absolute
// owners, no more than the lines of the file, that go on the wire and read
// back the same (in wire format: the text form of a digest changes case)
// from their presentation format; what it rejects gets an error that says
// it is about trust anchors. Seeds are below and in
// testdata/fuzz/FuzzParseAnchors.
func FuzzParseAnchors(f *testing.F) {
	for _, s := range []string{
		"; lab root\n$TTL 3600\n. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n",
		ksk2024 + " ; KSK-2024\n",
		"example. 3600 IN DNSKEY 257 3 13 (\n mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ== ) ; ECDSA\n",
		"lab IN DS 1 13 2 00\n",
		". IN DNSKEY 257 3 8 (\nAwEAAa\n",
		"$INCLUDE /etc/passwd\n",
		"\\046. CH DS 0 0 0 00 )\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseAnchors(bytes.NewReader(data))
		if err != nil {
			if got != nil || !strings.HasPrefix(err.Error(), "trust anchors: ") {
				t.Fatalf("error %q with %d anchors", err, len(got))
			}
			return
		}
		if len(got) == 0 || len(got) > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d anchors from %d bytes", len(got), len(data))
		}
		var text strings.Builder
		for _, rr := range got {
			switch a := rr.(type) {
			case *dns.DS:
			case *dns.DNSKEY:
				if a.Flags&dns.ZONE == 0 || a.Protocol != 3 {
					t.Fatalf("DNSKEY that is not a zone key: %v", a)
				}
			default:
				t.Fatalf("anchor of type %T: %v", rr, rr)
			}
			if !dns.IsFqdn(rr.Header().Name) {
				t.Fatalf("relative owner: %v", rr)
			}
			text.WriteString(rr.String() + "\n")
		}
		again, err := ParseAnchors(strings.NewReader(text.String()))
		if err != nil {
			t.Fatalf("anchors do not read back from %q: %v", text.String(), err)
		}
		if len(again) != len(got) {
			t.Fatalf("%d anchors read back as %d", len(got), len(again))
		}
		for i := range got {
			if a, b := wire(t, got[i]), wire(t, again[i]); !bytes.Equal(a, b) {
				t.Fatalf("anchor %v read back as %v", got[i], again[i])
			}
		}
	})
}

// wire returns rr in wire format, failing when it cannot be packed.
func wire(t *testing.T, rr dns.RR) []byte {
	t.Helper()
	b := make([]byte, dns.MaxMsgSize)
	n, err := dns.PackRR(rr, b, 0, nil, false)
	if err != nil {
		t.Fatalf("anchor %v does not pack: %v", rr, err)
	}
	return b[:n]
}
