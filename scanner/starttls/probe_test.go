package starttls

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// testConfig returns a Config with timeouts long enough never to fire in a
// passing test, and short enough that a hang fails fast.
func testConfig() Config {
	return Config{
		EHLO:             "probe.example",
		ConnectTimeout:   5 * time.Second,
		BannerTimeout:    5 * time.Second,
		EHLOTimeout:      5 * time.Second,
		STARTTLSTimeout:  5 * time.Second,
		HandshakeTimeout: 5 * time.Second,
		QUITTimeout:      5 * time.Second,
	}
}

// checkContract checks the invariants every probe keeps.
func checkContract(t *testing.T, res Result, err error) {
	t.Helper()
	if (err != nil) != (res.Failure != "") {
		t.Fatalf("err = %v but Failure = %q", err, res.Failure)
	}
	if err == nil {
		return
	}
	if !slices.Contains(Failures(), res.Failure) {
		t.Errorf("Failure %q is not in the vocabulary", res.Failure)
	}
	var e *Error
	if !errors.As(err, &e) || e.Failure != res.Failure || e.Stage != res.Stage || res.Err != err.Error() {
		t.Errorf("err = %#v, Result Failure/Stage/Err = %q/%q/%q", err, res.Failure, res.Stage, res.Err)
	}
}

// noMail fails if the client ever sent a mail transaction command.
func noMail(t *testing.T, lines []string) {
	t.Helper()
	for _, l := range lines {
		u := strings.ToUpper(l)
		if strings.HasPrefix(u, "MAIL") || strings.HasPrefix(u, "RCPT") || strings.HasPrefix(u, "DATA") {
			t.Errorf("client sent %q", l)
		}
	}
}

func TestProbeSuccess(t *testing.T) {
	p := pkiOnce()
	srv := startServer(t, script{}.run)
	res, err := Probe(t.Context(), testConfig(), srv.addr, "mx.example.net")
	checkContract(t, res, err)
	srv.wait()
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if want := []string{"220-mx.example.net ESMTP", "220-second line", "220 ready"}; !slices.Equal(res.Banner, want) {
		t.Errorf("Banner = %q, want %q", res.Banner, want)
	}
	if res.BannerCode != 220 || res.EHLOCode != 250 || res.STARTTLSCode != 220 || res.QUITCode != 221 {
		t.Errorf("codes banner/ehlo/starttls/quit = %d/%d/%d/%d", res.BannerCode, res.EHLOCode, res.STARTTLSCode, res.QUITCode)
	}
	if len(res.EHLOLines) != 5 {
		t.Errorf("EHLOLines = %q", res.EHLOLines)
	}
	if want := []string{"PIPELINING", "SIZE", "STARTTLS", "8BITMIME"}; !slices.Equal(res.Extensions, want) || !res.STARTTLSOffered {
		t.Errorf("Extensions = %q (offered %v), want %q", res.Extensions, res.STARTTLSOffered, want)
	}
	if len(res.Chain) != 2 || !bytes.Equal(res.Chain[0], p.ecLeaf) || !bytes.Equal(res.Chain[1], p.inter) {
		t.Errorf("Chain has %d certificates, not [leaf, intermediate]", len(res.Chain))
	}
	if res.TLSVersion != tls.VersionTLS13 || res.CipherSuite == 0 || res.Group == 0 {
		t.Errorf("TLS version/suite/group = %x/%x/%v", res.TLSVersion, res.CipherSuite, res.Group)
	}
	if res.ReplyCode != 0 || res.Alert != 0 || res.Stage != "" {
		t.Errorf("ReplyCode %d, Alert %d, Stage %q on success", res.ReplyCode, res.Alert, res.Stage)
	}
	if res.Timings.Banner <= 0 || res.Timings.Handshake <= 0 {
		t.Errorf("Timings = %+v", res.Timings)
	}
	got := srv.received()
	if want := []string{"EHLO probe.example", "STARTTLS", "QUIT"}; !slices.Equal(got, want) {
		t.Errorf("server received %q, want %q", got, want)
	}
	noMail(t, got)
	if !slices.Equal(srv.sni, []string{"mx.example.net"}) {
		t.Errorf("SNI = %q", srv.sni)
	}
}

