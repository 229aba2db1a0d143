// Package lookup sends the scanner's DNS queries (MX, A, AAAA, TLSA, TXT) to
// recursive resolvers over github.com/miekg/dns.
//
// Every query carries EDNS0 (RFC 6891) with the DO bit (RFC 3225) and a
// 1232-byte UDP buffer (the DNS Flag Day 2020 value). A truncated UDP answer
// is retried over TCP (RFC 7766). An answer is accepted only when its ID,
// QR bit and question (name, type, class) match the query (RFC 5452 §9.1);
// anything else is read past and, if nothing better arrives, classified as
// "mismatch". Failed attempts are retried with exponential backoff on the
// next resolver. CNAME chains in answers are followed as RFC 1034 §3.6.2
// describes, with loop detection.
//
// A lookup never returns without an Answer: on error the Answer still holds
// what was observed (rcode, attempts, partial chain) and a failure class
// from the closed vocabulary below.
package lookup

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/time/rate"
)

// Failure is the failure class of a lookup, from a closed vocabulary
// (Failures). The empty Failure means an answer with records of the queried
// type arrived.
type Failure string

// Failure classes of a lookup.
const (
	FailNoData             Failure = "nodata"
	FailNXDomain           Failure = "nxdomain"
	FailServFail           Failure = "servfail"
	FailRefused            Failure = "refused"
	FailFormErr            Failure = "formerr"
	FailNotImp             Failure = "notimp"
	FailRcodeOther         Failure = "rcode_other"
	FailTimeout            Failure = "timeout"
	FailNetwork            Failure = "network"
	FailMismatch           Failure = "mismatch"
	FailMalformed          Failure = "malformed"
	FailTruncatedTCPFailed Failure = "truncated_tcp_failed"
	FailCNAMELoop          Failure = "cname_loop"
	FailCNAMETooLong       Failure = "cname_too_long"
	FailCanceled           Failure = "canceled"
)

// Failures returns every failure class a lookup can end with, in the order
// the dataset documents them.
func Failures() []Failure {
	return []Failure{FailNoData, FailNXDomain, FailServFail, FailRefused, FailFormErr, FailNotImp,
		FailRcodeOther, FailTimeout, FailNetwork, FailMismatch, FailMalformed, FailTruncatedTCPFailed,
		FailCNAMELoop, FailCNAMETooLong, FailCanceled}
}

// MaxCNAMEHops bounds the CNAME chain followed from a query name.
const MaxCNAMEHops = 8

// UDPSize is the EDNS0 buffer size advertised in every query.
const UDPSize = 1232

// readBufSize is the receive buffer of a pooled UDP socket. Answers larger
// than the advertised UDPSize violate RFC 6891; up to this size they are still
// accepted, beyond it the datagram is cut by the kernel and fails to unpack.
const readBufSize = 4096

// Client sends queries. The zero value is not usable: set Servers. A Client
// is safe for concurrent use; Close releases its pooled sockets.
type Client struct {
	// Servers are the resolvers, "host:port". Attempts rotate through them.
	Servers []string
	// Timeout bounds one attempt (send and wait for the answer). Default 2s.
	// A lookup whose ctx ends returns at the latest when the current
	// attempt's timeout (or ctx's deadline) passes, or at once after
	// Abort.
	Timeout time.Duration
	// Retries is the number of attempts after the first. Default 0.
	Retries int
	// Backoff is the pause before the first retry, doubled for each further
	// retry, with ±50% jitter. Default 50ms.
	Backoff time.Duration
	// Limiter, when set, is waited on before every query sent (UDP or TCP):
	// the global queries-per-second budget.
	Limiter *rate.Limiter
	// CheckingDisabled sets the CD bit (RFC 4035 §3.2.2) so that a
	// validating resolver hands over bogus data for in-process diagnosis.
	CheckingDisabled bool
	// Dial opens connections to resolvers. Default: a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// MaxIdle bounds the pooled UDP sockets per server. Default 256.
	MaxIdle int

	once  sync.Once
	pools []chan *udpConn // one per server; written by put, read by get
	next  atomic.Uint32   // rotates the first server of each lookup
	sent  atomic.Int64

	aborted atomic.Bool           // set by Abort, under mu
	mu      sync.Mutex            // orders Abort and await
	waiting map[*udpConn]struct{} // guarded by mu: the sockets waiting for an answer
}

