package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SMTPBehaviour names how a [HostileSMTP] server misbehaves (issue 11, the
// standing fault suite). Each is one case of the hostile-peer suite.
type SMTPBehaviour string

// The hostile SMTP behaviours.
const (
	// SMTPPolite is an ordinary server: banner, EHLO with STARTTLS, a TLS
	// handshake with a small self-signed certificate, QUIT.
	SMTPPolite SMTPBehaviour = "polite"
	// SMTPBannerNeverSent accepts and never writes anything.
	SMTPBannerNeverSent SMTPBehaviour = "banner_never_sent"
	// SMTPBannerSlow writes its greeting one byte a second, forever.
	SMTPBannerSlow SMTPBehaviour = "banner_one_byte_a_second"
	// SMTPEndlessMultiline greets with "220-" lines that never end.
	SMTPEndlessMultiline SMTPBehaviour = "endless_multiline"
	// SMTPHugeLine greets with one line of 10 MB.
	SMTPHugeLine SMTPBehaviour = "line_10mb"
	// SMTPSTARTTLSGarbage accepts STARTTLS, reads the ClientHello and
	// answers with bytes that are not TLS.
	SMTPSTARTTLSGarbage SMTPBehaviour = "starttls_then_garbage"
	// SMTPSTARTTLSSilence accepts STARTTLS and then says nothing.
	SMTPSTARTTLSSilence SMTPBehaviour = "starttls_then_silence"
	// SMTPLongChain presents a chain of 200 certificates.
	SMTPLongChain SMTPBehaviour = "chain_200"
	// SMTPHugeCertificate presents a leaf certificate of 1 MB.
	SMTPHugeCertificate SMTPBehaviour = "certificate_1mb"
	// SMTPResetOnAccept resets (RST, SO_LINGER 0) every connection it
	// accepts.
	SMTPResetOnAccept SMTPBehaviour = "reset_on_accept"
	// SMTPResetMidHandshake accepts STARTTLS, reads the ClientHello's
	// record header and resets the connection.
	SMTPResetMidHandshake SMTPBehaviour = "reset_mid_handshake"
)

// HostileSMTP is one misbehaving SMTP server on a TCP listener of
// 127.0.0.1. Each accepted connection is served in its own goroutine.
// The caller closes it with Close.
type HostileSMTP struct {
	b   SMTPBehaviour
	ln  net.Listener
	tls *tls.Config // nil for the behaviours that never reach TLS
	wg  sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // open sessions, guarded by mu
	closed bool                  // guarded by mu
}

// StartHostileSMTP starts a server with behaviour b on 127.0.0.1:0. The
// certificates it needs (a 200-certificate chain, a 1 MB leaf) are made
// here, in memory. It returns an error for an unknown behaviour or when
// it cannot listen.
func StartHostileSMTP(b SMTPBehaviour) (*HostileSMTP, error) {
	h := &HostileSMTP{b: b, conns: map[net.Conn]struct{}{}}
	switch b {
	case SMTPPolite, SMTPLongChain, SMTPHugeCertificate:
		cert, err := hostileCert(b)
		if err != nil {
			return nil, fmt.Errorf("lab: hostile SMTP %s: %w", b, err)
		}
		h.tls = &tls.Config{Certificates: []tls.Certificate{cert}}
	case SMTPBannerNeverSent, SMTPBannerSlow, SMTPEndlessMultiline, SMTPHugeLine,
		SMTPSTARTTLSGarbage, SMTPSTARTTLSSilence, SMTPResetOnAccept, SMTPResetMidHandshake:
	default:
		return nil, fmt.Errorf("lab: unknown hostile SMTP behaviour %q", b)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lab: hostile SMTP %s: %w", b, err)
	}
	h.ln = ln
	h.wg.Go(h.accept)
	return h, nil
}

// Addr returns the listener's address, "127.0.0.1:port".
func (h *HostileSMTP) Addr() string { return h.ln.Addr().String() }

// Close stops the listener, closes every open session and waits for their
// goroutines. It returns nil.
func (h *HostileSMTP) Close() error {
	h.mu.Lock()
	h.closed = true
	for c := range h.conns {
		c.Close()
	}
	h.mu.Unlock()
	h.ln.Close()
	h.wg.Wait()
	return nil
}

func (h *HostileSMTP) accept() {
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			c.Close()
			return
		}
		h.conns[c] = struct{}{}
		h.mu.Unlock()
		h.wg.Go(func() {
			h.serve(c)
			h.mu.Lock()
			delete(h.conns, c)
			h.mu.Unlock()
			c.Close()
		})
	}
}