func TestProbeZeroConfig(t *testing.T) {
	srv := startServer(t, script{}.run)
	res, err := Probe(t.Context(), Config{}, srv.addr, "mx.example.net")
	checkContract(t, res, err)
	srv.wait()
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.received(); len(got) == 0 || !strings.HasPrefix(got[0], "EHLO ") || len(got[0]) <= len("EHLO ") {
		t.Errorf("server received %q", got)
	}
}

// endless writes 'a' without a line ending until the client goes.
func endless(s *session) {
	chunk := bytes.Repeat([]byte("a"), 4096)
	s.conn.Write([]byte("220-"))
	for {
		if _, err := s.conn.Write(chunk); err != nil {
			return
		}
	}
}

func TestProbeFailures(t *testing.T) {
	p := pkiOnce()
	short := func(c *Config) {
		c.BannerTimeout, c.EHLOTimeout, c.STARTTLSTimeout, c.HandshakeTimeout = 100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond
	}
	manyLines := make([]string, 150)
	for i := range manyLines {
		manyLines[i] = "220-line"
	}
	bigEHLO := []string{"250-mx.example.net"}
	for range 90 {
		bigEHLO = append(bigEHLO, "250-X"+strings.Repeat("x", 1000))
	}
	bigEHLO = append(bigEHLO, "250 STARTTLS")
	garbage := []byte{0x30, 0x82, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef}
	unparsable := tls.Certificate{Certificate: [][]byte{p.ecLeaf, garbage}, PrivateKey: p.ecKey}

	tests := []struct {
		name        string
		handler     func(s *session)
		cfg         func(c *Config)
		failure     Failure
		stage       Stage
		wantLines   []string // client lines the server must have seen; nil: skip
		check       func(t *testing.T, res Result)
		serverBlock bool
	}{
		{
			name:    "starttls not offered",
			handler: script{ehlo: []string{"250-mx.example.net", "250 PIPELINING"}}.run,
			failure: FailureSTARTTLSNotOffered, stage: StageEHLO,
			wantLines: []string{"EHLO probe.example", "QUIT"},
			check: func(t *testing.T, res Result) {
				if res.STARTTLSOffered || !slices.Equal(res.Extensions, []string{"PIPELINING"}) || res.QUITCode != 221 {
					t.Errorf("Extensions %q, offered %v, QUIT %d", res.Extensions, res.STARTTLSOffered, res.QUITCode)
				}
			},
		},
		{
			name:    "starttls refused 454",
			handler: script{starttls: []string{"454 4.7.0 TLS not available due to local problem"}}.run,
			failure: FailureSTARTTLSRejected, stage: StageSTARTTLS,
			wantLines: []string{"EHLO probe.example", "STARTTLS", "QUIT"},
			check: func(t *testing.T, res Result) {
				if res.ReplyCode != 454 || res.ReplyText != "4.7.0 TLS not available due to local problem" || res.STARTTLSCode != 454 {
					t.Errorf("reply %d %q", res.ReplyCode, res.ReplyText)
				}
			},
		},
		{
			name:    "banner 554",
			handler: script{banner: []string{"554-5.7.1 no SMTP service here", "554 go away"}}.run,
			failure: FailureBannerRejected, stage: StageBanner,
			wantLines: []string{"QUIT"},
			check: func(t *testing.T, res Result) {
				if res.ReplyCode != 554 || res.ReplyText != "5.7.1 no SMTP service here\ngo away" || len(res.Banner) != 2 {
					t.Errorf("reply %d %q, banner %q", res.ReplyCode, res.ReplyText, res.Banner)
				}
			},
		},
		{
			name:    "banner 421",
			handler: func(s *session) { s.send("421 4.3.2 too busy, closing") },
			failure: FailureBannerRejected, stage: StageBanner,
			check: func(t *testing.T, res Result) {
				if res.ReplyCode != 421 || res.BannerCode != 421 {
					t.Errorf("reply %d %q", res.ReplyCode, res.ReplyText)
				}
			},
		},
		{
			name:    "ehlo rejected",
			handler: script{ehlo: []string{"500 5.5.1 command unrecognized"}}.run,
			failure: FailureEHLORejected, stage: StageEHLO,
			wantLines: []string{"EHLO probe.example", "QUIT"},
			check: func(t *testing.T, res Result) {
				if res.ReplyCode != 500 || res.EHLOCode != 500 {
					t.Errorf("reply %d %q", res.ReplyCode, res.ReplyText)
				}
			},
		},
		{
			name:    "ehlo then close",
			handler: func(s *session) { s.send("220 ok"); s.readLine() },
			failure: FailureConnectionClosed, stage: StageEHLO,
		},
		{
			name: "garbage instead of ServerHello",
			handler: script{afterSTARTTLS: func(s *session) {
				s.r.Peek(1) // wait for the ClientHello
				s.conn.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			}}.run,
			failure: FailureTLSHandshakeFailed, stage: StageHandshake,
		},
		{
			name:    "server closes instead of ServerHello",
			handler: script{afterSTARTTLS: func(s *session) {}}.run,
			failure: FailureConnectionReset, stage: StageHandshake,
		},
		{
			name:    "server alert protocol_version",
			handler: script{tls: &tls.Config{Certificates: []tls.Certificate{p.ecCert()}, MinVersion: tls.VersionTLS13}}.run,
			cfg:     func(c *Config) { c.SigAlgs = SigAlgsECDSA },
			failure: FailureTLSHandshakeFailed, stage: StageHandshake,
			check: func(t *testing.T, res Result) {
				if res.Alert != 70 || res.AlertText != "tls: protocol version not supported" {
					t.Errorf("Alert = %d %q", res.Alert, res.AlertText)
				}
			},
		},
		{
			name:    "ecdsa mode against an RSA-only server",
			handler: script{tls: &tls.Config{Certificates: []tls.Certificate{p.rsaCert()}}}.run,
			cfg:     func(c *Config) { c.SigAlgs = SigAlgsECDSA },
			failure: FailureTLSHandshakeFailed, stage: StageHandshake,
			check: func(t *testing.T, res Result) {
				if res.Alert != 40 || res.SigAlgs != SigAlgsECDSA {
					t.Errorf("Alert = %d %q, SigAlgs %q", res.Alert, res.AlertText, res.SigAlgs)
				}
			},
		},
		{
			name:    "handshake timeout",
			handler: script{afterSTARTTLS: func(s *session) { s.drain() }}.run,
			cfg:     short,
			failure: FailureTLSHandshakeTimeout, stage: StageHandshake,
		},
		{
			name:    "stall mid-banner",
			handler: func(s *session) { s.conn.Write([]byte("220-mx.example.net\r\n220 part")); s.drain() },
			cfg:     short,
			failure: FailureBannerTimeout, stage: StageBanner,
			check: func(t *testing.T, res Result) {
				if !slices.Equal(res.Banner, []string{"220-mx.example.net", "220 part"}) {
					t.Errorf("Banner = %q", res.Banner)
				}
				if res.Timings.Banner > 4*time.Second {
					t.Errorf("banner took %v", res.Timings.Banner)
				}
			},
		},
		{
			name:    "stall after EHLO",
			handler: func(s *session) { s.send("220 ok"); s.drain() },
			cfg:     short,
			failure: FailureEHLOTimeout, stage: StageEHLO,
		},
		{
			name:    "stall after STARTTLS",
			handler: script{starttls: []string{}}.run,
			cfg:     short,
			failure: FailureSTARTTLSTimeout, stage: StageSTARTTLS,
		},
		{
			name:    "endless line",
			handler: endless,
			failure: FailureLineTooLong, stage: StageBanner,
			check: func(t *testing.T, res Result) {
				if len(res.Banner) != 1 || len(res.Banner[0]) != DefaultMaxLineBytes {
					t.Errorf("Banner has %d lines, first %d bytes", len(res.Banner), len(res.Banner[0]))
				}
			},
		},
		{
			name:    "too many lines",
			handler: func(s *session) { s.send(manyLines...); s.drain() },
			failure: FailureTooManyLines, stage: StageBanner,
			check: func(t *testing.T, res Result) {
				if len(res.Banner) != DefaultMaxReplyLines {
					t.Errorf("Banner has %d lines", len(res.Banner))
				}
			},
		},
		{
			name:    "enormous transcript",
			handler: script{ehlo: bigEHLO}.run,
			failure: FailureTranscriptTooLong, stage: StageEHLO,
		},
		{
			name:    "garbage reply",
			handler: func(s *session) { s.send("SSH-2.0-OpenSSH_9.6\xff"); s.drain() },
			failure: FailureProtocolError, stage: StageBanner,
			check: func(t *testing.T, res Result) {
				if !strings.Contains(res.Err, `SSH-2.0-OpenSSH_9.6\xff`) {
					t.Errorf("Err = %q, want the escaped line", res.Err)
				}
			},
		},
		{
			name:    "code changes within reply",
			handler: func(s *session) { s.send("220-a", "250 b"); s.drain() },
			failure: FailureProtocolError, stage: StageBanner,
		},
		{
			name:    "data after STARTTLS reply",
			handler: script{starttls: []string{"220 go ahead", "250 injected"}, afterSTARTTLS: func(s *session) { s.drain() }}.run,
			failure: FailureProtocolError, stage: StageSTARTTLS,
		},
		{
			name:    "unparsable certificate TLS 1.2",
			handler: script{tls: &tls.Config{Certificates: []tls.Certificate{unparsable}, MaxVersion: tls.VersionTLS12}}.run,
			failure: FailureTLSCertificateUnparsable, stage: StageHandshake,
			check: func(t *testing.T, res Result) {
				if len(res.Chain) != 2 || !bytes.Equal(res.Chain[0], p.ecLeaf) || !bytes.Equal(res.Chain[1], garbage) {
					t.Errorf("Chain = %d certificates, want the leaf and the garbage", len(res.Chain))
				}
			},
		},
		{
			name:    "unparsable certificate TLS 1.3",
			handler: script{tls: &tls.Config{Certificates: []tls.Certificate{unparsable}}}.run,
			failure: FailureTLSCertificateUnparsable, stage: StageHandshake,
		},
		{
			name:    "bad sigalgs mode",
			handler: script{}.run,
			cfg:     func(c *Config) { c.SigAlgs = "dsa" },
			failure: FailureConfig, stage: StageConfig,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.handler)
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			res, err := Probe(t.Context(), cfg, srv.addr, "mx.example.net")
			checkContract(t, res, err)
			srv.wait()
			if res.Failure != tt.failure || res.Stage != tt.stage {
				t.Fatalf("Failure, Stage = %q, %q (%v); want %q, %q", res.Failure, res.Stage, err, tt.failure, tt.stage)
			}
			got := srv.received()
			noMail(t, got)
			if tt.wantLines != nil && !slices.Equal(got, tt.wantLines) {
				t.Errorf("server received %q, want %q", got, tt.wantLines)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

func TestProbeInvalidUTF8Banner(t *testing.T) {
	srv := startServer(t, script{banner: []string{"220 mx.example.net \xff\xfe ESMTP \x00"}}.run)
	res, err := Probe(t.Context(), testConfig(), srv.addr, "mx.example.net")
	checkContract(t, res, err)
	srv.wait()
	if err != nil {
		t.Fatalf("Probe: %v (invalid UTF-8 in the text is not a failure)", err)
	}
	if want := []string{`220 mx.example.net \xff\xfe ESMTP \x00`}; !slices.Equal(res.Banner, want) {
		t.Errorf("Banner = %q, want %q", res.Banner, want)
	}
}

func TestProbeConnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	res, err := Probe(t.Context(), testConfig(), addr, "mx.example.net")
	checkContract(t, res, err)
	if res.Failure != FailureConnectRefused || res.Stage != StageConnect {
		t.Errorf("Failure, Stage = %q, %q (%v)", res.Failure, res.Stage, err)
	}
}

func TestProbeDialFailed(t *testing.T) {
	cfg := testConfig()
	cfg.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		return nil, errors.New("not in the dial map")
	}
	res, err := Probe(t.Context(), cfg, netip.MustParseAddrPort("192.0.2.1:25"), "mx.example.net")
	checkContract(t, res, err)
	if res.Failure != FailureConnectFailed {
		t.Errorf("Failure = %q (%v)", res.Failure, err)
	}
}

func TestProbeCanceledMidBanner(t *testing.T) {
	sent := make(chan struct{}) // the handler closes it after the partial banner; the test reads
	srv := startServer(t, func(s *session) {
		s.send("220-mx.example.net")
		close(sent)
		s.drain()
	})
	ctx, cancel := context.WithCancel(t.Context())
	dialed := make(chan struct{}) // Dial closes it once connected; the test reads
	cfg := testConfig()
	cfg.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, address)
		close(dialed)
		return c, err
	}
	type out struct {
		res Result
		err error
	}
	done := make(chan out, 1) // the probe goroutine writes once; the test reads
	go func() {
		res, err := Probe(ctx, cfg, srv.addr, "mx.example.net")
		done <- out{res, err}
	}()
	<-sent
	<-dialed
	cancel()
	o := <-done
	checkContract(t, o.res, o.err)
	srv.wait()
	if o.res.Failure != FailureCanceled || o.res.Stage != StageBanner {
		t.Errorf("Failure, Stage = %q, %q (%v)", o.res.Failure, o.res.Stage, o.err)
	}
	if !errors.Is(o.err, net.ErrClosed) && !errors.Is(o.err, context.Canceled) {
		t.Logf("err = %v", o.err)
	}
}

func TestProbeCanceledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, err := Probe(ctx, testConfig(), netip.MustParseAddrPort("127.0.0.1:1"), "mx.example.net")
	checkContract(t, res, err)
	if res.Failure != FailureCanceled {
		t.Errorf("Failure = %q", res.Failure)
	}
}

func TestProbeLongChain(t *testing.T) {
	p := pkiOnce()
	chain := [][]byte{p.ecLeaf}
	for range 299 {
		chain = append(chain, p.inter)
	}
	cert := tls.Certificate{Certificate: chain, PrivateKey: p.ecKey}
	srv := startServer(t, script{tls: &tls.Config{Certificates: []tls.Certificate{cert}}}.run)
	res, err := Probe(t.Context(), testConfig(), srv.addr, "mx.example.net")
	checkContract(t, res, err)
	srv.wait()
	// Either outcome is acceptable; the probe must return within the
	// handshake timeout and keep the chain if it succeeded.
	if err == nil && len(res.Chain) != 300 {
		t.Errorf("Chain has %d certificates, want 300", len(res.Chain))
	}
	t.Logf("300 certificates: failure %q, chain %d", res.Failure, len(res.Chain))
}

func TestProbeAllSigAlgs(t *testing.T) {
	p := pkiOnce()
	both := &tls.Config{Certificates: []tls.Certificate{p.ecCert(), p.rsaCert()}}
	srv := startServer(t, script{tls: both}.run)
	modes, err := SigAlgsModes("all")
	if err != nil {
		t.Fatal(err)
	}
	results := ProbeAll(t.Context(), testConfig(), srv.addr, "mx.example.net", modes)
	srv.wait()
	wantLeaf := map[string][]byte{SigAlgsAny: p.ecLeaf, SigAlgsECDSA: p.ecLeaf, SigAlgsRSA: p.rsaLeaf}
	wantVersion := map[string]uint16{SigAlgsAny: tls.VersionTLS13, SigAlgsECDSA: tls.VersionTLS12, SigAlgsRSA: tls.VersionTLS12}
	if len(results) != 3 {
		t.Fatalf("%d results", len(results))
	}
	for i, res := range results {
		if res.SigAlgs != modes[i] {
			t.Errorf("result %d has mode %q, want %q", i, res.SigAlgs, modes[i])
		}
		if res.Failure != "" {
			t.Errorf("%s: %s", res.SigAlgs, res.Err)
			continue
		}
		if len(res.Chain) != 2 || !bytes.Equal(res.Chain[0], wantLeaf[res.SigAlgs]) || !bytes.Equal(res.Chain[1], p.inter) {
			t.Errorf("%s: wrong chain (%d certificates)", res.SigAlgs, len(res.Chain))
		}
		if res.TLSVersion != wantVersion[res.SigAlgs] {
			t.Errorf("%s: TLS version %x", res.SigAlgs, res.TLSVersion)
		}
	}
	if got := srv.received(); len(got) != 9 {
		t.Errorf("server received %q, want 3 x EHLO, STARTTLS, QUIT", got)
	}
}

