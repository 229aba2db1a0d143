package dane

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// now is the fixed time of every test.
var now = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// The reference identifiers of the tests.
const (
	mxHost = "mx1.example.com"
	otherN = "other.example.org"
)

// testPKI is a private CA hierarchy: root -> intermediate -> leaves.
type testPKI struct {
	root, inter *x509.Certificate
	// interExpired has inter's subject and key but expired dates.
	interExpired *x509.Certificate
	// evilRoot has root's subject but another key: it signed nothing of
	// the hierarchy.
	evilRoot *x509.Certificate

	leaf         *x509.Certificate // ECDSA P-256, mxHost, valid at now
	leafRSA      *x509.Certificate // RSA 2048
	leafEd25519  *x509.Certificate
	leafNew      *x509.Certificate // after a key rollover
	leafExpired  *x509.Certificate
	leafNotYet   *x509.Certificate
	leafOther    *x509.Certificate // names otherN only
	leafWildcard *x509.Certificate // *.example.com
	leafCN       *x509.Certificate // no SANs, CN mxHost
}

// pki builds the hierarchy once per test binary: keys are the slow part.
var pki = sync.OnceValue(func() *testPKI {
	var serial int64
	issue := func(tmpl *x509.Certificate, parent *x509.Certificate, parentKey crypto.Signer, pub crypto.PublicKey) *x509.Certificate {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
		if err != nil {
			panic(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		return cert
	}
	ecKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	valid := func(from, to int) (time.Time, time.Time) {
		return time.Date(from, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(to, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	ca := func(cn string, from, to int) *x509.Certificate {
		nb, na := valid(from, to)
		return &x509.Certificate{
			Subject: pkix.Name{CommonName: cn}, NotBefore: nb, NotAfter: na,
			IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		}
	}
	ee := func(cn string, names []string, from, to int) *x509.Certificate {
		nb, na := valid(from, to)
		return &x509.Certificate{
			Subject: pkix.Name{CommonName: cn}, DNSNames: names, NotBefore: nb, NotAfter: na,
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
	}

	p := &testPKI{}
	rootKey, interKey, evilKey := ecKey(), ecKey(), ecKey()
	p.root = issue(ca("Test Root", 2020, 2040), nil, rootKey, rootKey.Public())
	p.evilRoot = issue(ca("Test Root", 2020, 2040), nil, evilKey, evilKey.Public())
	p.inter = issue(ca("Test Intermediate", 2024, 2030), p.root, rootKey, interKey.Public())
	p.interExpired = issue(ca("Test Intermediate", 2020, 2025), p.root, rootKey, interKey.Public())

	leafKey := ecKey()
	p.leaf = issue(ee(mxHost, []string{mxHost}, 2025, 2027), p.inter, interKey, leafKey.Public())
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	p.leafRSA = issue(ee(mxHost, []string{mxHost}, 2025, 2027), p.inter, interKey, rsaKey.Public())
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	p.leafEd25519 = issue(ee(mxHost, []string{mxHost}, 2025, 2027), p.inter, interKey, edPub)
	p.leafNew = issue(ee(mxHost, []string{mxHost}, 2025, 2027), p.inter, interKey, ecKey().Public())
	p.leafExpired = issue(ee(mxHost, []string{mxHost}, 2023, 2025), p.inter, interKey, leafKey.Public())
	p.leafNotYet = issue(ee(mxHost, []string{mxHost}, 2027, 2028), p.inter, interKey, leafKey.Public())
	p.leafOther = issue(ee(otherN, []string{otherN}, 2025, 2027), p.inter, interKey, leafKey.Public())
	p.leafWildcard = issue(ee("*.example.com", []string{"*.example.com"}, 2025, 2027), p.inter, interKey, leafKey.Public())
	p.leafCN = issue(ee(mxHost, nil, 2025, 2027), p.inter, interKey, leafKey.Public())
	return p
})

// chain returns the DER of certs, in order.
func chain(certs ...*x509.Certificate) [][]byte {
	out := make([][]byte, len(certs))
	for i, c := range certs {
		out[i] = c.Raw
	}
	return out
}

// tlsa returns the record u s m for cert, its data computed by
// dns.CertificateToDANE, an implementation independent of ours, and passed
// through FromTLSA.
func tlsa(t testing.TB, u, s, m uint8, cert *x509.Certificate) Record {
	t.Helper()
	h, err := dns.CertificateToDANE(s, m, cert)
	if err != nil {
		t.Fatalf("CertificateToDANE(%d, %d): %v", s, m, err)
	}
	return FromTLSA(&dns.TLSA{Usage: u, Selector: s, MatchingType: m, Certificate: h})
}

// raw returns the record u s m with the given data.
func raw(u, s, m uint8, data []byte) Record {
	return Record{Usage: u, Selector: s, MatchingType: m, Data: data}
}

// selfSigned returns a new self-signed CA certificate named cn, valid at now.
func selfSigned(t testing.TB, cn string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(1, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
