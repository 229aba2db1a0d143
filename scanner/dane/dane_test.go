package dane

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// summary is the part of a Verdict the table tests pin.
type summary struct {
	Status         Status
	Reason         Reason
	Match          int
	MatchUsage     uint8
	Depth          int
	NearMiss       NearMiss
	NearMissRecord int
	NearMissDepth  int
	NearMissFix    string // "u s m" when NearMissDepth >= 0
}

func summarize(v Verdict) summary {
	s := summary{
		Status: v.Status, Reason: v.Reason, Match: v.Match, MatchUsage: v.MatchUsage, Depth: v.Depth,
		NearMiss: v.NearMiss, NearMissRecord: v.NearMissRecord, NearMissDepth: v.NearMissDepth,
	}
	if v.NearMissDepth >= 0 {
		s.NearMissFix = fmt.Sprintf("%d %d %d", v.NearMissUsage, v.NearMissSelector, v.NearMissMatchingType)
	}
	return s
}

// diff returns "" if want and got are equal, else a (-want +got) listing of
// the fields that differ. T must be a struct of comparable fields.
func diff[T comparable](want, got T) string {
	if want == got {
		return ""
	}
	w, g := reflect.ValueOf(want), reflect.ValueOf(got)
	var b strings.Builder
	for i := range w.NumField() {
		if wf, gf := w.Field(i).Interface(), g.Field(i).Interface(); wf != gf {
			name := w.Type().Field(i).Name
			fmt.Fprintf(&b, "-%s: %#v\n+%s: %#v\n", name, wf, name, gf)
		}
	}
	return b.String()
}

// Verdict shapes used by the table.
func pass(match int, usage uint8, depth int) summary {
	return summary{Status: StatusPass, Match: match, MatchUsage: usage, Depth: depth, NearMissRecord: -1, NearMissDepth: -1}
}

func fail(reason Reason, nearMiss NearMiss, rec, depth int, fix string) summary {
	return summary{Status: StatusFail, Reason: reason, Match: -1, Depth: -1,
		NearMiss: nearMiss, NearMissRecord: rec, NearMissDepth: depth, NearMissFix: fix}
}

func noUsable(nearMiss NearMiss, rec, depth int, fix string) summary {
	s := fail("", nearMiss, rec, depth, fix)
	s.Status = StatusNoUsableRecords
	return s
}

