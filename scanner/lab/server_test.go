package lab

import (
	"errors"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// startLab generates a world and serves it until the test ends.
func startLab(t testing.TB, n int, seed uint64) (*World, *Server) {
	t.Helper()
	return startLabConfig(t, Config{Domains: n, Seed: seed})
}

// startLabConfig generates the world of cfg and serves it until the test
// ends.
func startLabConfig(t testing.TB, cfg Config) (*World, *Server) {
	t.Helper()
	w := generate(t, cfg)
	s, err := Start(w, ServerOptions{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return w, s
}

// query sends one question to the lab server over network ("udp" or
// "tcp") with EDNS0 buffer size bufsize (0: no EDNS0).
func query(t *testing.T, s *Server, network, name string, qtype uint16, bufsize uint16) (*dns.Msg, error) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if bufsize > 0 {
		m.SetEdns0(bufsize, true)
	}
	c := &dns.Client{Net: network, Timeout: 200 * time.Millisecond}
	r, _, err := c.Exchange(m, s.Addr())
	return r, err
}

// mustQuery is query that stops the test on a transport error.
func mustQuery(t *testing.T, s *Server, network, name string, qtype uint16, bufsize uint16) *dns.Msg {
	t.Helper()
	r, err := query(t, s, network, name, qtype, bufsize)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return r
}

// firstOf returns the first entry of category c.
func firstOf(t *testing.T, w *World, c category) *entry {
	t.Helper()
	return firstWhere(t, w, func(e *entry) bool { return e.cat == c })
}

// firstWhere returns the first entry for which ok is true.
func firstWhere(t *testing.T, w *World, ok func(*entry) bool) *entry {
	t.Helper()
	for i := range w.entries {
		if ok(&w.entries[i]) {
			return &w.entries[i]
		}
	}
	t.Fatal("no such entry")
	return nil
}

// firstKind returns the query name of the first domain matching ok.
func firstKind(t *testing.T, w *World, ok func(Domain) bool) (string, Domain) {
	t.Helper()
	for _, d := range w.Domains() {
		if ok(d) && isASCII(d.Name) && strings.ToLower(d.Name) == d.Name && !strings.HasSuffix(d.Name, ".") {
			return dns.Fqdn(d.Name), d
		}
	}
	t.Fatal("no such domain")
	return "", Domain{}
}

func mxHosts(rrs []dns.RR) []string {
	var mx []*dns.MX
	for _, rr := range rrs {
		if m, ok := rr.(*dns.MX); ok {
			mx = append(mx, m)
		}
	}
	slices.SortStableFunc(mx, func(a, b *dns.MX) int { return int(a.Preference) - int(b.Preference) })
	var hosts []string
	for _, m := range mx {
		if m.Mx != "." {
			hosts = append(hosts, strings.TrimSuffix(m.Mx, "."))
		}
	}
	return hosts
}

func TestServer(t *testing.T) {
	w, s := startLab(t, 3000, 7)
	kind := func(k string) func(Domain) bool { return func(d Domain) bool { return d.Kind == k } }
	provider, provTruth := firstKind(t, w, func(d Domain) bool { return d.Kind == KindMX && d.Provider != "" && d.CNAME == "" })
	nullMX, _ := firstKind(t, w, kind(KindNullMX))
	nx, _ := firstKind(t, w, kind(KindNXDomain))
	servfail, _ := firstKind(t, w, func(d Domain) bool { return d.Kind == KindServfail && d.CNAME == "" })
	loop, _ := firstKind(t, w, func(d Domain) bool { return d.Kind == KindServfail && d.CNAME != "" })
	refused, _ := firstKind(t, w, kind(KindRefused))
	alias, aliasTruth := firstKind(t, w, func(d Domain) bool { return d.CNAME != "" && d.Kind == KindMX })
	implicit, _ := firstKind(t, w, kind(KindImplicit))
	none, _ := firstKind(t, w, kind(KindNone))
	_, tlsaTruth := firstKind(t, w, func(d Domain) bool { return d.TLSAAll && d.Provider == "" })
	ent := "_tcp." + tlsaTruth.MXHosts[0] + "."
	mxcname := firstWhere(t, w, func(e *entry) bool { return e.cat == catMXCNAME && e.prov >= 0 })

	tests := []struct {
		name    string
		network string
		qname   string
		qtype   uint16
		class   uint16 // 0: IN
		rcode   int
		answer  int // number of answer records, -1: do not check
		soa     bool
		check   func(t *testing.T, r *dns.Msg)
	}{
		{name: "provider MX", network: "udp", qname: provider, qtype: dns.TypeMX, rcode: dns.RcodeSuccess, answer: len(provTruth.MXHosts),
			check: func(t *testing.T, r *dns.Msg) {
				if got := mxHosts(r.Answer); !slices.Equal(got, provTruth.MXHosts) {
					t.Errorf("MX hosts (-want +got):\n-%v\n+%v", provTruth.MXHosts, got)
				}
			}},
		{name: "provider MX over TCP", network: "tcp", qname: provider, qtype: dns.TypeMX, rcode: dns.RcodeSuccess, answer: len(provTruth.MXHosts)},
		{name: "mixed case", network: "udp", qname: strings.ToUpper(provider), qtype: dns.TypeMX, rcode: dns.RcodeSuccess, answer: len(provTruth.MXHosts)},
		{name: "null MX", network: "udp", qname: nullMX, qtype: dns.TypeMX, rcode: dns.RcodeSuccess, answer: 1,
			check: func(t *testing.T, r *dns.Msg) {
				if mx, ok := r.Answer[0].(*dns.MX); !ok || mx.Preference != 0 || mx.Mx != "." {
					t.Errorf("answer %v, want MX 0 .", r.Answer[0])
				}
			}},
		{name: "NXDOMAIN", network: "udp", qname: nx, qtype: dns.TypeMX, rcode: dns.RcodeNameError, answer: 0, soa: true,
			check: func(t *testing.T, r *dns.Msg) {
				if tld := nx[strings.IndexByte(nx, '.')+1:]; r.Ns[0].Header().Name != tld {
					t.Errorf("SOA owner %s, want %s", r.Ns[0].Header().Name, tld)
				}
			}},
		{name: "NXDOMAIN below an existing name", network: "udp", qname: "_25._tcp.nothing." + provider, qtype: dns.TypeTLSA, rcode: dns.RcodeNameError, answer: 0, soa: true},
		{name: "NODATA at an empty non-terminal", network: "udp", qname: ent, qtype: dns.TypeTLSA, rcode: dns.RcodeSuccess, answer: 0, soa: true},
		{name: "NODATA implicit MX", network: "udp", qname: implicit, qtype: dns.TypeMX, rcode: dns.RcodeSuccess, answer: 0, soa: true},
		{name: "implicit MX address", network: "udp", qname: implicit, qtype: dns.TypeA, rcode: dns.RcodeSuccess, answer: 1},
		{name: "none", network: "udp", qname: none, qtype: dns.TypeA, rcode: dns.RcodeSuccess, answer: 0, soa: true},
		{name: "TLSA", network: "udp", qname: "_25._tcp." + tlsaTruth.MXHosts[0] + ".", qtype: dns.TypeTLSA, rcode: dns.RcodeSuccess, answer: -1,
			check: func(t *testing.T, r *dns.Msg) {
				if len(r.Answer) == 0 {
					t.Error("no TLSA records")
				}
			}},
		{name: "CNAME at the domain", network: "udp", qname: alias, qtype: dns.TypeMX, rcode: dns.RcodeSuccess, answer: 1 + len(aliasTruth.MXHosts),
			check: func(t *testing.T, r *dns.Msg) {
				cn, ok := r.Answer[0].(*dns.CNAME)
				if !ok || cn.Target != aliasTruth.CNAME+"." {
					t.Errorf("first answer %v, want a CNAME to %s", r.Answer[0], aliasTruth.CNAME)
				}
				if got := mxHosts(r.Answer); !slices.Equal(got, aliasTruth.MXHosts) {
					t.Errorf("MX hosts (-want +got):\n-%v\n+%v", aliasTruth.MXHosts, got)
				}
			}},
		{name: "CNAME at the MX host, across zones", network: "udp", qname: "mx." + mxcname.name + ".", qtype: dns.TypeA, rcode: dns.RcodeSuccess, answer: -1,
			check: func(t *testing.T, r *dns.Msg) {
				if _, ok := r.Answer[0].(*dns.CNAME); !ok {
					t.Fatalf("first answer %v, want a CNAME", r.Answer[0])
				}
				if _, ok := r.Answer[len(r.Answer)-1].(*dns.A); !ok {
					t.Errorf("last answer %v, want an A record", r.Answer[len(r.Answer)-1])
				}
			}},
		{name: "CNAME query does not follow", network: "udp", qname: alias, qtype: dns.TypeCNAME, rcode: dns.RcodeSuccess, answer: 1},
		{name: "CNAME loop", network: "udp", qname: loop, qtype: dns.TypeMX, rcode: dns.RcodeServerFailure, answer: 2},
		{name: "CNAME loop at the MX host", network: "udp", qname: "mx." + firstOf(t, w, catMXLoop).name + ".", qtype: dns.TypeA, rcode: dns.RcodeServerFailure, answer: 2},
		{name: "SERVFAIL", network: "udp", qname: servfail, qtype: dns.TypeMX, rcode: dns.RcodeServerFailure, answer: 0},
		{name: "SERVFAIL below", network: "tcp", qname: "_25._tcp.mx." + servfail, qtype: dns.TypeTLSA, rcode: dns.RcodeServerFailure, answer: 0},
		{name: "REFUSED", network: "udp", qname: refused, qtype: dns.TypeMX, rcode: dns.RcodeRefused, answer: 0},
		{name: "mismatch", network: "udp", qname: dns.Fqdn(firstOf(t, w, catMismatch).name), qtype: dns.TypeMX, rcode: dns.RcodeSuccess, answer: -1,
			check: func(t *testing.T, r *dns.Msg) {
				if got := r.Question[0].Name; got == dns.Fqdn(firstOf(t, w, catMismatch).name) {
					t.Errorf("question name %s: want another name", got)
				}
			}},
		{name: "TLSA beyond 1232 bytes over UDP", network: "udp", qname: "_25._tcp.mx." + firstOf(t, w, catBigTLSA).name + ".", qtype: dns.TypeTLSA, rcode: dns.RcodeSuccess, answer: -1,
			check: func(t *testing.T, r *dns.Msg) {
				if !r.Truncated {
					t.Error("TC not set")
				}
				if r.Compress = true; r.Len() > 1232 {
					t.Errorf("UDP reply of %d bytes", r.Len())
				}
			}},
		{name: "TLSA beyond 1232 bytes over TCP", network: "tcp", qname: "_25._tcp.mx." + firstOf(t, w, catBigTLSA).name + ".", qtype: dns.TypeTLSA, rcode: dns.RcodeSuccess, answer: 20,
			check: func(t *testing.T, r *dns.Msg) {
				if r.Truncated {
					t.Error("TC set over TCP")
				}
			}},
		{name: "60 MX over TCP", network: "tcp", qname: dns.Fqdn(firstOf(t, w, catManyMX).name), qtype: dns.TypeMX, rcode: dns.RcodeSuccess, answer: 60},
		{name: "big TXT over TCP", network: "tcp", qname: "_smtp._tls." + firstOf(t, w, catBigTXT).name + ".", qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, answer: 8},
		{name: "chaos class", network: "udp", qname: "version.bind.", qtype: dns.TypeTXT, class: dns.ClassCHAOS, rcode: dns.RcodeRefused, answer: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion(tt.qname, tt.qtype)
			m.SetEdns0(1232, true)
			if tt.class != 0 {
				m.Question[0].Qclass = tt.class
			}
			r, _, err := (&dns.Client{Net: tt.network, Timeout: 200 * time.Millisecond}).Exchange(m, s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			if r.Rcode != tt.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tt.rcode])
			}
			if !r.RecursionAvailable || r.AuthenticatedData {
				t.Errorf("RA=%v AD=%v, want RA=1 AD=0", r.RecursionAvailable, r.AuthenticatedData)
			}
			if tt.answer >= 0 && len(r.Answer) != tt.answer {
				t.Errorf("%d answer records, want %d: %v", len(r.Answer), tt.answer, r.Answer)
			}
			if tt.soa {
				if len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
					t.Errorf("authority %v, want one SOA", r.Ns)
				}
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestServerTimeout(t *testing.T) {
	w, s := startLab(t, 3000, 7)
	name := dns.Fqdn(firstOf(t, w, catTimeout).name)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			for _, q := range []string{name, "_25._tcp.mx." + name} {
				_, err := query(t, s, network, q, dns.TypeMX, 1232)
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Errorf("%s: error %v, want a timeout", q, err)
				}
			}
		})
	}
}

