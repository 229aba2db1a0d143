package starttls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"time"
)

// Signature algorithm modes for [Config.SigAlgs]; see the package comment.
const (
	// SigAlgsAny is an ordinary handshake, TLS 1.0 to 1.3, any certificate
	// type. The empty string means the same.
	SigAlgsAny = "any"
	// SigAlgsECDSA limits the handshake to TLS 1.2 with ECDHE_ECDSA cipher
	// suites, so the server must present its ECDSA certificate.
	SigAlgsECDSA = "ecdsa"
	// SigAlgsRSA limits the handshake to TLS 1.2 with ECDHE_RSA and RSA key
	// exchange cipher suites, so the server must present its RSA certificate.
	SigAlgsRSA = "rsa"
)

// Defaults used by [Config.WithDefaults] for zero fields.
const (
	DefaultConnectTimeout     = 10 * time.Second
	DefaultBannerTimeout      = 30 * time.Second
	DefaultEHLOTimeout        = 30 * time.Second
	DefaultSTARTTLSTimeout    = 30 * time.Second
	DefaultHandshakeTimeout   = 30 * time.Second
	DefaultQUITTimeout        = 5 * time.Second
	DefaultMaxLineBytes       = 4096
	DefaultMaxReplyLines      = 100
	DefaultMaxTranscriptBytes = 64 << 10
)

// Config controls a probe. The zero value works: [Config.WithDefaults]
// fills every zero field.
type Config struct {
	// Dial opens the TCP connection; nil means a net.Dialer. The ctx it
	// gets carries ConnectTimeout. Probe closes the returned conn.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// EHLO is the domain sent with EHLO; empty means os.Hostname(), or
	// "localhost" if that fails.
	EHLO string

	// Per-stage timeouts; each stage's deadline is also capped by the ctx
	// deadline. ConnectTimeout 10 s; BannerTimeout 30 s (RFC 5321
	// §4.5.3.2 suggests 5 min, too long for a scanner); EHLOTimeout,
	// STARTTLSTimeout and HandshakeTimeout 30 s; QUITTimeout 5 s.
	ConnectTimeout   time.Duration
	BannerTimeout    time.Duration
	EHLOTimeout      time.Duration
	STARTTLSTimeout  time.Duration
	HandshakeTimeout time.Duration
	QUITTimeout      time.Duration

	// MaxLineBytes limits one reply line, without CRLF (default 4096;
	// RFC 5321 §4.5.3.1.5 says 512, servers exceed it).
	MaxLineBytes int
	// MaxReplyLines limits the lines of one reply (default 100).
	MaxReplyLines int
	// MaxTranscriptBytes limits all SMTP reply bytes read from the server,
	// before and after TLS (default 64 KiB). The TLS handshake itself is
	// bounded by crypto/tls (256 KiB for the Certificate message).
	MaxTranscriptBytes int64

	// SigAlgs is the certificate type to ask for: "" or SigAlgsAny,
	// SigAlgsECDSA, SigAlgsRSA. Any other value fails with config_error.
	SigAlgs string
	// TLSMinVersion is the lowest TLS version offered in the "any" mode
	// (default tls.VersionTLS10: opportunistic SMTP TLS still meets TLS 1.0
	// servers, and Postfix accepts them).
	TLSMinVersion uint16
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Dial == nil {
		var d net.Dialer
		c.Dial = d.DialContext
	}
	if c.EHLO == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		c.EHLO = h
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setDur(&c.ConnectTimeout, DefaultConnectTimeout)
	setDur(&c.BannerTimeout, DefaultBannerTimeout)
	setDur(&c.EHLOTimeout, DefaultEHLOTimeout)
	setDur(&c.STARTTLSTimeout, DefaultSTARTTLSTimeout)
	setDur(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	setDur(&c.QUITTimeout, DefaultQUITTimeout)
	if c.MaxLineBytes <= 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.MaxReplyLines <= 0 {
		c.MaxReplyLines = DefaultMaxReplyLines
	}
	if c.MaxTranscriptBytes <= 0 {
		c.MaxTranscriptBytes = DefaultMaxTranscriptBytes
	}
	if c.SigAlgs == "" {
		c.SigAlgs = SigAlgsAny
	}
	if c.TLSMinVersion == 0 {
		c.TLSMinVersion = tls.VersionTLS10
	}
	return c
}

// tlsConfig returns the client TLS configuration for the mode, or
// errBadSigAlgs. verify is installed as VerifyPeerCertificate, which sees
// the raw chain once every certificate has parsed.
func (c Config) tlsConfig(serverName string, verify func([][]byte, [][]*x509.Certificate) error) (*tls.Config, error) {
	tc := &tls.Config{
		ServerName:            serverName,
		InsecureSkipVerify:    true, // verified elsewhere (package dane) on the raw chain
		VerifyPeerCertificate: verify,
		MinVersion:            c.TLSMinVersion,
	}
	switch c.SigAlgs {
	case SigAlgsAny:
	case SigAlgsECDSA:
		tc.MinVersion = tls.VersionTLS12
		tc.MaxVersion = tls.VersionTLS12
		tc.CipherSuites = []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		}
	case SigAlgsRSA:
		tc.MinVersion = tls.VersionTLS12
		tc.MaxVersion = tls.VersionTLS12
		tc.CipherSuites = []uint16{
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
			tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
			tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_RSA_WITH_AES_128_CBC_SHA,
			tls.TLS_RSA_WITH_AES_256_CBC_SHA,
		}
	default:
		return nil, errBadSigAlgs
	}
	return tc, nil
}
