package lab

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestHostileDNS checks that each behaviour is what its name says, seen
// from a plain miekg/dns client.
func TestHostileDNS(t *testing.T) {
	h, err := ZoneResolver("ok.test. 60 IN MX 10 mx.ok.test.\n")
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]DNSBehaviour{}
	for _, b := range []DNSBehaviour{DNSPointerLoop, DNSWrongID, DNSWrongQuestion, DNSSilence,
		DNSTCHang, DNSTCClose, DNSTCGarbage, DNSTCShortLength, DNSRRset2000} {
		rules[string(b)+".test"] = b
	}
	srv, err := StartHostileDNS(h, rules)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	query := func(net, name string) (*dns.Msg, error) {
		c := &dns.Client{Net: net, Timeout: 300 * time.Millisecond, UDPSize: 1232}
		q := new(dns.Msg)
		q.SetQuestion(dns.Fqdn(name), dns.TypeMX)
		q.SetEdns0(1232, false)
		m, _, err := c.Exchange(q, srv.Addr())
		return m, err
	}
	if m, err := query("udp", "ok.test"); err != nil || len(m.Answer) != 1 {
		t.Errorf("ok.test: %v %v", m, err)
	}
	if _, err := query("udp", "compression_pointer_loop.test"); err == nil || !strings.Contains(err.Error(), "pointer") {
		t.Errorf("pointer loop: err %v, want an unpack error about pointers", err)
	}
	for _, name := range []string{"answer_other_id.test", "silence.test"} {
		if _, err := query("udp", name); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if m, err := query("udp", "answer_other_question.test"); err == nil && m.Question[0].Name == "answer_other_question.test." {
		t.Errorf("other question: answered for the question asked")
	}
	for _, name := range []string{"tc_then_tcp_hangs.test", "tc_then_tcp_closes.test", "tc_then_tcp_garbage.test", "tc_then_tcp_short_length.test"} {
		if m, err := query("udp", name); err != nil || !m.Truncated {
			t.Errorf("%s over UDP: %v, want TC=1", name, err)
		}
		if _, err := query("tcp", name); err == nil {
			t.Errorf("%s over TCP: no error", name)
		}
	}
	if m, err := query("udp", "rrset_2000.test"); err != nil || !m.Truncated {
		t.Errorf("rrset_2000 over UDP: %v, want TC=1", err)
	}
	if m, err := query("tcp", "rrset_2000.test"); err != nil || len(m.Answer) != 2000 {
		t.Errorf("rrset_2000 over TCP: %v, want 2000 records", err)
	}
}

// TestHostileSMTPServers checks the greeting side of a few behaviours and
// the dial map.
func TestHostileSMTPServers(t *testing.T) {
	if _, err := StartHostileSMTP("no_such_behaviour"); err == nil {
		t.Error("unknown behaviour accepted")
	}
	polite, err := StartHostileSMTP(SMTPPolite)
	if err != nil {
		t.Fatal(err)
	}
	defer polite.Close()
	ip := netip.MustParseAddr("192.0.2.1")
	dial := HostileDial(map[netip.Addr]string{ip: polite.Addr()})
	if _, err := dial(t.Context(), "tcp", "192.0.2.2:25"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("unrouted address: %v, want ECONNREFUSED", err)
	}
	c, err := dial(t.Context(), "tcp", "192.0.2.1:25")
	if err != nil {
		t.Fatal(err)
	}
	l, err := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if err != nil || !strings.HasPrefix(l, "220 ") {
		t.Errorf("polite greeting %q, %v", l, err)
	}

	reset, err := StartHostileSMTP(SMTPResetOnAccept)
	if err != nil {
		t.Fatal(err)
	}
	defer reset.Close()
	c, err = (&net.Dialer{}).DialContext(context.Background(), "tcp", reset.Addr())
	if err == nil {
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("reset on accept: %v, want ECONNRESET", err)
	}

	// Close ends sessions that would otherwise never end.
	silent, err := StartHostileSMTP(SMTPBannerNeverSent)
	if err != nil {
		t.Fatal(err)
	}
	c, err = net.Dial("tcp", silent.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan struct{}) // closed when Close returned
	go func() { silent.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs with a session open")
	}
}

func TestHostileDNSSECRecords(t *testing.T) {
	k := HugeRSAKey("bigkey.test", 60000)
	if n := dns.Len(k); n < 60000 || k.Hdr.Name != "bigkey.test." {
		t.Errorf("HugeRSAKey: %d bytes at %s", n, k.Hdr.Name)
	}
	sig := HugeSignature(&dns.RRSIG{Hdr: dns.RR_Header{Name: "a.test.", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET}, SignerName: "a.test."}, 60000)
	if n := dns.Len(sig); n < 60000 {
		t.Errorf("HugeSignature: %d bytes", n)
	}
	n3 := NSEC3NoData("iter.test", "www.iter.test", 65000, []uint16{dns.TypeA})
	if !n3.Match("www.iter.test.") || n3.Iterations != 65000 {
		t.Errorf("NSEC3NoData: %s does not match www.iter.test.", n3)
	}

	h, err := ZoneResolver("ok.test. 60 IN MX 10 mx.ok.test.\n")
	if err != nil {
		t.Fatal(err)
	}
	rw := Rewrite(h, func(q, m *dns.Msg) { m.Rcode = dns.RcodeRefused })
	srv, err := StartHostileDNS(rw, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	q := new(dns.Msg)
	q.SetQuestion("ok.test.", dns.TypeMX)
	m, err := dns.Exchange(q, srv.Addr())
	if err != nil || m.Rcode != dns.RcodeRefused {
		t.Errorf("Rewrite: %v, %v; want REFUSED", m, err)
	}
}
