package scanner

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/dane"
	"github.com/danescan/danescan/scanner/lookup"
)

// probeScan returns a scan that probes endpoints with the given special-
// purpose ranges allowed, through a dial that records every address it is
// asked for (readable once probing is done) and refuses it at once:
// nothing is ever connected to.
func probeScan(t *testing.T, allow ...netip.Prefix) (*scan, *[]string) {
	t.Helper()
	var (
		mu     sync.Mutex
		dialed []string
	)
	cfg := Config{
		Resolvers: []string{"127.0.0.1:53"},
		SMTP:      true,
		SMTPDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			dialed = append(dialed, addr)
			mu.Unlock()
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		},
		AddressInterval: time.Nanosecond,
		Allow:           allow,
	}
	cfg.defaults()
	pool, err := newSMTPPool(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &scan{cfg: &cfg, stats: new(Stats), smtp: pool}, &dialed
}

// TestAddressCap gives one MX host 500 A records and 10 AAAA records: only
// MaxAddresses of its addresses (IPv4 first) are connected to, each once,
// while the row keeps every address and says how many were probed.
func TestAddressCap(t *testing.T) {
	s, dialed := probeScan(t, netip.MustParsePrefix("198.51.0.0/16"), netip.MustParsePrefix("2001:db8::/32"))

	var a, aaaa lookup.Answer
	for i := range 500 {
		rr, _ := dns.NewRR(fmt.Sprintf("mx.example. 300 IN A 198.51.%d.%d", 100+i/250, i%250+1))
		a.Records = append(a.Records, rr)
	}
	for i := range 10 {
		rr, _ := dns.NewRR(fmt.Sprintf("mx.example. 300 IN AAAA 2001:db8::%x", i+1))
		aaaa.Records = append(aaaa.Records, rr)
	}
	p := &hostProbe{name: "mx.example", base: "mx.example"}
	p.setAddresses(a.Records, aaaa.Records)
	s.probeEndpoints(context.Background(), p)

	if len(*dialed) != MaxAddresses || len(p.endpoints) != MaxAddresses {
		t.Fatalf("%d connections and %d endpoints for 510 addresses, want %d", len(*dialed), len(p.endpoints), MaxAddresses)
	}
	seen := map[string]bool{}
	for _, d := range *dialed {
		ap := netip.MustParseAddrPort(d)
		if seen[d] || !ap.Addr().Is4() {
			t.Errorf("connection to %s: repeated, or IPv6 before the IPv4 addresses ran out", d)
		}
		seen[d] = true
	}
	row := hostRow("scan", p)
	if len(row.Addresses) != 510 || row.Endpoints != MaxAddresses {
		t.Errorf("row keeps %d addresses and %d endpoints, want 510 and %d", len(row.Addresses), row.Endpoints, MaxAddresses)
	}
	if !strings.Contains(row.Error, "510 addresses, only the first 16 probed") {
		t.Errorf("row error %q does not say how many addresses were probed", row.Error)
	}
}

// TestSpecialPurposeRefused gives one MX host an address in every
// special-purpose range (and IPv4-mapped forms of private and loopback
// addresses): none is connected to, each endpoint says special_purpose and
// names its range, and only the range that Config.Allow names is probed.
func TestSpecialPurposeRefused(t *testing.T) {
	s, dialed := probeScan(t, netip.MustParsePrefix("127.53.0.0/16"))
	var addrs []netip.Addr
	for _, r := range specialRanges() {
		a := r.prefix.Addr()
		if r.prefix.Bits() < a.BitLen() {
			a = a.Next()
		}
		addrs = append(addrs, a)
	}
	addrs = append(addrs, netip.MustParseAddr("::ffff:10.1.2.3"), netip.MustParseAddr("::ffff:127.0.0.1"),
		netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("127.53.1.1"))
	for len(addrs) > 0 {
		// MaxAddresses at a time, as many hosts.
		batch := addrs[:min(len(addrs), MaxAddresses)]
		addrs = addrs[len(batch):]
		p := &hostProbe{name: "mx.example", base: "mx.example", addrs: batch}
		s.probeEndpoints(context.Background(), p)
		for _, e := range p.endpoints {
			row := endpointRow("scan", p, e)
			if e.addr == netip.MustParseAddr("127.53.1.1") {
				if row.Failure == FailSpecialPurpose {
					t.Errorf("%s is allowed but was refused", e.addr)
				}
				continue
			}
			if row.Failure != FailSpecialPurpose || row.DANEStatus != "not_probed" || !strings.Contains(row.Error, "(RFC ") {
				t.Errorf("%s: failure %q, dane %q, error %q; want special_purpose, not_probed and the range", e.addr, row.Failure, row.DANEStatus, row.Error)
			}
		}
	}
	if len(*dialed) != 1 || (*dialed)[0] != "127.53.1.1:25" {
		t.Errorf("connections %q, want only the allowed 127.53.1.1:25", *dialed)
	}
	for _, a := range []string{"8.8.8.8", "2a00:1450::1", "::ffff:8.8.8.8", "2001:4860::1"} {
		if kind, special := SpecialPurpose(netip.MustParseAddr(a)); special {
			t.Errorf("%s counted as special-purpose (%s)", a, kind)
		}
	}
}

func TestParseAllow(t *testing.T) {
	file := t.TempDir() + "/allow.txt"
	if err := os.WriteFile(file, []byte("# test bed\n10.9.0.0/16\n\n192.0.2.7 # one host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ParseAllow([]string{"127.53.0.0/16", "::ffff:127.0.0.1", file})
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("127.53.0.0/16"), netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("10.9.0.0/16"), netip.MustParsePrefix("192.0.2.7/32")}
	if !slices.Equal(got, want) {
		t.Errorf("ParseAllow = %v, want %v", got, want)
	}
	for _, bad := range [][]string{{"no-such-file"}, {"mx.example"}} {
		if _, err := ParseAllow(bad); err == nil {
			t.Errorf("ParseAllow(%q) gave no error", bad)
		}
	}
}

// TestGraceCutsProbe ends a scan's work while a probe is connecting: the
// endpoint says interrupted and not_probed (the scan stopped, the server
// did nothing wrong), not the probe's canceled with a DANE verdict.
func TestGraceCutsProbe(t *testing.T) {
	s, _ := probeScan(t, netip.MustParsePrefix("192.0.2.0/24"))
	ctx, cancel := context.WithCancel(context.Background())
	s.cfg.SMTPDial = func(dctx context.Context, network, addr string) (net.Conn, error) {
		cancel() // the grace period ends while the probe connects
		<-dctx.Done()
		return nil, dctx.Err()
	}
	p := &hostProbe{name: "mx.example", base: "mx.example", addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")},
		records: []dane.Record{{Usage: 3, Selector: 1, MatchingType: 1, Data: make([]byte, 32)}}}
	s.probeEndpoints(ctx, p)
	if len(p.endpoints) != 1 {
		t.Fatalf("%d endpoints, want 1", len(p.endpoints))
	}
	row := endpointRow("scan", p, p.endpoints[0])
	if row.Failure != FailInterrupted || row.DANEStatus != datasets.DANENotProbed {
		t.Errorf("failure %q, dane_status %q; want interrupted, not_probed", row.Failure, row.DANEStatus)
	}
}