func TestVerify(t *testing.T) {
	p := pki()
	full := chain(p.leaf, p.inter, p.root)
	garbage := []byte("\x30\x03\x02\x01\x00 not a certificate")
	garbageSHA256 := sha256.Sum256(garbage)
	leafCertSHA256 := sha256.Sum256(p.leaf.Raw)
	leafSPKISHA512 := sha512.Sum512(p.leaf.RawSubjectPublicKeyInfo)
	leafSPKISHA256 := sha256.Sum256(p.leaf.RawSubjectPublicKeyInfo)
	emptySHA256 := sha256.Sum256(nil)
	emptySHA512 := sha512.Sum512(nil)

	tests := []struct {
		name       string
		records    []Record
		chain      [][]byte
		base, mx   string
		want       summary
		wantRecord []RecordResult // checked when set
	}{
		// DANE-EE(3).
		{name: "3 1 1 leaf", records: []Record{tlsa(t, 3, 1, 1, p.leaf)}, chain: full, want: pass(0, 3, 0)},
		{name: "3 0 1 leaf", records: []Record{tlsa(t, 3, 0, 1, p.leaf)}, chain: full, want: pass(0, 3, 0)},
		{name: "3 1 2 leaf", records: []Record{tlsa(t, 3, 1, 2, p.leaf)}, chain: full, want: pass(0, 3, 0)},
		{name: "3 0 0 leaf", records: []Record{tlsa(t, 3, 0, 0, p.leaf)}, chain: full, want: pass(0, 3, 0)},
		{name: "3 1 0 leaf", records: []Record{tlsa(t, 3, 1, 0, p.leaf)}, chain: full, want: pass(0, 3, 0)},
		{name: "3 1 1 RSA leaf alone", records: []Record{tlsa(t, 3, 1, 1, p.leafRSA)}, chain: chain(p.leafRSA), want: pass(0, 3, 0)},
		{name: "3 1 1 expired leaf passes", records: []Record{tlsa(t, 3, 1, 1, p.leafExpired)}, chain: chain(p.leafExpired, p.inter), want: pass(0, 3, 0)},
		{name: "3 1 1 name mismatch passes", records: []Record{tlsa(t, 3, 1, 1, p.leafOther)}, chain: chain(p.leafOther), want: pass(0, 3, 0)},
		{name: "3 1 1 own computation", records: []Record{raw(3, 1, 1, leafSPKISHA256[:])}, chain: full, want: pass(0, 3, 0)},
		{
			name: "upper-case hex",
			records: []Record{FromTLSA(&dns.TLSA{Usage: 3, Selector: 1, MatchingType: 1,
				Certificate: strings.ToUpper(fmt.Sprintf("%x", leafSPKISHA256))})},
			chain: full, want: pass(0, 3, 0),
		},

		// DANE-TA(2).
		{name: "2 1 1 root, full chain", records: []Record{tlsa(t, 2, 1, 1, p.root)}, chain: full, want: pass(0, 2, 2)},
		{name: "2 0 1 root, full chain", records: []Record{tlsa(t, 2, 0, 1, p.root)}, chain: full, want: pass(0, 2, 2)},
		{name: "2 0 1 intermediate", records: []Record{tlsa(t, 2, 0, 1, p.inter)}, chain: full, want: pass(0, 2, 1)},
		{name: "2 1 2 intermediate without root", records: []Record{tlsa(t, 2, 1, 2, p.inter)}, chain: chain(p.leaf, p.inter), want: pass(0, 2, 1)},
		{name: "2 0 1 chain out of order", records: []Record{tlsa(t, 2, 0, 1, p.root)}, chain: chain(p.leaf, p.root, p.inter), want: pass(0, 2, 1)},
		{
			name: "2 1 1 root, leaf only", records: []Record{tlsa(t, 2, 1, 1, p.root)}, chain: chain(p.leaf),
			want: fail(ReasonTANotInChain, NearMissNone, -1, -1, ""),
		},
		{
			name: "2 0 1 root not sent", records: []Record{tlsa(t, 2, 0, 1, p.root)}, chain: chain(p.leaf, p.inter),
			want: fail(ReasonTANotInChain, NearMissNone, -1, -1, ""),
		},
		{
			name: "2 1 1 name mismatch", records: []Record{tlsa(t, 2, 1, 1, p.inter)}, chain: chain(p.leafOther, p.inter),
			want:       fail(ReasonNameMismatch, NearMissTAFound, 0, 1, "2 1 1"),
			wantRecord: []RecordResult{{Usable: true, Depth: 1, Reason: ReasonNameMismatch}},
		},
		{
			name: "2 1 1 expired leaf", records: []Record{tlsa(t, 2, 1, 1, p.inter)}, chain: chain(p.leafExpired, p.inter, p.root),
			want: fail(ReasonExpired, NearMissTAFound, 0, 1, "2 1 1"),
		},
		{
			name: "2 1 1 leaf not yet valid", records: []Record{tlsa(t, 2, 1, 1, p.root)}, chain: chain(p.leafNotYet, p.inter, p.root),
			want: fail(ReasonExpired, NearMissTAFound, 0, 2, "2 1 1"),
		},
		{
			name: "2 1 1 root, expired intermediate", records: []Record{tlsa(t, 2, 1, 1, p.root)}, chain: chain(p.leaf, p.interExpired, p.root),
			want: fail(ReasonExpired, NearMissTAFound, 0, 2, "2 1 1"),
		},
		{
			// The anchor's own dates do not count (RFC 5280 §6.1.1(d)).
			name: "2 1 1 expired anchor", records: []Record{tlsa(t, 2, 1, 1, p.interExpired)}, chain: chain(p.leaf, p.interExpired),
			want: pass(0, 2, 1),
		},
		{
			name: "2 0 1 anchor did not sign the chain", records: []Record{tlsa(t, 2, 0, 1, p.evilRoot)}, chain: chain(p.leaf, p.inter, p.evilRoot),
			want:       fail(ReasonChainInvalid, NearMissTAFound, 0, 2, "2 0 1"),
			wantRecord: []RecordResult{{Usable: true, Depth: 2, Reason: ReasonChainInvalid}},
		},
		{name: "2 0 1 leaf is its own anchor", records: []Record{tlsa(t, 2, 0, 1, p.leaf)}, chain: chain(p.leaf), want: pass(0, 2, 0)},
		{
			name: "2 0 1 leaf as anchor, expired", records: []Record{tlsa(t, 2, 0, 1, p.leafExpired)}, chain: chain(p.leafExpired),
			want: fail(ReasonExpired, NearMissWrongUsage, 0, 0, "3 0 1"),
		},
		{
			name: "2 0 1 leaf sent twice as anchor, expired", records: []Record{tlsa(t, 2, 0, 1, p.leafExpired)}, chain: chain(p.leafExpired, p.leafExpired),
			want: fail(ReasonExpired, NearMissWrongUsage, 0, 0, "3 0 1"),
		},
		{name: "2 1 1 wildcard SAN", records: []Record{tlsa(t, 2, 1, 1, p.inter)}, chain: chain(p.leafWildcard, p.inter), want: pass(0, 2, 1)},
		{
			name: "2 1 1 wildcard covers one label only", records: []Record{tlsa(t, 2, 1, 1, p.inter)}, chain: chain(p.leafWildcard, p.inter),
			base: "a.mx1.example.com", mx: "a.mx1.example.com",
			want: fail(ReasonNameMismatch, NearMissTAFound, 0, 1, "2 1 1"),
		},
		{
			name: "2 1 1 wildcard does not cover the parent", records: []Record{tlsa(t, 2, 1, 1, p.inter)}, chain: chain(p.leafWildcard, p.inter),
			base: "example.com", mx: "example.com",
			want: fail(ReasonNameMismatch, NearMissTAFound, 0, 1, "2 1 1"),
		},
		{name: "2 1 1 CN when no SANs", records: []Record{tlsa(t, 2, 1, 1, p.inter)}, chain: chain(p.leafCN, p.inter), want: pass(0, 2, 1)},
		{
			name: "2 1 1 MX host matches, base domain does not", records: []Record{tlsa(t, 2, 1, 1, p.inter)}, chain: chain(p.leaf, p.inter),
			base: "mx.hosting.example.net.", mx: "MX1.Example.COM.", want: pass(0, 2, 1),
		},
		{
			name: "2 1 1 base domain matches, MX host does not", records: []Record{tlsa(t, 2, 1, 1, p.inter)}, chain: chain(p.leafOther, p.inter),
			base: "Other.Example.Org", mx: mxHost, want: pass(0, 2, 1),
		},
		{
			name: "2 1 1 no reference identifier", records: []Record{tlsa(t, 2, 1, 1, p.inter)}, chain: chain(p.leaf, p.inter),
			base: ".", mx: "", want: fail(ReasonNameMismatch, NearMissTAFound, 0, 1, "2 1 1"),
		},

		// Several records.
		{
			name: "rollover, stale record only", records: []Record{tlsa(t, 3, 1, 1, p.leaf)}, chain: chain(p.leafNew, p.inter),
			want: fail(ReasonNoMatch, NearMissNone, -1, -1, ""),
		},
		{
			name: "rollover, new record second", records: []Record{tlsa(t, 3, 1, 1, p.leaf), tlsa(t, 3, 1, 1, p.leafNew)},
			chain: chain(p.leafNew, p.inter), want: pass(1, 3, 0),
			wantRecord: []RecordResult{{Usable: true, Depth: -1, Reason: ReasonNoMatch}, {Usable: true, Matched: true, Depth: 0}},
		},
		{
			name: "3 and 2 both match, first wins", records: []Record{tlsa(t, 2, 1, 1, p.inter), tlsa(t, 3, 1, 1, p.leaf)},
			chain: full, want: pass(0, 2, 1),
		},
		{
			name: "name_mismatch beats no_match", records: []Record{tlsa(t, 3, 1, 1, p.leaf), tlsa(t, 2, 1, 1, p.inter)},
			chain: chain(p.leafNew, p.inter), base: otherN, mx: otherN, want: fail(ReasonNameMismatch, NearMissTAFound, 1, 1, "2 1 1"),
		},
		{
			name: "ta_not_in_chain beats no_match", records: []Record{tlsa(t, 3, 1, 1, p.leaf), tlsa(t, 2, 1, 1, p.root)},
			chain: chain(p.leafNew, p.inter), want: fail(ReasonTANotInChain, NearMissNone, -1, -1, ""),
		},
		{
			name: "expired beats chain_invalid", records: []Record{tlsa(t, 2, 0, 1, p.evilRoot), tlsa(t, 2, 0, 1, p.root)},
			chain: chain(p.leafExpired, p.inter, p.evilRoot, p.root), want: fail(ReasonExpired, NearMissTAFound, 1, 3, "2 0 1"),
		},

		// Unusable records.
		{
			name: "PKIX usages only", records: []Record{tlsa(t, 0, 1, 1, p.root), tlsa(t, 1, 1, 1, p.leaf)}, chain: full,
			want: noUsable(NearMissWrongUsage, 0, 2, "2 1 1"),
			wantRecord: []RecordResult{
				{Unusable: UnusablePKIXUsage, Depth: -1},
				{Unusable: UnusablePKIXUsage, Depth: -1},
			},
		},
		{
			name: "undefined parameters and bad data", chain: full,
			records: []Record{
				raw(4, 1, 1, leafSPKISHA256[:]),
				raw(3, 2, 1, leafSPKISHA256[:]),
				raw(3, 1, 3, leafSPKISHA256[:]),
				raw(3, 1, 1, leafSPKISHA256[:31]),
				raw(3, 1, 2, leafSPKISHA256[:]),
				raw(3, 0, 0, nil),
				FromTLSA(&dns.TLSA{Usage: 3, Selector: 1, MatchingType: 1, Certificate: "zz"}),
				raw(255, 255, 255, nil),
			},
			want: noUsable(NearMissWrongUsage, 0, 0, "3 1 1"),
			wantRecord: []RecordResult{
				{Unusable: UnusableUndefinedUsage, Depth: -1},
				{Unusable: UnusableUndefinedSelector, Depth: -1},
				{Unusable: UnusableUndefinedMatchingType, Depth: -1},
				{Unusable: UnusableBadLength, Depth: -1},
				{Unusable: UnusableBadLength, Depth: -1},
				{Unusable: UnusableEmptyData, Depth: -1},
				{Unusable: UnusableBadHex, Depth: -1},
				{Unusable: UnusableUndefinedUsage, Depth: -1},
			},
		},
		{name: "no records", chain: full, want: noUsable(NearMissNone, -1, -1, "")},
		{
			name: "unusable records are skipped", records: []Record{raw(3, 1, 1, nil), tlsa(t, 3, 1, 1, p.leaf)}, chain: full,
			want: pass(1, 3, 0),
		},

		// Near misses.
		{
			name: "wrong usage: 3 1 1 of the intermediate", records: []Record{tlsa(t, 3, 1, 1, p.inter)}, chain: full,
			want: fail(ReasonNoMatch, NearMissWrongUsage, 0, 1, "2 1 1"),
		},
		{
			name: "wrong usage: 3 0 1 of the root", records: []Record{tlsa(t, 3, 0, 1, p.root)}, chain: full,
			want: fail(ReasonNoMatch, NearMissWrongUsage, 0, 2, "2 0 1"),
		},
		{
			name: "wrong usage: 2 1 1 of the leaf, name mismatch", records: []Record{tlsa(t, 2, 1, 1, p.leafOther)}, chain: chain(p.leafOther, p.inter),
			want: fail(ReasonNameMismatch, NearMissWrongUsage, 0, 0, "3 1 1"),
		},
		{
			name: "wrong selector: 3 1 1 with the certificate digest", records: []Record{raw(3, 1, 1, leafCertSHA256[:])}, chain: full,
			want: fail(ReasonNoMatch, NearMissWrongSelector, 0, 0, "3 0 1"),
		},
		{
			name: "wrong matching type: SHA2-512 as type 1", records: []Record{raw(3, 1, 1, leafSPKISHA512[:])}, chain: full,
			want: noUsable(NearMissWrongMatchingType, 0, 0, "3 1 2"),
		},
		{
			name: "wrong matching type: SHA2-256 as Full", records: []Record{raw(3, 0, 0, leafCertSHA256[:])}, chain: full,
			want: fail(ReasonNoMatch, NearMissWrongMatchingType, 0, 0, "3 0 1"),
		},
		{
			name: "wrong depth: 3 1 1 of the intermediate, DANE-TA fails too", records: []Record{tlsa(t, 3, 1, 1, p.inter)}, chain: chain(p.leafOther, p.inter),
			want: fail(ReasonNoMatch, NearMissWrongDepth, 0, 1, "3 1 1"),
		},
		{
			name: "wrong fields: 3 0 2 with the SPKI SHA2-256", records: []Record{raw(3, 0, 2, leafSPKISHA256[:])}, chain: full,
			want: noUsable(NearMissWrongFields, 0, 0, "3 1 1"),
		},
		{
			name: "empty hash SHA2-256", records: []Record{raw(3, 1, 1, emptySHA256[:])}, chain: full,
			want: fail(ReasonNoMatch, NearMissEmptyHash, 0, -1, ""),
		},
		{
			name: "empty hash SHA2-512 after a stale record", records: []Record{tlsa(t, 3, 1, 1, p.leafNew), raw(3, 0, 2, emptySHA512[:])}, chain: full,
			want: fail(ReasonNoMatch, NearMissEmptyHash, 1, -1, ""),
		},
		{
			name: "related record beats empty hash", records: []Record{raw(3, 1, 1, emptySHA256[:]), tlsa(t, 3, 1, 1, p.inter)}, chain: full,
			want: fail(ReasonNoMatch, NearMissWrongUsage, 1, 1, "2 1 1"),
		},

		// Odd chains.
		{
			name: "empty chain", records: []Record{tlsa(t, 3, 1, 1, p.leaf)},
			want:       fail(ReasonNoChain, "", -1, -1, ""),
			wantRecord: []RecordResult{{Usable: true, Depth: -1, Reason: ReasonNoChain}},
		},
		{name: "empty chain, no usable records", records: []Record{tlsa(t, 1, 1, 1, p.leaf)}, want: noUsable("", -1, -1, "")},
		{name: "malformed leaf, 3 0 1 matches the DER", records: []Record{raw(3, 0, 1, garbageSHA256[:])}, chain: [][]byte{garbage}, want: pass(0, 3, 0)},
		{
			name: "malformed leaf, 3 1 1 cannot match", records: []Record{tlsa(t, 3, 1, 1, p.leaf)}, chain: [][]byte{garbage, p.inter.Raw},
			want: fail(ReasonNoMatch, NearMissNone, -1, -1, ""),
		},
		{
			name: "malformed leaf as its own anchor", records: []Record{raw(2, 0, 1, garbageSHA256[:])}, chain: [][]byte{garbage},
			want: fail(ReasonChainInvalid, NearMissWrongUsage, 0, 0, "3 0 1"),
		},
		{
			name: "malformed leaf under a valid anchor", records: []Record{tlsa(t, 2, 1, 1, p.inter)}, chain: [][]byte{garbage, p.inter.Raw},
			want: fail(ReasonChainInvalid, NearMissTAFound, 0, 1, "2 1 1"),
		},
		{
			name: "malformed certificate in the middle", records: []Record{tlsa(t, 2, 1, 1, p.root)}, chain: [][]byte{p.leaf.Raw, garbage, nil, p.inter.Raw, p.root.Raw},
			want: pass(0, 2, 4),
		},
		{
			name: "malformed anchor", records: []Record{raw(2, 0, 1, garbageSHA256[:])}, chain: [][]byte{p.leaf.Raw, garbage},
			want: fail(ReasonChainInvalid, NearMissTAFound, 0, 1, "2 0 1"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, mx := tt.base, tt.mx
			if base == "" && mx == "" {
				base, mx = mxHost+".", mxHost
			}
			got := Verify(Input{Records: tt.records, Chain: tt.chain, BaseDomain: base, MXHost: mx, Now: now})
			if d := diff(tt.want, summarize(got)); d != "" {
				t.Errorf("Verify (-want +got):\n%s", d)
			}
			if len(got.Records) != len(tt.records) {
				t.Fatalf("got %d record results, want %d", len(got.Records), len(tt.records))
			}
			for i, want := range tt.wantRecord {
				if d := diff(want, got.Records[i]); d != "" {
					t.Errorf("record %d (-want +got):\n%s", i, d)
				}
			}
			checkInvariants(t, Input{Records: tt.records, Chain: tt.chain}, got)
		})
	}
}

