package lookup

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeResolver answers every query of a Client with the next of a list of
// canned responses, over in-memory connections: the fuzzed bytes reach the
// client exactly as a resolver's datagrams or TCP messages would.
type fakeResolver struct {
	responses []fakeResponse
}

// fakeResponse is one datagram (UDP) or message (TCP) sent to the client.
type fakeResponse struct {
	data []byte
	// raw keeps the ID as it is; otherwise the first two bytes are
	// replaced by the ID of the query the connection last sent, so that
	// the fuzzer reaches past the ID check.
	raw bool
}

// decodeResponses splits the fuzzer's bytes into responses: a two-byte
// header (the top bit is raw, the other 15 bits the length) and the bytes.
func decodeResponses(b []byte) []fakeResponse {
	var out []fakeResponse
	for len(b) >= 2 {
		h := binary.BigEndian.Uint16(b)
		n := min(int(h&0x7fff), len(b)-2)
		out = append(out, fakeResponse{data: b[2 : 2+n], raw: h&0x8000 != 0})
		b = b[2+n:]
	}
	return out
}

// encodeResponses is the inverse of decodeResponses, for seeds.
func encodeResponses(responses ...fakeResponse) []byte {
	var b []byte
	for _, r := range responses {
		h := uint16(len(r.data))
		if r.raw {
			h |= 0x8000
		}
		b = binary.BigEndian.AppendUint16(b, h)
		b = append(b, r.data...)
	}
	return b
}

// next returns the next response with its ID set for query ID id, and
// false when none is left.
func (f *fakeResolver) next(id []byte) ([]byte, bool) {
	if len(f.responses) == 0 {
		return nil, false
	}
	r := f.responses[0]
	f.responses = f.responses[1:]
	data := slices.Clone(r.data)
	if !r.raw && len(data) >= 2 && len(id) == 2 {
		copy(data, id)
	}
	return data, true
}

func (f *fakeResolver) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return &fakeConn{resolver: f, tcp: strings.HasPrefix(network, "tcp")}, nil
}

// fakeConn is a connection to a fakeResolver. Over UDP each Read is one
// response; over TCP the responses are framed with their length. When the
// responses run out a UDP Read times out at once and a TCP Read ends with
// io.EOF: no test waits for a deadline.
type fakeConn struct {
	resolver *fakeResolver
	tcp      bool
	sent     []byte // the bytes written (UDP: the last datagram)
	pending  []byte // TCP: the rest of the message being read
}

func (c *fakeConn) Write(p []byte) (int, error) {
	if c.tcp {
		c.sent = append(c.sent, p...)
	} else {
		c.sent = slices.Clone(p)
	}
	return len(p), nil
}

// queryID returns the ID of the query last written.
func (c *fakeConn) queryID() []byte {
	s := c.sent
	if c.tcp && len(s) >= 2 {
		s = s[2:]
	}
	if len(s) < 2 {
		return nil
	}
	return s[:2]
}

