package starttls

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/textproto"
	"strings"
	"syscall"
	"time"
)

// Result is what one probe observed. Fields stay zero for the stages that
// were not reached.
type Result struct {
	// Addr is the address probed; ServerName the SNI sent (the TLSA base
	// domain, RFC 7672 §8.1); SigAlgs the mode used (see [Config.SigAlgs]).
	Addr       netip.AddrPort
	ServerName string
	SigAlgs    string

	// Banner holds the greeting lines as received (escaped, see the
	// package comment), including a partial line at a failure.
	Banner []string
	// BannerCode is the greeting's reply code (220, 554 ...), 0 if none.
	BannerCode int
	// EHLOLines holds the EHLO reply lines as received.
	EHLOLines []string
	// EHLOCode is the EHLO reply code, 0 if none.
	EHLOCode int
	// Extensions lists the upper-case keywords of the EHLO reply, in
	// order (the first line, the server's name, is not an extension).
	Extensions []string
	// STARTTLSOffered reports whether Extensions contains STARTTLS.
	STARTTLSOffered bool
	// STARTTLSCode is the reply code to STARTTLS, 0 if none.
	STARTTLSCode int
	// ReplyCode and ReplyText are the reply that refused (a non-2yz
	// greeting, EHLO or STARTTLS reply); ReplyText joins its lines' text
	// with "\n". Zero when no reply refused.
	ReplyCode int
	ReplyText string

	// TLSVersion, CipherSuite and Group (the key exchange group) describe
	// the completed handshake; zero otherwise.
	TLSVersion  uint16
	CipherSuite uint16
	Group       tls.CurveID
	// Chain is the certificate chain as presented, leaf first, DER. It is
	// also filled when the handshake failed after the certificates
	// arrived, and, for TLS 1.2, when one of them did not parse.
	Chain [][]byte
	// Alert is the TLS alert the server sent (RFC 8446 §6), AlertText its
	// name; zero and "" when none was received.
	Alert     uint8
	AlertText string

	// QUITCode is the reply to QUIT, 0 if none came within QUITTimeout.
	QUITCode int

	// Failure is "" on success, otherwise one string of [Failures]. Stage
	// is the stage that failed (StageConnect ...; starttls_not_offered is
	// decided in StageEHLO), Err the error text.
	Failure Failure
	Stage   Stage
	Err     string

	// Timings holds the duration of each stage that was started.
	Timings Timings
}

// Timings are the durations of the stages of a probe.
type Timings struct {
	Connect   time.Duration
	Banner    time.Duration
	EHLO      time.Duration
	STARTTLS  time.Duration
	Handshake time.Duration
	QUIT      time.Duration
}

// Probe connects to addr, reads the greeting, sends EHLO and STARTTLS,
// completes the TLS handshake with serverName as SNI and sends QUIT. It
// returns what it observed; the error is non-nil exactly when
// Result.Failure is not empty, and is then an [*Error]. Probe closes the
// connection it opens before returning. It starts no goroutines; canceling
// ctx aborts any blocked step.
func Probe(ctx context.Context, cfg Config, addr netip.AddrPort, serverName string) (Result, error) {
	cfg = cfg.WithDefaults()
	res := Result{Addr: addr, ServerName: serverName, SigAlgs: cfg.SigAlgs}
	p := &prober{cfg: cfg, res: &res}
	stage, err := p.run(ctx, addr, serverName)
	if err == nil {
		return res, nil
	}
	e := &Error{Stage: stage, Failure: classify(stage, err, ctx.Err()), Err: err}
	res.Stage, res.Failure, res.Err = e.Stage, e.Failure, e.Error()
	if a, text, ok := alertOf(err); ok {
		res.Alert, res.AlertText = a, text
	}
	return res, e
}

// ProbeAll runs one [Probe] per mode (see [Config.SigAlgs]), one after the
// other, each on its own connection, and returns the results in the order
// of modes. Failures are in each Result; an empty modes means {"any"}.
func ProbeAll(ctx context.Context, cfg Config, addr netip.AddrPort, serverName string, modes []string) []Result {
	if len(modes) == 0 {
		modes = []string{SigAlgsAny}
	}
	out := make([]Result, 0, len(modes))
	for _, m := range modes {
		c := cfg
		c.SigAlgs = m
		r, _ := Probe(ctx, c, addr, serverName)
		out = append(out, r)
	}
	return out
}

