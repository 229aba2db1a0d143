package starttls

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// testPKI is a root, an intermediate and two leaves (ECDSA and RSA) issued
// by the intermediate, generated once per test binary.
type testPKI struct {
	root, inter  []byte
	ecLeaf       []byte
	ecKey        crypto.Signer
	rsaLeaf      []byte
	rsaKey       crypto.Signer
	interKey     crypto.Signer
	interCert    *x509.Certificate
	ecLeafParsed *x509.Certificate
}

var pkiOnce = sync.OnceValue(func() *testPKI {
	mustEC := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	notBefore := time.Now().Add(-time.Hour)
	notAfter := notBefore.Add(24 * time.Hour)
	create := func(tmpl, parent *x509.Certificate, pub any, priv crypto.Signer) ([]byte, *x509.Certificate) {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
		if err != nil {
			panic(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		return der, c
	}
	ca := func(serial int64, cn string) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign,
		}
	}
	leaf := func(serial int64) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "mx.example.net"},
			DNSNames: []string{"mx.example.net"}, NotBefore: notBefore, NotAfter: notAfter,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		}
	}
	p := &testPKI{}
	rootKey := mustEC()
	rootTmpl := ca(1, "Test Root")
	var rootCert *x509.Certificate
	p.root, rootCert = create(rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	interKey := mustEC()
	p.interKey = interKey
	p.inter, p.interCert = create(ca(2, "Test Intermediate"), rootCert, interKey.Public(), rootKey)
	ecKey := mustEC()
	p.ecKey = ecKey
	p.ecLeaf, p.ecLeafParsed = create(leaf(3), p.interCert, ecKey.Public(), interKey)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	p.rsaKey = rsaKey
	p.rsaLeaf, _ = create(leaf(4), p.interCert, rsaKey.Public(), interKey)
	return p
})

// ecCert and rsaCert return the server certificates, leaf and intermediate.
func (p *testPKI) ecCert() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{p.ecLeaf, p.inter}, PrivateKey: p.ecKey}
}

func (p *testPKI) rsaCert() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{p.rsaLeaf, p.inter}, PrivateKey: p.rsaKey}
}

// fakeServer is a scriptable SMTP server on 127.0.0.1:0. Each accepted
// connection runs handler in its own goroutine; the lines the client sent
// are recorded.
type fakeServer struct {
	ln   net.Listener
	addr netip.AddrPort
	wg   sync.WaitGroup

	mu    sync.Mutex
	lines []string // client lines, in order, over all connections
	sni   []string // ServerName of every ClientHello
}

func startServer(t testing.TB, handler func(s *session)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fakeServer{ln: ln, addr: netip.MustParseAddrPort(ln.Addr().String())}
	srv.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			srv.wg.Go(func() {
				defer c.Close()
				handler(&session{srv: srv, conn: c, r: bufio.NewReader(c)})
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		srv.wg.Wait()
	})
	return srv
}

// wait closes the listener and waits for all handlers to return. The
// client must have closed its connections.
func (srv *fakeServer) wait() {
	srv.ln.Close()
	srv.wg.Wait()
}

func (srv *fakeServer) received() []string {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return append([]string(nil), srv.lines...)
}

// session is one server-side connection.
type session struct {
	srv  *fakeServer
	conn net.Conn
	r    *bufio.Reader
}

// send writes each line with CRLF, in one write; errors are ignored (the
// client may have gone).
func (s *session) send(lines ...string) {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	s.conn.Write([]byte(b.String()))
}

// readLine reads and records one client line; ok is false at EOF.
func (s *session) readLine() (string, bool) {
	l, err := s.r.ReadString('\n')
	if err != nil {
		return "", false
	}
	l = strings.TrimRight(l, "\r\n")
	s.srv.mu.Lock()
	s.srv.lines = append(s.srv.lines, l)
	s.srv.mu.Unlock()
	return l, true
}

// drain reads until the client closes, recording lines.
func (s *session) drain() {
	for {
		if _, ok := s.readLine(); !ok {
			return
		}
	}
}

// startTLS makes the session a TLS server session; false if the handshake
// failed.
func (s *session) startTLS(cfg *tls.Config) bool {
	cfg = cfg.Clone()
	cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		s.srv.mu.Lock()
		s.srv.sni = append(s.srv.sni, h.ServerName)
		s.srv.mu.Unlock()
		return nil, nil
	}
	tc := tls.Server(s.conn, cfg)
	if err := tc.Handshake(); err != nil {
		return false
	}
	s.conn, s.r = tc, bufio.NewReader(tc)
	return true
}

// script is an ordinary SMTP server: a greeting, an EHLO reply, a STARTTLS
// reply and TLS with tlsConfig when the STARTTLS reply is 2yz. Nil fields
// take the defaults below; afterSTARTTLS replaces the TLS handshake.
type script struct {
	banner        []string
	ehlo          []string
	starttls      []string
	tls           *tls.Config
	afterSTARTTLS func(s *session)
}

func (sc script) run(s *session) {
	if sc.banner == nil {
		sc.banner = []string{"220-mx.example.net ESMTP", "220-second line", "220 ready"}
	}
	if sc.ehlo == nil {
		sc.ehlo = []string{"250-mx.example.net hello", "250-PIPELINING", "250-SIZE 10240000", "250-starttls", "250 8BITMIME"}
	}
	if sc.starttls == nil {
		sc.starttls = []string{"220 2.0.0 ready to start TLS"}
	}
	if sc.tls == nil {
		sc.tls = &tls.Config{Certificates: []tls.Certificate{pkiOnce().ecCert()}}
	}
	s.send(sc.banner...)
	for {
		l, ok := s.readLine()
		if !ok {
			return
		}
		cmd := strings.ToUpper(l)
		switch {
		case strings.HasPrefix(cmd, "EHLO "):
			s.send(sc.ehlo...)
		case cmd == "STARTTLS":
			if len(sc.starttls) == 0 { // stall
				s.drain()
				return
			}
			s.send(sc.starttls...)
			if !strings.HasPrefix(sc.starttls[len(sc.starttls)-1], "2") {
				continue
			}
			if sc.afterSTARTTLS != nil {
				sc.afterSTARTTLS(s)
				return
			}
			if !s.startTLS(sc.tls) {
				return
			}
		case cmd == "QUIT":
			s.send("221 2.0.0 bye")
			return
		default:
			s.send("502 5.5.2 not implemented")
		}
	}
}
