package lab

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// maxCNAMEHops is how many CNAMEs the server follows inside one answer.
const maxCNAMEHops = 8

// mismatchName is the question name of the answers given for domains of
// kind "mismatch".
const mismatchName = "spoofed.lab-dns.net."

// ServerOptions tunes Start. The zero value is ready to use.
type ServerOptions struct {
	// Addr is the UDP and TCP listen address; "127.0.0.1:0" (a free port)
	// when empty. It must be a loopback address.
	Addr string
	// Now returns the time around which the RRSIGs of a DNSSEC world are
	// valid (from an hour before to 30 days after the Start call); nil
	// means time.Now.
	Now func() time.Time
}

// Server is an in-process DNS server on loopback that answers queries for
// a World as a recursive resolver would (RA=1, AD=0): it follows CNAMEs
// across zones, returns NODATA and NXDOMAIN with the zone's SOA, and
// applies the world's per-domain faults. In a DNSSEC world it adds
// RRSIGs and NSEC/NSEC3 denials to answers to queries with DO set, and
// answers DS from the parent side of zone cuts; it never sets AD. It
// serves UDP and TCP on the same port. The caller closes it with Close.
type Server struct {
	names    map[string]*node // owner name (lowercase FQDN) → node, including empty non-terminals
	udp      *net.UDPConn
	udpLoops sync.WaitGroup // the serveUDP goroutines; they end when udp is closed
	tcp      *dns.Server
	addr     string
	queries  atomic.Int64
	bufs     sync.Pool // *[]byte pack buffers
	signAt   time.Time // the time the RRSIG validity windows are built around
}

// zone is one loaded zone.
type zone struct {
	origin string
	soa    []dns.RR    // the SOA, for the authority section of negative answers
	fault  fault       // a fault applying to every name of the zone
	apex   *node       // the node of the origin
	dz     *zoneDNSSEC // nil when the world is unsigned
}

// rrset is the records of one type at one name, prebuilt at load time.
type rrset struct {
	typ  uint16
	rrs  []dns.RR
	sigs []dns.RR // its RRSIGs, made by presign before serving; nil in unsigned zones
}

// node is a name that exists in the DNS tree.
type node struct {
	zone  *zone   // the deepest zone holding the name
	sets  []rrset // nil for an empty non-terminal
	fault fault   // a fault applying to this name and every name below
	lame  bool    // a delegation without a served child zone
}

func (n *node) get(t uint16) []dns.RR {
	if set := n.set(t); set != nil {
		return set.rrs
	}
	return nil
}

// set returns the RRset of type t, or nil.
func (n *node) set(t uint16) *rrset {
	for i := range n.sets {
		if n.sets[i].typ == t {
			return &n.sets[i]
		}
	}
	return nil
}

// Start loads every zone of w by parsing its master file text and serves
// it on UDP and TCP at the same loopback port, returning once both
// listeners accept queries. On error nothing is left running. The caller
// must call Close.
func Start(w *World, opts ServerOptions) (*Server, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("lab: start: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("lab: start: %q is not a loopback address", addr)
	}
	names, err := load(w)
	if err != nil {
		return nil, fmt.Errorf("lab: start: %w", err)
	}
	signAt := time.Now()
	if opts.Now != nil {
		signAt = opts.Now()
	}
	pc, l, err := listenPair(addr)
	if err != nil {
		return nil, fmt.Errorf("lab: start: %w", err)
	}
	s := &Server{names: names, addr: pc.LocalAddr().String(), signAt: signAt}
	s.presign()
	s.bufs.New = func() any {
		b := make([]byte, 4096)
		return &b
	}
	// UDP: one loop per processor on the socket, with large buffers so
	// that bursts from thousands of concurrent lookups are not dropped.
	// The socket is bound already, so queries queue until a loop reads.
	s.udp = pc.(*net.UDPConn)
	s.udp.SetReadBuffer(8 << 20)
	s.udp.SetWriteBuffer(8 << 20)
	for range max(1, runtime.GOMAXPROCS(0)) {
		s.udpLoops.Go(func() { s.serveUDP(s.udp) })
	}
	started := make(chan struct{}) // closed by NotifyStartedFunc, read below
	errc := make(chan error, 1)    // written by the TCP server's goroutine when it ends, read below on failure
	s.tcp = &dns.Server{Listener: l, Handler: s, NotifyStartedFunc: func() { close(started) }}
	go func() { errc <- s.tcp.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-errc:
		s.udp.Close()
		s.udpLoops.Wait()
		l.Close()
		if err == nil {
			err = errors.New("server stopped")
		}
		return nil, fmt.Errorf("lab: start: %w", err)
	}
	return s, nil
}