// checkInvariants checks what holds for every verdict.
func checkInvariants(t *testing.T, in Input, v Verdict) {
	t.Helper()
	if v.Status == "" || !slices.Contains(Statuses(), v.Status) {
		t.Errorf("status %q not in the vocabulary", v.Status)
	}
	if v.NearMiss != "" && !slices.Contains(NearMisses(), v.NearMiss) {
		t.Errorf("near miss %q not in the vocabulary", v.NearMiss)
	}
	switch v.Status {
	case StatusPass:
		if v.Match < 0 || v.Match >= len(in.Records) || !v.Records[v.Match].Matched || v.Reason != "" || v.NearMiss != "" {
			t.Errorf("inconsistent pass: %+v", v)
		}
	case StatusFail:
		if !slices.Contains(Reasons(), v.Reason) {
			t.Errorf("reason %q not in the vocabulary", v.Reason)
		}
		if v.Match != -1 {
			t.Errorf("fail with Match %d", v.Match)
		}
	}
	if len(v.Records) != len(in.Records) {
		t.Fatalf("%d record results for %d records", len(v.Records), len(in.Records))
	}
	for i, r := range v.Records {
		if r.Usable {
			if r.Unusable != "" || r.Matched == (r.Reason != "") {
				t.Errorf("record %d inconsistent: %+v", i, r)
			}
			if r.Reason != "" {
				if !slices.Contains(Reasons(), r.Reason) {
					t.Errorf("record reason %q not in the vocabulary", r.Reason)
				}
			}
		} else {
			if !slices.Contains(Unusables(), r.Unusable) {
				t.Errorf("unusable %q not in the vocabulary", r.Unusable)
			}
			if r.Matched || r.Reason != "" || r.Depth != -1 {
				t.Errorf("unusable record %d inconsistent: %+v", i, r)
			}
		}
		if r.Depth >= min(len(in.Chain), MaxChain) {
			t.Errorf("record %d depth %d beyond the chain", i, r.Depth)
		}
	}
	if (v.NearMissRecord >= 0) != (v.NearMiss != "" && v.NearMiss != NearMissNone) {
		t.Errorf("near miss %q with record %d", v.NearMiss, v.NearMissRecord)
	}
}

