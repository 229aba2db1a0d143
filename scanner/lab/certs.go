package lab

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"hash/fnv"
	"math/big"
	"strings"
	"time"
)

// The lab's certificates have fixed validity dates, so that a certificate,
// and the TLSA data made from it, is the same bytes in every run: ordinary
// certificates are valid from 1990 to 2999, expired leaves ended before
// 2000 (also before the fake clock of testing/synctest starts).
var (
	certNotBefore    = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	certNotAfter     = time.Date(2999, 12, 31, 23, 59, 59, 0, time.UTC)
	expiredNotAfter  = time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)
	leafPoolSize     = 64 // ECDSA leaf keys shared by the hosts, like the DNSSEC key pool
	mismatchCertName = "mail.lab-hosting.net"
	// largeLeafSize is the DER size of the large leaf (tlsa-300-large):
	// its "3 0 0" record is 4,095 bytes of rdata, 8,190 characters of hex
	// in presentation form.
	largeLeafSize = 4092
)

// keyType is the public key algorithm of a leaf certificate.
type keyType uint8

const (
	keyECDSA keyType = iota // P-256
	keyRSA                  // RSA-2048
)

// pki is the lab's private CA, a root and an intermediate (both ECDSA
// P-256, derived from the seed), and the pools of leaf keys. The
// intermediate signs every leaf, ECDSA and RSA. Certificates are made
// with x509.CreateCertificate and a nil random source, so ECDSA
// signatures are deterministic (RFC 6979) and the same leaf template
// always yields the same DER.
type pki struct {
	root, inter         []byte // DER
	rootSPKI, interSPKI []byte // DER SubjectPublicKeyInfo
	interCert           *x509.Certificate
	interKey            crypto.Signer
	ec                  []leafKey
	rsa                 []leafKey
}

// leafKey is a private key of a pool and its SubjectPublicKeyInfo.
type leafKey struct {
	priv crypto.Signer
	spki []byte
}

// newPKI derives the CA and the ECDSA leaf pool from seed and parses the
// fixed RSA keys. It fails only on a bug.
func newPKI(seed uint64) (*pki, error) {
	p := &pki{}
	rootKey := deriveECDSA(seed, "lab-root-ca")
	interKey := deriveECDSA(seed, "lab-intermediate-ca")
	ca := func(serial int64, cn string, pathLen int) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber:          big.NewInt(serial),
			Subject:               pkix.Name{Organization: []string{"danescan lab"}, CommonName: cn},
			NotBefore:             certNotBefore,
			NotAfter:              certNotAfter,
			IsCA:                  true,
			BasicConstraintsValid: true,
			MaxPathLen:            pathLen,
			MaxPathLenZero:        pathLen == 0,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		}
	}
	rootTmpl := ca(1, "danescan lab root CA", 1)
	var err error
	p.root, err = x509.CreateCertificate(nil, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("root certificate: %w", err)
	}
	rootCert, err := x509.ParseCertificate(p.root)
	if err != nil {
		return nil, err
	}
	p.inter, err = x509.CreateCertificate(nil, ca(2, "danescan lab intermediate CA", 0), rootCert, interKey.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("intermediate certificate: %w", err)
	}
	if p.interCert, err = x509.ParseCertificate(p.inter); err != nil {
		return nil, err
	}
	p.interKey = interKey
	p.rootSPKI, p.interSPKI = rootCert.RawSubjectPublicKeyInfo, p.interCert.RawSubjectPublicKeyInfo
	for i := range leafPoolSize {
		k := deriveECDSA(seed, fmt.Sprintf("lab-leaf-%d", i))
		spki, err := x509.MarshalPKIXPublicKey(k.Public())
		if err != nil {
			return nil, err
		}
		p.ec = append(p.ec, leafKey{priv: k, spki: spki})
	}
	for _, s := range rsaKeyPEMs {
		b, _ := pem.Decode([]byte(s))
		if b == nil {
			return nil, fmt.Errorf("RSA key: no PEM block")
		}
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("RSA key: %w", err)
		}
		signer := k.(crypto.Signer)
		spki, err := x509.MarshalPKIXPublicKey(signer.Public())
		if err != nil {
			return nil, err
		}
		p.rsa = append(p.rsa, leafKey{priv: signer, spki: spki})
	}
	return p, nil
}