// Answer is what one lookup observed.
type Answer struct {
	// QName is the name asked, lowercase without trailing dot.
	QName string
	// QType is the type asked.
	QType uint16
	// Msg is the final accepted response; nil when none arrived.
	Msg *dns.Msg
	// Records are the answer records of QType owned by the end of the CNAME
	// chain.
	Records []dns.RR
	// CNAMEs is the chain of CNAME targets followed from QName, in order,
	// lowercase without trailing dot.
	CNAMEs []string
	// Transport is "udp" or "tcp" for the final response.
	Transport string
	// Server is the resolver that sent the final response.
	Server string
	// Attempts counts the queries sent, TCP retries and CNAME re-queries
	// included.
	Attempts int
	// Failure is the failure class, empty when Records is not empty.
	Failure Failure
}

// Rcode returns the final response's rcode as a string, or "" when none
// arrived.
func (a *Answer) Rcode() string {
	if a.Msg == nil {
		return ""
	}
	if s, ok := dns.RcodeToString[a.Msg.Rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", a.Msg.Rcode)
}

// AD reports the AD bit of the final response.
func (a *Answer) AD() bool { return a.Msg != nil && a.Msg.AuthenticatedData }

// TTL returns the smallest TTL among Records, or 0 when there are none.
func (a *Answer) TTL() uint32 {
	var ttl uint32
	for i, rr := range a.Records {
		if t := rr.Header().Ttl; i == 0 || t < ttl {
			ttl = t
		}
	}
	return ttl
}

// Target returns the name at the end of the CNAME chain (QName without one).
func (a *Answer) Target() string {
	if n := len(a.CNAMEs); n > 0 {
		return a.CNAMEs[n-1]
	}
	return a.QName
}

// Error is the error of a failed lookup. Its Class is the failure class.
type Error struct {
	Op    string // e.g. "MX example.com"
	Class Failure
	Err   error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Op + ": " + string(e.Class)
	}
	return e.Op + ": " + string(e.Class) + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Abort ends the lookups in progress at once, with FailCanceled, and makes
// every later one fail so: a UDP attempt waiting for its answer wakes now
// instead of when its timeout passes (TCP attempts, retry pauses and the
// rate limit already follow ctx). The scanner calls it when the grace
// period after an interrupt is over. It is not undone.
func (c *Client) Abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.aborted.Store(true)
	past := time.Unix(1, 0)
	for uc := range c.waiting {
		uc.conn.SetDeadline(past)
	}
}

// await registers uc as waiting for an answer until deadline. It returns
// false, leaving uc alone, after Abort.
func (c *Client) await(uc *udpConn, deadline time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aborted.Load() {
		return false
	}
	if c.waiting == nil {
		c.waiting = map[*udpConn]struct{}{}
	}
	c.waiting[uc] = struct{}{}
	// Set under mu, so that Abort's past deadline is never overwritten.
	uc.conn.SetDeadline(deadline)
	return true
}

// done unregisters uc, no longer waiting; it is called before uc is
// pooled again or closed.
func (c *Client) done(uc *udpConn) {
	c.mu.Lock()
	delete(c.waiting, uc)
	c.mu.Unlock()
}

// errAborted is the error of lookups ended by Abort.
var errAborted = errors.New("lookups aborted")

// Sent returns the number of queries sent so far.
func (c *Client) Sent() int64 { return c.sent.Load() }

func (c *Client) init() {
	c.once.Do(func() {
		if c.MaxIdle <= 0 {
			c.MaxIdle = 256
		}
		c.pools = make([]chan *udpConn, len(c.Servers))
		for i := range c.pools {
			c.pools[i] = make(chan *udpConn, c.MaxIdle)
		}
	})
}

// Close closes the pooled sockets. Lookups still running finish on their own
// sockets, which are then closed instead of pooled.
func (c *Client) Close() error {
	c.init()
	for _, p := range c.pools {
	drain:
		for {
			select {
			case uc := <-p:
				uc.conn.Close()
			default:
				break drain
			}
		}
	}
	return nil
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 2 * time.Second
}

