package dane

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math"
	"time"
)

// Info describes a presented chain apart from DANE: whether it would pass
// WebPKI validation, and facts about the leaf.
type Info struct {
	// PKIXValid reports whether the chain verifies to a root of the pool
	// for the host name at the given time (crypto/x509 rules, serverAuth).
	PKIXValid bool
	// PKIXReason is empty when PKIXValid, else ReasonNoChain,
	// PKIXMalformed, PKIXNoRoots, PKIXUnknownAuthority,
	// ReasonNameMismatch, ReasonExpired or PKIXInvalid.
	PKIXReason string
	// DaysToExpiry is the number of whole days from now until the leaf's
	// NotAfter, rounded down: negative once the leaf has expired. Zero if
	// the leaf does not parse.
	DaysToExpiry int
	// KeyType is a Key constant for the leaf's public key, empty if the
	// leaf does not parse.
	KeyType string
	// KeyBits is the RSA modulus size or the ECDSA curve size in bits, 256
	// for Ed25519, 0 otherwise.
	KeyBits int
}

// Inspect validates chain (DER, leaf first; only the first MaxChain
// certificates are used) under WebPKI rules against roots, for host (the MX
// host name; a trailing dot is ignored) at now, and describes the leaf. A nil
// roots means the system pool (x509.SystemCertPool); an empty host skips the
// name check (crypto/x509 semantics). Unlike Verify's DANE-TA name check,
// there is no fallback to the subject CN. Inspect never fails:
// problems are reported in Info.PKIXReason.
func Inspect(chain [][]byte, host string, roots *x509.CertPool, now time.Time) Info {
	var info Info
	if len(chain) == 0 {
		info.PKIXReason = string(ReasonNoChain)
		return info
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		info.PKIXReason = PKIXMalformed
		return info
	}
	info.DaysToExpiry = daysUntil(now, leaf.NotAfter)
	info.KeyType, info.KeyBits = keyOf(leaf)

	if roots == nil {
		if roots, err = x509.SystemCertPool(); err != nil || roots == nil {
			info.PKIXReason = PKIXNoRoots
			return info
		}
	}
	inter := x509.NewCertPool()
	for _, der := range chain[1:min(len(chain), MaxChain)] {
		if cert, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(cert)
		}
	}
	_, err = leaf.Verify(x509.VerifyOptions{
		DNSName:       normalizeName(host),
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
	})
	info.PKIXReason = pkixReason(err)
	info.PKIXValid = err == nil
	return info
}

// pkixReason classifies an error of x509.Certificate.Verify; "" for nil.
func pkixReason(err error) string {
	var (
		hostErr    x509.HostnameError
		authErr    x509.UnknownAuthorityError
		invalidErr x509.CertificateInvalidError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &hostErr):
		return string(ReasonNameMismatch)
	case errors.As(err, &authErr):
		return PKIXUnknownAuthority
	case errors.As(err, &invalidErr) && invalidErr.Reason == x509.Expired:
		return string(ReasonExpired)
	}
	return PKIXInvalid
}

// daysUntil returns the whole days from now to t, rounded down.
func daysUntil(now, t time.Time) int {
	return int(math.Floor(t.Sub(now).Hours() / 24))
}

// keyOf returns the Key constant and size of cert's public key.
func keyOf(cert *x509.Certificate) (string, int) {
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return KeyRSA, k.N.BitLen()
	case *ecdsa.PublicKey:
		return KeyECDSA, k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return KeyEd25519, 256
	}
	return KeyOther, 0
}
