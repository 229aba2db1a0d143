package lab

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"maps"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/scanner/dane"
	"github.com/danescan/danescan/scanner/starttls"
)

// startSMTP generates a world and its SMTP servers, closed at the end of
// the test.
func startSMTP(t testing.TB, cfg Config) (*World, *SMTP) {
	t.Helper()
	w := generate(t, cfg)
	s, err := StartSMTP(w, SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return w, s
}

// servedTLSA returns the TLSA records at _25._tcp.<host> as the zone
// text of the world has them; none when the server answers SERVFAIL
// there (tlsa-indeterminate).
func servedTLSA(t testing.TB, w *World, host string) []dane.Record {
	t.Helper()
	owner := "_25._tcp." + host + "."
	if w.faults[owner] != faultNone {
		return nil
	}
	for o := host + "."; o != ""; o = parent(o) {
		text, ok := w.ZoneText(o)
		if !ok {
			continue
		}
		var recs []dane.Record
		zp := dns.NewZoneParser(strings.NewReader(text), o, "")
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			if tl, isTLSA := rr.(*dns.TLSA); isTLSA && strings.EqualFold(tl.Hdr.Name, owner) {
				recs = append(recs, dane.FromTLSA(tl))
			}
		}
		if err := zp.Err(); err != nil {
			t.Fatal(err)
		}
		return recs
	}
	return nil
}

// observe probes one endpoint with starttls through s.Dial and checks
// the chain with dane, as a scanner without DNSSEC validation would.
func observe(t testing.TB, s *SMTP, recs []dane.Record, host, addr, sigAlgs string) Verdict {
	t.Helper()
	cfg := starttls.Config{Dial: s.Dial, EHLO: "scanner.lab.test", SigAlgs: sigAlgs, BannerTimeout: 300 * time.Millisecond}
	res, _ := starttls.Probe(context.Background(), cfg, netip.AddrPortFrom(netip.MustParseAddr(addr), 25), host)
	v := Verdict{Probe: string(res.Failure)}
	switch {
	case len(recs) == 0:
		v.DANEStatus = "not_applicable"
	case res.Failure != "":
		v.DANEStatus, v.DANEReason = "transport_failed", string(res.Failure)
	default:
		d := dane.Verify(dane.Input{Records: recs, Chain: res.Chain, BaseDomain: host, MXHost: host, Now: time.Now()})
		v.DANEStatus, v.DANEReason = string(d.Status), string(d.Reason)
	}
	return v
}

// checkHost compares the truth of every endpoint of host in every
// SigAlgs mode with what starttls and dane observe.
func checkHost(t *testing.T, w *World, s *SMTP, host string) []EndpointTruth {
	t.Helper()
	eps := w.Endpoints(host, false)
	if len(eps) == 0 {
		t.Fatalf("%s: no endpoints", host)
	}
	base := host
	if ref := w.hostIndex()[host]; ref.alias {
		base = w.refName(w.target(ref))
	}
	recs := servedTLSA(t, w, base)
	for _, ep := range eps {
		for _, m := range []struct {
			mode string
			want Verdict
		}{{"any", ep.Verdict}, {"ecdsa", ep.ECDSA}, {"rsa", ep.RSA}} {
			if got := observe(t, s, recs, base, ep.Address, m.mode); got != m.want {
				t.Errorf("%s %s %s: observed %+v, truth %+v", host, ep.Address, m.mode, got, m.want)
			}
		}
	}
	return eps
}