// SigAlgsModes maps a command-line value to the modes for [ProbeAll]:
// "" and "any" to {"any"}, "ecdsa" and "rsa" to themselves, "both" to
// {"ecdsa", "rsa"} and "all" to {"any", "ecdsa", "rsa"}. Anything else is
// an error.
func SigAlgsModes(v string) ([]string, error) {
	switch v {
	case "", SigAlgsAny:
		return []string{SigAlgsAny}, nil
	case SigAlgsECDSA, SigAlgsRSA:
		return []string{v}, nil
	case "both":
		return []string{SigAlgsECDSA, SigAlgsRSA}, nil
	case "all":
		return []string{SigAlgsAny, SigAlgsECDSA, SigAlgsRSA}, nil
	}
	return nil, fmt.Errorf("starttls: %w %q (want any, ecdsa, rsa, both or all)", errBadSigAlgs, v)
}

// ParseExtension splits the text of one EHLO reply line (after "250-" or
// "250 ") into its keyword, upper-cased, and its parameters (RFC 5321
// §4.1.1.1: ehlo-line = ehlo-keyword *( SP ehlo-param )).
func ParseExtension(text string) (keyword string, params []string) {
	f := strings.Fields(text)
	if len(f) == 0 {
		return "", nil
	}
	return strings.ToUpper(f[0]), f[1:]
}

// prober holds the state of one probe.
type prober struct {
	cfg Config
	res *Result
}

