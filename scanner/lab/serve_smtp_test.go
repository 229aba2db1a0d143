package lab

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/danescan/danescan/scanner"
	"github.com/danescan/danescan/scanner/starttls"
)

// TestLoopbackAddr checks the mapping both ways, on every address of the
// three documentation networks, and that nothing else is mapped.
func TestLoopbackAddr(t *testing.T) {
	w := &World{cfg: Config{Loopback: true}}
	seen := map[netip.Addr]bool{}
	for _, p := range docNets {
		for a := p.Addr(); p.Contains(a); a = a.Next() {
			l, ok := LoopbackAddr(a)
			if !ok || !l.Is4() || l.As4()[0] != 127 || l == netip.MustParseAddr("127.0.0.1") || l == netip.MustParseAddr("127.0.0.53") {
				t.Fatalf("LoopbackAddr(%s) = %s, %v", a, l, ok)
			}
			if seen[l] {
				t.Fatalf("LoopbackAddr(%s) = %s twice", a, l)
			}
			seen[l] = true
			if back, ok := DocumentationAddr(l); !ok || back != a {
				t.Fatalf("DocumentationAddr(%s) = %s, %v, want %s", l, back, ok, a)
			}
			if got := w.hostV4(a.String()); got != l.String() {
				t.Fatalf("hostV4(%s) = %s, want %s", a, got, l)
			}
		}
	}
	for _, s := range []string{"127.0.0.1", "127.0.0.53", "10.0.0.1", "192.0.3.1", "2001:db8::1", "::ffff:127.0.2.9"} {
		a := netip.MustParseAddr(s)
		if got, ok := LoopbackAddr(a); ok {
			t.Errorf("LoopbackAddr(%s) = %s, true", s, got)
		}
		if got, ok := DocumentationAddr(a); ok && s != "::ffff:127.0.2.9" {
			t.Errorf("DocumentationAddr(%s) = %s, true", s, got)
		}
	}
	if got := (&World{}).hostV4("192.0.2.10"); got != "192.0.2.10" {
		t.Errorf("hostV4 without Loopback: %s", got)
	}
}