func (c *fakeConn) Read(p []byte) (int, error) {
	if !c.tcp {
		data, ok := c.resolver.next(c.queryID())
		if !ok {
			return 0, os.ErrDeadlineExceeded
		}
		return copy(p, data), nil // a datagram longer than p is cut
	}
	if len(c.pending) == 0 {
		data, ok := c.resolver.next(c.queryID())
		if !ok {
			return 0, io.EOF
		}
		c.pending = binary.BigEndian.AppendUint16(nil, uint16(len(data)))
		c.pending = append(c.pending, data...)
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *fakeConn) Close() error                     { return nil }
func (c *fakeConn) LocalAddr() net.Addr              { return &net.UDPAddr{} }
func (c *fakeConn) RemoteAddr() net.Addr             { return &net.UDPAddr{} }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// packSeed packs a response to name/qtype for the seeds.
func packSeed(f *testing.F, name string, qtype uint16, rcode int, tc bool, answer ...string) fakeResponse {
	f.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.Response, m.Rcode, m.Truncated = true, rcode, tc
	for _, s := range answer {
		rr, err := dns.NewRR(s)
		if err != nil {
			f.Fatal(err)
		}
		if rr.Header().Rrtype == dns.TypeSOA {
			m.Ns = append(m.Ns, rr)
		} else {
			m.Answer = append(m.Answer, rr)
		}
	}
	m.SetEdns0(UDPSize, true)
	b, err := m.Pack()
	if err != nil {
		f.Fatal(err)
	}
	return fakeResponse{data: b}
}

// FuzzLookup answers a Lookup with arbitrary responses (datagrams and TCP
// messages, with the query's ID or a fuzzed one). Lookup must return, with
// an Answer that is consistent with its error: a Failure from Failures()
// or none with records of the queried type owned by the end of the CNAME
// chain, a bounded chain and a bounded number of queries, all counted.
// Seeds are below and in testdata/fuzz/FuzzLookup.
func FuzzLookup(f *testing.F) {
	const name = "example.com"
	mx := dns.TypeMX
	soa := "example.com. 300 IN SOA ns.example.com. h.example.com. 1 2 3 4 5"
	add := func(retries uint8, responses ...fakeResponse) {
		f.Add(name, mx, retries, encodeResponses(responses...))
	}
	add(0, packSeed(f, name, mx, dns.RcodeSuccess, false, "example.com. 300 IN MX 10 mx.example.com."))
	add(0, packSeed(f, name, mx, dns.RcodeNameError, false, soa))
	add(0, packSeed(f, name, mx, dns.RcodeSuccess, false,
		"example.com. 300 IN CNAME a.example.net.", "a.example.net. 300 IN MX 0 mx.example.net."))
	add(0, packSeed(f, name, mx, dns.RcodeSuccess, false, "example.com. 300 IN CNAME b.example.net."),
		packSeed(f, "b.example.net", mx, dns.RcodeSuccess, false, "b.example.net. 300 IN MX 0 mx.example.net."))
	add(0, packSeed(f, name, mx, dns.RcodeSuccess, true),
		packSeed(f, name, mx, dns.RcodeSuccess, false, "example.com. 300 IN MX 10 mx.example.com."))
	add(2, packSeed(f, name, mx, dns.RcodeServerFailure, false),
		packSeed(f, name, mx, dns.RcodeSuccess, false, soa))
	add(1, fakeResponse{data: []byte{0, 0, 0x80}, raw: true}, fakeResponse{data: []byte("\x00\x00garbage")},
		packSeed(f, name, mx, dns.RcodeSuccess, false, "example.com. 300 IN MX 10 mx.example.com."))
	add(0, packSeed(f, name, mx, dns.RcodeSuccess, false,
		"example.com. 300 IN CNAME a.example.com.", "a.example.com. 300 IN CNAME example.com."))
	f.Add("_25._tcp.mx.example.com", dns.TypeTLSA, uint8(0), encodeResponses(
		packSeed(f, "_25._tcp.mx.example.com", dns.TypeTLSA, dns.RcodeSuccess, false,
			"_25._tcp.mx.example.com. 300 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")))

	f.Fuzz(func(t *testing.T, name string, qtype uint16, retries uint8, responses []byte) {
		c := &Client{
			Servers: []string{"192.0.2.1:53", "192.0.2.2:53"},
			Timeout: time.Second,
			Retries: int(retries % 4),
			Backoff: time.Nanosecond,
			Dial:    (&fakeResolver{responses: decodeResponses(responses)}).dial,
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		a, err := c.Lookup(ctx, name, qtype)
		checkAnswer(t, c, name, a, err)
	})
}

// checkAnswer fails unless a and err, the answer to name, are consistent
// with each other and with the queries c sent.
func checkAnswer(t *testing.T, c *Client, name string, a Answer, err error) {
	t.Helper()
	if a.Failure != "" && !slices.Contains(Failures(), a.Failure) {
		t.Fatalf("failure %q outside the vocabulary", a.Failure)
	}
	if (a.Failure == "") != (len(a.Records) > 0) {
		t.Fatalf("failure %q with %d records", a.Failure, len(a.Records))
	}
	switch a.Failure {
	case "", FailNoData, FailNXDomain:
		if err != nil {
			t.Fatalf("failure %q with error %v", a.Failure, err)
		}
	default:
		var le *Error
		if !errors.As(err, &le) || le.Class != a.Failure {
			t.Fatalf("failure %q with error %#v", a.Failure, err)
		}
	}
	switch a.Failure {
	case "", FailNoData, FailNXDomain, FailServFail, FailRefused, FailNotImp, FailRcodeOther:
		if a.Msg == nil {
			t.Fatalf("failure %q without a response", a.Failure)
		}
		if a.Failure != "" && rcodeFailure(a.Msg.Rcode) != a.Failure {
			t.Fatalf("failure %q with rcode %s", a.Failure, a.Rcode())
		}
	}
	if a.Msg != nil {
		if !a.Msg.Response || len(a.Msg.Question) != 1 {
			t.Fatalf("accepted a response that does not answer one question: %v", a.Msg)
		}
		if a.Transport != "udp" && a.Transport != "tcp" || !slices.Contains(c.Servers, a.Server) {
			t.Fatalf("response by %q over %q", a.Server, a.Transport)
		}
	}
	if len(a.CNAMEs) > MaxCNAMEHops+1 {
		t.Fatalf("%d CNAMEs followed", len(a.CNAMEs))
	}
	if a.QName != canon(name) {
		t.Fatalf("asked %q, answer for %q", name, a.QName)
	}
	for _, n := range a.CNAMEs {
		// canon is not idempotent: "a\.." is the one label "a."
		// with the trailing dot, and canon("a\.") cuts the escape.
		if n != strings.ToLower(n) || strings.HasSuffix(n, ".") && !strings.HasSuffix(n, "\\.") {
			t.Fatalf("CNAME target %q not lowercase without the trailing dot", n)
		}
	}
	for _, rr := range a.Records {
		h := rr.Header()
		if h.Rrtype != a.QType || h.Class != dns.ClassINET || canon(h.Name) != a.Target() {
			t.Fatalf("record %v kept for %s %s", rr, a.Target(), dns.TypeToString[a.QType])
		}
	}
	maxAttempts := (MaxCNAMEHops + 1) * (c.Retries + 1) * 2
	if a.Attempts > maxAttempts || a.Failure != FailCanceled && c.Sent() != int64(a.Attempts) {
		t.Fatalf("%d attempts counted, %d queries sent, at most %d expected", a.Attempts, c.Sent(), maxAttempts)
	}
	a.TTL()
}
