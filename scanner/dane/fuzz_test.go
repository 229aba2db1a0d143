package dane

import (
	"crypto/x509"
	"encoding/binary"
	"testing"
	"time"
)

// encodeRecords and decodeRecords pack records for the fuzzer:
// usage, selector, matching type, data length (one byte), data.
func encodeRecords(records ...Record) []byte {
	var b []byte
	for _, r := range records {
		b = append(b, r.Usage, r.Selector, r.MatchingType, byte(len(r.Data)))
		b = append(b, r.Data[:min(len(r.Data), 255)]...)
	}
	return b
}

func decodeRecords(b []byte) []Record {
	var out []Record
	for len(b) >= 4 {
		n := min(int(b[3]), len(b)-4)
		out = append(out, Record{Usage: b[0], Selector: b[1], MatchingType: b[2], Data: b[4 : 4+n]})
		b = b[4+n:]
	}
	return out
}

// encodeChain and decodeChain pack DER certificates: a two-byte length, then
// the bytes.
func encodeChain(ders ...[]byte) []byte {
	var b []byte
	for _, d := range ders {
		b = binary.BigEndian.AppendUint16(b, uint16(len(d)))
		b = append(b, d...)
	}
	return b
}

func decodeChain(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 {
		n := min(int(binary.BigEndian.Uint16(b)), len(b)-2)
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out
}

// FuzzVerify checks that Verify and Inspect never panic and that every
// verdict is consistent and deterministic. Seeds are below and in
// testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	p := pki()
	full := encodeChain(p.leaf.Raw, p.inter.Raw, p.root.Raw)
	add := func(records []Record, chain []byte, base, mx string) {
		f.Add(encodeRecords(records...), chain, base, mx, now.Unix())
	}
	add([]Record{tlsa(f, 3, 1, 1, p.leaf)}, full, mxHost, mxHost)
	add([]Record{tlsa(f, 2, 0, 1, p.root), tlsa(f, 2, 1, 2, p.inter)}, full, "", mxHost+".")
	add([]Record{tlsa(f, 2, 1, 1, p.root)}, encodeChain(p.leaf.Raw), mxHost, "")
	add([]Record{tlsa(f, 3, 1, 1, p.inter), raw(3, 1, 1, emptySHA256[:])}, encodeChain(p.leafOther.Raw, p.inter.Raw), otherN, mxHost)
	add([]Record{tlsa(f, 2, 1, 1, p.inter)}, encodeChain(p.leafWildcard.Raw, []byte("junk"), p.inter.Raw), "a.example.com", "")
	add([]Record{raw(1, 0, 0, p.leaf.Raw[:200]), raw(4, 2, 3, []byte{1})}, encodeChain(p.leaf.Raw[:300]), "", "")
	add(nil, nil, "", "")

	roots := x509.NewCertPool()
	roots.AddCert(p.root)
	f.Fuzz(func(t *testing.T, records, chainBytes []byte, base, mx string, unix int64) {
		in := Input{
			Records:    decodeRecords(records),
			Chain:      decodeChain(chainBytes),
			BaseDomain: base,
			MXHost:     mx,
			Now:        time.Unix(unix, 0).UTC(),
		}
		v := Verify(in)
		checkInvariants(t, in, v)
		if again := Verify(in); summarize(again) != summarize(v) {
			t.Errorf("Verify not deterministic: %+v then %+v", summarize(v), summarize(again))
		}
		Inspect(in.Chain, mx, roots, in.Now)
	})
}