func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if c.Dial != nil {
		return c.Dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// Lookup asks for name/qtype and follows CNAME chains. It returns an error
// (an *Error) when no usable answer arrived, or the chain is broken; NXDOMAIN
// and NODATA are answers, reported in Answer.Failure with a nil error.
func (c *Client) Lookup(ctx context.Context, name string, qtype uint16) (Answer, error) {
	c.init()
	qname := strings.TrimSuffix(strings.ToLower(name), ".")
	ans := Answer{QName: qname, QType: qtype}
	op := dns.TypeToString[qtype] + " " + qname
	if len(c.Servers) == 0 {
		ans.Failure = FailNetwork
		return ans, &Error{Op: op, Class: FailNetwork, Err: errors.New("no resolver configured")}
	}
	seen := map[string]bool{qname: true}
	current := qname
	for hop := 0; ; hop++ {
		msg, attempts, transport, server, err := c.exchange(ctx, current, qtype)
		ans.Attempts += attempts
		if msg != nil {
			ans.Msg, ans.Transport, ans.Server = msg, transport, server
		}
		if err != nil {
			var le *Error
			if errors.As(err, &le) {
				le.Op = op
				ans.Failure = le.Class
			} else {
				ans.Failure = FailNetwork
				err = &Error{Op: op, Class: FailNetwork, Err: err}
			}
			return ans, err
		}
		// Walk the chain inside this answer.
		owner := current
		for {
			target := cnameOf(msg.Answer, owner)
			if target == "" {
				break
			}
			if seen[target] {
				ans.CNAMEs = append(ans.CNAMEs, target)
				ans.Failure = FailCNAMELoop
				return ans, &Error{Op: op, Class: FailCNAMELoop, Err: fmt.Errorf("%s seen twice", target)}
			}
			if len(ans.CNAMEs) >= MaxCNAMEHops {
				ans.Failure = FailCNAMETooLong
				return ans, &Error{Op: op, Class: FailCNAMETooLong, Err: fmt.Errorf("more than %d CNAME hops", MaxCNAMEHops)}
			}
			seen[target] = true
			ans.CNAMEs = append(ans.CNAMEs, target)
			owner = target
		}
		for _, rr := range msg.Answer {
			if rr.Header().Rrtype == qtype && rr.Header().Class == dns.ClassINET && canon(rr.Header().Name) == owner {
				ans.Records = append(ans.Records, rr)
			}
		}
		switch {
		case len(ans.Records) > 0:
			ans.Failure = ""
			return ans, nil
		case msg.Rcode == dns.RcodeSuccess && owner != current && !hasSOA(msg.Ns) && qtype != dns.TypeCNAME:
			// The resolver stopped at a CNAME without chasing it and
			// without a denial for the target: ask for the target.
			if hop >= MaxCNAMEHops {
				ans.Failure = FailCNAMETooLong
				return ans, &Error{Op: op, Class: FailCNAMETooLong, Err: fmt.Errorf("more than %d CNAME hops", MaxCNAMEHops)}
			}
			current = owner
			continue
		}
		ans.Failure = rcodeFailure(msg.Rcode)
		if ans.Failure == FailNoData || ans.Failure == FailNXDomain {
			return ans, nil
		}
		return ans, &Error{Op: op, Class: ans.Failure, Err: fmt.Errorf("rcode %s", ans.Rcode())}
	}
}

func rcodeFailure(rcode int) Failure {
	switch rcode {
	case dns.RcodeSuccess:
		return FailNoData
	case dns.RcodeNameError:
		return FailNXDomain
	case dns.RcodeServerFailure:
		return FailServFail
	case dns.RcodeRefused:
		return FailRefused
	case dns.RcodeFormatError:
		return FailFormErr
	case dns.RcodeNotImplemented:
		return FailNotImp
	}
	return FailRcodeOther
}

func canon(name string) string { return strings.TrimSuffix(strings.ToLower(name), ".") }

func cnameOf(rrs []dns.RR, owner string) string {
	for _, rr := range rrs {
		if c, ok := rr.(*dns.CNAME); ok && canon(c.Hdr.Name) == owner {
			return canon(c.Target)
		}
	}
	return ""
}

func hasSOA(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeSOA {
			return true
		}
	}
	return false
}

