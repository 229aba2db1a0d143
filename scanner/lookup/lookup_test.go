package lookup

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/time/rate"
)

// serve starts a miekg/dns server on 127.0.0.1 for each network given
// ("udp", "tcp"), on one port, and returns its address.
func serve(t *testing.T, h dns.HandlerFunc, nets ...string) string {
	t.Helper()
	// A free UDP port whose TCP twin is free too; other test processes may
	// hold it, so try a few.
	var pc net.PacketConn
	var l net.Listener
	for try := 0; ; try++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if try == 20 {
			t.Fatal(err)
		}
	}
	addr := pc.LocalAddr().String()
	start := func(s *dns.Server) {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go s.ActivateAndServe()
		<-started
		t.Cleanup(func() { s.Shutdown() })
	}
	for _, n := range nets {
		switch n {
		case "udp":
			start(&dns.Server{PacketConn: pc, Handler: h})
		case "tcp":
			start(&dns.Server{Listener: l, Handler: h})
		}
	}
	if !contains(nets, "udp") {
		pc.Close()
	}
	if !contains(nets, "tcp") {
		l.Close()
	}
	return addr
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func rr(t *testing.T, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// zone answers from a fixed list of records, as a recursive resolver that
// chases nothing: NXDOMAIN for names it has nothing at.
func zone(t *testing.T, records ...string) dns.HandlerFunc {
	var rrs []dns.RR
	for _, s := range records {
		rrs = append(rrs, rr(t, s))
	}
	return func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		name := strings.ToLower(q.Question[0].Name)
		found := false
		for _, r := range rrs {
			if strings.ToLower(r.Header().Name) == name {
				found = true
				if r.Header().Rrtype == q.Question[0].Qtype || r.Header().Rrtype == dns.TypeCNAME {
					m.Answer = append(m.Answer, r)
				}
			}
		}
		if !found {
			m.Rcode = dns.RcodeNameError
		}
		if len(m.Answer) == 0 {
			m.Ns = append(m.Ns, rr(t, "example. 60 IN SOA ns.example. h.example. 1 2 3 4 5"))
		}
		w.WriteMsg(m)
	}
}

func client(servers ...string) *Client {
	return &Client{Servers: servers, Timeout: 300 * time.Millisecond, Backoff: time.Millisecond}
}

func TestLookupAnswers(t *testing.T) {
	addr := serve(t, zone(t,
		"mail.example. 300 IN MX 10 mx1.example.",
		"mail.example. 200 IN MX 20 mx2.example.",
		"alias.example. 60 IN CNAME mail.example.",
		"loop1.example. 60 IN CNAME loop2.example.",
		"loop2.example. 60 IN CNAME loop1.example.",
		"_25._tcp.mx1.example. 60 IN TXT \"not tlsa\"",
	), "udp", "tcp")
	tests := []struct {
		name     string
		qname    string
		qtype    uint16
		records  int
		cnames   []string
		failure  Failure
		rcode    string
		wantErr  bool
		attempts int
		ttl      uint32
	}{
		{name: "answer", qname: "Mail.Example.", qtype: dns.TypeMX, records: 2, rcode: "NOERROR", attempts: 1, ttl: 200},
		{name: "nxdomain", qname: "nothing.example", qtype: dns.TypeMX, failure: FailNXDomain, rcode: "NXDOMAIN", attempts: 1},
		{name: "nodata", qname: "_25._tcp.mx1.example", qtype: dns.TypeTLSA, failure: FailNoData, rcode: "NOERROR", attempts: 1},
		// The fake resolver does not chase CNAMEs: the client asks for the
		// target itself.
		{name: "cname chased by the client", qname: "alias.example", qtype: dns.TypeMX, records: 2, cnames: []string{"mail.example"}, rcode: "NOERROR", attempts: 2, ttl: 200},
		{name: "cname loop", qname: "loop1.example", qtype: dns.TypeMX, cnames: []string{"loop2.example", "loop1.example"}, failure: FailCNAMELoop, rcode: "NOERROR", wantErr: true, attempts: 2},
	}
	c := client(addr)
	defer c.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := c.Lookup(context.Background(), tt.qname, tt.qtype)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if len(a.Records) != tt.records || a.Failure != tt.failure || a.Rcode() != tt.rcode || a.Attempts != tt.attempts || a.TTL() != tt.ttl {
				t.Errorf("got records=%d failure=%q rcode=%q attempts=%d ttl=%d, want %d %q %q %d %d",
					len(a.Records), a.Failure, a.Rcode(), a.Attempts, a.TTL(), tt.records, tt.failure, tt.rcode, tt.attempts, tt.ttl)
			}
			if !reflect.DeepEqual(a.CNAMEs, tt.cnames) {
				t.Errorf("CNAMEs = %q, want %q", a.CNAMEs, tt.cnames)
			}
			if a.QName != strings.TrimSuffix(strings.ToLower(tt.qname), ".") {
				t.Errorf("QName = %q", a.QName)
			}
		})
	}
}