func TestFromTLSA(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want []byte
		bad  bool
	}{
		{name: "lower", hex: "0a0bff", want: []byte{0x0a, 0x0b, 0xff}},
		{name: "upper", hex: "0A0BFF", want: []byte{0x0a, 0x0b, 0xff}},
		{name: "mixed with spaces", hex: "0a 0B\tfF", want: []byte{0x0a, 0x0b, 0xff}},
		{name: "empty", hex: "", want: []byte{}},
		{name: "odd length", hex: "0a0", bad: true},
		{name: "not hex", hex: "0g", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromTLSA(&dns.TLSA{Usage: 3, Selector: 1, MatchingType: 2, Certificate: tt.hex})
			if got.Usage != 3 || got.Selector != 1 || got.MatchingType != 2 {
				t.Errorf("parameters %d %d %d, want 3 1 2", got.Usage, got.Selector, got.MatchingType)
			}
			if got.BadHex != tt.bad || string(got.Data) != string(tt.want) || (tt.bad && got.Data != nil) {
				t.Errorf("FromTLSA(%q) = %x, BadHex %v; want %x, %v", tt.hex, got.Data, got.BadHex, tt.want, tt.bad)
			}
		})
	}
}

// TestVerifyAgreesWithOracle checks every selector and matching type, under
// both usages, at every depth, with data from dns.CertificateToDANE.
func TestVerifyAgreesWithOracle(t *testing.T) {
	p := pki()
	certs := []*x509.Certificate{p.leafRSA, p.inter, p.root}
	for d, cert := range certs {
		for s := range uint8(2) {
			for m := range uint8(3) {
				for _, u := range []uint8{2, 3} {
					t.Run(fmt.Sprintf("%d %d %d depth %d", u, s, m, d), func(t *testing.T) {
						v := Verify(Input{Records: []Record{tlsa(t, u, s, m, cert)}, Chain: chain(certs...), MXHost: mxHost, Now: now})
						wantPass := u == 2 || d == 0
						if (v.Status == StatusPass) != wantPass || (wantPass && v.Depth != d) {
							t.Errorf("got %s at depth %d, want pass %v at depth %d", v.Status, v.Depth, wantPass, d)
						}
					})
				}
			}
		}
	}
}