func TestServerEDNS(t *testing.T) {
	w, s := startLab(t, 300, 7)
	name, _ := firstKind(t, w, func(d Domain) bool { return d.Kind == KindMX && d.Provider != "" })
	tests := []struct {
		name    string
		bufsize uint16
		do      bool
	}{
		{"no EDNS", 0, false},
		{"1232 DO", 1232, true},
		{"4096 no DO", 4096, false},
		{"below 512", 100, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion(name, dns.TypeMX)
			if tt.bufsize > 0 {
				m.SetEdns0(tt.bufsize, tt.do)
			}
			r, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(m, s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			opt := r.IsEdns0()
			if tt.bufsize == 0 {
				if opt != nil {
					t.Errorf("OPT in the reply to a query without EDNS0")
				}
				return
			}
			if opt == nil {
				t.Fatal("no OPT in the reply")
			}
			if want := max(tt.bufsize, 512); opt.UDPSize() != want {
				t.Errorf("UDP size %d, want %d", opt.UDPSize(), want)
			}
			if opt.Do() != tt.do {
				t.Errorf("DO %v, want %v", opt.Do(), tt.do)
			}
		})
	}
}

func TestServerTruncationWithoutEDNS(t *testing.T) {
	w, s := startLab(t, 300, 7)
	name := dns.Fqdn(firstOf(t, w, catManyMX).name)
	r := mustQuery(t, s, "udp", name, dns.TypeMX, 0)
	if !r.Truncated {
		t.Error("60 MX without EDNS0: TC not set")
	}
	if r.Compress = true; r.Len() > 512 {
		t.Errorf("UDP reply of %d bytes without EDNS0", r.Len())
	}
}