// listenPair opens UDP and TCP listeners on the same port; with port 0 it
// retries until a port free for both is found.
func listenPair(addr string) (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		lastErr = err
		if !strings.HasSuffix(addr, ":0") {
			break
		}
	}
	return nil, nil, lastErr
}

// Addr returns the address the server listens on, "127.0.0.1:port", for
// both UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Queries returns how many queries the server has answered (queries of
// timeout domains are not answered and not counted).
func (s *Server) Queries() int64 { return s.queries.Load() }

// Close stops both listeners and waits for them to end. It returns the
// errors of the shutdowns joined.
func (s *Server) Close() error {
	var errs []error
	if s.udp != nil {
		errs = append(errs, s.udp.Close())
		s.udpLoops.Wait()
	}
	if s.tcp != nil {
		errs = append(errs, s.tcp.Shutdown())
	}
	return errors.Join(errs...)
}

// parsedZone is one zone's names as parsed from its text.
type parsedZone struct {
	names []string // in first-seen order
	nodes []*node  // parallel to names
	err   error
}

// load parses the text of every zone of w into one name tree. Zones are
// rendered and parsed by GOMAXPROCS workers that end before it returns;
// the calling goroutine merges their names into the tree in origin order,
// the deepest zone owning a name.
func load(w *World) (map[string]*node, error) {
	parsed := make([]parsedZone, len(w.origins))
	// The root and TLD zones, the biggest, go first so that no worker
	// ends long after the others.
	order := make([]int, 0, len(w.origins))
	for pass := range 2 {
		for i, o := range w.origins {
			if k := w.zones[o].kind; (k == zoneRoot || k == zoneTLD) == (pass == 0) {
				order = append(order, i)
			}
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			var buf bytes.Buffer
			for {
				k := int(next.Add(1) - 1)
				if k >= len(order) {
					return
				}
				i := order[k]
				o := w.origins[i]
				buf.Reset()
				w.renderZone(&buf, w.zones[o])
				parsed[i] = parseZone(w, o, buf.Bytes())
			}
		})
	}
	wg.Wait()

	size := 0
	for i := range parsed {
		if parsed[i].err != nil {
			return nil, parsed[i].err
		}
		size += len(parsed[i].names)
	}
	names := make(map[string]*node, size)
	for i := range parsed {
		p := &parsed[i]
		for j, name := range p.names {
			n := p.nodes[j]
			if old, ok := names[name]; ok && len(old.zone.origin) > len(n.zone.origin) {
				continue
			}
			names[name] = n
		}
		parsed[i] = parsedZone{}
	}
	for name, f := range w.faults {
		n, ok := names[name]
		if !ok {
			continue // not delegated: NXDOMAIN wins
		}
		n.fault = f
		if n.zone.origin == name {
			n.zone.fault = f
		}
	}
	return names, nil
}

