package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// SMTPOptions tunes StartSMTP. The zero value is ready to use.
type SMTPOptions struct {
	// IdleTimeout ends a session whose client sends nothing for that long
	// (default one minute). The stalling server of the banner-stall case
	// waits for the client, or Close, instead.
	IdleTimeout time.Duration
	// MaxCachedHosts bounds the certificates kept in memory (default
	// 4096 hosts); certificates are deterministic, so a host dropped from
	// the cache gets the same bytes again on its next connection.
	MaxCachedHosts int
}

// SMTP is the world's mail servers, in process: one simulated server per
// MX address, reached through Dial, over net.Pipe, and, after Listen in a
// Loopback world, through TCP listeners on the 127.x.y.z addresses. It
// never dials anything. The caller closes it with Close.
type SMTP struct {
	w      *World
	modes  map[netip.Addr]smtpAddr
	idle   time.Duration
	maxC   int
	dialed atomic.Int64

	mu        sync.Mutex
	conns     map[net.Conn]struct{} // server ends of open sessions, guarded by mu
	closed    bool                  // guarded by mu
	listening bool                  // Listen was called; guarded by mu
	lns       []net.Listener        // Listen's listeners, guarded by mu
	wg        sync.WaitGroup        // the session and accept goroutines

	certMu sync.Mutex
	certs  map[hostRef][]tls.Certificate // guarded by certMu; cleared when full
	tlsCfg *tls.Config
}

// smtpAddr is the behaviour of one address.
type smtpAddr struct {
	mode      srvMode
	multiline bool // a greeting of two lines (providers)
}

// StartSMTP prepares the servers of every MX address of w. It starts no
// goroutine until Dial is called, and fails only on a bug. The caller must
// call Close.
func StartSMTP(w *World, opts SMTPOptions) (*SMTP, error) {
	if w.pki == nil {
		return nil, errors.New("lab: start SMTP: world has no CA")
	}
	s := &SMTP{
		w:     w,
		modes: make(map[netip.Addr]smtpAddr),
		idle:  opts.IdleTimeout,
		maxC:  opts.MaxCachedHosts,
		conns: make(map[net.Conn]struct{}),
		certs: make(map[hostRef][]tls.Certificate),
	}
	if s.idle <= 0 {
		s.idle = time.Minute
	}
	if s.maxC <= 0 {
		s.maxC = 4096
	}
	special := make(map[netip.Addr]srvMode)
	for ip, m := range specialModes() {
		if ip.Is4() {
			ip = netip.MustParseAddr(w.hostV4(ip.String()))
		}
		special[ip] = m
	}
	for _, ref := range w.hostIndex() {
		if ref.alias {
			continue
		}
		for _, a := range w.addrs(ref) {
			ip, err := netip.ParseAddr(a)
			if err != nil {
				return nil, fmt.Errorf("lab: start SMTP: %w", err)
			}
			sa := smtpAddr{mode: special[ip], multiline: ref.prov >= 0}
			s.modes[ip] = sa
		}
	}
	s.tlsCfg = &tls.Config{
		GetCertificate: s.certificate,
		MinVersion:     tls.VersionTLS10,
		// No session tickets: over net.Pipe every write waits for the
		// reader, and a ticket sent after the handshake would wait for a
		// client that is itself writing.
		SessionTicketsDisabled: true,
	}
	return s, nil
}

// Connections returns how many sessions have started: connections Dial
// has made and Listen's listeners have accepted.
func (s *SMTP) Connections() int64 { return s.dialed.Load() }

// Close closes Listen's listeners, ends every open session and waits for
// their goroutines. Dial and Listen fail after Close. It returns nil.
func (s *SMTP) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Dial connects to the simulated server at address ("192.0.2.10:25",
// "[2001:db8::1]:25"), with the signature of starttls.Config.Dial. Any
// address that is not an MX address of the world at port 25, or that does
// not fit network ("tcp", "tcp4", "tcp6"), is refused with a *net.OpError
// wrapping ECONNREFUSED, as is the address of the connect-refused case;
// the unreachable case fails with ENETUNREACH. The returned conn is one
// end of a net.Pipe (deadlines work); its RemoteAddr is address. The
// caller closes it.
func (s *SMTP) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	fail := func(addr net.Addr, err error) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: addr, Err: err}
	}
	refused := os.NewSyscallError("connect", syscall.ECONNREFUSED)
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fail(nil, refused)
	}
	remote := net.TCPAddrFromAddrPort(ap)
	ip := ap.Addr().Unmap()
	sa, ok := s.modes[ip]
	switch {
	case !ok || ap.Port() != 25,
		network == "tcp4" && !ip.Is4(), network == "tcp6" && !ip.Is6(),
		network != "tcp" && network != "tcp4" && network != "tcp6":
		return fail(remote, refused)
	case sa.mode == srvRefused:
		return fail(remote, refused)
	case sa.mode == srvUnreachable:
		return fail(remote, os.NewSyscallError("connect", syscall.ENETUNREACH))
	}
	if err := ctx.Err(); err != nil {
		return fail(remote, err)
	}
	client, server := net.Pipe()
	if !s.start(server, sa) {
		client.Close()
		return fail(remote, net.ErrClosed)
	}
	return &pipeConn{Conn: client, remote: remote}, nil
}

// start runs a session on the server end c of a connection, from Dial or
// a listener, in a goroutine of its own that Close ends and waits for.
// After Close it closes c and reports false.
func (s *SMTP) start(c net.Conn, sa smtpAddr) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.dialed.Add(1)
	go func() {
		defer s.wg.Done()
		s.session(c, sa)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	return true
}

// pipeConn is the client end of a session with the dialled address as
// its remote address.
type pipeConn struct {
	net.Conn
	remote net.Addr
}