// run performs the dialogue and returns the stage that failed and why.
func (p *prober) run(ctx context.Context, addr netip.AddrPort, serverName string) (Stage, error) {
	cfg, res := p.cfg, p.res
	tlsCfg, err := cfg.tlsConfig(serverName, func(raw [][]byte, _ [][]*x509.Certificate) error {
		res.Chain = cloneChain(raw)
		return nil
	})
	if err != nil {
		return StageConfig, fmt.Errorf("%w %q", err, cfg.SigAlgs)
	}
	if err := ctx.Err(); err != nil {
		return StageConnect, err
	}

	// Connect.
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	conn, err := cfg.Dial(dctx, "tcp", addr.String())
	cancel()
	res.Timings.Connect = time.Since(start)
	if err != nil {
		if errors.Is(err, syscall.ECONNRESET) {
			// The kernel completed the handshake and the peer reset the
			// connection before Dial returned: the same reset on accept
			// that the greeting's read reports when it comes later.
			return StageBanner, fmt.Errorf("read greeting: dial %s: %w", addr, err)
		}
		return StageConnect, fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()
	// Closing the conn on cancellation aborts a blocked read or write;
	// unlike a past deadline it cannot be undone by the next stage's
	// SetDeadline.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	b := &budget{r: conn, n: cfg.MaxTranscriptBytes}
	rr := newReplyReader(b, cfg.MaxLineBytes, cfg.MaxReplyLines)
	w := textproto.NewWriter(bufio.NewWriter(conn))

	// Banner.
	rep, err := p.stage(ctx, conn, cfg.BannerTimeout, &res.Timings.Banner, func() (reply, error) {
		return rr.readReply()
	})
	res.Banner, res.BannerCode = rep.Lines, rep.Code
	if err != nil {
		return StageBanner, fmt.Errorf("read greeting: %w", err)
	}
	if rep.Code/100 != 2 {
		p.refused(rep)
		p.quit(ctx, conn, w, rr)
		return StageBanner, fmt.Errorf("greeting: %w", replyError(rep))
	}

	// EHLO.
	rep, err = p.stage(ctx, conn, cfg.EHLOTimeout, &res.Timings.EHLO, func() (reply, error) {
		if err := w.PrintfLine("EHLO %s", cfg.EHLO); err != nil {
			return reply{}, err
		}
		return rr.readReply()
	})
	res.EHLOLines, res.EHLOCode = rep.Lines, rep.Code
	if err != nil {
		return StageEHLO, fmt.Errorf("EHLO: %w", err)
	}
	if rep.Code/100 != 2 {
		p.refused(rep)
		p.quit(ctx, conn, w, rr)
		return StageEHLO, fmt.Errorf("EHLO: %w", replyError(rep))
	}
	for _, text := range rep.Text[1:] {
		kw, _ := ParseExtension(text)
		if kw == "" {
			continue
		}
		res.Extensions = append(res.Extensions, kw)
		if kw == "STARTTLS" {
			res.STARTTLSOffered = true
		}
	}
	if !res.STARTTLSOffered {
		p.quit(ctx, conn, w, rr)
		return StageEHLO, errNotOffered
	}

	// STARTTLS.
	rep, err = p.stage(ctx, conn, cfg.STARTTLSTimeout, &res.Timings.STARTTLS, func() (reply, error) {
		if err := w.PrintfLine("STARTTLS"); err != nil {
			return reply{}, err
		}
		return rr.readReply()
	})
	res.STARTTLSCode = rep.Code
	if err != nil {
		return StageSTARTTLS, fmt.Errorf("STARTTLS: %w", err)
	}
	if rep.Code/100 != 2 {
		p.refused(rep)
		p.quit(ctx, conn, w, rr)
		return StageSTARTTLS, fmt.Errorf("STARTTLS: %w", replyError(rep))
	}
	if n := rr.br.Buffered(); n > 0 {
		extra, _ := rr.br.Peek(min(n, 64))
		return StageSTARTTLS, protocolErrorf("%d bytes after the STARTTLS reply, before the TLS handshake: \"%s\"", n, escape(extra))
	}

	// TLS handshake.
	rec := &recorder{Conn: conn, max: 512 << 10}
	tc := tls.Client(rec, tlsCfg)
	start = time.Now()
	setDeadline(ctx, conn, cfg.HandshakeTimeout)
	err = tc.Handshake() // ctx cancellation closes conn (AfterFunc above)
	res.Timings.Handshake = time.Since(start)
	if err != nil {
		if res.Chain == nil && isUnparsable(err) {
			res.Chain = tls12Chain(rec.buf)
		}
		return StageHandshake, fmt.Errorf("TLS handshake: %w", err)
	}
	st := tc.ConnectionState()
	res.TLSVersion, res.CipherSuite, res.Group = st.Version, st.CipherSuite, st.CurveID
	res.Chain = make([][]byte, len(st.PeerCertificates))
	for i, c := range st.PeerCertificates {
		res.Chain[i] = c.Raw
	}
	rec.stop()

	// QUIT over TLS, best effort.
	p.quit(ctx, conn, textproto.NewWriter(bufio.NewWriter(tc)),
		newReplyReader(&budget{r: tc, n: b.n}, cfg.MaxLineBytes, cfg.MaxReplyLines))
	tc.Close() // close_notify, then the TCP connection
	return "", nil
}

// stage runs f under the stage's deadline and records its duration.
func (p *prober) stage(ctx context.Context, conn net.Conn, timeout time.Duration, took *time.Duration, f func() (reply, error)) (reply, error) {
	start := time.Now()
	setDeadline(ctx, conn, timeout)
	rep, err := f()
	*took = time.Since(start)
	return rep, err
}

// refused records rep as the refusing reply.
func (p *prober) refused(rep reply) {
	p.res.ReplyCode = rep.Code
	p.res.ReplyText = strings.Join(rep.Text, "\n")
}

// quit sends QUIT (in plaintext after a refusal, as RFC 5321 §3.1 asks
// after a 554 greeting; over TLS after a handshake) and waits up to QUITTimeout for the reply; errors are
// ignored, only the code is recorded.
func (p *prober) quit(ctx context.Context, conn net.Conn, w *textproto.Writer, rr *replyReader) {
	if ctx.Err() != nil {
		return
	}
	rep, _ := p.stage(ctx, conn, p.cfg.QUITTimeout, &p.res.Timings.QUIT, func() (reply, error) {
		if err := w.PrintfLine("QUIT"); err != nil {
			return reply{}, err
		}
		return rr.readReply()
	})
	p.res.QUITCode = rep.Code
}

// setDeadline sets conn's deadline to now+timeout or the ctx deadline,
// whichever comes first.
func setDeadline(ctx context.Context, conn net.Conn, timeout time.Duration) {
	d := time.Now().Add(timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	conn.SetDeadline(d)
}

// replyError returns rep as a *textproto.Error.
func replyError(rep reply) error {
	return &textproto.Error{Code: rep.Code, Msg: strings.Join(rep.Text, "\n")}
}

func cloneChain(raw [][]byte) [][]byte {
	out := make([][]byte, len(raw))
	for i, c := range raw {
		out[i] = append([]byte(nil), c...)
	}
	return out
}