// parseZone parses the master file text of the zone at origin into its
// nodes, with owner names and CNAME targets in lowercase, empty
// non-terminals added, and delegations to zones of w left out (the child
// zone answers for them; in a DNSSEC world the zone keeps their DS RRsets
// for DS queries and its NSEC/NSEC3 chain); a delegation to no zone is a
// lame node.
func parseZone(w *World, origin string, text []byte) parsedZone {
	z := &zone{origin: origin}
	var p parsedZone
	local := make(map[string]*node)
	get := func(name string) *node {
		if n, ok := local[name]; ok {
			return n
		}
		n := &node{zone: z}
		local[name] = n
		p.names = append(p.names, name)
		p.nodes = append(p.nodes, n)
		for a := parent(name); a != "" && len(a) >= len(origin); a = parent(a) {
			if _, ok := local[a]; ok {
				break
			}
			local[a] = &node{zone: z}
			p.names = append(p.names, a)
			p.nodes = append(p.nodes, local[a])
		}
		return n
	}
	if w.sec != nil {
		z.dz = &zoneDNSSEC{sec: w.sec[origin]}
		if z.dz.sec.mode == secUnsigned {
			z.dz.sec = nil
		}
	}
	zp := dns.NewZoneParser(bytes.NewReader(text), origin, ZoneFileName(origin))
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		if !lowerASCII(h.Name) {
			h.Name = strings.ToLower(h.Name)
		}
		switch rr := rr.(type) {
		case *dns.CNAME:
			if !lowerASCII(rr.Target) {
				rr.Target = strings.ToLower(rr.Target)
			}
		case *dns.SOA:
			z.soa = []dns.RR{rr}
		case *dns.NS:
			if h.Name != origin {
				if _, child := w.zones[h.Name]; !child {
					get(h.Name).lame = true
				} else if z.dz != nil && z.dz.cuts[h.Name] == nil {
					if z.dz.cuts == nil {
						z.dz.cuts = make(map[string]*rrset)
					}
					z.dz.cuts[h.Name] = &rrset{typ: dns.TypeDS}
				}
				continue
			}
		case *dns.DS:
			if z.dz != nil && h.Name != origin {
				c := z.dz.cuts[h.Name]
				if c == nil {
					if z.dz.cuts == nil {
						z.dz.cuts = make(map[string]*rrset)
					}
					c = &rrset{typ: dns.TypeDS}
					z.dz.cuts[h.Name] = c
				}
				c.rrs = append(c.rrs, rr)
				continue
			}
		}
		n := get(h.Name)
		j := 0
		for j < len(n.sets) && n.sets[j].typ != h.Rrtype {
			j++
		}
		if j == len(n.sets) {
			n.sets = append(n.sets, rrset{typ: h.Rrtype})
		}
		n.sets[j].rrs = append(n.sets[j].rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return parsedZone{err: fmt.Errorf("zone %s: %w", origin, err)}
	}
	if z.soa == nil {
		return parsedZone{err: fmt.Errorf("zone %s: no SOA record", origin)}
	}
	z.apex = local[origin]
	if z.dz != nil && z.dz.sec != nil {
		z.dz.chain = newChain(z, p.names, p.nodes)
	}
	return p
}

// parent returns the name one label up, "" above the root.
func parent(name string) string {
	if name == "." {
		return ""
	}
	i := strings.IndexByte(name, '.')
	if i == len(name)-1 {
		return "."
	}
	return name[i+1:]
}

// find returns the node of name and true, or the node of its closest
// existing ancestor and false.
func (s *Server) find(name string) (*node, bool) {
	if n, ok := s.names[name]; ok {
		return n, true
	}
	for p := parent(name); p != ""; p = parent(p) {
		if n, ok := s.names[p]; ok {
			return n, false
		}
	}
	return nil, false
}

// ServeDNS answers one query; it implements dns.Handler. The server uses it
// for TCP; UDP is served by serveUDP, which answers the same way.
func (s *Server) ServeDNS(rw dns.ResponseWriter, req *dns.Msg) {
	m, size := s.reply(req)
	if m == nil {
		return
	}
	_, udp := rw.LocalAddr().(*net.UDPAddr)
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	if out := pack(m, size, udp, *bp); out != nil {
		if _, err := rw.Write(out); err == nil {
			s.queries.Add(1)
		}
	}
}