// RemoteAddr returns the address that was dialled.
func (c *pipeConn) RemoteAddr() net.Addr { return c.remote }

// readerConn reads through a bufio.Reader that may hold bytes already.
type readerConn struct {
	net.Conn
	r io.Reader
}

func (c readerConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// session speaks SMTP on c (a net.Pipe end or an accepted TCP
// connection) until QUIT, an error or Close, and closes c. It never
// accepts mail. After QUIT it closes the connection without a TLS
// close_notify, which over net.Pipe would wait for a client that is
// writing its own.
func (s *SMTP) session(c net.Conn, sa smtpAddr) {
	defer c.Close()
	if sa.mode == srvStall {
		io.WriteString(c, "220-lab-mta.invalid ESMTP greeting follows\r\n")
		io.Copy(io.Discard, c) // until the client or Close closes the pipe
		return
	}
	c.SetDeadline(time.Now().Add(s.idle))
	var conn net.Conn = c
	br := bufio.NewReaderSize(c, 1024)
	bw := bufio.NewWriter(c)
	reply := func(lines ...string) bool {
		for _, l := range lines {
			bw.WriteString(l)
			bw.WriteString("\r\n")
		}
		return bw.Flush() == nil
	}
	greeting := []string{"220 lab-mta.invalid ESMTP danescan lab"}
	if sa.multiline {
		greeting = []string{"220-lab-mta.invalid ESMTP danescan lab", "220 no mail is accepted here"}
	}
	if !reply(greeting...) {
		return
	}
	secure := false
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			reply("500 5.5.2 line too long")
			return
		}
		if err != nil {
			return
		}
		c.SetDeadline(time.Now().Add(s.idle))
		verb, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(" "))
		switch string(bytes.ToUpper(verb)) {
		case "EHLO":
			lines := []string{"250-lab-mta.invalid greets you", "250-PIPELINING", "250-SIZE 10240000"}
			if !secure && sa.mode != srvNoSTARTTLS {
				lines = append(lines, "250-STARTTLS")
			}
			lines = append(lines, "250 8BITMIME")
			if !reply(lines...) {
				return
			}
		case "HELO":
			reply("250 lab-mta.invalid")
		case "STARTTLS":
			switch {
			case secure:
				reply("503 5.5.1 TLS already active")
				continue
			case sa.mode == srvNoSTARTTLS:
				reply("502 5.5.1 command not implemented")
				continue
			case sa.mode == srvRejected:
				reply("454 4.7.0 TLS not available due to temporary reason")
				continue
			}
			if !reply("220 2.0.0 Ready to start TLS") {
				return
			}
			if sa.mode == srvHandshake {
				// Read the whole ClientHello record, so that the client
				// is reading when the alert comes (net.Pipe), then fail.
				var hdr [5]byte
				if _, err := io.ReadFull(br, hdr[:]); err != nil {
					return
				}
				if _, err := io.CopyN(io.Discard, br, int64(hdr[3])<<8|int64(hdr[4])); err != nil {
					return
				}
				c.Write([]byte{21, 3, 3, 0, 2, 2, 40}) // fatal handshake_failure
				return
			}
			tc := tls.Server(readerConn{Conn: c, r: br}, s.tlsCfg)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, secure = tc, true
			br, bw = bufio.NewReaderSize(conn, 1024), bufio.NewWriter(conn)
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		case "NOOP", "RSET":
			reply("250 2.0.0 OK")
		case "MAIL", "RCPT", "DATA", "BDAT":
			reply("554 5.7.1 danescan lab: this server accepts no mail")
		default:
			reply("502 5.5.2 command not recognized")
		}
	}
}

// certificate picks the certificate of the host named by the SNI, as
// crypto/tls does among Config.Certificates: the first (ECDSA before RSA)
// that the client supports. An unknown or missing SNI gets a leaf for
// "lab-default.invalid".
func (s *SMTP) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	ref, ok := s.w.hostIndex()[strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")]
	if !ok {
		ref = hostRef{prov: -1, entry: -1}
	}
	chains, err := s.chains(ref)
	if err != nil {
		return nil, err
	}
	for i := range chains {
		if hello.SupportsCertificate(&chains[i]) == nil {
			return &chains[i], nil
		}
	}
	return &chains[0], nil
}

// chains returns the certificate chains of a host, from the bounded
// cache or made now.
func (s *SMTP) chains(ref hostRef) ([]tls.Certificate, error) {
	ref = s.w.target(ref)
	s.certMu.Lock()
	c, ok := s.certs[ref]
	s.certMu.Unlock()
	if ok {
		return c, nil
	}
	var prof hostProfile
	if ref.entry < 0 && ref.prov < 0 {
		prof = hostProfile{name: "lab-default.invalid", certName: "lab-default.invalid", ec: true, chain: 2}
	} else {
		prof = s.w.profile(ref)
	}
	p := s.w.pki
	for _, k := range []keyType{keyECDSA, keyRSA} {
		if k == keyECDSA && !prof.ec || k == keyRSA && !prof.rsa {
			continue
		}
		spec := prof.leafSpec(k)
		leaf, err := p.leaf(spec)
		if err != nil {
			return nil, fmt.Errorf("lab: certificate of %s: %w", prof.name, err)
		}
		chain := [][]byte{leaf, p.inter, p.root}[:prof.chain]
		c = append(c, tls.Certificate{Certificate: chain, PrivateKey: p.key(spec).priv})
	}
	s.certMu.Lock()
	if len(s.certs) >= s.maxC {
		clear(s.certs)
	}
	s.certs[ref] = c
	s.certMu.Unlock()
	return c, nil
}
