package scanner

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/scanner/lookup"
)

// TestAddressCap gives one MX host 500 A records and 10 AAAA records: only
// MaxAddresses of its addresses (IPv4 first) are connected to, each once,
// while the row keeps every address and says how many were probed.
func TestAddressCap(t *testing.T) {
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
			// Refused at once: nothing is ever connected to.
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		},
		AddressInterval: time.Nanosecond,
	}
	cfg.defaults()
	pool, err := newSMTPPool(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &scan{cfg: &cfg, stats: new(Stats), smtp: pool}

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

	if len(dialed) != MaxAddresses || len(p.endpoints) != MaxAddresses {
		t.Fatalf("%d connections and %d endpoints for 510 addresses, want %d", len(dialed), len(p.endpoints), MaxAddresses)
	}
	seen := map[string]bool{}
	for _, d := range dialed {
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