// udpBatch is how many datagrams serveUDP reads (recvmmsg) and writes
// (sendmmsg) with one system call.
const udpBatch = 64

// serveUDP answers UDP queries on pc until pc is closed. Several run at
// once on the same socket; each owns its buffers. Queries are read and
// answers written in batches, so that under load the server costs about
// two system calls per batch instead of two per query. A query that does
// not unpack gets FORMERR when its header is readable, as miekg's server
// does.
func (s *Server) serveUDP(pc *net.UDPConn) {
	bc := ipv4.NewPacketConn(pc)
	in := make([]ipv4.Message, udpBatch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, 4096)}
	}
	outBufs := make([][]byte, udpBatch)
	for i := range outBufs {
		outBufs[i] = make([]byte, dns.MaxMsgSize)
	}
	out := make([]ipv4.Message, 0, udpBatch)
	for {
		n, err := bc.ReadBatch(in, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		out = out[:0]
		for i := range n {
			if wire := s.answerUDP(in[i].Buffers[0][:in[i].N], outBufs[i]); wire != nil {
				out = append(out, ipv4.Message{Buffers: [][]byte{wire}, Addr: in[i].Addr})
			}
		}
		for len(out) > 0 {
			k, err := bc.WriteBatch(out, 0)
			if err != nil {
				break // the client is gone or pc is closed
			}
			s.queries.Add(int64(k))
			out = out[k:]
		}
	}
}

// answerUDP returns the packed answer to the query in wire, built in buf,
// or nil when it goes unanswered.
func (s *Server) answerUDP(wire, buf []byte) []byte {
	req := new(dns.Msg)
	if err := req.Unpack(wire); err != nil {
		if len(wire) < 12 {
			return nil
		}
		m := &dns.Msg{MsgHdr: dns.MsgHdr{Id: uint16(wire[0])<<8 | uint16(wire[1]), Response: true, Rcode: dns.RcodeFormatError}}
		return pack(m, dns.MinMsgSize, true, buf)
	}
	m, size := s.reply(req)
	if m == nil {
		return nil
	}
	return pack(m, size, true, buf)
}

// reply builds the answer to req and the largest size it may have over
// UDP. It returns nil when the query is to go unanswered (a timeout fault).
func (s *Server) reply(req *dns.Msg) (*dns.Msg, int) {
	m := &dns.Msg{}
	m.Id = req.Id
	m.Response = true
	m.Opcode = req.Opcode
	m.RecursionDesired = req.RecursionDesired
	m.RecursionAvailable = true
	m.CheckingDisabled = req.CheckingDisabled
	m.Question = req.Question

	size := dns.MinMsgSize
	opt := req.IsEdns0()
	if opt != nil {
		size = max(int(opt.UDPSize()), dns.MinMsgSize)
		o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		o.SetUDPSize(uint16(size))
		if opt.Do() {
			o.SetDo()
		}
		m.Extra = append(m.Extra, o)
	}

	switch {
	case req.Opcode != dns.OpcodeQuery:
		m.Rcode = dns.RcodeNotImplemented
	case len(req.Question) != 1:
		m.Rcode = dns.RcodeFormatError
	case opt != nil && opt.Version() != 0:
		m.Rcode = dns.RcodeBadVers
	case req.Question[0].Qclass != dns.ClassINET:
		m.Rcode = dns.RcodeRefused
	default:
		q := req.Question[0]
		name := q.Name
		if !lowerASCII(name) {
			name = strings.ToLower(name)
		}
		var f fault
		m.Rcode, f = s.resolve(m, name, q.Qtype, opt != nil && opt.Do())
		switch f {
		case faultTimeout:
			return nil, 0
		case faultMismatch:
			m.Question = []dns.Question{{Name: mismatchName, Qtype: q.Qtype, Qclass: q.Qclass}}
		}
	}
	return m, size
}