// TestSMTPCases probes every special case and checks that starttls and
// dane find the generator's truth.
func TestSMTPCases(t *testing.T) {
	w, s := startSMTP(t, Config{Domains: 3000, Seed: 7, DNSSEC: true})
	cases := w.DANECases()
	if len(cases) != len(specialCases) {
		t.Fatalf("%d cases, want %d", len(cases), len(specialCases))
	}
	// The verdict of an ordinary handshake without validation, and of the
	// domain (validated: the world is signed), per case.
	want := map[string]struct{ status, reason, dane string }{
		"dane-ee-spki-sha256":   {"pass", "", "all"},
		"dane-ee-cert-sha256":   {"pass", "", "all"},
		"dane-ee-spki-sha512":   {"pass", "", "all"},
		"dane-ee-cert-full":     {"pass", "", "all"},
		"dane-ta-intermediate":  {"pass", "", "all"},
		"pkix-usages-only":      {"no_usable_records", "", "none"},
		"dane-ta-root":          {"pass", "", "all"},
		"dane-ta-leaf-only":     {"fail", "ta_not_in_chain", "none"},
		"stale-after-rollover":  {"fail", "no_match", "none"},
		"rollover-one-matches":  {"pass", "", "all"},
		"expired-leaf-dane-ee":  {"pass", "", "all"},
		"expired-leaf-dane-ta":  {"fail", "expired", "none"},
		"name-mismatch-dane-ta": {"fail", "name_mismatch", "none"},
		"rsa-only":              {"pass", "", "all"},
		"rsa-ecdsa-split":       {"fail", "no_match", "none"},
		"rsa-ecdsa-both":        {"pass", "", "all"},
		"starttls-not-offered":  {"transport_failed", "starttls_not_offered", "none"},
		"starttls-rejected":     {"transport_failed", "starttls_rejected", "none"},
		"tls-handshake-failure": {"transport_failed", "tls_handshake_failed", "none"},
		"banner-stall":          {"transport_failed", "banner_timeout", "none"},
		"connect-refused":       {"transport_failed", "connect_refused", "none"},
		"ipv6-unreachable":      {"pass", "", "some"},
		"tlsa-300-large":        {"pass", "", "all"},
		"tlsa-bogus":            {"pass", "", "none"},
		"tlsa-indeterminate":    {"not_applicable", "", "none"},
		"tlsa-unsigned-zone":    {"pass", "", "none"},
		CaseRolledOver:          {"pass", "", "all"},
	}
	// The cases whose validated truth differs: the TLSA lookup fails, or
	// the zone is unsigned.
	validated := map[string]Verdict{
		"tlsa-bogus":         {DANEStatus: "tlsa_lookup_failed", DANEReason: "signature_expired"},
		"tlsa-indeterminate": {DANEStatus: "tlsa_lookup_failed", DANEReason: "lookup_failed"},
		"tlsa-unsigned-zone": {DANEStatus: "not_applicable"},
	}
	domains := map[string]Domain{}
	for _, d := range w.Domains() {
		domains[strings.ToLower(strings.TrimSuffix(d.Name, "."))] = d
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			eps := checkHost(t, w, s, c.Host)
			wt, ok := want[c.Name]
			if !ok {
				t.Fatalf("no expectation for case %s", c.Name)
			}
			if got := eps[0].Verdict; got.DANEStatus != wt.status || got.DANEReason != wt.reason {
				t.Errorf("first endpoint: %+v, want %s/%s", got, wt.status, wt.reason)
			}
			v := w.Endpoints(c.Host, true)
			if len(v) != len(eps) {
				t.Fatalf("validated truth %+v, unvalidated %+v", v, eps)
			}
			if want, ok := validated[c.Name]; ok {
				want.Probe = eps[0].Probe
				if v[0].Verdict != want {
					t.Errorf("validated truth %+v, want %+v", v[0].Verdict, want)
				}
			} else if v[0] != eps[0] {
				// The other cases are secure in a DNSSEC world: validation
				// changes nothing.
				t.Errorf("validated truth %+v differs from %+v", v, eps)
			}
			if d := domains[c.Domain]; d.DANE != wt.dane {
				t.Errorf("domain %s: DANE %q/%q, want %q", c.Domain, d.DANE, d.DANEReason, wt.dane)
			}
		})
	}
	split := w.Endpoints(cases[14].Host, false)[0]
	if split.ECDSA.DANEStatus != "fail" || split.RSA.DANEStatus != "pass" {
		t.Errorf("split case: ecdsa %+v rsa %+v, want fail and pass", split.ECDSA, split.RSA)
	}
	if n := s.Connections(); n == 0 {
		t.Error("Connections() = 0")
	}
}

