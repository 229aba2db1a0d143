package dane

import (
	"crypto/x509"
	"testing"
	"time"
)

func TestInspect(t *testing.T) {
	p := pki()
	roots := x509.NewCertPool()
	roots.AddCert(p.root)
	// p.leaf expires 2027-01-01T00:00Z; now is 2026-01-15T12:00Z.
	const leafDays = 350

	tests := []struct {
		name  string
		chain [][]byte
		host  string
		roots *x509.CertPool
		now   time.Time
		want  Info
	}{
		{
			name: "valid ECDSA", chain: chain(p.leaf, p.inter), host: mxHost, roots: roots, now: now,
			want: Info{PKIXValid: true, DaysToExpiry: leafDays, KeyType: KeyECDSA, KeyBits: 256},
		},
		{
			name: "valid RSA, absolute host name", chain: chain(p.leafRSA, p.inter, p.root), host: mxHost + ".", roots: roots, now: now,
			want: Info{PKIXValid: true, DaysToExpiry: leafDays, KeyType: KeyRSA, KeyBits: 2048},
		},
		{
			name: "Ed25519", chain: chain(p.leafEd25519, p.inter), host: mxHost, roots: roots, now: now,
			want: Info{PKIXValid: true, DaysToExpiry: leafDays, KeyType: KeyEd25519, KeyBits: 256},
		},
		{
			name: "wildcard", chain: chain(p.leafWildcard, p.inter), host: mxHost, roots: roots, now: now,
			want: Info{PKIXValid: true, DaysToExpiry: leafDays, KeyType: KeyECDSA, KeyBits: 256},
		},
		{
			name: "name mismatch", chain: chain(p.leafOther, p.inter), host: mxHost, roots: roots, now: now,
			want: Info{PKIXReason: string(ReasonNameMismatch), DaysToExpiry: leafDays, KeyType: KeyECDSA, KeyBits: 256},
		},
		{
			// Like Go's TLS client and unlike Postfix's DANE: no CN fallback.
			name: "CN only", chain: chain(p.leafCN, p.inter), host: mxHost, roots: roots, now: now,
			want: Info{PKIXReason: string(ReasonNameMismatch), DaysToExpiry: leafDays, KeyType: KeyECDSA, KeyBits: 256},
		},
		{
			name: "unknown authority", chain: chain(p.leaf, p.inter), host: mxHost, roots: x509.NewCertPool(), now: now,
			want: Info{PKIXReason: PKIXUnknownAuthority, DaysToExpiry: leafDays, KeyType: KeyECDSA, KeyBits: 256},
		},
		{
			name: "intermediate not sent", chain: chain(p.leaf), host: mxHost, roots: roots, now: now,
			want: Info{PKIXReason: PKIXUnknownAuthority, DaysToExpiry: leafDays, KeyType: KeyECDSA, KeyBits: 256},
		},
		{
			// 2025-01-01T00:00Z is 379.5 days before now.
			name: "expired", chain: chain(p.leafExpired, p.inter), host: mxHost, roots: roots, now: now,
			want: Info{PKIXReason: string(ReasonExpired), DaysToExpiry: -380, KeyType: KeyECDSA, KeyBits: 256},
		},
		{
			name: "expires in less than a day", chain: chain(p.leaf, p.inter), host: mxHost, roots: roots,
			now:  time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC),
			want: Info{PKIXValid: true, DaysToExpiry: 0, KeyType: KeyECDSA, KeyBits: 256},
		},
		{
			name: "expired an hour ago", chain: chain(p.leaf, p.inter), host: mxHost, roots: roots,
			now:  time.Date(2027, 1, 1, 1, 0, 0, 0, time.UTC),
			want: Info{PKIXReason: string(ReasonExpired), DaysToExpiry: -1, KeyType: KeyECDSA, KeyBits: 256},
		},
		{
			name: "intermediate expired", chain: chain(p.leaf, p.interExpired), host: mxHost, roots: roots, now: now,
			want: Info{PKIXReason: string(ReasonExpired), DaysToExpiry: leafDays, KeyType: KeyECDSA, KeyBits: 256},
		},
		{
			name: "leaf used as issuer", chain: chain(p.leafNew, p.leaf), host: mxHost, roots: roots, now: now,
			want: Info{PKIXReason: PKIXUnknownAuthority, DaysToExpiry: leafDays, KeyType: KeyECDSA, KeyBits: 256},
		},
		{name: "empty chain", roots: roots, now: now, want: Info{PKIXReason: string(ReasonNoChain)}},
		{name: "malformed leaf", chain: [][]byte{[]byte("junk")}, roots: roots, now: now, want: Info{PKIXReason: PKIXMalformed}},
		{
			name: "malformed intermediate skipped", chain: [][]byte{p.leaf.Raw, []byte("junk"), p.inter.Raw}, host: mxHost, roots: roots, now: now,
			want: Info{PKIXValid: true, DaysToExpiry: leafDays, KeyType: KeyECDSA, KeyBits: 256},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Inspect(tt.chain, tt.host, tt.roots, tt.now)
			if d := diff(tt.want, got); d != "" {
				t.Errorf("Inspect (-want +got):\n%s", d)
			}
		})
	}
}

// TestInspectSystemRoots: a nil pool means the system roots, which do not
// know the test CA (or are missing on this machine).
func TestInspectSystemRoots(t *testing.T) {
	p := pki()
	got := Inspect(chain(p.leaf, p.inter, p.root), mxHost, nil, now)
	if got.PKIXValid || (got.PKIXReason != PKIXUnknownAuthority && got.PKIXReason != PKIXNoRoots) {
		t.Errorf("Inspect with system roots = %+v, want unknown_authority or no_roots", got)
	}
	if got.KeyType != KeyECDSA {
		t.Errorf("KeyType %q, want %q", got.KeyType, KeyECDSA)
	}
}
