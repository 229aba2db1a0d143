package lab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// DNSBehaviour names how a [HostileDNS] server answers the questions for
// one name (issue 11, the standing fault suite).
type DNSBehaviour string

// The hostile DNS behaviours. The TC behaviours answer over UDP with TC=1
// and an empty answer, and then misbehave over TCP.
const (
	// DNSPointerLoop answers over UDP with the right ID and question and
	// an answer record whose owner name is a compression pointer to
	// itself.
	DNSPointerLoop DNSBehaviour = "compression_pointer_loop"
	// DNSWrongID answers with another message ID.
	DNSWrongID DNSBehaviour = "answer_other_id"
	// DNSWrongQuestion answers for another question name.
	DNSWrongQuestion DNSBehaviour = "answer_other_question"
	// DNSSilence never answers, over UDP or TCP.
	DNSSilence DNSBehaviour = "silence"
	// DNSTCHang sets TC=1; the TCP server reads the query and never
	// answers.
	DNSTCHang DNSBehaviour = "tc_then_tcp_hangs"
	// DNSTCClose sets TC=1; the TCP server closes after reading the query.
	DNSTCClose DNSBehaviour = "tc_then_tcp_closes"
	// DNSTCGarbage sets TC=1; the TCP server answers with a length prefix
	// and bytes that are no DNS message.
	DNSTCGarbage DNSBehaviour = "tc_then_tcp_garbage"
	// DNSTCShortLength sets TC=1; the TCP server announces 512 bytes,
	// sends 10 and closes.
	DNSTCShortLength DNSBehaviour = "tc_then_tcp_short_length"
	// DNSRRset2000 answers with 2,000 records of the type asked (MX, A,
	// AAAA, TXT; NODATA for others): truncated over UDP, whole over TCP.
	DNSRRset2000 DNSBehaviour = "rrset_2000"
	// DNSUDPOversized answers like DNSRRset2000 but sends the whole
	// answer over UDP too, ignoring the client's EDNS(0) size (RFC 6891).
	DNSUDPOversized DNSBehaviour = "udp_oversized"
)

// HostileDNS serves DNS on UDP and TCP at the same port of 127.0.0.1.
// Questions for the names in its rules get the rule's misbehaviour; the
// others are answered by its handler, truncated over UDP to the client's
// EDNS(0) size (512 without EDNS) with TC=1 and whole over TCP. The
// caller closes it with Close.
type HostileDNS struct {
	h     dns.Handler
	rules map[string]DNSBehaviour // by lowercase FQDN; read-only
	pc    net.PacketConn
	ln    net.Listener
	wg    sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // open TCP connections, guarded by mu
	closed bool                  // guarded by mu
}

// StartHostileDNS starts a server on 127.0.0.1 that answers with h except
// for the names in rules (any case, with or without the trailing dot). It
// returns an error when no port is free for both UDP and TCP.
func StartHostileDNS(h dns.Handler, rules map[string]DNSBehaviour) (*HostileDNS, error) {
	s := &HostileDNS{h: h, rules: map[string]DNSBehaviour{}, conns: map[net.Conn]struct{}{}}
	for n, b := range rules {
		s.rules[dns.CanonicalName(n)] = b
	}
	var err error
	for range 20 {
		s.pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("lab: hostile DNS: %w", err)
		}
		s.ln, err = net.Listen("tcp", s.pc.LocalAddr().String())
		if err == nil {
			break
		}
		s.pc.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("lab: hostile DNS: no port free for UDP and TCP: %w", err)
	}
	s.wg.Go(s.serveUDP)
	s.wg.Go(s.serveTCP)
	return s, nil
}

// Addr returns "127.0.0.1:port", the same for UDP and TCP.
func (s *HostileDNS) Addr() string { return s.pc.LocalAddr().String() }

// Close stops both servers, closes the open TCP connections (the hanging
// ones too) and waits for every goroutine. It returns nil.
func (s *HostileDNS) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.pc.Close()
	s.ln.Close()
	s.wg.Wait()
	return nil
}