// TestSMTPWorld probes every host with TLSA records and every 25th other
// host of a world, providers and MX CNAMEs included.
func TestSMTPWorld(t *testing.T) {
	w, s := startSMTP(t, Config{Domains: 3000, Seed: 11})
	statuses := map[string]int{}
	k := 0
	hosts := slices.Sorted(maps.Keys(w.hostIndex()))
	for _, host := range hosts {
		ref := w.hostIndex()[host]
		if len(w.records(w.target(ref), nil)) == 0 && !ref.alias {
			if k++; k%25 != 0 {
				continue
			}
		}
		if len(w.addrs(ref)) == 0 {
			continue
		}
		for _, ep := range checkHost(t, w, s, host) {
			statuses[ep.DANEStatus+"/"+ep.DANEReason]++
		}
	}
	t.Logf("endpoint verdicts: %v", statuses)
	for _, want := range []string{"pass/", "fail/no_match", "no_usable_records/", "not_applicable/"} {
		if statuses[want] == 0 {
			t.Errorf("no endpoint %s in %v", want, statuses)
		}
	}
}

// TestEndpointsValidated checks that hosts of unsigned zones are
// not_applicable when validated, and that an unsigned world never counts
// as validated.
func TestEndpointsValidated(t *testing.T) {
	w := generate(t, Config{Domains: 3000, Seed: 7, DNSSEC: true})
	e := firstWhere(t, w, func(e *entry) bool { return e.cat == catSelf && e.tlsa >= 0 && !e.partial && e.sec == secUnsigned })
	host := selfHosts(e)[0]
	for _, ep := range w.Endpoints(host, true) {
		if ep.DANEStatus != "not_applicable" || ep.Probe != "" {
			t.Errorf("%s validated: %+v, want not_applicable", host, ep)
		}
	}
	if eps := w.Endpoints(host, false); len(eps) == 0 || eps[0].DANEStatus == "not_applicable" {
		t.Errorf("%s unvalidated: %+v, want a verdict", host, eps)
	}
	if w.Endpoints("no-such-host.example", false) != nil {
		t.Error("unknown host has endpoints")
	}
	u := generate(t, Config{Domains: 300, Seed: 7})
	for _, d := range u.Domains() {
		if d.DANE == "" {
			continue
		}
		for _, h := range d.MXHosts {
			for _, ep := range u.Endpoints(h, true) {
				if ep.DANEStatus != "not_applicable" {
					t.Fatalf("%s in an unsigned world, validated: %+v", h, ep)
				}
			}
		}
	}
}

// TestSMTPDialRefuses checks that Dial refuses every address that is not
// an MX address of the world, loopback included, as connection refused.
func TestSMTPDialRefuses(t *testing.T) {
	w, s := startSMTP(t, Config{Domains: 300, Seed: 7})
	host := w.DANECases()[0].Host
	v4 := w.Endpoints(host, false)[0].Address
	for _, a := range []struct{ network, addr string }{
		{"tcp", "127.0.0.1:25"},
		{"tcp", "[::1]:25"},
		{"tcp", "8.8.8.8:25"},
		{"tcp", "192.0.2.250:25"},
		{"tcp", "[2001:db8:ffff::1]:25"},
		{"tcp", v4 + ":587"},
		{"tcp6", v4 + ":25"},
		{"udp", v4 + ":25"},
		{"tcp", "mx.example.com:25"},
		{"tcp", "garbage"},
		{"tcp", addrRefused + ":25"},
	} {
		c, err := s.Dial(context.Background(), a.network, a.addr)
		if err == nil {
			c.Close()
			t.Errorf("Dial(%s, %s) succeeded", a.network, a.addr)
			continue
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("Dial(%s, %s): %v, want ECONNREFUSED", a.network, a.addr, err)
		}
	}
	if _, err := s.Dial(context.Background(), "tcp", "["+addrUnreachableV6+"]:25"); !errors.Is(err, syscall.ENETUNREACH) {
		t.Errorf("unreachable case: %v, want ENETUNREACH", err)
	}
	res, _ := starttls.Probe(context.Background(), starttls.Config{Dial: s.Dial}, netip.MustParseAddrPort("127.0.0.1:25"), "localhost")
	if res.Failure != starttls.FailureConnectRefused {
		t.Errorf("probe of 127.0.0.1:25: %q, want connect_refused", res.Failure)
	}
	if n := s.Connections(); n != 0 {
		t.Errorf("Connections() = %d after refused dials", n)
	}
}