func TestServerFormErr(t *testing.T) {
	_, s := startLab(t, 300, 7)
	tests := []struct {
		name      string
		questions []dns.Question
	}{
		{"no question", nil},
		{"two questions", []dns.Question{
			{Name: "a.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET},
			{Name: "b.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &dns.Msg{Question: tt.questions}
			m.Id = dns.Id()
			m.RecursionDesired = true
			r, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(m, s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			if r.Rcode != dns.RcodeFormatError {
				t.Errorf("rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
			}
		})
	}
}

func TestStartRejectsNonLoopback(t *testing.T) {
	w := generate(t, Config{Domains: 10, Seed: 1})
	for _, addr := range []string{"192.0.2.1:53", "0.0.0.0:0", "example.com:53"} {
		if s, err := Start(w, ServerOptions{Addr: addr}); err == nil {
			s.Close()
			t.Errorf("Start(%s): want an error", addr)
		}
	}
}

// TestServerTruth resolves every domain of a world as the scanner would
// and compares what it finds with Domains().
func TestServerTruth(t *testing.T) {
	for _, signed := range []bool{false, true} {
		t.Run(map[bool]string{false: "unsigned", true: "signed"}[signed], func(t *testing.T) {
			serverTruth(t, Config{Domains: 3000, Seed: 11, DNSSEC: signed})
		})
	}
}

// serverTruth is TestServerTruth for the world of cfg.
func serverTruth(t *testing.T, cfg Config) {
	w, s := startLabConfig(t, cfg)
	checked := map[string]int{}
	for i, d := range w.Domains() {
		if d.Kind == KindInvalid || d.Kind == KindTimeout {
			continue
		}
		name := queryName(t, w.InputLines()[i])
		r := mustQuery(t, s, "udp", name, dns.TypeMX, 1232)
		if r.Truncated {
			r = mustQuery(t, s, "tcp", name, dns.TypeMX, 1232)
		}
		if d.Kind == KindMismatch {
			if r.Question[0].Name == name {
				t.Errorf("%s: question name not changed", d.Name)
			}
			checked[d.Kind]++
			continue
		}
		got := Domain{Name: d.Name, Provider: d.Provider, MTASTS: d.MTASTS, TLSRPT: d.TLSRPT}
		got.MXHosts = mxHosts(r.Answer)
		nullMX := slices.ContainsFunc(r.Answer, func(rr dns.RR) bool { mx, ok := rr.(*dns.MX); return ok && mx.Mx == "." })
		for _, rr := range r.Answer {
			if cn, ok := rr.(*dns.CNAME); ok && cn.Hdr.Name == name {
				got.CNAME = strings.TrimSuffix(cn.Target, ".")
			}
		}
		switch {
		case r.Rcode == dns.RcodeNameError:
			got.Kind = KindNXDomain
		case r.Rcode == dns.RcodeServerFailure:
			got.Kind = KindServfail
		case r.Rcode == dns.RcodeRefused:
			got.Kind = KindRefused
		case nullMX && len(got.MXHosts) > 0:
			got.Kind = KindMixedNullMX
		case nullMX:
			got.Kind = KindNullMX
		case len(got.MXHosts) > 0:
			got.Kind = KindMX
		default:
			a := mustQuery(t, s, "udp", name, dns.TypeA, 1232)
			got.Kind = KindNone
			if len(a.Answer) > 0 {
				got.Kind = KindImplicit
				got.MXHosts = []string{strings.TrimSuffix(name, ".")}
			}
		}
		if got.Kind == KindMX {
			got.TLSAAll = true
			for _, h := range got.MXHosts {
				tr := mustQuery(t, s, "tcp", "_25._tcp."+h+".", dns.TypeTLSA, 1232)
				if !slices.ContainsFunc(tr.Answer, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeTLSA }) {
					got.TLSAAll = false
				}
			}
		}
		if got.Kind != KindMX && got.Kind != KindImplicit && got.Kind != KindMixedNullMX {
			got.MXHosts = nil
		}
		want := d
		if len(want.MXHosts) == 0 {
			want.MXHosts = nil
		}
		if want.Kind == KindServfail {
			got.CNAME = want.CNAME // the loop's CNAMEs come with SERVFAIL
		}
		if !equalDomain(want, got) {
			t.Errorf("line %d %q:\n-%+v\n+%+v", i, d.Name, want, got)
		}
		checked[d.Kind]++
	}
	for _, k := range []string{KindMX, KindNullMX, KindMixedNullMX, KindImplicit, KindNone, KindNXDomain, KindServfail, KindRefused, KindMismatch} {
		if checked[k] == 0 {
			t.Errorf("no domain of kind %s checked", k)
		}
	}
}

func equalDomain(a, b Domain) bool {
	return a.Name == b.Name && a.Kind == b.Kind && slices.Equal(a.MXHosts, b.MXHosts) &&
		a.TLSAAll == b.TLSAAll && a.CNAME == b.CNAME
}

// BenchmarkServeMX measures the server answering MX queries for provider
// and self-hosted domains over loopback UDP from several sockets.
func BenchmarkServeMX(b *testing.B) {
	benchServeMX(b, false)
}

// benchServeMX runs BenchmarkServeMX in an unsigned or a signed world; the
// queries have DO set.
func benchServeMX(b *testing.B, signed bool) {
	w, s := startLabConfig(b, Config{Domains: 20000, Seed: 1, DNSSEC: signed})
	var queries [][]byte
	for _, d := range w.Domains() {
		if d.Kind != KindMX || !isASCII(d.Name) || len(queries) == 4096 {
			continue
		}
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(strings.ToLower(strings.TrimSuffix(d.Name, "."))), dns.TypeMX)
		m.SetEdns0(1232, true)
		p, err := m.Pack()
		if err != nil {
			b.Fatal(err)
		}
		queries = append(queries, p)
	}
	b.SetParallelism(4) // 4 x GOMAXPROCS sockets
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("udp", s.Addr())
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		i := 0
		for pb.Next() {
			q := queries[i%len(queries)]
			i++
			if _, err := c.Write(q); err != nil {
				b.Error(err)
				return
			}
			if err := c.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
				b.Error(err)
				return
			}
			n, err := c.Read(buf)
			if err != nil {
				b.Error(err)
				return
			}
			if n < 12 || buf[0] != q[0] || buf[1] != q[1] {
				b.Error("reply does not match the query")
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "queries/s")
}

// reportHeap reports the live heap after a collection, in MiB.
func reportHeap(b *testing.B) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
}

// BenchmarkStart200k measures generating a 200,000-domain world and
// loading it into a server (rendering and parsing every zone).
func BenchmarkStart200k(b *testing.B) {
	const n = 200000
	for b.Loop() {
		w, err := Generate(Config{Domains: n, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		s, err := Start(w, ServerOptions{})
		if err != nil {
			b.Fatal(err)
		}
		reportHeap(b)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "domains/s")
}