// retryable reports whether another attempt may give a different answer.
func retryable(class Failure) bool {
	switch class {
	case FailTimeout, FailNetwork, FailMismatch, FailMalformed, FailTruncatedTCPFailed:
		return true
	}
	return false
}

// exchange sends one question with retries and returns the first acceptable
// response. SERVFAIL and REFUSED move on to the next resolver while there
// is one not yet asked; other rcodes are final.
func (c *Client) exchange(ctx context.Context, qname string, qtype uint16) (msg *dns.Msg, attempts int, transport, server string, err error) {
	start := int(c.next.Add(1))
	backoff := c.Backoff
	if backoff <= 0 {
		backoff = 50 * time.Millisecond
	}
	var last *dns.Msg
	var lastTransport, lastServer string
	for try := 0; try <= c.Retries; try++ {
		if try > 0 {
			pause := time.Duration(float64(backoff) * (0.5 + rand.Float64()))
			backoff *= 2
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return last, attempts, lastTransport, lastServer, &Error{Class: FailCanceled, Err: ctx.Err()}
			case <-t.C:
			}
		}
		si := (start + try) % len(c.Servers)
		server = c.Servers[si]
		m, n, tr, e := c.attempt(ctx, si, qname, qtype)
		attempts += n
		if m != nil {
			last, lastTransport, lastServer = m, tr, server
		}
		if e == nil {
			if (m.Rcode == dns.RcodeServerFailure || m.Rcode == dns.RcodeRefused) && try < len(c.Servers)-1 && try < c.Retries {
				continue
			}
			return m, attempts, tr, server, nil
		}
		err = e
		var le *Error
		if !errors.As(e, &le) || !retryable(le.Class) {
			break
		}
	}
	if err == nil && last != nil {
		return last, attempts, lastTransport, lastServer, nil
	}
	return last, attempts, lastTransport, lastServer, err
}

func (c *Client) newQuery(qname string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.Id = dns.Id()
	m.RecursionDesired = true
	m.CheckingDisabled = c.CheckingDisabled
	m.Question = []dns.Question{{Name: dns.Fqdn(qname), Qtype: qtype, Qclass: dns.ClassINET}}
	m.SetEdns0(UDPSize, true)
	return m
}

// attempt is one UDP query, plus the TCP retry when the answer is truncated.
func (c *Client) attempt(ctx context.Context, si int, qname string, qtype uint16) (*dns.Msg, int, string, error) {
	q := c.newQuery(qname, qtype)
	m, err := c.udp(ctx, si, q)
	if err != nil {
		return nil, 1, "udp", err
	}
	if !m.Truncated {
		return m, 1, "udp", nil
	}
	q.Id = dns.Id()
	tm, err := c.tcp(ctx, c.Servers[si], q)
	if err != nil {
		var le *Error
		if errors.As(err, &le) && le.Class == FailCanceled {
			return m, 2, "udp", err
		}
		return m, 2, "udp", &Error{Class: FailTruncatedTCPFailed, Err: err}
	}
	return tm, 2, "tcp", nil
}

type udpConn struct {
	conn net.Conn
	buf  []byte
}

func (c *Client) getUDP(ctx context.Context, si int) (*udpConn, error) {
	select {
	case uc := <-c.pools[si]:
		return uc, nil
	default:
	}
	conn, err := c.dial(ctx, "udp", c.Servers[si])
	if err != nil {
		return nil, err
	}
	return &udpConn{conn: conn, buf: make([]byte, readBufSize)}, nil
}

func (c *Client) putUDP(si int, uc *udpConn) {
	select {
	case c.pools[si] <- uc:
	default:
		uc.conn.Close()
	}
}

func (c *Client) wait(ctx context.Context) error {
	if c.Limiter != nil {
		if err := c.Limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return &Error{Class: FailCanceled, Err: ctx.Err()}
			}
			return &Error{Class: FailCanceled, Err: err}
		}
	}
	if err := ctx.Err(); err != nil {
		return &Error{Class: FailCanceled, Err: err}
	}
	if c.aborted.Load() {
		return &Error{Class: FailCanceled, Err: errAborted}
	}
	c.sent.Add(1)
	return nil
}