func TestLookupChainInAnswer(t *testing.T) {
	// A recursive resolver puts the whole chain into one answer.
	addr := serve(t, func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Answer = []dns.RR{
			rr(t, "a.example. 60 IN CNAME B.example."),
			rr(t, "b.example. 60 IN CNAME c.other."),
			rr(t, "c.other. 60 IN A 192.0.2.1"),
			rr(t, "unrelated.example. 60 IN A 192.0.2.9"),
		}
		w.WriteMsg(m)
	}, "udp")
	c := client(addr)
	a, err := c.Lookup(context.Background(), "a.example", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b.example", "c.other"}; !reflect.DeepEqual(a.CNAMEs, want) {
		t.Errorf("CNAMEs = %q, want %q", a.CNAMEs, want)
	}
	if len(a.Records) != 1 || a.Target() != "c.other" {
		t.Errorf("records = %v, target %q: want only the A of c.other", a.Records, a.Target())
	}
}

func TestLookupQueryShape(t *testing.T) {
	var got atomic.Value
	addr := serve(t, func(w dns.ResponseWriter, q *dns.Msg) {
		got.Store(q.Copy())
		m := new(dns.Msg)
		m.SetReply(q)
		w.WriteMsg(m)
	}, "udp")
	c := client(addr)
	c.CheckingDisabled = true
	c.Lookup(context.Background(), "example", dns.TypeTLSA)
	q := got.Load().(*dns.Msg)
	opt := q.IsEdns0()
	if opt == nil || opt.UDPSize() != 1232 || !opt.Do() {
		t.Fatalf("query OPT = %v, want EDNS0 with DO and 1232-byte buffer", opt)
	}
	if !q.RecursionDesired || !q.CheckingDisabled {
		t.Errorf("RD=%v CD=%v, want both", q.RecursionDesired, q.CheckingDisabled)
	}
}

func TestLookupTruncation(t *testing.T) {
	big := func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		if w.RemoteAddr().Network() == "udp" {
			m.Truncated = true
		} else {
			m.Answer = []dns.RR{rr(t, "example. 60 IN TXT \"full answer over tcp\"")}
		}
		w.WriteMsg(m)
	}
	t.Run("tcp fallback", func(t *testing.T) {
		c := client(serve(t, big, "udp", "tcp"))
		a, err := c.Lookup(context.Background(), "example", dns.TypeTXT)
		if err != nil || a.Transport != "tcp" || len(a.Records) != 1 || a.Attempts != 2 {
			t.Fatalf("got err=%v transport=%q records=%d attempts=%d, want the TCP answer after 2 queries", err, a.Transport, len(a.Records), a.Attempts)
		}
	})
	t.Run("tcp refused", func(t *testing.T) {
		c := client(serve(t, big, "udp"))
		c.Retries = 1
		a, err := c.Lookup(context.Background(), "example", dns.TypeTXT)
		var le *Error
		if !errors.As(err, &le) || le.Class != FailTruncatedTCPFailed || a.Failure != FailTruncatedTCPFailed {
			t.Fatalf("got err=%v failure=%q, want %s", err, a.Failure, FailTruncatedTCPFailed)
		}
		if a.Attempts != 4 {
			t.Errorf("attempts = %d, want 4 (UDP+TCP, twice)", a.Attempts)
		}
	})
}

func TestLookupHostileAnswers(t *testing.T) {
	tests := []struct {
		name    string
		h       dns.HandlerFunc
		failure Failure
	}{
		{"other question", func(w dns.ResponseWriter, q *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(q)
			m.Question[0].Name = "evil.example."
			m.Answer = []dns.RR{rr(t, "evil.example. 60 IN MX 0 evil.example.")}
			w.WriteMsg(m)
		}, FailMismatch},
		{"other type", func(w dns.ResponseWriter, q *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(q)
			m.Question[0].Qtype = dns.TypeA
			w.WriteMsg(m)
		}, FailMismatch},
		{"other id", func(w dns.ResponseWriter, q *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(q)
			m.Id++
			w.WriteMsg(m)
		}, FailMismatch},
		{"garbage", func(w dns.ResponseWriter, q *dns.Msg) {
			w.Write([]byte{byte(q.Id >> 8), byte(q.Id), 0x81, 0x80, 0, 1, 0, 9, 0, 0, 0, 0, 7})
		}, FailMalformed},
		{"silence", func(w dns.ResponseWriter, q *dns.Msg) {}, FailTimeout},
		{"servfail", func(w dns.ResponseWriter, q *dns.Msg) {
			m := new(dns.Msg)
			m.SetRcode(q, dns.RcodeServerFailure)
			w.WriteMsg(m)
		}, FailServFail},
		{"refused", func(w dns.ResponseWriter, q *dns.Msg) {
			m := new(dns.Msg)
			m.SetRcode(q, dns.RcodeRefused)
			w.WriteMsg(m)
		}, FailRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := client(serve(t, tt.h, "udp"))
			c.Timeout = 100 * time.Millisecond
			c.Retries = 1
			a, err := c.Lookup(context.Background(), "example", dns.TypeMX)
			var le *Error
			if !errors.As(err, &le) || le.Class != tt.failure || a.Failure != tt.failure {
				t.Fatalf("got err=%v failure=%q, want class %q", err, a.Failure, tt.failure)
			}
			if len(a.Records) != 0 {
				t.Errorf("records %v accepted from a bad answer", a.Records)
			}
			if !strings.Contains(err.Error(), "MX example") {
				t.Errorf("error %q does not name the query", err)
			}
		})
	}
}