func (s *HostileDNS) rule(q *dns.Msg) DNSBehaviour {
	if len(q.Question) != 1 {
		return ""
	}
	return s.rules[dns.CanonicalName(q.Question[0].Name)]
}

func (s *HostileDNS) serveUDP() {
	buf := make([]byte, 65535)
	for {
		n, from, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		q := new(dns.Msg)
		if q.Unpack(buf[:n]) != nil || len(q.Question) != 1 {
			continue
		}
		var wire []byte
		switch s.rule(q) {
		case DNSSilence:
			continue
		case DNSPointerLoop:
			wire = pointerLoop(q)
		case DNSTCHang, DNSTCClose, DNSTCGarbage, DNSTCShortLength:
			m := new(dns.Msg)
			m.SetReply(q)
			m.RecursionAvailable, m.Truncated = true, true
			wire, _ = m.Pack()
		default:
			m := s.answer(q)
			switch s.rule(q) {
			case DNSWrongID:
				m.Id ^= 0x5a5a
			case DNSWrongQuestion:
				m.Question[0].Name = "other." + m.Question[0].Name
			}
			size := dns.MinMsgSize
			if opt := q.IsEdns0(); opt != nil {
				size = int(opt.UDPSize())
			}
			if s.rule(q) != DNSUDPOversized {
				m.Truncate(size)
			}
			wire, _ = m.Pack()
		}
		s.pc.WriteTo(wire, from)
	}
}

func (s *HostileDNS) serveTCP() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() {
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		})
	}
}

// serveConn answers the queries of one TCP connection.
func (s *HostileDNS) serveConn(c net.Conn) {
	co := &dns.Conn{Conn: c}
	for {
		q, err := co.ReadMsg()
		if err != nil || len(q.Question) != 1 {
			return
		}
		switch s.rule(q) {
		case DNSSilence, DNSTCHang:
			io.Copy(io.Discard, c)
			return
		case DNSTCClose:
			return
		case DNSTCGarbage:
			garbage := []byte("\x00\x20HTTP/1.1 400 Bad Request\r\n\r\n\xff\xff\xff\xff")
			c.Write(garbage)
			io.Copy(io.Discard, c)
			return
		case DNSTCShortLength:
			c.Write([]byte{0x02, 0x00})
			c.Write(make([]byte, 10))
			return
		}
		if err := co.WriteMsg(s.answer(q)); err != nil {
			return
		}
	}
}

// answer returns the handler's answer to q, or the 2,000 records of
// DNSRRset2000 and DNSUDPOversized; SERVFAIL when the handler wrote
// nothing.
func (s *HostileDNS) answer(q *dns.Msg) *dns.Msg {
	if b := s.rule(q); b == DNSRRset2000 || b == DNSUDPOversized {
		return rrset2000(q)
	}
	cw := &captureWriter{local: s.pc.LocalAddr()}
	s.h.ServeDNS(cw, q)
	if cw.m == nil {
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeServerFailure)
		return m
	}
	return cw.m.Copy()
}

// rrset2000 answers q with 2,000 records of its type.
func rrset2000(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	name := q.Question[0].Name
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 300}
	}
	for i := range 2000 {
		var rr dns.RR
		switch q.Question[0].Qtype {
		case dns.TypeMX:
			rr = &dns.MX{Hdr: hdr(dns.TypeMX), Preference: uint16(i), Mx: fmt.Sprintf("mx%d.%s", i, name)}
		case dns.TypeA:
			rr = &dns.A{Hdr: hdr(dns.TypeA), A: net.IPv4(198, 18, byte(i/250), byte(i%250+1))}
		case dns.TypeAAAA:
			ip := net.ParseIP("2001:db8::")
			binary.BigEndian.PutUint16(ip[14:], uint16(i+1))
			rr = &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: ip}
		case dns.TypeTXT:
			rr = &dns.TXT{Hdr: hdr(dns.TypeTXT), Txt: []string{fmt.Sprintf("record %d", i)}}
		default:
			return m
		}
		m.Answer = append(m.Answer, rr)
	}
	m.Compress = true
	return m
}

