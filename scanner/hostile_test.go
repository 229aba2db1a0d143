package scanner

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/lab"
	"github.com/danescan/danescan/scanner/starttls"
)

// The standing fault suite against hostile peers (issue 11): every case is
// a real scan through Run of one domain whose DNS or SMTP peer misbehaves
// in one way. Every case must end with exactly one domains row, the
// expected failure class in the expected column, within hostileTime and
// with the live heap grown by less than hostileHeap.
const (
	hostileTime = 20 * time.Second
	hostileHeap = 16 << 20
	// hostilePeak bounds the heap in use at any time during the scan,
	// garbage included: a hostile peer must not make the scan hold its
	// bytes, even briefly.
	hostilePeak = 64 << 20
)

// hostileRows is what a hostile scan wrote, with the scan's cost.
type hostileRows struct {
	domains   []datasets.Domain
	hosts     map[string]datasets.MXHost
	endpoints []datasets.Endpoint
	took      time.Duration
	heap      int64 // live-heap growth in bytes, after GC
	peak      int64 // the largest heap (live and garbage) seen during Run, above the start
	// verifications counts the DNSSEC signature verifications of the scan.
	verifications int64
}

// heapPeak samples the heap's object bytes every millisecond (without
// stopping the world) until stop is called, which returns the largest.
func heapPeak() (stop func() int64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var max int64
	done := make(chan struct{})     // closed by stop; read by the sampler
	finished := make(chan struct{}) // closed by the sampler when it returns
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := int64(s[0].Value.Uint64()); v > max {
				max = v
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-finished
		return max
	}
}

// domain returns the one domains row; it fails the test unless there is
// exactly one.
func (r hostileRows) domain(t *testing.T) datasets.Domain {
	t.Helper()
	if len(r.domains) != 1 {
		t.Fatalf("%d domains rows, want exactly 1", len(r.domains))
	}
	return r.domains[0]
}

// host returns the mx_hosts row of name.
func (r hostileRows) host(t *testing.T, name string) datasets.MXHost {
	t.Helper()
	h, ok := r.hosts[name]
	if !ok {
		t.Fatalf("no mx_hosts row for %s (rows: %d)", name, len(r.hosts))
	}
	return h
}

// liveHeap returns the live heap after a full collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// hostileScan scans the one domain of list with cfg (Resolvers set by the
// caller) into a dataset and reads it back. It checks the bounds every
// hostile case keeps: Run returns no error, within hostileTime, and the
// live heap grows by less than hostileHeap.
func hostileScan(t *testing.T, cfg Config, domain string) hostileRows {
	t.Helper()
	return hostileScanWithin(t, cfg, domain, hostileTime)
}