// abort closes c with SO_LINGER 0, so that the kernel sends RST.
func abort(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// serve runs one session; it returns when the client or Close ends it.
func (h *HostileSMTP) serve(c net.Conn) {
	switch h.b {
	case SMTPResetOnAccept:
		abort(c)
		return
	case SMTPBannerNeverSent:
		io.Copy(io.Discard, c)
		return
	case SMTPBannerSlow:
		for _, b := range []byte("220 slow.example ESMTP\r\n") {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(time.Second)
		}
		return
	case SMTPEndlessMultiline:
		line := []byte("220-hostile.example still greeting\r\n")
		for {
			if _, err := c.Write(line); err != nil {
				return
			}
		}
	case SMTPHugeLine:
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		c.Write([]byte("220 "))
		for range (10 << 20) / len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
		c.Write([]byte("\r\n"))
		io.Copy(io.Discard, c)
		return
	}
	r := bufio.NewReader(c)
	send := func(lines ...string) bool {
		_, err := io.WriteString(c, strings.Join(lines, "\r\n")+"\r\n")
		return err == nil
	}
	if !send("220 hostile.example ESMTP") {
		return
	}
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimRight(l, "\r\n"))
		switch {
		case strings.HasPrefix(cmd, "EHLO "):
			send("250-hostile.example", "250 STARTTLS")
		case cmd == "STARTTLS":
			send("220 2.0.0 go ahead")
			h.afterSTARTTLS(c, r)
			return
		case cmd == "QUIT":
			send("221 2.0.0 bye")
			return
		default:
			send("502 5.5.2 not implemented")
		}
	}
}

// afterSTARTTLS plays the TLS part of the session.
func (h *HostileSMTP) afterSTARTTLS(c net.Conn, r *bufio.Reader) {
	switch h.b {
	case SMTPSTARTTLSSilence:
		io.Copy(io.Discard, r)
		return
	case SMTPSTARTTLSGarbage:
		r.Peek(5)
		c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
		io.Copy(io.Discard, r)
		return
	case SMTPResetMidHandshake:
		r.Peek(5)
		abort(c)
		return
	}
	tc := tls.Server(&bufConn{Conn: c, r: r}, h.tls)
	if err := tc.Handshake(); err != nil {
		return
	}
	tr := bufio.NewReader(tc)
	for {
		l, err := tr.ReadString('\n')
		if err != nil {
			return
		}
		if strings.EqualFold(strings.TrimRight(l, "\r\n"), "QUIT") {
			io.WriteString(tc, "221 2.0.0 bye\r\n")
			tc.Close()
			return
		}
		io.WriteString(tc, "502 5.5.2 not implemented\r\n")
	}
}

// bufConn reads through the session's bufio.Reader, which may hold the
// start of the ClientHello.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// hostileCert returns the certificate a behaviour presents: one small
// self-signed ECDSA certificate; for SMTPLongChain that leaf followed by
// 199 copies of itself; for SMTPHugeCertificate a leaf carrying a 1 MB
// private extension.
func hostileCert(b SMTPBehaviour) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "hostile.example"},
		DNSNames:     []string{"hostile.example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	if b == SMTPHugeCertificate {
		tmpl.ExtraExtensions = []pkix.Extension{{
			Id:    asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 1}, // RFC 5612 documentation arc
			Value: bytes.Repeat([]byte{0}, 1<<20),
		}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	chain := [][]byte{der}
	if b == SMTPLongChain {
		for range 199 {
			chain = append(chain, der)
		}
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key}, nil
}

// HostileDial returns a Dial for scanner.Config.SMTPDial that connects
// "<addr>:25" to routes[addr] (a listener's "host:port") and refuses
// every other address with ECONNREFUSED, so that nothing outside the test
// is ever reached.
func HostileDial(routes map[netip.Addr]string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(addr)
		to, ok := routes[ap.Addr().Unmap()]
		if err != nil || !ok || ap.Port() != 25 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", to)
	}
}