// deriveECDSA returns a P-256 key derived from seed and label.
func deriveECDSA(seed uint64, label string) *ecdsa.PrivateKey {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte("lab-pki\x00" + label))
	s := h.Sum(nil)
	for {
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), s)
		if err == nil {
			return k
		}
		x := sha256.Sum256(s) // s is zero or not below the order: about 2^-32
		s = x[:]
	}
}

// leafSpec selects one leaf certificate.
type leafSpec struct {
	name    string // the DNS name in the subject CN and the SAN
	key     keyType
	keyIdx  int // index into the pool of key
	expired bool
	large   bool // SAN names beyond the host's until the DER is largeLeafSize bytes
}

// key returns the pool key of s.
func (p *pki) key(s leafSpec) leafKey {
	if s.key == keyRSA {
		return p.rsa[s.keyIdx%len(p.rsa)]
	}
	return p.ec[s.keyIdx%len(p.ec)]
}

// leaf returns the DER certificate of s, issued by the intermediate; the
// same spec always gives the same bytes.
func (p *pki) leaf(s leafSpec) ([]byte, error) {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%d\x00%d\x00%v", s.name, s.key, s.keyIdx, s.expired)
	if s.large {
		h.Write([]byte("\x00large"))
	}
	serial := new(big.Int).SetUint64(h.Sum64()>>1 | 1)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: s.name},
		DNSNames:     []string{s.name},
		NotBefore:    certNotBefore,
		NotAfter:     certNotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if s.expired {
		tmpl.NotAfter = expiredNotAfter
	}
	k := p.key(s)
	if s.key == keyRSA {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	der, err := x509.CreateCertificate(nil, tmpl, p.interCert, k.priv.Public(), p.interKey)
	if !s.large || err != nil {
		return der, err
	}
	// Pad with SAN names until the DER has largeLeafSize bytes. The ECDSA
	// signature's length varies by a byte or two with the data signed, so
	// the padding is corrected, and its filler letter changed to get
	// another signature; deterministic either way.
	pad := largeLeafSize - len(der)
	for i := range 64 {
		tmpl.DNSNames = append([]string{s.name}, padNames(s.name, pad, byte('a'+i%26))...)
		if der, err = x509.CreateCertificate(nil, tmpl, p.interCert, k.priv.Public(), p.interKey); err != nil {
			return nil, err
		}
		d := largeLeafSize - len(der)
		if d == 0 {
			break
		}
		if d > 2 || d < -2 || i%8 == 7 {
			pad += d
		}
	}
	return der, nil
}

// padNames returns SAN DNS names below name ("pad00-xxx...<name>", the
// filler letter being x) whose
// encodings in the SubjectAltName extension add up to about n bytes: each
// name costs two bytes of tag and length (names stay below 128 bytes)
// plus its length, labels at most 63 bytes.
func padNames(name string, n int, x byte) []string {
	const minLabel, maxLabel = 8, 63
	minCost, maxCost := 3+minLabel+len(name), 3+maxLabel+len(name)
	if n < minCost {
		return nil
	}
	k := (n + maxCost - 1) / maxCost
	out := make([]string, k)
	for i := range out {
		cost := n / k
		if i < n%k {
			cost++
		}
		label := fmt.Sprintf("pad%02d-", i)
		out[i] = label + strings.Repeat(string(x), max(minLabel, cost-3-len(name))-len(label)) + "." + name
	}
	return out
}

// poolIndex returns the pool slot of a host name's key.
func poolIndex(name string) int {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int(h.Sum64() % uint64(leafPoolSize))
}

// association returns the TLSA certificate association data (RFC 6698
// section 2.1) of a certificate or its SPKI for a selector and matching
// type, hex encoded.
func association(cert, spki []byte, selector, matching uint8) string {
	b := cert
	if selector == 1 {
		b = spki
	}
	switch matching {
	case 1:
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:])
	case 2:
		s := sha512.Sum512(b)
		return hex.EncodeToString(s[:])
	}
	return hex.EncodeToString(b)
}