func TestVerifyLongChain(t *testing.T) {
	p := pki()
	// 300 certificates: the leaf, then many CA certificates with the
	// root's subject (so every one is an issuer candidate), the real
	// intermediate and root last, beyond MaxChain.
	long := [][]byte{p.leaf.Raw}
	for i := range 297 {
		if i%2 == 0 {
			long = append(long, p.evilRoot.Raw)
		} else {
			long = append(long, p.interExpired.Raw)
		}
	}
	long = append(long, p.inter.Raw, p.root.Raw)
	var records []Record
	for range 50 {
		records = append(records, tlsa(t, 2, 0, 1, p.root), tlsa(t, 2, 1, 1, p.evilRoot), tlsa(t, 2, 0, 1, p.interExpired), tlsa(t, 3, 1, 1, p.inter))
	}
	start := time.Now()
	v := Verify(Input{Records: records, Chain: long, MXHost: mxHost, Now: now})
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Verify of a %d-certificate chain took %v", len(long), elapsed)
	}
	// The root sits beyond MaxChain, so it is not found; the evil root
	// signed nothing; the expired intermediate is found at depth 2 and,
	// as the anchor, its dates do not count.
	want := pass(2, 2, 2)
	if d := diff(want, summarize(v)); d != "" {
		t.Errorf("Verify (-want +got):\n%s", d)
	}
	checkInvariants(t, Input{Records: records, Chain: long}, v)

	records = append(records, tlsa(t, 3, 1, 1, p.leaf))
	if v := Verify(Input{Records: records, Chain: long, Now: now}); v.Status != StatusPass || v.Match != len(records)-1 {
		t.Errorf("3 1 1 after 200 failing records: %+v", summarize(v))
	}
}

