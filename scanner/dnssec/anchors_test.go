package dnssec

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// The root KSKs as published with their digests in IANA's root-anchors.xml.
const (
	ksk2017 = ". IN DNSKEY 257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU="
	ksk2024 = ". IN DNSKEY 257 3 8 AwEAAa96jeuknZlaeSrvyAJj6ZHv28hhOKkx3rLGXVaC6rXTsDc449/cidltpkyGwCJNnOAlFNKF2jBosZBU5eeHspaQWOmOElZsjICMQMC3aeHbGiShvZsx4wMYSjH8e7Vrhbu6irwCzVBApESjbUdpWWmEnhathWu1jo+siFUiRAAxm9qyJNg/wOZqqzL/dL/q8PkcRU5oUKEpUge71M3ej2/7CPqpdVwuMoTvoB+ZOT4YeGyxMvHmbrxlFzGOHOijtzN+u1TQNatX2XBuzZNQ1K+s2CXkPIZo7s6JgZyvaBevYtxPvYLw4z9mR7K2vaF18UYH9Z9GNUUeayffKC73PYc="
)

func TestRootAnchorsMatchPublishedKeys(t *testing.T) {
	var keys []*dns.DNSKEY
	for _, s := range []string{ksk2017, ksk2024} {
		keys = append(keys, rr(t, s).(*dns.DNSKEY))
	}
	anchors := RootAnchors()
	if len(anchors) != 2 {
		t.Fatalf("RootAnchors() has %d records, want 2", len(anchors))
	}
	for i, a := range anchors {
		ds := a.(*dns.DS)
		want := keys[i].ToDS(dns.SHA256)
		if ds.KeyTag != want.KeyTag || !strings.EqualFold(ds.Digest, want.Digest) || ds.Algorithm != want.Algorithm {
			t.Errorf("anchor %d = %s, want %s", i, ds, want)
		}
	}
	if anchors[0].(*dns.DS).KeyTag != 20326 || anchors[1].(*dns.DS).KeyTag != 38696 {
		t.Errorf("key tags %d, %d; want 20326, 38696", anchors[0].(*dns.DS).KeyTag, anchors[1].(*dns.DS).KeyTag)
	}
}

func TestParseAnchors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // record types in order
		wantErr string   // substring of the error
	}{
		{
			name: "DS and DNSKEY",
			in: "; lab root\n$TTL 3600\n. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n\n" +
				ksk2024 + " ; KSK-2024\n",
			want: []string{"DS", "DNSKEY"},
		},
		{
			name: "multi-line DNSKEY",
			in:   ". 172800 IN DNSKEY 257 3 8 (\n AwEAAa96jeuknZlaeSrvyAJj6ZHv28hhOKkx3rLGXVaC6rXTsDc449/cidltpkyGwCJNnOAlFNKF2jBosZBU5eeHspaQWOmOElZsjICMQMC3aeHbGiShvZsx4wMYSjH8e7Vrhbu6irwCzVBApESjbUdpWWmEnhathWu1jo+siFUiRAAxm9qyJNg/wOZqqzL/dL/q8PkcRU5oUKEpUge71M3ej2/7CPqpdVwuMoTvoB+ZOT4YeGyxMvHmbrxlFzGOHOijtzN+u1TQNatX2XBuzZNQ1K+s2CXkPIZo7s6JgZyvaBevYtxPvYLw4z9mR7K2vaF18UYH9Z9GNUUeayffKC73PYc=\n ) ; KSK\n",
			want: []string{"DNSKEY"},
		},
		{name: "empty", in: "; nothing\n", wantErr: "no DS or DNSKEY"},
		{name: "other type", in: ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\nexample. IN A 192.0.2.1\n", wantErr: "line 2: A record is not a trust anchor"},
		{name: "syntax error", in: "\n\n. IN DS twenty 8 2 00\n", wantErr: "line 3:"},
		{name: "relative owner", in: "lab IN DS 1 13 2 00\n", wantErr: "line 1: owner \"lab\" is not absolute"},
		{name: "unclosed", in: ". IN DNSKEY 257 3 8 (\nAwEAAa\n", wantErr: "line 1: unclosed"},
		{name: "not a zone key", in: ". IN DNSKEY 1 3 8 AwEAAa96jeuknZlaeSrvyAJj6ZHv28hhOKkx3rLGXVaC6rXTsDc449/cidltpkyGwCJNnOAlFNKF2jBosZBU5eeHspaQWOmOElZsjICMQMC3aeHbGiShvZsx4wMYSjH8e7Vrhbu6irwCzVBApESjbUdpWWmEnhathWu1jo+siFUiRAAxm9qyJNg/wOZqqzL/dL/q8PkcRU5oUKEpUge71M3ej2/7CPqpdVwuMoTvoB+ZOT4YeGyxMvHmbrxlFzGOHOijtzN+u1TQNatX2XBuzZNQ1K+s2CXkPIZo7s6JgZyvaBevYtxPvYLw4z9mR7K2vaF18UYH9Z9GNUUeayffKC73PYc=\n", wantErr: "line 1: DNSKEY"},
		{name: "directive", in: "$INCLUDE /etc/passwd\n", wantErr: "line 1: directive"},
		// Found by FuzzParseAnchors: anchors that match no key were accepted.
		{name: "digest not hex", in: ". IN DS 20326 8 2 E06D44ZZ\n", wantErr: "line 1: DS record: encoding/hex"},
		{name: "digest of odd length", in: "\n. IN DS 20326 8 2 E06\n", wantErr: "line 2: DS record: encoding/hex"},
		{name: "no digest", in: ". IN DS 20326 8 2\n", wantErr: "line 1: DS 20326 without a digest"},
		{name: "escaped space in owner", in: "a\\ b. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n", want: []string{"DS"}},
		{name: "escaped parenthesis and semicolon in owner", in: "a\\(b\\;c. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n", want: []string{"DS"}},
		{name: "key not base64", in: ". IN DNSKEY 257 3 8 AwEAAa!!\n", wantErr: "line 1: DNSKEY record: illegal base64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAnchors(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseAnchors error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAnchors: %v", err)
			}
			var types []string
			for _, r := range got {
				types = append(types, dns.TypeToString[r.Header().Rrtype])
			}
			if strings.Join(types, " ") != strings.Join(tc.want, " ") {
				t.Errorf("ParseAnchors types = %v, want %v", types, tc.want)
			}
		})
	}
}