// rsaKeyPEMs are fixed RSA-2048 keys for the lab's RSA leaves, made once
// with openssl genpkey: Go 1.26's rsa.GenerateKey ignores its reader, so
// keys derived from the seed would need a prime search of our own. They
// are test keys and protect nothing.
var rsaKeyPEMs = [...]string{
	`-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCUbljFL49Y7PWV
eo0dxT/Iahzwx9pinvOLqsPsIe1vOdOmG/qHNCr5ulkILhy6WJ26arimAuXYgf3F
evJXTbEDyhEyaBOOWF0qysMy0dltSsezjQjBzcmWOpKahwmbyrsFkEhaudcz1Oin
Jeu3iBGFrN2ZyUU4nQ1RAbC2u5MgfzyIQ2t0h4y/TFLbeRzSfeRcpxMWkDJIBCeJ
MWarlwTNMQ+XmjimolXxq1ikapIlldftcHnc96lLQ6rTx+ZnTRVyXF0qbk+c5KX7
epyok5PGOfO3Ptx1Pg7xQ4K9XT/7/aMcURXKistSvL55Das6uaThB/xiEyNz//PE
jslM6GJNAgMBAAECggEAJEJznZIBfOoAEVjLhdkEfJdNhBVyWDK30Kfx7iqYl9oC
xdqiYCqCkBhxfPHU00HoIBzHiEh/cR1KStZ+woyIYGJZwpxRoK2d7uDy/+RrLst8
jvR2Te/RXclnvGeeFYiYGOMXBdDNzUvm3MRC+cX779GbneCg8BRPpzkYO/+FEMQd
BVtFJib8ZcbN5ftdnbHKvYadahegvEQxJKDPR17kb29Obr0u58CC3ZCzdCkq86qG
PDDXpYmg9orUi0gYgl1Lt9AxJWFjIXuMPU4YmLqNaNcQGeE9DPJJBYJWZUCF5FtH
vUaJbpE+EHPlWTNyXI1DYurfINJt49g8G+Ca+xJ6EQKBgQDL+GeE4lZ/wFnzzG9S
kUIKxo2BCIydOLy4k1At4hsJUm+p6+PkOf61Gvl/lhRXpxexzgta3ygMK5phOB7T
p/7dpkD50hRgEHKcFx4mNHoaQMbvzR64s7m6GYHTGP0hCC9wHgZA079OFPt6mr75
BjxV5N+tSSQSI20jJXBWpOFj/QKBgQC6SyLejJfFeKU3La/1kD9Cywq8jK4c9F5c
ZQhlO6sBOg4VpI4DFT3kc8UalRCVywrheBJcsh3gyKEu3tx7M0UeQU8a7p1+kESt
wSlIkXquZha9ju+IzrEHWGaD4yeOnDldRlDlmaktEB6QPYREN1FZKvsVdBPQWJAI
iqwGHJXAkQKBgQCJz/RhnGvFNTmRt/cfWnW8whqprBUVxVf9fcsWtUZ/Leu0a2U2
ttiZlPgudECaWJNx1z1k0JJGZs+QEFMDvuY87C/Km16Y6YQGYrhEKAC37Dx9maHA
Oe6rBsDo2GFvCBDFOAQRmQAQyayAUj3mE4iAoHtgoaJ1fuombQ1R/WUsIQKBgAxK
kM5mME1THHN7jDSDg+kARIEUNxip9t/ZuqgTO8Ek93DuHoCNkjvUd5i9ZQ69Csa9
iVicV+RQ2HGjOqDWTSUl4fZA8Bs9oYplSDgFgTaofa+cEqnQGVYGuxzQi/eYzyAc
V5IOhV73xUx3ApcNn0xmzZIoynXgogAuRhNRJ4BBAoGBALYGuZ2By3t5z9ZX9L2t
8ft2CGPAKV1p3UlUsJCEs0Zkr9smCFX+BsE8TEC7OoB/u13dSqPD1MXQuJdtIt0+
jJAWEDMnTsfon62UivWtYyLx1b7SlvDeVAJqMqubmlhNOS951XpYGoFVoEIgmw+G
hk93zYoq9whKdq8HYzRGdNd7
-----END PRIVATE KEY-----`,
	`-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDGqEJDqxRsAPJu
XfoZpR1zyvgMB0b88Nw0hnNE1hghFc77Les4Zu/jLiqlPDjjqCy+Ask+l+Gk4HC+
C69e9XFtJKZiDZuhhka54AFbrfL9GAuBWdG7UnXNzYAinixLPqTXLpc3P7YsPGes
/t/GYxwY6LNnOi8pmxAXapOVBAqkIiseK+yenR2RSCgTuxJkVWrKesyi4nXRnijT
ijX2r5mnkn2MMHdTcVjmE0aI3obbGicb4PWdCaa8ZJ1RhNcoLdl4JZjZ5D5RTFKh
GMMPL2E+6nU5u8RFdtnNY46DBw7Lw8gkbXeqd0PKfx2C/PNXbvsbyAzulhDAx0Sr
wccELn1nAgMBAAECggEAF/Y5r/HVz8U5eMiLH0bES7BCxSinjmD7HrbM9pOga3U2
9yMtySrZapyp9i5SalthsjWh0pP9Wqbb0oCUUa7nVJPkIdWkXRJWO5tibo2HzrF0
ydBstNyYaw+LkiFkFFtlBLOQ99AOiD1s//fqRAK2Y+bFpQDmqW0Tvs9TJ9lJ80wZ
FAVSpdlnB15FR+8TzjFLZXQYhcsBL1EkNHV4N9VilUro5j0srH486BsRM7NaUFHo
EsrqUBo4uFn3z+eqEqo8yhGYNd4zZadwIaXQmmdKjB2OEoaxjXtwKklhmFlT18t7
Rjwc49ZURw9kqZRrEXu/ZS834o+Vmj0f31EemVKxMQKBgQD6sdMqWHtBXeWPPUSU
vYypu97pomrstJPV9xIOR0dZUzl9vT+fOu98M8ofm28EUR2Ij219xSlp2ulDAty8
x/hfD+f4nFhW6V0JJcodZUmoT5ZJv0Kl4cFWL7TNgVgyl+W/e1Jr/a+FRGIaX9Hl
1/PHI7v+QJ8p8euI7cPsxCkKjwKBgQDK3IOMtE2NByNcf6kdyNEv+3xxLHXifAOB
ilH77H9T9wgg9yCtz++yldpawBRIOZnl/6z6zk4f2H0xgb57QoCQMSyuBXFv6WGU
QT5RMpiVfjTIeeXUxg+vJlPrRvTFsP2jkKzWPfQCnbMwP/ziPEHBt+fhrBIqAwGe
pYJXLOerqQKBgA0f2CVEYpeGeeko1PlQfxe3vTDQDvb7cS3ndGuI8cRMZhseGEGW
zUjcUT2cXpCESp6Gm73U35kqG8IlWTcM5QTdCVDrpnhOWU+MSeuGDPghyoVr3Opg
SkXf04BawCpN53pB04vRySmZ7eThlVSKHLoVNddWvL5uat1NTU+M6XUjAoGAKY73
XDHr2UJnGiIFEVb8k+nfWogTNmzVgwpFNWkDxL3M6oP2K+V3Y4yTiRfkj89NGfNB
CriNBLUjIKtFzJaZI/EPCC+RR632EZs0GwpUe/u48IEYdniE6greEksdBgr2SzXu
Uo2qmYaZGP9i3S4fAoKcfHz106l+AXRCuX03kNECgYBB77IucK5wRi45lVnb8pif
A2nBIWtmXQl+UdsxZpHVbACzErgINf9fb2f+SffT9NsoKLvqHP9nv/5zJFr0L4Dn
u/pIu1rpmx7ND7QD+LmE3Id3UbbUcEq7ADZke6Je550xA6Wj/KSo0XYphOGWaHxw
Qy8zXrQ/WNZz2MfHTk+B6Q==
-----END PRIVATE KEY-----`,
}