func TestSigAlgsModes(t *testing.T) {
	for in, want := range map[string][]string{
		"": {"any"}, "any": {"any"}, "ecdsa": {"ecdsa"}, "rsa": {"rsa"},
		"both": {"ecdsa", "rsa"}, "all": {"any", "ecdsa", "rsa"},
	} {
		got, err := SigAlgsModes(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("SigAlgsModes(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := SigAlgsModes("dsa"); err == nil {
		t.Error("SigAlgsModes(dsa) succeeded")
	}
}

func TestProbeContextDeadlineIsStageTimeout(t *testing.T) {
	srv := startServer(t, func(s *session) { s.send("220 ok"); s.drain() })
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	res, err := Probe(ctx, testConfig(), srv.addr, "mx.example.net")
	checkContract(t, res, err)
	srv.wait()
	if res.Failure != FailureEHLOTimeout || res.Stage != StageEHLO {
		t.Errorf("Failure, Stage = %q, %q (%v)", res.Failure, res.Stage, err)
	}
}

func TestFailuresClosed(t *testing.T) {
	seen := map[Failure]bool{}
	for _, f := range Failures() {
		if f == "" || seen[f] || strings.ToLower(string(f)) != string(f) || strings.ContainsAny(string(f), " -") {
			t.Errorf("bad or duplicate failure %q", f)
		}
		seen[f] = true
	}
}

// TestProbeDefaultBannerTimeout runs on net.Pipe inside a synctest bubble,
// so the default 30 s greeting timeout passes in virtual time.
func TestProbeDefaultBannerTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server := net.Pipe()
		defer server.Close()
		go func() {
			server.Write([]byte("220-slow greeting\r\n"))
			io.Copy(io.Discard, server) // until the client closes
		}()
		cfg := Config{EHLO: "probe.example", Dial: func(context.Context, string, string) (net.Conn, error) { return client, nil }}
		res, err := Probe(t.Context(), cfg, netip.MustParseAddrPort("192.0.2.1:25"), "mx.example.net")
		checkContract(t, res, err)
		if res.Failure != FailureBannerTimeout || res.Timings.Banner != DefaultBannerTimeout {
			t.Errorf("Failure %q after %v, want %q after %v", res.Failure, res.Timings.Banner, FailureBannerTimeout, DefaultBannerTimeout)
		}
		if !slices.Equal(res.Banner, []string{"220-slow greeting"}) {
			t.Errorf("Banner = %q", res.Banner)
		}
	})
}