// TestSMTPSession checks the dialogue: multi-line greeting and EHLO,
// refused mail, QUIT.
func TestSMTPSession(t *testing.T) {
	w, s := startSMTP(t, Config{Domains: 300, Seed: 7})
	addr := w.providers[0].hosts[0].v4[0]
	c, err := s.Dial(context.Background(), "tcp4", addr+":25")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.RemoteAddr().String(); got != addr+":25" {
		t.Errorf("RemoteAddr %s", got)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	var got []string
	say := func(cmd string) {
		if cmd != "" {
			c.Write([]byte(cmd + "\r\n"))
		}
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("after %q: %v", cmd, err)
			}
			got = append(got, strings.TrimRight(l, "\r\n"))
			if len(l) < 4 || l[3] != '-' {
				return
			}
		}
	}
	say("")
	say("EHLO client.test")
	say("MAIL FROM:<a@example.com>")
	say("QUIT")
	text := strings.Join(got, "\n")
	for _, want := range []string{"220-lab-mta.invalid", "250-STARTTLS", "554 5.7.1", "221 "} {
		if !strings.Contains(text, want) {
			t.Errorf("dialogue lacks %q:\n%s", want, text)
		}
	}
}

// TestSMTPCloseEndsSessions leaves a stalled and an idle session open and
// checks that Close ends their goroutines.
func TestSMTPCloseEndsSessions(t *testing.T) {
	w := generate(t, Config{Domains: 300, Seed: 7})
	before := runtime.NumGoroutine()
	s, err := StartSMTP(w, SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stalled, err := s.Dial(context.Background(), "tcp", addrStall+":25")
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if l, err := bufio.NewReader(stalled).ReadString('\n'); err != nil || !strings.HasPrefix(l, "220-") {
		t.Fatalf("stall greeting %q, %v", l, err)
	}
	idle, err := s.Dial(context.Background(), "tcp", w.providers[0].hosts[0].v4[0]+":25")
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if runtime.NumGoroutine() < before+2 {
		t.Fatalf("%d goroutines with two sessions, %d before", runtime.NumGoroutine(), before)
	}
	s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
	if _, err := s.Dial(context.Background(), "tcp", addrNoSTARTTLS+":25"); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Dial after Close: %v", err)
	}
}

// TestDomainDANERollup recomputes Domain.DANE from World.Endpoints for
// every line of a signed and an unsigned world.
func TestDomainDANERollup(t *testing.T) {
	for _, cfg := range []Config{{Domains: 3000, Seed: 5}, {Domains: 3000, Seed: 5, DNSSEC: true}} {
		w := generate(t, cfg)
		counts := map[string]int{}
		for _, d := range w.Domains() {
			n, passed, reason := 0, 0, ""
			for _, h := range d.MXHosts {
				for _, ep := range w.Endpoints(h, cfg.DNSSEC) {
					n++
					if ep.DANEStatus == "pass" {
						passed++
					} else if reason == "" {
						reason = cmp.Or(ep.DANEReason, ep.DANEStatus)
					}
				}
			}
			want := ""
			switch {
			case n == 0:
				reason = ""
			case passed == n:
				want, reason = "all", ""
			case passed > 0:
				want = "some"
			default:
				want = "none"
			}
			if d.DANE != want || d.DANEReason != reason {
				t.Errorf("%+v: DANE %q/%q, want %q/%q", cfg, d.DANE, d.DANEReason, want, reason)
			}
			counts[d.DANE]++
		}
		if counts["all"] == 0 || counts["some"] == 0 || counts["none"] == 0 {
			t.Errorf("%+v: roll-ups %v", cfg, counts)
		}
	}
}