func TestLookupRetriesNextServer(t *testing.T) {
	silent := serve(t, func(w dns.ResponseWriter, q *dns.Msg) {}, "udp")
	good := serve(t, zone(t, "example. 60 IN MX 0 mx.example."), "udp")
	c := client(silent, good)
	c.Timeout = 100 * time.Millisecond
	c.Retries = 1
	for i := 0; i < 4; i++ { // whichever server the rotation starts with
		a, err := c.Lookup(context.Background(), "example", dns.TypeMX)
		if err != nil || len(a.Records) != 1 || a.Server != good {
			t.Fatalf("lookup %d: err=%v records=%d server=%s, want the answer of %s", i, err, len(a.Records), a.Server, good)
		}
	}
}

func TestLookupCanceled(t *testing.T) {
	silent := serve(t, func(w dns.ResponseWriter, q *dns.Msg) {}, "udp")
	c := client(silent)
	c.Timeout = time.Second
	c.Retries = 5
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	a, err := c.Lookup(ctx, "example", dns.TypeMX)
	if a.Failure != FailCanceled || err == nil {
		t.Fatalf("got failure %q err %v, want %s", a.Failure, err, FailCanceled)
	}
	if a.Attempts != 1 {
		t.Errorf("%d attempts: a canceled lookup must not retry", a.Attempts)
	}
}

// TestLookupAbort: Abort wakes a lookup waiting for an answer that will
// never come at once, not when its 30 s timeout passes, and makes later
// lookups fail at once (issue 11, defect 4).
func TestLookupAbort(t *testing.T) {
	asked := make(chan struct{}, 1) // written by the server on the first query, read below
	silent := serve(t, func(w dns.ResponseWriter, q *dns.Msg) {
		select {
		case asked <- struct{}{}:
		default:
		}
	}, "udp")
	c := client(silent)
	c.Timeout = 30 * time.Second
	type result struct {
		a   Answer
		err error
	}
	done := make(chan result, 1) // written by the lookup's goroutine, read below
	go func() {
		a, err := c.Lookup(context.Background(), "example", dns.TypeMX)
		done <- result{a, err}
	}()
	<-asked
	start := time.Now()
	c.Abort()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the lookup did not end within 10 s of Abort")
	}
	if took := time.Since(start); took > 2*time.Second || r.a.Failure != FailCanceled || r.err == nil {
		t.Errorf("after Abort: failure %q, err %v, after %v; want %s at once", r.a.Failure, r.err, took, FailCanceled)
	}
	if a, err := c.Lookup(context.Background(), "example", dns.TypeA); a.Failure != FailCanceled || err == nil || a.Attempts != 1 {
		t.Errorf("a lookup after Abort: failure %q, err %v, %d attempts; want %s without a query", a.Failure, err, a.Attempts, FailCanceled)
	}
}

func TestLookupLimiter(t *testing.T) {
	addr := serve(t, zone(t, "example. 60 IN MX 0 mx.example."), "udp")
	c := client(addr)
	c.Limiter = rate.NewLimiter(rate.Every(time.Hour), 1)
	if _, err := c.Lookup(context.Background(), "example", dns.TypeMX); err != nil {
		t.Fatalf("first lookup within the burst: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	a, _ := c.Lookup(ctx, "example", dns.TypeMX)
	if a.Failure != FailCanceled || c.Sent() != 1 {
		t.Errorf("second lookup: failure %q, sent %d; want it held back by the limiter", a.Failure, c.Sent())
	}
}

func TestParseServer(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1:53"},
		{"127.0.0.1:5353", "127.0.0.1:5353"},
		{"2001:db8::1", "[2001:db8::1]:53"},
		{"[2001:db8::1]:5353", "[2001:db8::1]:5353"},
		{"resolver.example:53", ""},
		{"nonsense", ""},
	}
	for _, tt := range tests {
		got, err := ParseServer(tt.in)
		if (err != nil) != (tt.want == "") || got != tt.want {
			t.Errorf("ParseServer(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