// TestLoopbackWorld checks that a Loopback world is the default world
// with its MX hosts' IPv4 addresses mapped: the same lines and truth,
// endpoints at the mapped addresses with the same verdicts, zone texts
// that differ only in those addresses, and an exclusion list that covers
// every address left unmapped.
func TestLoopbackWorld(t *testing.T) {
	for _, signed := range []bool{false, true} {
		t.Run("dnssec="+strconv.FormatBool(signed), func(t *testing.T) {
			doc := generate(t, Config{Domains: 500, Seed: 3, DNSSEC: signed})
			lo := generate(t, Config{Domains: 500, Seed: 3, DNSSEC: signed, Loopback: true})
			if !slices.Equal(doc.InputLines(), lo.InputLines()) || !slices.EqualFunc(doc.Domains(), lo.Domains(), equalDomain) {
				t.Fatal("Loopback changes the domains")
			}
			for host := range doc.hostIndex() {
				de, le := doc.Endpoints(host, signed), lo.Endpoints(host, signed)
				if len(de) != len(le) {
					t.Fatalf("%s: %d endpoints, %d in the loopback world", host, len(de), len(le))
				}
				for i := range de {
					want := de[i]
					if a := netip.MustParseAddr(want.Address); a.Is4() {
						m, ok := LoopbackAddr(a)
						if !ok {
							t.Fatalf("%s: %s is no documentation address", host, a)
						}
						want.Address = m.String()
					}
					if le[i] != want {
						t.Errorf("%s: %+v, want %+v", host, le[i], want)
					}
				}
			}
			f, err := lo.WriteFiles(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(f.Exclude)
			if err != nil {
				t.Fatal(err)
			}
			x, err := scanner.ParseExclude(strings.NewReader(string(data)))
			if err != nil {
				t.Fatal(err)
			}
			mapped := 0
			for _, o := range doc.Origins() {
				dt, _ := doc.ZoneText(o)
				lt, _ := lo.ZoneText(o)
				dl, ll := strings.Split(dt, "\n"), strings.Split(lt, "\n")
				if len(dl) != len(ll) {
					t.Fatalf("zone %s: %d lines, %d in the loopback world", o, len(dl), len(ll))
				}
				for i := range dl {
					if dl[i] == ll[i] {
						if f := strings.Fields(ll[i]); len(f) == 5 && (f[3] == "A" || f[3] == "AAAA") && !x.Address(netip.MustParseAddr(f[4])) {
							t.Errorf("zone %s: %q unmapped and not excluded", o, ll[i])
						}
						continue
					}
					if signed && strings.Contains(dl[i], "RRSIG") {
						continue // signatures over the mapped records
					}
					df, lf := strings.Fields(dl[i]), strings.Fields(ll[i])
					if len(df) != 5 || df[3] != "A" || !slices.Equal(df[:4], lf[:4]) {
						t.Fatalf("zone %s: %q became %q", o, dl[i], ll[i])
					}
					if m, _ := LoopbackAddr(netip.MustParseAddr(df[4])); m.String() != lf[4] {
						t.Fatalf("zone %s: %q became %q", o, dl[i], ll[i])
					}
					mapped++
				}
			}
			if mapped == 0 {
				t.Error("no address mapped")
			}
			if got := lo.DANECases(); !slices.Equal(got, doc.DANECases()) {
				t.Errorf("cases %v, want %v", got, doc.DANECases())
			}
		})
	}
	if f, err := generate(t, Config{Domains: 300, Seed: 3}).WriteFiles(t.TempDir()); err != nil || f.Exclude != "" {
		t.Errorf("default world: exclusion list %q, %v", f.Exclude, err)
	}
}

// freePort returns a TCP port that is free on addr now.
func freePort(t *testing.T, addr netip.Addr) int {
	t.Helper()
	ln, err := net.Listen("tcp4", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestSMTPListen serves a Loopback world on TCP, probes hosts of every
// kind through real connections and through Dial and compares the
// results, then checks that Close ends every goroutine and frees the
// ports. As root it listens on port 25 when that is free.
func TestSMTPListen(t *testing.T) {
	w := generate(t, Config{Domains: 500, Seed: 7, Loopback: true})
	before := runtime.NumGoroutine()
	s, err := StartSMTP(w, SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stall, _ := LoopbackAddr(netip.MustParseAddr(addrStall))
	port := 25
	if os.Geteuid() != 0 {
		port = freePort(t, stall)
		t.Logf("not root: listening on port %d", port)
	}
	start := time.Now()
	lns, err := s.Listen(ListenOptions{Port: port})
	if errors.Is(err, syscall.EADDRINUSE) && port == 25 {
		port = freePort(t, stall)
		t.Logf("port 25 in use: listening on port %d", port)
		lns, err = s.Listen(ListenOptions{Port: port})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d listeners on port %d in %v", len(lns), port, time.Since(start))

	// One listener per IPv4 address, the refused case's excepted.
	var want []netip.AddrPort
	refused, _ := LoopbackAddr(netip.MustParseAddr(addrRefused))
	for ip := range s.modes {
		if ip.Is4() && ip != refused {
			want = append(want, netip.AddrPortFrom(ip, uint16(port)))
		}
	}
	slices.SortFunc(want, netip.AddrPort.Compare)
	if !slices.Equal(lns, want) {
		t.Fatalf("listening on %v, want %v", lns, want)
	}
	if _, err := s.Listen(ListenOptions{Port: port}); err == nil {
		t.Error("second Listen succeeded")
	}

	var d net.Dialer
	tcpDial := func(ctx context.Context, network, address string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return nil, err
		}
		if !loopbackNet.Contains(ap.Addr()) || ap.Port() != 25 {
			t.Errorf("the probe dialled %s", address) // never a documentation address
			return nil, errors.New("not a lab address")
		}
		return d.DialContext(ctx, network, netip.AddrPortFrom(ap.Addr(), uint16(port)).String())
	}
	hosts := []string{w.providers[0].hosts[0].name, w.providers[1].hosts[0].name}
	for _, c := range w.DANECases() {
		switch c.Name {
		case "dane-ee-spki-sha256", "dane-ta-root", "rsa-only", "starttls-not-offered", "starttls-rejected", "tls-handshake-failure", "banner-stall", "connect-refused", "ipv6-unreachable":
			hosts = append(hosts, c.Host)
		}
	}
	probes := 0
	for _, host := range hosts {
		for _, ep := range w.Endpoints(host, false) {
			a := netip.MustParseAddr(ep.Address)
			if !a.Is4() {
				continue // IPv6 endpoints are excluded in a loopback scan
			}
			for _, sigAlgs := range []string{"any", "rsa"} {
				probe := func(dial func(context.Context, string, string) (net.Conn, error)) starttls.Result {
					cfg := starttls.Config{Dial: dial, EHLO: "scanner.lab.test", SigAlgs: sigAlgs, BannerTimeout: 300 * time.Millisecond}
					res, _ := starttls.Probe(context.Background(), cfg, netip.AddrPortFrom(a, 25), host)
					return res
				}
				pipe, tcp := probe(s.Dial), probe(tcpDial)
				probes++
				if tcp.Failure != pipe.Failure || !slices.EqualFunc(tcp.Chain, pipe.Chain, slices.Equal) || tcp.STARTTLSCode != pipe.STARTTLSCode {
					t.Errorf("%s %s %s: TCP %q %d (%d certificates), Dial %q %d (%d certificates)", host, a, sigAlgs,
						tcp.Failure, tcp.STARTTLSCode, len(tcp.Chain), pipe.Failure, pipe.STARTTLSCode, len(pipe.Chain))
				}
				if sigAlgs == "any" && string(tcp.Failure) != ep.Probe {
					t.Errorf("%s %s: TCP %q, truth %q", host, a, tcp.Failure, ep.Probe)
				}
			}
		}
	}
	if probes < 10 {
		t.Errorf("%d probes", probes)
	}

	// An idle session and a stalled one stay open until Close.
	idle, err := net.Dial("tcp4", lns[len(lns)-1].String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	stalled, err := net.Dial("tcp4", netip.AddrPortFrom(stall, uint16(port)).String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	buf := make([]byte, 4)
	if _, err := stalled.Read(buf); err != nil || string(buf) != "220-" {
		t.Fatalf("stall greeting %q, %v", buf, err)
	}
	s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
	for _, ap := range lns {
		ln, err := net.Listen("tcp4", ap.String())
		if err != nil {
			t.Fatalf("after Close: %v", err)
		}
		ln.Close()
	}
	if _, err := s.Listen(ListenOptions{Port: port}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Listen after Close: %v", err)
	}
}

// TestSMTPListenRefusesDocumentation checks that Listen binds nothing
// for a world whose addresses are documentation addresses.
func TestSMTPListenRefusesDocumentation(t *testing.T) {
	w, s := startSMTP(t, Config{Domains: 300, Seed: 7})
	lns, err := s.Listen(ListenOptions{Port: 2525})
	if err == nil || lns != nil {
		t.Fatalf("Listen on a documentation world: %v, %v", lns, err)
	}
	a := w.providers[0].hosts[0].v4[0]
	if ln, err := net.Listen("tcp4", a+":2525"); err == nil {
		ln.Close() // the address is not even local: this never succeeds
		t.Errorf("%s is bindable", a)
	}
}

// TestRaiseOpenFiles checks that a need beyond the hard limit is an
// error and a small one is not.
func TestRaiseOpenFiles(t *testing.T) {
	if err := raiseOpenFiles(64); err != nil {
		t.Errorf("64 files: %v", err)
	}
	if err := raiseOpenFiles(1 << 40); err == nil || !strings.Contains(err.Error(), "RLIMIT_NOFILE") {
		t.Errorf("2^40 files: %v", err)
	}
}

// TestSMTPListenBusy checks that Listen fails when one address is taken,
// leaves none of the others bound, and can be called again.
func TestSMTPListenBusy(t *testing.T) {
	w, s := startSMTP(t, Config{Domains: 300, Seed: 7, Loopback: true})
	taken := netip.MustParseAddr(w.providers[1].hosts[0].v4[0])
	port := freePort(t, taken)
	busy, err := net.Listen("tcp4", netip.AddrPortFrom(taken, uint16(port)).String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Listen(ListenOptions{Port: port}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Listen with %s taken: %v", busy.Addr(), err)
	}
	busy.Close()
	first := w.providers[0].hosts[0].v4[0]
	if ln, err := net.Listen("tcp4", first+":"+strconv.Itoa(port)); err != nil {
		t.Errorf("after a failed Listen: %v", err)
	} else {
		ln.Close()
	}
	if lns, err := s.Listen(ListenOptions{Port: port}); err != nil || len(lns) == 0 {
		t.Errorf("Listen again: %d listeners, %v", len(lns), err)
	}
}