// pointerLoop returns an answer to q whose one answer record is owned by a
// compression pointer that points at itself (RFC 1035 §4.1.4 allows only
// pointers to earlier names).
func pointerLoop(q *dns.Msg) []byte {
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	head, _ := m.Pack() // header and question
	off := len(head)
	b := append(head[:len(head):len(head)], 0xc0|byte(off>>8), byte(off))
	b = binary.BigEndian.AppendUint16(b, dns.TypeA)
	b = binary.BigEndian.AppendUint16(b, dns.ClassINET)
	b = binary.BigEndian.AppendUint32(b, 300)
	b = binary.BigEndian.AppendUint16(b, 4)
	b = append(b, 192, 0, 2, 1)
	binary.BigEndian.PutUint16(b[6:], 1) // ANCOUNT
	return b
}

// captureWriter is the dns.ResponseWriter the handler answers into.
type captureWriter struct {
	local net.Addr
	m     *dns.Msg
}

func (w *captureWriter) LocalAddr() net.Addr  { return w.local }
func (w *captureWriter) RemoteAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (w *captureWriter) WriteMsg(m *dns.Msg) error {
	w.m = m
	return nil
}
func (w *captureWriter) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, err
	}
	w.m = m
	return len(b), nil
}
func (w *captureWriter) Close() error        { return nil }
func (w *captureWriter) TsigStatus() error   { return nil }
func (w *captureWriter) TsigTimersOnly(bool) {}
func (w *captureWriter) Hijack()             {}

// ZoneResolver returns a handler that answers like a recursive resolver
// from zone text (origin "."): it chases CNAMEs inside its answer, up to
// 64 hops and never twice through one name (so a loop comes back as the
// CNAMEs that form it), says NODATA for names that exist without the type
// (empty non-terminals included) and NXDOMAIN otherwise, with the SOA of
// "test." in the authority section. It returns the zone's parse error.
func ZoneResolver(zone string) (dns.Handler, error) {
	byName := map[string][]dns.RR{}
	zp := dns.NewZoneParser(strings.NewReader(zone), ".", "hostile")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := dns.CanonicalName(rr.Header().Name)
		byName[name] = append(byName[name], rr)
		for labels := dns.SplitDomainName(name); len(labels) > 1; labels = labels[1:] {
			parent := dns.Fqdn(strings.Join(labels[1:], "."))
			if _, ok := byName[parent]; !ok {
				byName[parent] = nil
			}
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("lab: zone resolver: %w", err)
	}
	if len(byName) == 0 {
		return nil, errors.New("lab: zone resolver: empty zone")
	}
	return dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.RecursionAvailable = true
		name, qtype := dns.CanonicalName(q.Question[0].Name), q.Question[0].Qtype
		seen := map[string]bool{}
		for hops := 0; hops < 64 && !seen[name]; hops++ {
			seen[name] = true
			rrs, ok := byName[name]
			if !ok {
				m.Rcode = dns.RcodeNameError
				break
			}
			next := ""
			for _, rr := range rrs {
				switch {
				case rr.Header().Rrtype == qtype:
					m.Answer = append(m.Answer, rr)
				case rr.Header().Rrtype == dns.TypeCNAME:
					m.Answer = append(m.Answer, rr)
					next = dns.CanonicalName(rr.(*dns.CNAME).Target)
				}
			}
			if next == "" {
				break
			}
			name = next
		}
		if len(m.Answer) == 0 || m.Rcode != dns.RcodeSuccess {
			soa, _ := dns.NewRR("test. 60 IN SOA ns.test. h.test. 1 2 3 4 5")
			m.Ns = []dns.RR{soa}
		}
		if opt := q.IsEdns0(); opt != nil {
			m.SetEdns0(opt.UDPSize(), opt.Do())
		}
		m.Compress = true
		w.WriteMsg(m)
	}), nil
}