func (c *Client) udp(ctx context.Context, si int, q *dns.Msg) (*dns.Msg, error) {
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	wire, err := q.Pack()
	if err != nil {
		return nil, &Error{Class: FailFormErr, Err: fmt.Errorf("pack query: %w", err)}
	}
	uc, err := c.getUDP(ctx, si)
	if err != nil {
		return nil, &Error{Class: FailNetwork, Err: err}
	}
	deadline := time.Now().Add(c.timeout())
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if !c.await(uc, deadline) {
		uc.conn.Close()
		return nil, &Error{Class: FailCanceled, Err: errAborted}
	}
	if _, err := uc.conn.Write(wire); err != nil {
		c.done(uc)
		uc.conn.Close()
		return nil, &Error{Class: FailNetwork, Err: err}
	}
	var why error
	class := FailTimeout
	for {
		// A canceled ctx is noticed when the attempt's deadline passes,
		// or at once after Abort: waking every reader on cancellation
		// (context.AfterFunc) cost 3 % of the CPU of a lab scan, and
		// attempts are short.
		n, err := uc.conn.Read(uc.buf)
		if err != nil {
			// The socket may still receive the late answer; do not reuse it.
			c.done(uc)
			uc.conn.Close()
			if ctx.Err() != nil {
				return nil, &Error{Class: FailCanceled, Err: ctx.Err()}
			}
			if c.aborted.Load() {
				return nil, &Error{Class: FailCanceled, Err: errAborted}
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
				if why == nil {
					why = fmt.Errorf("no answer within %s", c.timeout())
				}
				return nil, &Error{Class: class, Err: why}
			}
			return nil, &Error{Class: FailNetwork, Err: err}
		}
		m := new(dns.Msg)
		if err := m.Unpack(uc.buf[:n]); err != nil {
			if n >= 2 && uint16(uc.buf[0])<<8|uint16(uc.buf[1]) == q.Id {
				class, why = FailMalformed, fmt.Errorf("unpack answer (%d bytes): %w", n, err)
			}
			continue
		}
		if err := matches(q, m); err != nil {
			class, why = FailMismatch, err
			continue
		}
		c.done(uc)
		c.putUDP(si, uc)
		return m, nil
	}
}

func (c *Client) tcp(ctx context.Context, server string, q *dns.Msg) (*dns.Msg, error) {
	if err := c.wait(ctx); err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	conn, err := c.dial(dctx, "tcp", server)
	if err != nil {
		return nil, fmt.Errorf("dial tcp: %w", err)
	}
	defer conn.Close()
	deadline, _ := dctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(dctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	co := &dns.Conn{Conn: conn}
	if err := co.WriteMsg(q); err != nil {
		return nil, fmt.Errorf("tcp write: %w", err)
	}
	m, err := co.ReadMsg()
	if err != nil {
		if ctx.Err() != nil {
			return nil, &Error{Class: FailCanceled, Err: ctx.Err()}
		}
		return nil, fmt.Errorf("tcp read: %w", err)
	}
	if err := matches(q, m); err != nil {
		return nil, err
	}
	return m, nil
}

// matches checks that m answers q: same ID, a response, the same question.
func matches(q, m *dns.Msg) error {
	if m.Id != q.Id {
		return fmt.Errorf("answer ID %d, query ID %d", m.Id, q.Id)
	}
	if !m.Response {
		return errors.New("answer without QR bit")
	}
	if len(m.Question) != 1 {
		return fmt.Errorf("answer has %d questions", len(m.Question))
	}
	a, b := m.Question[0], q.Question[0]
	if !strings.EqualFold(a.Name, b.Name) || a.Qtype != b.Qtype || a.Qclass != b.Qclass {
		return fmt.Errorf("answer is for %s %s, asked %s %s", a.Name, dns.TypeToString[a.Qtype], b.Name, dns.TypeToString[b.Qtype])
	}
	return nil
}