// pack packs m into buf, truncated to size over UDP (Truncate sets TC and
// compression as needed). It returns nil when m cannot be packed even
// without its records.
func pack(m *dns.Msg, size int, udp bool, buf []byte) []byte {
	if udp {
		m.Truncate(size)
	} else {
		m.Compress = true
	}
	out, err := m.PackBuffer(buf)
	if err != nil {
		m.Answer, m.Ns, m.Rcode = nil, nil, dns.RcodeServerFailure
		if out, err = m.PackBuffer(buf); err != nil {
			return nil
		}
	}
	return out
}

// resolve fills the answer and authority sections for (name, qtype) and
// returns the rcode and the fault of the queried domain, if any. With do
// set, a DNSSEC world adds the RRSIGs of the RRsets and the NSEC or NSEC3
// records of denials; DS queries at a zone cut are answered from the
// parent side (RFC 4035 section 3.1.4.1).
func (s *Server) resolve(m *dns.Msg, name string, qtype uint16, do bool) (int, fault) {
	var seen [maxCNAMEHops + 1]string
	var mismatch fault
	for hop := 0; ; hop++ {
		seen[hop] = name
		n, exact := s.find(name)
		if n == nil {
			return dns.RcodeServerFailure, faultNone
		}
		f := n.fault
		if f == faultNone && n.zone != nil {
			f = n.zone.fault
		}
		switch {
		case hop > 0 && (f != faultNone || n.lame):
			return dns.RcodeServerFailure, mismatch
		case f == faultServfail || f == faultTimeout || (n.lame && f == faultNone):
			return dns.RcodeServerFailure, f
		case f == faultRefused:
			return dns.RcodeRefused, f
		case f == faultMismatch:
			mismatch = f
		}
		if !exact {
			if rcode, ok := s.wildcard(m, n.zone, name, qtype, do); ok {
				return rcode, mismatch
			}
			m.Ns = n.zone.soa
			if do {
				s.deny(m, n.zone, name, true)
			}
			return dns.RcodeNameError, mismatch
		}
		if qtype == dns.TypeDS && n.zone.dz != nil && n.zone.origin == name && name != "." {
			if p := s.names[parent(name)]; p != nil && p.zone.dz != nil {
				s.answerDS(m, p.zone, name, do)
				return dns.RcodeSuccess, mismatch
			}
		}
		if qtype != dns.TypeCNAME {
			if cn := n.set(dns.TypeCNAME); cn != nil {
				m.Answer = append(m.Answer, cn.rrs...)
				if do {
					m.Answer = append(m.Answer, s.sigs(n.zone, cn)...)
				}
				name = cn.rrs[0].(*dns.CNAME).Target
				if hop+1 >= maxCNAMEHops {
					return dns.RcodeServerFailure, mismatch
				}
				for _, p := range seen[:hop+1] {
					if p == name {
						return dns.RcodeServerFailure, mismatch // a loop
					}
				}
				continue
			}
		}
		before := len(m.Answer)
		if qtype == dns.TypeANY {
			for i := range n.sets {
				m.Answer = append(m.Answer, n.sets[i].rrs...)
				if do {
					m.Answer = append(m.Answer, s.sigs(n.zone, &n.sets[i])...)
				}
			}
		} else if set := n.set(qtype); set != nil {
			m.Answer = append(m.Answer, set.rrs...)
			if do {
				m.Answer = append(m.Answer, s.sigs(n.zone, set)...)
			}
		}
		if len(m.Answer) == before {
			m.Ns = n.zone.soa // NODATA (RFC 2308 section 2.2)
			if do {
				s.deny(m, n.zone, name, false)
			}
		}
		return dns.RcodeSuccess, mismatch
	}
}
