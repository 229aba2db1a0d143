package scanner

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/datasets"
)

// fakeResolver answers like a recursive resolver from zone text: it chases
// CNAMEs inside the answer, says NODATA for names that exist without the
// type (empty non-terminals included) and NXDOMAIN otherwise. Names listed
// in servfail get SERVFAIL; names in silent get no answer at all.
type fakeResolver struct {
	byName   map[string][]dns.RR
	servfail map[string]bool
	silent   map[string]bool
	queries  atomic.Int64
	asked    sync.Map // question names (lowercase, trailing dot) -> true
}

func newFakeResolver(t *testing.T, zone string) *fakeResolver {
	t.Helper()
	f := &fakeResolver{byName: map[string][]dns.RR{}, servfail: map[string]bool{}, silent: map[string]bool{}}
	zp := dns.NewZoneParser(strings.NewReader(zone), ".", "test")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := strings.ToLower(rr.Header().Name)
		f.byName[name] = append(f.byName[name], rr)
		// Empty non-terminals exist too.
		for labels := dns.SplitDomainName(name); len(labels) > 1; labels = labels[1:] {
			parent := dns.Fqdn(strings.Join(labels[1:], "."))
			if _, ok := f.byName[parent]; !ok {
				f.byName[parent] = nil
			}
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeResolver) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	f.queries.Add(1)
	name := strings.ToLower(q.Question[0].Name)
	f.asked.Store(name, true)
	for n := name; n != "."; n = dns.Fqdn(strings.Join(dns.SplitDomainName(n)[1:], ".")) {
		if f.silent[n] {
			return
		}
		if f.servfail[n] {
			m := new(dns.Msg)
			m.SetRcode(q, dns.RcodeServerFailure)
			w.WriteMsg(m)
			return
		}
		if len(dns.SplitDomainName(n)) == 1 {
			break
		}
	}
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	qtype := q.Question[0].Qtype
	for hops := 0; hops < 10; hops++ {
		rrs, ok := f.byName[name]
		if !ok {
			m.Rcode = dns.RcodeNameError
			break
		}
		var next string
		for _, rr := range rrs {
			switch {
			case rr.Header().Rrtype == qtype:
				m.Answer = append(m.Answer, rr)
			case rr.Header().Rrtype == dns.TypeCNAME:
				m.Answer = append(m.Answer, rr)
				next = strings.ToLower(rr.(*dns.CNAME).Target)
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
	w.WriteMsg(m)
}

func (f *fakeResolver) start(t *testing.T) string {
	t.Helper()
	return startHandler(t, f)
}

// startHandler serves h on a UDP port of 127.0.0.1 until the test ends and
// returns the address.
func startHandler(t *testing.T, h dns.Handler) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	s := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	go s.ActivateAndServe()
	<-started
	t.Cleanup(func() { s.Shutdown() })
	return pc.LocalAddr().String()
}

const testZone = `
dane.test.          60 IN MX 10 mx1.provider.test.
dane.test.          60 IN MX 20 mx2.provider.test.
dane.test.          60 IN MX 20 MX1.provider.test.
half.test.          60 IN MX 10 mx1.provider.test.
half.test.          60 IN MX 20 mx.half.test.
mx.half.test.       60 IN A 192.0.2.20
mx1.provider.test.  60 IN A 192.0.2.1
mx1.provider.test.  60 IN AAAA 2001:db8::1
mx2.provider.test.  60 IN A 192.0.2.2
_25._tcp.mx1.provider.test. 3600 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
_25._tcp.mx2.provider.test. 1800 IN TLSA 2 1 1 fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
null.test.          60 IN MX 0 .
mixed.test.         60 IN MX 0 .
mixed.test.         60 IN MX 10 mx2.provider.test.
implicit.test.      60 IN A 192.0.2.30
nomail.test.        60 IN TXT "no mail here"
alias.test.         60 IN CNAME dane.test.
cnamemx.test.       60 IN MX 10 mail.cnamemx.test.
mail.cnamemx.test.  60 IN CNAME mx9.hoster.test.
mx9.hoster.test.    60 IN A 192.0.2.9
_25._tcp.mail.cnamemx.test. 60 IN TLSA 3 0 1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
expanded.test.      60 IN MX 10 mail.expanded.test.
mail.expanded.test. 60 IN CNAME mx8.hoster.test.
mx8.hoster.test.    60 IN A 192.0.2.8
_25._tcp.mx8.hoster.test. 60 IN TLSA 3 1 1 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
_25._tcp.mail.expanded.test. 60 IN TLSA 3 1 1 cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
badmx.test.         60 IN MX 10 192.0.2.1.
noaddr.test.        60 IN MX 10 mx.noaddr.test.
sts.test.           60 IN MX 10 mx2.provider.test.
_mta-sts.sts.test.  60 IN TXT "v=STSv1; id=2024"
_smtp._tls.sts.test. 60 IN TXT "v=TLSRPTv1; rua=mailto:tls@sts.test"
twosts.test.        60 IN MX 10 mx2.provider.test.
_mta-sts.twosts.test. 60 IN TXT "v=STSv1; id=1"
_mta-sts.twosts.test. 60 IN TXT "v=STSv1; id=2"
broken.test.        60 IN MX 10 mx2.provider.test.
`

const testList = `# test list
dane.test
Half.Test.
null.test
mixed.test
implicit.test
nomail.test
alias.test
cnamemx.test
expanded.test
badmx.test
noaddr.test
sts.test
twosts.test
broken.test
missing.test
not a domain
dane.test
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// memSink keeps a scan's rows and final manifest in memory. Its writes
// fail with failWrite when that is set.
type memSink struct {
	domains   []datasets.Domain
	hosts     []datasets.MXHost
	endpoints []datasets.Endpoint
	final     *datasets.Manifest
	failWrite error
}

func (m *memSink) WriteDomain(d *datasets.Domain) error {
	m.domains = append(m.domains, *d)
	return m.failWrite
}

func (m *memSink) WriteHost(h *datasets.MXHost) error {
	m.hosts = append(m.hosts, *h)
	return m.failWrite
}

func (m *memSink) WriteEndpoint(e *datasets.Endpoint) error {
	m.endpoints = append(m.endpoints, *e)
	return m.failWrite
}

func (m *memSink) Flush() error                         { return nil }
func (m *memSink) Checkpoint(*datasets.Counts) error    { return nil }
func (m *memSink) Close(final *datasets.Manifest) error { m.final = final; return nil }

// scanMemory scans inputs as Run does, into mem instead of a dataset
// directory, and returns Run's manifest and error.
func scanMemory(ctx context.Context, cfg Config, inputs []Input, stats *Stats, mem *memSink) (*datasets.Manifest, error) {
	cfg.defaults()
	return scanInto(ctx, &cfg, inputs, stats, func(*datasets.Manifest) (sink, error) { return mem, nil })
}

// runTestScan scans list with f as the resolver, in memory, and returns
// the manifest and the rows by domain (invalid lines under
// "input:<line>") and by host.
func runTestScan(t *testing.T, f *fakeResolver, list string) (*datasets.Manifest, map[string]datasets.Domain, map[string]datasets.MXHost) {
	t.Helper()
	addr := f.start(t)
	cfg := Config{Resolvers: []string{addr}, Workers: 8, Timeout: 200 * time.Millisecond, Retries: -1, ScanID: "test-scan"}
	var mem memSink
	man, err := scanMemory(context.Background(), cfg, []Input{{Path: writeFile(t, "list.txt", list)}}, nil, &mem)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if mem.final != man {
		t.Errorf("the sink was closed with %p, Run returned %p", mem.final, man)
	}
	dm := map[string]datasets.Domain{}
	for _, d := range mem.domains {
		key := d.Domain
		if key == "" {
			key = "input:" + d.Input
		}
		if _, dup := dm[key]; dup {
			t.Errorf("two rows for %q", key)
		}
		dm[key] = d
	}
	hm := map[string]datasets.MXHost{}
	for _, h := range mem.hosts {
		if _, dup := hm[h.Host]; dup {
			t.Errorf("two mx_hosts rows for %q", h.Host)
		}
		hm[h.Host] = h
	}
	return man, dm, hm
}

func TestRunDomains(t *testing.T) {
	f := newFakeResolver(t, testZone)
	f.servfail["broken.test."] = true
	man, doms, hosts := runTestScan(t, f, testList)

	type want struct {
		kind, failure string
		hosts         []string
		withTLSA      int32
		all           bool
	}
	tests := map[string]want{
		"dane.test":     {kind: KindMX, hosts: []string{"mx1.provider.test", "mx2.provider.test"}, withTLSA: 2, all: true},
		"half.test":     {kind: KindMX, hosts: []string{"mx1.provider.test", "mx.half.test"}, withTLSA: 1},
		"null.test":     {kind: KindNullMX},
		"mixed.test":    {kind: KindMixedNullMX, hosts: []string{"mx2.provider.test"}, withTLSA: 1, all: true},
		"implicit.test": {kind: KindImplicit, hosts: []string{"implicit.test"}},
		"nomail.test":   {kind: KindNone, failure: FailNoMail},
		"alias.test":    {kind: KindMX, hosts: []string{"mx1.provider.test", "mx2.provider.test"}, withTLSA: 2, all: true},
		"cnamemx.test":  {kind: KindMX, hosts: []string{"mail.cnamemx.test"}, withTLSA: 1, all: true},
		"expanded.test": {kind: KindMX, hosts: []string{"mail.expanded.test"}, withTLSA: 1, all: true},
		"badmx.test":    {kind: KindMX, hosts: []string{"192.0.2.1"}},
		"noaddr.test":   {kind: KindMX, hosts: []string{"mx.noaddr.test"}},
		"sts.test":      {kind: KindMX, hosts: []string{"mx2.provider.test"}, withTLSA: 1, all: true},
		"twosts.test":   {kind: KindMX, hosts: []string{"mx2.provider.test"}, withTLSA: 1, all: true},
		"broken.test":   {kind: KindUnknown, failure: "servfail"},
		"missing.test":  {kind: KindNone, failure: "nxdomain"},
	}
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			d, ok := doms[name]
			if !ok {
				t.Fatalf("no row for %s", name)
			}
			got := want{d.MXKind, d.Failure, d.MXHosts, d.MXHostsWithTLSA, d.TLSAAllMX}
			if len(got.hosts) == 0 {
				got.hosts = nil
			}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("got %+v\nwant %+v", got, w)
			}
			if d.ScanID != "test-scan" || d.MX.DNSSEC != datasets.DNSSECNotValidated {
				t.Errorf("scan_id %q, dnssec %q", d.ScanID, d.MX.DNSSEC)
			}
		})
	}
	t.Run("one row per distinct domain and per invalid line", func(t *testing.T) {
		if len(doms) != len(tests)+1 {
			t.Errorf("%d domain rows, want %d", len(doms), len(tests)+1)
		}
		bad, ok := doms["input:not a domain"]
		if !ok || bad.Failure != FailInvalidName || bad.InputLine != 17 {
			t.Errorf("invalid line row = %+v", bad)
		}
		if c := man.Counts; c.Duplicates != 1 || c.Invalid != 1 || c.Domains != int64(len(tests)) {
			t.Errorf("counts = %+v", c.Totals)
		}
		if doms["half.test"].Input != "Half.Test." || doms["half.test"].InputLine != 3 {
			t.Errorf("half.test keeps its input text and line: %+v", doms["half.test"])
		}
	})
	t.Run("cname at the domain is recorded", func(t *testing.T) {
		if got := doms["alias.test"].MX.CNAMEs; !reflect.DeepEqual(got, []string{"dane.test"}) {
			t.Errorf("mx_cnames = %q", got)
		}
	})
	t.Run("mta-sts and tls-rpt", func(t *testing.T) {
		if d := doms["sts.test"]; !d.MTASTSPublished || !d.TLSRPTPublished {
			t.Errorf("sts.test: mta_sts_published=%v tlsrpt_published=%v", d.MTASTSPublished, d.TLSRPTPublished)
		}
		if d := doms["twosts.test"]; d.MTASTSPublished || len(d.MTASTS.Records) != 2 {
			t.Errorf("two STSv1 records are not a valid policy: %+v", d.MTASTS)
		}
		if d := doms["missing.test"]; d.MTASTS.Failure != string(FailSkipped) {
			t.Errorf("TXT lookups of a missing domain: %+v", d.MTASTS)
		}
	})
	t.Run("mx hosts", func(t *testing.T) {
		var names []string
		for h := range hosts {
			names = append(names, h)
		}
		sort.Strings(names)
		want := []string{"192.0.2.1", "implicit.test", "mail.cnamemx.test", "mail.expanded.test", "mx.half.test", "mx.noaddr.test", "mx1.provider.test", "mx2.provider.test"}
		if !reflect.DeepEqual(names, want) {
			t.Fatalf("hosts = %q, want %q", names, want)
		}
		mx1 := hosts["mx1.provider.test"]
		if !reflect.DeepEqual(mx1.Addresses, []string{"192.0.2.1", "2001:db8::1"}) || mx1.TLSA.TTL != 3600 || len(mx1.TLSA.Records) != 1 || mx1.TLSA.Records[0] != "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" {
			t.Errorf("mx1 = %+v", mx1)
		}
		if h := hosts["192.0.2.1"]; h.Failure != FailInvalidName {
			t.Errorf("an IP address as MX target: failure %q", h.Failure)
		}
		if h := hosts["mx.noaddr.test"]; h.Failure != FailNoAddress || h.TLSA.Failure != string(FailSkipped) {
			t.Errorf("host without address: %+v", h)
		}
		// RFC 7672 §2.2.2: TLSA at the CNAME-expanded name first ...
		if h := hosts["mail.expanded.test"]; h.Canonical != "mx8.hoster.test" || h.TLSABaseDomain != "mx8.hoster.test" || !strings.HasPrefix(h.TLSA.Records[0], "3 1 1 bbbb") {
			t.Errorf("expanded alias: %+v", h)
		}
		// ... then at the original name when the expanded one has none.
		if h := hosts["mail.cnamemx.test"]; h.TLSABaseDomain != "mail.cnamemx.test" || !reflect.DeepEqual(h.TLSACandidates, []string{"_25._tcp.mx9.hoster.test", "_25._tcp.mail.cnamemx.test"}) || len(h.TLSA.Records) != 1 {
			t.Errorf("alias without TLSA at the target: %+v", h)
		}
	})
	t.Run("manifest", func(t *testing.T) {
		if !man.Complete || man.ScanID != "test-scan" || man.SchemaVersion != datasets.SchemaVersion || len(man.Inputs) != 1 || man.Inputs[0].SHA256 == "" {
			t.Errorf("manifest = %+v", man)
		}
		if man.Counts.RowsDomains != int64(len(doms)) || man.Counts.RowsMXHosts != int64(len(hosts)) {
			t.Errorf("row counts %d and %d, tables have %d and %d", man.Counts.RowsDomains, man.Counts.RowsMXHosts, len(doms), len(hosts))
		}
	})
}

func TestRunSharedHostProbedOnce(t *testing.T) {
	var zone, list strings.Builder
	zone.WriteString("mx.shared.test. 60 IN A 192.0.2.1\n")
	for i := 0; i < 300; i++ {
		name := "d" + strconv.Itoa(i) + ".test."
		zone.WriteString(name + " 60 IN MX 10 mx.shared.test.\n")
		list.WriteString(name + "\n")
	}
	f := newFakeResolver(t, zone.String())
	_, doms, hosts := runTestScan(t, f, list.String())
	if len(doms) != 300 || len(hosts) != 1 {
		t.Fatalf("%d domain rows and %d host rows, want 300 and 1", len(doms), len(hosts))
	}
	// 300 domains x (MX + 2 TXT) + one host x (A + AAAA + TLSA).
	if got, want := f.queries.Load(), int64(300*3+3); got != want {
		t.Errorf("%d queries, want %d: the shared host was not probed once", got, want)
	}
}

// TestRunWritesDataset is the disk path of TestRunDomains: Run writes the
// rows as parts of at most PartRows rows, lists them all in the manifest
// it returns, and that manifest is the one on disk.
func TestRunWritesDataset(t *testing.T) {
	f := newFakeResolver(t, testZone)
	addr := f.start(t)
	out := filepath.Join(t.TempDir(), "out")
	cfg := Config{Resolvers: []string{addr}, Workers: 8, Timeout: 200 * time.Millisecond, Retries: -1, ScanID: "test-scan", PartRows: 4}
	man, err := Run(context.Background(), cfg, []Input{{Path: writeFile(t, "list.txt", testList)}}, out, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	disk, err := datasets.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(jsonOf(t, man), jsonOf(t, disk)) {
		t.Errorf("manifest on disk (-want +got):\n-%s\n+%s", jsonOf(t, man), jsonOf(t, disk))
	}
	doms := readTable[datasets.Domain](t, out, datasets.TableDomains)
	hosts := readTable[datasets.MXHost](t, out, datasets.TableMXHosts)
	if got, want := []int64{int64(len(doms)), int64(len(hosts))}, []int64{man.Counts.RowsDomains, man.Counts.RowsMXHosts}; !reflect.DeepEqual(got, want) || len(doms) != 16 {
		t.Errorf("domains and mx_hosts rows read back: %d; the manifest counts %d (and 16 domains rows)", got, want)
	}
	perTable := map[string]int64{}
	for _, p := range man.Parts {
		if p.Rows > 4 {
			t.Errorf("part %s has %d rows, more than PartRows", p.Path, p.Rows)
		}
		perTable[p.Table] += p.Rows
	}
	if perTable[datasets.TableDomains] != int64(len(doms)) || perTable[datasets.TableMXHosts] != int64(len(hosts)) {
		t.Errorf("the parts listed hold %v rows; the tables %d and %d", perTable, len(doms), len(hosts))
	}
}

// TestRunSinkError: when the dataset cannot be written, Run still reads
// every entry, counts every row and closes the dataset with the final
// manifest, and says so in its error.
func TestRunSinkError(t *testing.T) {
	f := newFakeResolver(t, testZone)
	addr := f.start(t)
	cfg := Config{Resolvers: []string{addr}, Workers: 8, Timeout: 200 * time.Millisecond, Retries: -1}
	mem := memSink{failWrite: errors.New("disk full")}
	man, err := scanMemory(context.Background(), cfg, []Input{{Path: writeFile(t, "list.txt", testList)}}, nil, &mem)
	if err == nil || !strings.Contains(err.Error(), "write dataset: disk full") {
		t.Fatalf("Run = %v; want the write error", err)
	}
	// A write error stops the scan as a signal does, naming the error.
	if man == nil || mem.final != man || man.Complete || !strings.Contains(man.InterruptedBy, "disk full") {
		t.Fatalf("manifest %+v, sink closed with %p; want the final manifest, incomplete, interrupted by the write error", man, mem.final)
	}
	if c := man.Counts; c.RowsDomains != c.Entries-c.Duplicates {
		t.Errorf("%d domain rows counted for %d entries (%d duplicates); want every entry read counted", c.RowsDomains, c.Entries, c.Duplicates)
	}
}

// readTable reads a table of the dataset in dir, or fails the test.
func readTable[T any](t *testing.T, dir, table string) []T {
	t.Helper()
	rows, err := datasets.ReadTable[T](dir, table)
	if err != nil {
		t.Fatalf("read table %s: %v", table, err)
	}
	return rows
}

// jsonOf returns v as JSON.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRunInterrupted(t *testing.T) {
	var zone, list strings.Builder
	zone.WriteString("mx.shared.test. 60 IN A 192.0.2.1\n")
	for i := 0; i < 50; i++ {
		name := "d" + strconv.Itoa(i+1) + ".test."
		zone.WriteString(name + " 60 IN MX 10 mx.shared.test.\n")
		list.WriteString(name + "\n")
	}
	f := newFakeResolver(t, zone.String())
	for i := 0; i < 50; i += 10 {
		f.silent["d"+strconv.Itoa(i+1)+".test."] = true // hangs until the scan is stopped
	}
	addr := f.start(t)
	out := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancelCause(context.Background())
	cfg := Config{Resolvers: []string{addr}, Workers: 5, Timeout: 30 * time.Second, Retries: -1, Grace: 50 * time.Millisecond}
	var stats Stats
	go func() {
		for stats.Done.Load() < 3 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel(errors.New("SIGTERM"))
	}()
	man, err := Run(ctx, cfg, []Input{{Path: writeFile(t, "list.txt", list.String())}}, out, &stats)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run = %v, want ErrInterrupted", err)
	}
	disk, err := datasets.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if disk.Complete || disk.InterruptedBy != "SIGTERM" || man.Complete {
		t.Errorf("manifest complete=%v interrupted_by=%q", disk.Complete, disk.InterruptedBy)
	}
	doms, err := datasets.ReadTable[datasets.Domain](out, datasets.TableDomains)
	if err != nil {
		t.Fatalf("dataset unreadable after interrupt: %v", err)
	}
	if int64(len(doms)) != disk.Counts.Entries || len(doms) == 0 || len(doms) == 50 {
		t.Errorf("%d rows for %d entries read", len(doms), disk.Counts.Entries)
	}
	interrupted := 0
	for _, d := range doms {
		if d.Failure == FailInterrupted {
			interrupted++
		}
	}
	if interrupted == 0 {
		t.Errorf("no row marked %s although silent domains were in flight", FailInterrupted)
	}
}

func TestRunFailsEarly(t *testing.T) {
	good := writeFile(t, "list.txt", "a.test\n")
	blocker := writeFile(t, "file", "")
	existing := t.TempDir()
	if err := datasets.WriteManifest(existing, &datasets.Manifest{ScanID: "earlier"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		inputs []Input
		out    string
		want   string
	}{
		{"missing input", []Input{{Path: filepath.Join(t.TempDir(), "nope.txt")}}, filepath.Join(t.TempDir(), "o"), "nope.txt"},
		{"unwritable out", []Input{{Path: good}}, filepath.Join(blocker, "sub"), "file"},
		{"out holds a dataset", []Input{{Path: good}}, existing, "already holds a dataset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			man, err := Run(context.Background(), Config{Resolvers: []string{"127.0.0.1:1"}}, tt.inputs, tt.out, nil)
			if err == nil || man != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run = %v, %v; want an early error naming %q", man, err, tt.want)
			}
			if tt.out != existing {
				if _, err := os.Stat(tt.out); err == nil {
					t.Errorf("%s was created although the scan did not start", tt.out)
				}
			} else if m, err := datasets.ReadManifest(existing); err != nil || m.ScanID != "earlier" {
				t.Errorf("the earlier dataset's manifest was touched: %v %v", m, err)
			}
		})
	}
}

func TestMXHosts(t *testing.T) {
	mk := func(lines ...string) []dns.RR {
		var out []dns.RR
		for _, l := range lines {
			rr, err := dns.NewRR("x.test. 60 IN MX " + l)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, rr)
		}
		return out
	}
	tests := []struct {
		name  string
		rrs   []dns.RR
		hosts []string
		kind  string
	}{
		{"order by preference", mk("20 b.test.", "10 A.test.", "20 c.test."), []string{"a.test", "b.test", "c.test"}, KindMX},
		{"dedup", mk("10 a.test.", "20 a.test."), []string{"a.test"}, KindMX},
		{"null mx", mk("0 ."), nil, KindNullMX},
		{"null mx beside others", mk("0 .", "10 a.test."), []string{"a.test"}, KindMixedNullMX},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hosts, kind := mxHosts(tt.rrs)
			if len(hosts) == 0 {
				hosts = nil
			}
			if !reflect.DeepEqual(hosts, tt.hosts) || kind != tt.kind {
				t.Errorf("got %q %s, want %q %s", hosts, kind, tt.hosts, tt.kind)
			}
		})
	}
}

func TestVersionRecords(t *testing.T) {
	txt := func(parts ...string) dns.RR { return &dns.TXT{Txt: parts} }
	tests := []struct {
		name string
		rrs  []dns.RR
		want int
	}{
		{"one", []dns.RR{txt("v=STSv1; id=1")}, 1},
		{"split strings", []dns.RR{txt("v=STS", "v1; id=1")}, 1},
		{"typo", []dns.RR{txt("v=STSv12; id=1")}, 0},
		{"other text", []dns.RR{txt("hello"), txt("v=STSv1")}, 1},
		{"two", []dns.RR{txt("v=STSv1; id=1"), txt("v=STSv1;id=2")}, 2},
	}
	for _, tt := range tests {
		if got := versionRecords(tt.rrs, "v=STSv1"); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