// TestVerifyManyImpostors: 300 distinct CA certificates that all claim to be
// the leaf's issuer, each named by a DANE-TA record. Only MaxChain of them
// are looked at, each costs one bounded chain build.
func TestVerifyManyImpostors(t *testing.T) {
	p := pki()
	long := [][]byte{p.leaf.Raw}
	var records []Record
	for i := range 300 {
		c := selfSigned(t, p.inter.Subject.CommonName, int64(1000+i))
		long = append(long, c.Raw)
		records = append(records, tlsa(t, 2, 1, 1, c))
	}
	start := time.Now()
	v := Verify(Input{Records: records, Chain: long, MXHost: mxHost, Now: now})
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Verify took %v", elapsed)
	}
	want := fail(ReasonChainInvalid, NearMissTAFound, 0, 1, "2 1 1")
	if d := diff(want, summarize(v)); d != "" {
		t.Errorf("Verify (-want +got):\n%s", d)
	}
	for i, r := range v.Records {
		wantReason, wantDepth := ReasonChainInvalid, i+1
		if i+1 >= MaxChain {
			wantReason, wantDepth = ReasonTANotInChain, -1
		}
		if r.Reason != wantReason || r.Depth != wantDepth {
			t.Fatalf("record %d: %+v, want reason %s at depth %d", i, r, wantReason, wantDepth)
		}
	}
	checkInvariants(t, Input{Records: records, Chain: long}, v)
}