// hostileScanWithin is hostileScan with another time bound. cfg.STARTTLS
// is kept when its BannerTimeout is set; otherwise every stage gets about
// a second.
func hostileScanWithin(t *testing.T, cfg Config, domain string, bound time.Duration) hostileRows {
	t.Helper()
	dir := t.TempDir()
	list := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(list, []byte(domain+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 300 * time.Millisecond
	}
	if cfg.Retries == 0 {
		cfg.Retries = 1
	}
	cfg.AddressInterval = time.Millisecond
	if cfg.Roots == nil {
		cfg.Roots = x509.NewCertPool() // loading the system roots costs seconds under -race
	}
	if cfg.STARTTLS.BannerTimeout == 0 {
		cfg.STARTTLS = starttls.Config{EHLO: "probe.example", ConnectTimeout: time.Second, BannerTimeout: 1500 * time.Millisecond,
			EHLOTimeout: time.Second, STARTTLSTimeout: time.Second, HandshakeTimeout: time.Second, QUITTimeout: time.Second}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*bound)
	defer cancel()

	before := liveHeap()
	stop := heapPeak()
	start := time.Now()
	var stats Stats
	_, err := Run(ctx, cfg, []Input{{Path: list}}, out, &stats)
	r := hostileRows{took: time.Since(start), hosts: map[string]datasets.MXHost{}, verifications: stats.DNSSEC.Verifications.Load()}
	r.peak = stop() - before
	r.heap = liveHeap() - before
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if r.took > bound {
		t.Errorf("scan took %v, bound %v", r.took, bound)
	}
	if r.heap > hostileHeap {
		t.Errorf("live heap grew by %d MiB, bound %d MiB", r.heap>>20, hostileHeap>>20)
	}
	if r.peak > hostilePeak {
		t.Errorf("heap peaked %d MiB above the start, bound %d MiB", r.peak>>20, hostilePeak>>20)
	}
	r.domains = readTable[datasets.Domain](t, out, datasets.TableDomains)
	for _, h := range readTable[datasets.MXHost](t, out, datasets.TableMXHosts) {
		r.hosts[h.Host] = h
	}
	if cfg.SMTP {
		r.endpoints = readTable[datasets.Endpoint](t, out, datasets.TableEndpoints)
	}
	t.Logf("%v, live heap %+d KiB, peak %+d KiB", r.took.Round(time.Millisecond), r.heap>>10, r.peak>>10)

	return r
}

// startHostileDNS serves zone (ZoneResolver) with rules until the test
// ends and returns its address.
func startHostileDNS(t *testing.T, zone string, rules map[string]lab.DNSBehaviour) string {
	t.Helper()
	h, err := lab.ZoneResolver(zone)
	if err != nil {
		t.Fatal(err)
	}
	return serveHostileDNS(t, h, rules)
}

func serveHostileDNS(t *testing.T, h dns.Handler, rules map[string]lab.DNSBehaviour) string {
	t.Helper()
	srv, err := lab.StartHostileDNS(h, rules)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr()
}

// TestHostileDNS: a resolver that misbehaves for one name. The MX lookup's
// failure class lands in mx_failure and domains.failure; the host's in
// its <lookup>_failure and mx_hosts.failure.
func TestHostileDNS(t *testing.T) {
	var chain strings.Builder
	for i := range 50 {
		fmt.Fprintf(&chain, "c%d.chain.test. 60 IN CNAME c%d.chain.test.\n", i, i+1)
	}
	chain.WriteString("c50.chain.test. 60 IN MX 10 mx.ok.test.\n")
	zone := `
ok.test.          60 IN MX 10 mx.ok.test.
mx.ok.test.       60 IN A 192.0.2.1
loop.test.        60 IN CNAME loop2.test.
loop2.test.       60 IN CNAME loop3.test.
loop3.test.       60 IN CNAME loop.test.
chain.test.       60 IN CNAME c0.chain.test.
mxsilent.test.    60 IN MX 10 mx.mxsilent.test.
many.test.        60 IN MX 10 mx.many.test.
hostchain.test.   60 IN MX 10 c0.chain.test.
tlsaloop.test.    60 IN MX 10 mx.tlsaloop.test.
mx.tlsaloop.test. 60 IN A 192.0.2.2
` + chain.String()

	// domainCase: the MX lookup of the domain misbehaves.
	domainCase := func(b lab.DNSBehaviour, failure string) func(t *testing.T) {
		return func(t *testing.T) {
			name := strings.ReplaceAll(string(b), "_", "") + ".test"
			addr := startHostileDNS(t, zone, map[string]lab.DNSBehaviour{name: b})
			r := hostileScan(t, Config{Resolvers: []string{addr}}, name)
			d := r.domain(t)
			if d.MX.Failure != failure || d.Failure != failure || d.MXKind != "unknown" {
				t.Errorf("mx_failure %q, failure %q, mx_kind %q; want %q, %q, unknown (error %q)", d.MX.Failure, d.Failure, d.MXKind, failure, failure, d.MX.Error)
			}
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"compression pointer loop", domainCase(lab.DNSPointerLoop, "malformed")},
		{"answer for another ID", domainCase(lab.DNSWrongID, "mismatch")},
		{"answer for another question", domainCase(lab.DNSWrongQuestion, "mismatch")},
		{"silence", domainCase(lab.DNSSilence, "timeout")},
		{"TC then TCP hangs", domainCase(lab.DNSTCHang, "truncated_tcp_failed")},
		{"TC then TCP closes", domainCase(lab.DNSTCClose, "truncated_tcp_failed")},
		{"TC then TCP garbage", domainCase(lab.DNSTCGarbage, "truncated_tcp_failed")},
		{"TC then TCP short length prefix", domainCase(lab.DNSTCShortLength, "truncated_tcp_failed")},
		{"2000-record MX RRset", func(t *testing.T) {
			addr := startHostileDNS(t, zone, map[string]lab.DNSBehaviour{"big.test": lab.DNSRRset2000})
			r := hostileScan(t, Config{Resolvers: []string{addr}}, "big.test")
			d := r.domain(t)
			if d.MX.Failure != "oversized" || len(d.MX.Records) != 100 || d.MX.Transport != "tcp" {
				t.Errorf("mx_failure %q with %d records over %q; want oversized, 100 kept, tcp", d.MX.Failure, len(d.MX.Records), d.MX.Transport)
			}
			if d.MXHostCount > 2000 || len(r.hosts) > 16 {
				t.Errorf("%d MX hosts, %d mx_hosts rows; want at most MaxMXHosts rows", d.MXHostCount, len(r.hosts))
			}
		}},
		{"2000-record A RRset", func(t *testing.T) {
			addr := startHostileDNS(t, zone, map[string]lab.DNSBehaviour{"mx.many.test": lab.DNSRRset2000})
			r := hostileScan(t, Config{Resolvers: []string{addr}}, "many.test")
			r.domain(t)
			h := r.host(t, "mx.many.test")
			if h.A.Failure != "oversized" || len(h.A.Records) != 100 || h.Failure != "" {
				t.Errorf("a_failure %q with %d records, failure %q; want oversized, 100 kept, none", h.A.Failure, len(h.A.Records), h.Failure)
			}
		}},
		{"2000 records over UDP, TC not set", func(t *testing.T) {
			// The answer (about 30 KB) is larger than the client's read
			// buffer: what arrives is cut and does not unpack.
			addr := startHostileDNS(t, zone, map[string]lab.DNSBehaviour{"udpbig.test": lab.DNSUDPOversized})
			d := hostileScan(t, Config{Resolvers: []string{addr}}, "udpbig.test").domain(t)
			if d.MX.Failure != "malformed" || d.Failure != "malformed" {
				t.Errorf("mx_failure %q, failure %q; want malformed (error %q)", d.MX.Failure, d.Failure, d.MX.Error)
			}
		}},
		{"CNAME chain of 50 hops at the MX host", func(t *testing.T) {
			addr := startHostileDNS(t, zone, nil)
			r := hostileScan(t, Config{Resolvers: []string{addr}}, "hostchain.test")
			if d := r.domain(t); d.Failure != "" {
				t.Errorf("domain failure %q, want none", d.Failure)
			}
			if h := r.host(t, "c0.chain.test"); h.A.Failure != "cname_too_long" || h.Failure != "cname_too_long" {
				t.Errorf("a_failure %q, failure %q; want cname_too_long", h.A.Failure, h.Failure)
			}
		}},
		{"2000 TXT records at _mta-sts", func(t *testing.T) {
			addr := startHostileDNS(t, zone, map[string]lab.DNSBehaviour{"_mta-sts.ok.test": lab.DNSRRset2000})
			d := hostileScan(t, Config{Resolvers: []string{addr}}, "ok.test").domain(t)
			if d.MTASTS.Failure != "oversized" || d.MTASTSPublished || d.Failure != "" {
				t.Errorf("mta_sts_failure %q, published %v, failure %q; want oversized, false, none", d.MTASTS.Failure, d.MTASTSPublished, d.Failure)
			}
		}},
		{"CNAME loop", func(t *testing.T) {
			addr := startHostileDNS(t, zone, nil)
			d := hostileScan(t, Config{Resolvers: []string{addr}}, "loop.test").domain(t)
			if d.MX.Failure != "cname_loop" || d.Failure != "cname_loop" {
				t.Errorf("mx_failure %q, failure %q; want cname_loop", d.MX.Failure, d.Failure)
			}
		}},
		{"CNAME chain of 50 hops", func(t *testing.T) {
			addr := startHostileDNS(t, zone, nil)
			d := hostileScan(t, Config{Resolvers: []string{addr}}, "chain.test").domain(t)
			if d.MX.Failure != "cname_too_long" || d.Failure != "cname_too_long" {
				t.Errorf("mx_failure %q, failure %q; want cname_too_long", d.MX.Failure, d.Failure)
			}
		}},
		{"silent for the MX host", func(t *testing.T) {
			addr := startHostileDNS(t, zone, map[string]lab.DNSBehaviour{"mx.mxsilent.test": lab.DNSSilence})
			r := hostileScan(t, Config{Resolvers: []string{addr}}, "mxsilent.test")
			if d := r.domain(t); d.Failure != "" {
				t.Errorf("domain failure %q, want none (the MX lookup worked)", d.Failure)
			}
			h := r.host(t, "mx.mxsilent.test")
			if h.A.Failure != "timeout" || h.AAAA.Failure != "timeout" || h.Failure != "timeout" {
				t.Errorf("a_failure %q, aaaa_failure %q, failure %q; want timeout", h.A.Failure, h.AAAA.Failure, h.Failure)
			}
		}},
		{"compression pointer loop in the TLSA answer", func(t *testing.T) {
			addr := startHostileDNS(t, zone, map[string]lab.DNSBehaviour{"_25._tcp.mx.tlsaloop.test": lab.DNSPointerLoop})
			r := hostileScan(t, Config{Resolvers: []string{addr}}, "tlsaloop.test")
			r.domain(t)
			if h := r.host(t, "mx.tlsaloop.test"); h.TLSA.Failure != "malformed" || h.Failure != "" {
				t.Errorf("tlsa_failure %q, failure %q; want malformed, none", h.TLSA.Failure, h.Failure)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// TestHostileSMTP: MX hosts whose SMTP servers misbehave. Their addresses
// are documentation addresses that Config.Allow names and that
// lab.HostileDial routes to the servers' loopback listeners; the probe's
// failure class lands in endpoints.failure.
func TestHostileSMTP(t *testing.T) {
	smtpCase := func(b lab.SMTPBehaviour, failure string, stage string, check func(t *testing.T, e datasets.Endpoint)) func(t *testing.T) {
		return func(t *testing.T) {
			srv, err := lab.StartHostileSMTP(b)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			ip := netip.MustParseAddr("192.0.2.25")
			addr := startHostileDNS(t, "hostile.test. 60 IN MX 10 mx.hostile.test.\nmx.hostile.test. 60 IN A "+ip.String()+"\n", nil)
			r := hostileScan(t, Config{Resolvers: []string{addr}, SMTP: true,
				SMTPDial: lab.HostileDial(map[netip.Addr]string{ip: srv.Addr()}),
				Allow:    []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}, "hostile.test")
			r.domain(t)
			if len(r.endpoints) != 1 {
				t.Fatalf("%d endpoints rows, want 1", len(r.endpoints))
			}
			e := r.endpoints[0]
			if e.Failure != failure || e.Stage != stage {
				t.Errorf("endpoint failure %q stage %q (%s); want %q, %q", e.Failure, e.Stage, e.Error, failure, stage)
			}
			if check != nil {
				check(t, e)
			}
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"banner never sent", smtpCase(lab.SMTPBannerNeverSent, "banner_timeout", "banner", nil)},
		{"banner one byte a second", smtpCase(lab.SMTPBannerSlow, "banner_timeout", "banner", nil)},
		{"endless multi-line reply", smtpCase(lab.SMTPEndlessMultiline, "too_many_lines", "banner", nil)},
		{"10 MB line", smtpCase(lab.SMTPHugeLine, "line_too_long", "banner", func(t *testing.T, e datasets.Endpoint) {
			if n := len(strings.Join(e.Banner, "")); n > 8<<10 {
				t.Errorf("banner column holds %d bytes", n)
			}
		})},
		{"STARTTLS accepted then garbage", smtpCase(lab.SMTPSTARTTLSGarbage, "tls_handshake_failed", "handshake", nil)},
		{"STARTTLS accepted then silence", smtpCase(lab.SMTPSTARTTLSSilence, "tls_handshake_timeout", "handshake", nil)},
		{"200-certificate chain", smtpCase(lab.SMTPLongChain, "", "", func(t *testing.T, e datasets.Endpoint) {
			if e.ChainLength != 200 || len(e.Chain) != 32 {
				t.Errorf("chain_length %d, %d kept; want 200, 32", e.ChainLength, len(e.Chain))
			}
		})},
		{"1 MB certificate", smtpCase(lab.SMTPHugeCertificate, "tls_handshake_failed", "handshake", nil)},
		{"reset on accept", smtpCase(lab.SMTPResetOnAccept, "connection_reset", "banner", nil)},
		{"reset mid-handshake", smtpCase(lab.SMTPResetMidHandshake, "connection_reset", "handshake", nil)},
		{"500 addresses for one host", testHostile500Addresses},
		{"500 addresses for one host, all silent", testHostile500Silent},
		{"addresses in every special-purpose range", testHostileSpecialRanges},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// testHostile500Addresses: one MX host with 500 addresses, all served by
// one polite server: MaxAddresses of them are probed, the row keeps all.
func testHostile500Addresses(t *testing.T) {
	srv, err := lab.StartHostileSMTP(lab.SMTPPolite)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var zone strings.Builder
	zone.WriteString("many.test. 60 IN MX 10 mx.many.test.\n")
	routes := map[netip.Addr]string{}
	for i := range 500 {
		ip := netip.AddrFrom4([4]byte{198, 18, byte(i / 250), byte(i%250 + 1)})
		routes[ip] = srv.Addr()
		fmt.Fprintf(&zone, "mx.many.test. 60 IN A %s\n", ip)
	}
	addr := startHostileDNS(t, zone.String(), nil)
	var mu sync.Mutex
	dials := 0
	dial := lab.HostileDial(routes)
	r := hostileScan(t, Config{Resolvers: []string{addr}, SMTP: true,
		SMTPDial: func(ctx context.Context, network, a string) (net.Conn, error) {
			mu.Lock()
			dials++
			mu.Unlock()
			return dial(ctx, network, a)
		},
		Allow: []netip.Prefix{netip.MustParsePrefix("198.18.0.0/15")}}, "many.test")
	r.domain(t)
	h := r.host(t, "mx.many.test")
	if len(h.Addresses) != 500 || h.Endpoints != MaxAddresses || len(r.endpoints) != MaxAddresses || dials != MaxAddresses {
		t.Errorf("%d addresses, %d endpoints (%d rows), %d connections; want 500 and %d", len(h.Addresses), h.Endpoints, len(r.endpoints), dials, MaxAddresses)
	}
	for _, e := range r.endpoints {
		if e.Failure != "" {
			t.Errorf("%s: failure %q (%s)", e.Address, e.Failure, e.Error)
		}
	}
}

// testHostile500Silent: one MX host with 500 addresses whose servers never
// greet. The addresses of a host are probed one after the other, so the
// host costs MaxAddresses banner timeouts: bounded, but linear (there is
// no time budget per host).
func testHostile500Silent(t *testing.T) {
	srv, err := lab.StartHostileSMTP(lab.SMTPBannerNeverSent)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var zone strings.Builder
	zone.WriteString("tarpit.test. 60 IN MX 10 mx.tarpit.test.\n")
	routes := map[netip.Addr]string{}
	for i := range 500 {
		ip := netip.AddrFrom4([4]byte{198, 18, byte(i / 250), byte(i%250 + 1)})
		routes[ip] = srv.Addr()
		fmt.Fprintf(&zone, "mx.tarpit.test. 60 IN A %s\n", ip)
	}
	addr := startHostileDNS(t, zone.String(), nil)
	const banner = 500 * time.Millisecond
	r := hostileScanWithin(t, Config{Resolvers: []string{addr}, SMTP: true, SMTPDial: lab.HostileDial(routes),
		Allow:    []netip.Prefix{netip.MustParsePrefix("198.18.0.0/15")},
		STARTTLS: starttls.Config{EHLO: "probe.example", ConnectTimeout: time.Second, BannerTimeout: banner}},
		"tarpit.test", MaxAddresses*banner+5*time.Second)
	r.domain(t)
	if len(r.endpoints) != MaxAddresses {
		t.Fatalf("%d endpoints rows, want %d", len(r.endpoints), MaxAddresses)
	}
	for _, e := range r.endpoints {
		if e.Failure != "banner_timeout" {
			t.Errorf("%s: failure %q, want banner_timeout", e.Address, e.Failure)
		}
	}
}

// testHostileSpecialRanges: MX hosts with an address in every
// special-purpose range and no Allow: nothing is connected to, every
// endpoint says special_purpose.
func testHostileSpecialRanges(t *testing.T) {
	var zone strings.Builder
	zone.WriteString("special.test. 60 IN MX 10 v4.special.test.\nspecial.test. 60 IN MX 20 v6.special.test.\n")
	n := 0
	for _, r := range specialRanges() {
		a := r.prefix.Addr()
		if r.prefix.Bits() < a.BitLen() {
			a = a.Next()
		}
		if a.Is4() {
			fmt.Fprintf(&zone, "v4.special.test. 60 IN A %s\n", a)
		} else {
			fmt.Fprintf(&zone, "v6.special.test. 60 IN AAAA %s\n", a)
		}
		n++
	}
	addr := startHostileDNS(t, zone.String(), nil)
	var mu sync.Mutex
	var dialed []string
	r := hostileScan(t, Config{Resolvers: []string{addr}, SMTP: true,
		SMTPDial: func(ctx context.Context, network, a string) (net.Conn, error) {
			mu.Lock()
			dialed = append(dialed, a)
			mu.Unlock()
			return nil, fmt.Errorf("dial %s: the test never connects", a)
		}}, "special.test")
	r.domain(t)
	if len(r.endpoints) != n || len(dialed) != 0 {
		t.Errorf("%d endpoints, connections %q; want %d endpoints and none", len(r.endpoints), dialed, n)
	}
	for _, e := range r.endpoints {
		if e.Failure != FailSpecialPurpose || e.DANEStatus != "not_probed" {
			t.Errorf("%s: failure %q, dane %q; want special_purpose, not_probed", e.Address, e.Failure, e.DANEStatus)
		}
	}
}

// spoilDNSSEC spoils the answers of the hostile DNSSEC cases (see
// TestHostileDNSSEC) on their way out of the signed world: the MX RRSIG
// of bigsig.test. grows to 60,000 bytes, the one of bigkey.test. names
// the huge key, and the NSEC records of iter.test. give way to nsec3.
func spoilDNSSEC(huge *dns.DNSKEY, nsec3 []dns.RR, trap []*dns.DNSKEY) func(q, m *dns.Msg) {
	return func(q, msg *dns.Msg) {
		for i, rr := range msg.Answer {
			sig, ok := rr.(*dns.RRSIG)
			if !ok || sig.TypeCovered != dns.TypeMX {
				continue
			}
			switch dns.CanonicalName(sig.Hdr.Name) {
			case "keytrap.test.":
				// As many signatures as colliding keys, and not the
				// genuine one.
				for j := range trap {
					s := lab.HugeSignature(sig, 256)
					s.Algorithm, s.KeyTag = dns.RSASHA256, trap[0].KeyTag()
					if j == 0 {
						msg.Answer[i] = s
					} else {
						msg.Answer = append(msg.Answer, s)
					}
				}
			case "bigsig.test.":
				msg.Answer[i] = lab.HugeSignature(sig, 60000)
			case "bigkey.test.":
				sig = lab.HugeSignature(sig, 512)
				sig.Algorithm, sig.KeyTag = dns.RSASHA256, huge.KeyTag()
				msg.Answer[i] = sig
			}
		}
		var ns []dns.RR
		iter := false
		for _, rr := range msg.Ns {
			if dns.IsSubDomain("iter.test.", rr.Header().Name) && (rr.Header().Rrtype == dns.TypeNSEC ||
				rr.Header().Rrtype == dns.TypeRRSIG && rr.(*dns.RRSIG).TypeCovered == dns.TypeNSEC) {
				iter = true
				continue
			}
			ns = append(ns, rr)
		}
		if iter {
			msg.Ns = append(ns, nsec3...)
		}
	}
}

// TestHostileDNSSEC: signed zones that are hostile to a validator: a
// DNSKEY of 60,000 bytes, an RRSIG of 60,000 bytes, an NSEC3 proof of
// 65,000 iterations. The status and reason land in mx_dnssec and
// mx_dnssec_reason.
func TestHostileDNSSEC(t *testing.T) {
	w := newSignedWorld(t, map[string]string{
		".":     "",
		"test.": "",
		"bigkey.test.": "bigkey.test. 300 IN MX 10 mx.bigkey.test.\n" +
			"mx.bigkey.test. 300 IN A 192.0.2.1\n",
		"bigsig.test.": "bigsig.test. 300 IN MX 10 mx.bigsig.test.\n" +
			"mx.bigsig.test. 300 IN A 192.0.2.1\n",
		"iter.test.":      "www.iter.test. 300 IN A 192.0.2.1\n",
		"keytrap.test.":   "keytrap.test. 300 IN MX 10 mx.bigsig.test.\n",
		"silentkey.test.": "www.silentkey.test. 300 IN MX 10 mx.bigsig.test.\n",
	}, ".", "test.", "bigkey.test.", "bigsig.test.", "iter.test.", "silentkey.test.", "keytrap.test.")

	// An RSA key of 480,000 bits, published beside the zone's real key
	// and signed with it.
	huge := lab.HugeRSAKey("bigkey.test.", 60000)
	w.zones["bigkey.test."].add(huge)
	n3 := lab.NSEC3NoData("iter.test.", "iter.test.", 65000,
		[]uint16{dns.TypeNS, dns.TypeSOA, dns.TypeRRSIG, dns.TypeDNSKEY, dns.TypeNSEC3PARAM})
	// KeyTrap (CVE-2023-50387): 150 keys of one key tag, and 150
	// signatures of that tag over the MX RRset.
	trap := lab.CollidingRSAKeys("keytrap.test.", 150, 2048, 4242)
	for _, k := range trap {
		w.zones["keytrap.test."].add(k)
	}
	spoil := spoilDNSSEC(huge, []dns.RR{n3, w.sign(w.zones["iter.test."], []dns.RR{n3})}, trap)
	addr := serveHostileDNS(t, lab.Rewrite(w, spoil), map[string]lab.DNSBehaviour{"silentkey.test": lab.DNSSilence})

	tests := []struct {
		name, domain   string
		status, reason string
		maxTook        time.Duration // a bound tighter than hostileTime; 0: none
	}{
		{"DNSKEY of 60,000 bytes", "bigkey.test", "bogus", "signature_invalid", 0},
		{"RRSIG of 60,000 bytes", "bigsig.test", "bogus", "signature_invalid", 0},
		{"NSEC3 with 65,000 iterations", "iter.test", "insecure", "nsec3_iterations", 0},
		{"KeyTrap: 150 colliding keys, 150 signatures", "keytrap.test", "bogus", "signature_invalid", 0},
		// The DS lookup times out (2 attempts of 1 s) once: the MX,
		// MTA-STS and TLS-RPT RRsets below the zone share the failure
		// (dnssec.Validator.FailureTTL); without it this took 12 s.
		{"silent for the zone's DNSKEY and DS", "www.silentkey.test", "indeterminate", "lookup_failed", 8 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hostileScan(t, Config{Resolvers: []string{addr}, Timeout: time.Second, DNSSEC: true,
				TrustAnchors: w.anchors(), TrustAnchorSource: "test-root", Now: func() time.Time { return signedNow }}, tt.domain)
			d := r.domain(t)
			// KeyTrap: 150 keys x 150 signatures were 22,500 checks (3.4 s
			// under -race) before dnssec bounded them per RRset.
			if r.verifications > 200 {
				t.Errorf("%d signature verifications for one domain, want at most 200", r.verifications)
			}
			if tt.maxTook > 0 && r.took > tt.maxTook {
				t.Errorf("scan took %v, want at most %v", r.took, tt.maxTook)
			}
			if d.MX.DNSSEC != tt.status || d.MX.DNSSECReason != tt.reason {
				t.Errorf("mx_dnssec %s/%s, want %s/%s (failure %q, error %q)", d.MX.DNSSEC, d.MX.DNSSECReason, tt.status, tt.reason, d.MX.Failure, d.MX.Error)
			}
		})
	}
}
