package scanner

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner/dnssec"
	"github.com/danescan/danescan/scanner/lab"
	"github.com/danescan/danescan/scanner/lookup"
)

// labScan generates a world of n domains, serves it on loopback and scans
// its domain list into a new dataset directory.
func labScan(tb testing.TB, n int, workers int) (*lab.World, *datasets.Manifest, string) {
	return labScanWith(tb, lab.Config{Domains: n, Seed: 7}, workers)
}

// labScanWith is labScan for any world; a signed world is validated from
// its own trust anchor.
func labScanWith(tb testing.TB, lc lab.Config, workers int, mods ...func(*Config)) (*lab.World, *datasets.Manifest, string) {
	tb.Helper()
	w, cfg := servedLab(tb, lc, workers)
	for _, m := range mods {
		m(&cfg)
	}
	if cfg.SMTP {
		startLabSMTP(tb, w, &cfg)
	}
	dir := tb.TempDir()
	list := writeList(tb, dir, w.InputLines())
	out := filepath.Join(dir, "out")
	man, err := Run(context.Background(), cfg, []Input{{Path: list}}, out, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return w, man, out
}

// servedLab generates the world of lc and serves its DNS on loopback until
// the test ends. It returns the world and the config that scans it with
// workers domains at a time: 2 s a DNS attempt (at 300 ms, answers of a
// loaded machine timed out, and a TLSA lookup that times out is, rightly,
// tlsa_lookup_failed), one retry, and a signed world validated from its own
// trust anchor.
func servedLab(tb testing.TB, lc lab.Config, workers int) (*lab.World, Config) {
	tb.Helper()
	w, err := lab.Generate(lc)
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := lab.Start(w, lab.ServerOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	cfg := Config{Resolvers: []string{srv.Addr()}, Workers: workers, Timeout: 2 * time.Second, Retries: 1}
	if lc.DNSSEC {
		anchors, err := dnssec.ParseAnchors(strings.NewReader(w.TrustAnchor()))
		if err != nil {
			tb.Fatal(err)
		}
		cfg.DNSSEC, cfg.TrustAnchors, cfg.TrustAnchorSource = true, anchors, "lab"
	}
	return w, cfg
}

// startLabSMTP starts the mail servers of w until the test ends and points
// cfg at them. The world's MX addresses are documentation addresses: they
// are reached only through the lab's in-process Dial.
func startLabSMTP(tb testing.TB, w *lab.World, cfg *Config) *lab.SMTP {
	tb.Helper()
	smtp, err := lab.StartSMTP(w, lab.SMTPOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { smtp.Close() })
	cfg.SMTPDial, cfg.Allow = smtp.Dial, lab.Networks()
	return smtp
}

// writeList writes lines as the domain list dir/domains.txt.
func writeList(tb testing.TB, dir string, lines []string) string {
	tb.Helper()
	list := filepath.Join(dir, "domains.txt")
	if err := os.WriteFile(list, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return list
}

// TestLabDNSSECTruth scans a signed world with validation on: the status
// and reason of every domain's MX RRset are the ones the generator broke
// (or did not break) its zone for.
func TestLabDNSSECTruth(t *testing.T) {
	w, _, out := labScanWith(t, lab.Config{Domains: 3000, Seed: 7, DNSSEC: true}, 100)
	doms, err := datasets.ReadTable[datasets.Domain](out, datasets.TableDomains)
	if err != nil {
		t.Fatal(err)
	}
	byLine := map[int64]datasets.Domain{}
	for _, d := range doms {
		byLine[d.InputLine] = d
	}
	reasons := map[string]int{}
	for i, truth := range w.Domains() {
		d, ok := byLine[int64(i+1)]
		if !ok || truth.Kind == lab.KindInvalid || truth.DNSSEC == "" {
			continue
		}
		if d.MX.DNSSEC != truth.DNSSEC || d.MX.DNSSECReason != truth.DNSSECReason {
			t.Errorf("%s (%s): mx_dnssec %s/%s, want %s/%s", truth.Name, truth.Kind, d.MX.DNSSEC, d.MX.DNSSECReason, truth.DNSSEC, truth.DNSSECReason)
		}
		if want := truth.DNSSEC == "secure" && len(d.MX.Records) > 0; d.MXSecure != want && d.MXKind == KindMX {
			t.Errorf("%s: mx_secure %v with mx_dnssec %s", truth.Name, d.MXSecure, d.MX.DNSSEC)
		}
		reasons[truth.DNSSEC+"/"+truth.DNSSECReason]++
	}
	// The world must exercise the vocabulary, not only the happy path.
	for _, want := range []string{"secure/", "insecure/no_ds", "bogus/signature_expired", "bogus/ds_mismatch", "bogus/no_dnskey"} {
		if reasons[want] == 0 {
			t.Errorf("no domain with %s in the world (seen: %v)", want, reasons)
		}
	}
	// Wildcards (one NSEC zone, one NSEC3 zone): the MX host's addresses
	// are expansions, secure only with the proof that the host name itself
	// does not exist; its TLSA lookup is a secure wildcard NODATA.
	hostRows, err := datasets.ReadTable[datasets.MXHost](out, datasets.TableMXHosts)
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]datasets.MXHost{}
	for _, h := range hostRows {
		hosts[h.Host] = h
	}
	if len(w.Wildcards()) != 2 {
		t.Fatalf("wildcard domains %v, want one NSEC and one NSEC3 zone", w.Wildcards())
	}
	for _, d := range w.Wildcards() {
		h, ok := hosts["mail."+d]
		if !ok {
			t.Errorf("%s: no row for mail.%s", d, d)
			continue
		}
		if h.A.DNSSEC != datasets.DNSSECSecure || len(h.A.Records) == 0 || !h.AddressesSecure {
			t.Errorf("mail.%s A: %s/%s %v, want a secure wildcard expansion", d, h.A.DNSSEC, h.A.DNSSECReason, h.A.Records)
		}
		if h.AAAA.DNSSEC != datasets.DNSSECSecure {
			t.Errorf("mail.%s AAAA: %s/%s, want secure (records or wildcard NODATA)", d, h.AAAA.DNSSEC, h.AAAA.DNSSECReason)
		}
		if h.TLSA.DNSSEC != datasets.DNSSECSecure || h.TLSA.Failure != "nodata" || h.TLSAState != datasets.TLSAStateNoTLSA {
			t.Errorf("mail.%s TLSA: %s/%s failure %q state %s, want a secure wildcard NODATA", d, h.TLSA.DNSSEC, h.TLSA.DNSSECReason, h.TLSA.Failure, h.TLSAState)
		}
	}
}

// TestLabTruth scans a generated world and checks every row against what
// the generator says a correct scanner must find.
func TestLabTruth(t *testing.T) {
	w, man, out := labScan(t, 3000, 100)
	doms, err := datasets.ReadTable[datasets.Domain](out, datasets.TableDomains)
	if err != nil {
		t.Fatal(err)
	}
	hostRows, err := datasets.ReadTable[datasets.MXHost](out, datasets.TableMXHosts)
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]datasets.MXHost{}
	for _, h := range hostRows {
		hosts[h.Host] = h
	}
	byLine := map[int64]datasets.Domain{}
	for _, d := range doms {
		byLine[d.InputLine] = d
	}
	if int64(len(doms)) != man.Counts.Entries-man.Counts.Duplicates {
		t.Fatalf("%d rows for %d entries and %d duplicates", len(doms), man.Counts.Entries, man.Counts.Duplicates)
	}
	failureOf := map[string]string{
		lab.KindNone: FailNoMail, lab.KindNXDomain: string(lookup.FailNXDomain), lab.KindServfail: string(lookup.FailServFail),
		lab.KindTimeout: string(lookup.FailTimeout), lab.KindRefused: string(lookup.FailRefused), lab.KindMismatch: string(lookup.FailMismatch),
		lab.KindInvalid: FailInvalidName,
	}
	kindOf := map[string]string{
		lab.KindMX: KindMX, lab.KindNullMX: KindNullMX, lab.KindMixedNullMX: KindMixedNullMX, lab.KindImplicit: KindImplicit,
		lab.KindNone: KindNone, lab.KindNXDomain: KindNone, lab.KindInvalid: KindUnknown,
	}
	checked, seen := 0, map[string]bool{}
	for i, truth := range w.Domains() {
		d, ok := byLine[int64(i+1)]
		if !ok {
			// A duplicate line: its row is the first occurrence's.
			norm, _ := datasets.NormalizeDomain(truth.Name)
			if !seen[norm] {
				t.Errorf("line %d (%q): no row", i+1, truth.Name)
			}
			continue
		}
		seen[d.Domain] = true
		checked++
		if want := failureOf[truth.Kind]; d.Failure != want && !(d.Failure == string(lookup.FailCNAMELoop) && truth.Kind == lab.KindServfail) {
			t.Errorf("%s (%s): failure %q, want %q", truth.Name, truth.Kind, d.Failure, want)
			continue
		}
		if want, ok := kindOf[truth.Kind]; ok && d.MXKind != want {
			t.Errorf("%s (%s): mx_kind %q, want %q", truth.Name, truth.Kind, d.MXKind, want)
		}
		if len(d.MXHosts) > 0 || len(truth.MXHosts) > 0 {
			want := truth.MXHosts
			if len(want) > 16 {
				want = want[:16]
			}
			if !reflect.DeepEqual(d.MXHosts, want) {
				t.Errorf("%s: mx_hosts %q, want %q", truth.Name, d.MXHosts, want)
			}
		}
		aliased := false
		for _, h := range d.MXHosts {
			aliased = aliased || hosts[h].Canonical != ""
		}
		// The generator's truth looks for TLSA at the host name only; for
		// an alias the scanner tries the expanded name first (RFC 7672
		// §2.2.2), so only unaliased hosts are comparable.
		if !aliased && d.TLSAAllMX != truth.TLSAAll {
			t.Errorf("%s: tlsa_all_mx %v, want %v", truth.Name, d.TLSAAllMX, truth.TLSAAll)
		}
		if d.MTASTSPublished != truth.MTASTS || d.TLSRPTPublished != truth.TLSRPT {
			t.Errorf("%s: mta_sts %v tlsrpt %v, want %v %v", truth.Name, d.MTASTSPublished, d.TLSRPTPublished, truth.MTASTS, truth.TLSRPT)
		}
		if truth.CNAME != "" && (len(d.MX.CNAMEs) == 0 || d.MX.CNAMEs[0] != truth.CNAME) {
			t.Errorf("%s: mx_cnames %q, want the alias target %q first", truth.Name, d.MX.CNAMEs, truth.CNAME)
		}
	}
	if checked < 2900 {
		t.Errorf("only %d rows checked", checked)
	}
	// Every host named by a domain row has exactly one mx_hosts row.
	for _, d := range doms {
		for _, h := range d.MXHosts {
			if _, ok := hosts[h]; !ok {
				t.Errorf("%s: host %s has no mx_hosts row", d.Domain, h)
			}
		}
	}
	if len(hosts) != len(hostRows) {
		t.Errorf("%d mx_hosts rows for %d distinct hosts", len(hostRows), len(hosts))
	}
}

// BenchmarkLabScan scans a 20,000-domain lab world per iteration (lab
// server and scanner in one process) and reports domains/s and queries/s.
// The README's figures come from `danescan lab --domains 200000`.
func BenchmarkLabScan(b *testing.B) { benchLabScan(b, false) }

// BenchmarkLabScanDNSSEC is BenchmarkLabScan on a signed world with
// validation on; it also reports signature checks/s and the zone cache hit
// rate (issue 3 asks for validation to cost at most half the DNS-only rate).
func BenchmarkLabScanDNSSEC(b *testing.B) { benchLabScan(b, true) }

// benchWorld generates and serves a 20,000-domain world and writes its
// list; the anchors are nil for an unsigned world. The server is closed
// when the benchmark ends.
func benchWorld(b *testing.B, signed bool) (*lab.World, *lab.Server, string, []dns.RR) {
	w, err := lab.Generate(lab.Config{Domains: 20000, Seed: 7, DNSSEC: signed})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := lab.Start(w, lab.ServerOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	list := filepath.Join(b.TempDir(), "domains.txt")
	os.WriteFile(list, []byte(strings.Join(w.InputLines(), "\n")+"\n"), 0o644)
	var anchors []dns.RR
	if signed {
		if anchors, err = dnssec.ParseAnchors(strings.NewReader(w.TrustAnchor())); err != nil {
			b.Fatal(err)
		}
	}
	return w, srv, list, anchors
}

func benchLabScan(b *testing.B, signed bool) {
	_, srv, list, anchors := benchWorld(b, signed)
	var domains, queries, checks, sigHits, hits, misses int64
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		out := filepath.Join(b.TempDir(), "out")
		cfg := Config{Resolvers: []string{srv.Addr()}, Workers: 500, Timeout: 500 * time.Millisecond, Retries: 1,
			DNSSEC: signed, TrustAnchors: anchors, TrustAnchorSource: "lab"}
		man, err := Run(context.Background(), cfg, []Input{{Path: list}}, out, nil)
		if err != nil {
			b.Fatal(err)
		}
		domains += man.Counts.Domains
		queries += man.Counts.DNSQueries
		if w := man.Counts.DNSSECWork; w != nil {
			checks += w.DNSSECVerifications
			sigHits += w.DNSSECSignatureHits
			hits += w.DNSSECCacheHits
			misses += w.DNSSECCacheMisses
		}
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(domains)/secs, "domains/s")
	b.ReportMetric(float64(queries)/secs, "queries/s")
	if signed {
		b.ReportMetric(float64(checks)/secs, "sigchecks/s")
		b.ReportMetric(100*float64(sigHits)/float64(max(1, sigHits+checks)), "sig-hit-%")
		b.ReportMetric(100*float64(hits)/float64(max(1, hits+misses)), "cache-hit-%")
	}
}

// readLabTables reads the three tables of the dataset in out.
func readLabTables(t *testing.T, out string) ([]datasets.Domain, []datasets.MXHost, []datasets.Endpoint) {
	t.Helper()
	doms, err := datasets.ReadTable[datasets.Domain](out, datasets.TableDomains)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := datasets.ReadTable[datasets.MXHost](out, datasets.TableMXHosts)
	if err != nil {
		t.Fatal(err)
	}
	eps, err := datasets.ReadTable[datasets.Endpoint](out, datasets.TableEndpoints)
	if err != nil {
		t.Fatal(err)
	}
	return doms, hosts, eps
}

// withSMTP turns the STARTTLS probes on with the lab's short timeouts and
// no politeness waits (many lab hosts share an address).
func withSMTP(sigalgs string) func(*Config) {
	return func(c *Config) {
		c.SMTP, c.SigAlgs, c.SMTPWorkers, c.AddressInterval = true, sigalgs, 100, time.Nanosecond
		// The banner-stall case waits out BannerTimeout; every stage gets
		// room for servers and handshakes slowed by the race detector on a
		// busy machine (at 300 ms, ordinary banners timed out under load;
		// at 1 s, a 200,000-domain lab run saw spurious handshake timeouts).
		c.STARTTLS.BannerTimeout, c.STARTTLS.EHLOTimeout, c.STARTTLS.STARTTLSTimeout = 2*time.Second, 5*time.Second, 5*time.Second
		c.STARTTLS.HandshakeTimeout, c.STARTTLS.QUITTimeout = 5*time.Second, 100*time.Millisecond
	}
}

// TestLabEndpointsTruth scans signed and unsigned worlds with STARTTLS
// probes in every certificate type mode and checks every endpoints row
// against the generator's truth (probe failure, DANE status and reason),
// every mx_hosts roll-up against its endpoints, and every domain's dane
// roll-up against the truth; and that every DANE case of the lab is
// present.
func TestLabEndpointsTruth(t *testing.T) {
	for _, signed := range []bool{true, false} {
		t.Run(map[bool]string{true: "signed", false: "unsigned"}[signed], func(t *testing.T) {
			w, man, out := labScanWith(t, lab.Config{Domains: 3000, Seed: 7, DNSSEC: signed}, 100, withSMTP("all"))
			doms, hostRows, eps := readLabTables(t, out)
			if int64(len(eps)) != man.Counts.RowsEndpoints || len(eps) == 0 {
				t.Fatalf("%d endpoints rows, manifest says %d", len(eps), man.Counts.RowsEndpoints)
			}
			perHost := map[string][]datasets.Endpoint{}
			statuses := map[string]int{}
			for _, e := range eps {
				perHost[e.Host] = append(perHost[e.Host], e)
				var truth *lab.EndpointTruth
				for _, tr := range w.Endpoints(e.Host, signed) {
					if tr.Address == e.Address {
						truth = &tr
						break
					}
				}
				if truth == nil {
					t.Errorf("%s %s: an endpoint the world does not have", e.Host, e.Address)
					continue
				}
				want := truth.Verdict
				switch e.SigAlgs {
				case "ecdsa":
					want = truth.ECDSA
				case "rsa":
					want = truth.RSA
				}
				if e.Failure != want.Probe || string(e.DANEStatus) != want.DANEStatus || e.DANEReason != want.DANEReason {
					t.Errorf("%s %s (%s): failure %q, dane %s %q; want failure %q, dane %s %q (near miss %s)",
						e.Host, e.Address, e.SigAlgs, e.Failure, e.DANEStatus, e.DANEReason, want.Probe, want.DANEStatus, want.DANEReason, e.NearMiss)
				}
				statuses[string(e.DANEStatus)+" "+e.DANEReason]++
				if e.Failure == "" && (e.ChainLength == 0 || e.TLSVersion == "" || e.LeafKeyType == "") {
					t.Errorf("%s %s: a handshake without chain, version or leaf facts: %+v", e.Host, e.Address, e)
				}
			}
			for _, h := range hostRows {
				checkHostTruth(t, w, h, signed)
				if len(h.Addresses) == 0 || h.Failure != "" {
					continue
				}
				got := perHost[h.Host]
				if want := len(h.Addresses) * 3; len(got) != want || int(h.Endpoints) != want {
					t.Errorf("%s: %d endpoints rows (row says %d) for %d addresses in 3 modes", h.Host, len(got), h.Endpoints, len(h.Addresses))
				}
				pass := true
				for _, e := range got {
					pass = pass && e.DANEStatus == datasets.DANEPass
				}
				if (h.DANEStatus == datasets.DANEPass) != pass {
					t.Errorf("%s: dane_status %s, endpoints all passing: %v", h.Host, h.DANEStatus, pass)
				}
			}
			byLine := map[int64]datasets.Domain{}
			for _, d := range doms {
				byLine[d.InputLine] = d
			}
			rollups := 0
			for i, truth := range w.Domains() {
				d, ok := byLine[int64(i+1)]
				if !ok || d.Failure != "" || len(d.MXHosts) == 0 {
					continue
				}
				// The lab's roll-up is for the ordinary handshake; with
				// "all" modes the scanner's host verdict also needs the
				// ecdsa and rsa handshakes to pass, which only the
				// certificate-type cases change.
				if string(d.DANE) != truth.DANE && !strings.Contains(d.DANEReason, "(ecdsa)") && !strings.Contains(d.DANEReason, "(rsa)") {
					t.Errorf("%s: dane %q (%s), want %q (%s)", truth.Name, d.DANE, d.DANEReason, truth.DANE, truth.DANEReason)
				}
				rollups++
			}
			if rollups == 0 {
				t.Error("no domain roll-up checked")
			}
			for _, want := range []string{"pass ", "fail no_match", "fail ta_not_in_chain", "fail name_mismatch", "fail expired",
				"no_usable_records ", "transport_failed starttls_not_offered", "transport_failed starttls_rejected",
				"transport_failed tls_handshake_failed", "transport_failed banner_timeout", "transport_failed connect_refused",
				"transport_failed unreachable", "not_applicable "} {
				if statuses[want] == 0 {
					t.Errorf("no endpoint with %q (seen %v)", want, statuses)
				}
			}
			if !signed {
				return
			}
			for _, want := range []string{"tlsa_lookup_failed signature_expired", "tlsa_lookup_failed lookup_failed"} {
				if statuses[want] == 0 {
					t.Errorf("no endpoint with %q (seen %v)", want, statuses)
				}
			}
		})
	}
}

// checkHostTruth compares the TLSA lookup of an mx_hosts row with the
// world's truth (lab.World.Host): how many records it recorded, its DNSSEC
// status (and reason, for bogus and indeterminate lookups) and the
// host's tlsa_state when validated. Hosts the truth does not model
// (aliases, hosts without address, zones broken on purpose) are skipped.
func checkHostTruth(t *testing.T, w *lab.World, h datasets.MXHost, validated bool) {
	t.Helper()
	truth, ok := w.Host(h.Host, validated)
	if !ok {
		return
	}
	got := lab.HostTruth{Host: h.Host, TLSARecords: len(h.TLSA.Records), TLSAState: string(h.TLSAState)}
	if truth.TLSADNSSEC != "" {
		got.TLSADNSSEC = h.TLSA.DNSSEC
	}
	if truth.TLSAReason != "" {
		got.TLSAReason = h.TLSA.DNSSECReason
	}
	if got != truth {
		t.Errorf("%s: mx_hosts TLSA (-want +got):\n-%+v\n+%+v", h.Host, truth, got)
	}
}

// TestLabTLSACases scans a signed world with validation and STARTTLS
// probes and checks the rows of the DANE cases that the TLSA lookup
// decides, one by one (TestLabEndpointsTruth checks them among all
// rows): a 4,092-byte leaf under "3 0 0" passes although the row's copy
// of the record is cut; a bogus or indeterminate TLSA lookup is
// tlsa_lookup_failed with the RRset's reason; an unsigned zone's TLSA is
// looked up and recorded, insecure and skipped, and DANE does not apply.
func TestLabTLSACases(t *testing.T) {
	w, _, out := labScanWith(t, lab.Config{Domains: 1000, Seed: 7, DNSSEC: true}, 50, withSMTP("any"))
	doms, hostRows, eps := readLabTables(t, out)
	hosts := map[string]datasets.MXHost{}
	for _, h := range hostRows {
		hosts[h.Host] = h
	}
	dane := map[string]string{}
	for _, d := range doms {
		dane[d.Domain] = string(d.DANE)
	}
	cases := map[string]lab.DANECase{}
	for _, c := range w.DANECases() {
		cases[c.Name] = c
	}
	type row struct {
		Records        int
		DNSSEC, Reason string
		State          datasets.TLSAState
		HostStatus     datasets.DANEStatus
		Status         datasets.DANEStatus
		EndpointReason string
		DomainDANE     datasets.DANECoverage
	}
	tests := []struct {
		name string
		want row
	}{
		{"tlsa-300-large", row{1, datasets.DNSSECSecure, "", datasets.TLSAStateDANE, datasets.DANEPass, datasets.DANEPass, "", datasets.DANEAll}},
		{"tlsa-bogus", row{1, datasets.DNSSECBogus, "signature_expired", datasets.TLSAStateUnusable,
			datasets.DANETLSALookupFailed, datasets.DANETLSALookupFailed, "signature_expired", datasets.DANENone}},
		{"tlsa-indeterminate", row{0, datasets.DNSSECIndeterminate, "lookup_failed", datasets.TLSAStateUnusable,
			datasets.DANETLSALookupFailed, datasets.DANETLSALookupFailed, "lookup_failed", datasets.DANENone}},
		{"tlsa-unsigned-zone", row{1, datasets.DNSSECInsecure, "", datasets.TLSAStateSkipped,
			datasets.DANENotApplicable, datasets.DANENotApplicable, "", datasets.DANENone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := cases[tt.name]
			if !ok {
				t.Fatalf("no case %s in the world", tt.name)
			}
			h, ok := hosts[c.Host]
			if !ok {
				t.Fatalf("no mx_hosts row for %s", c.Host)
			}
			got := row{Records: len(h.TLSA.Records), DNSSEC: h.TLSA.DNSSEC, State: h.TLSAState, HostStatus: h.DANEStatus, DomainDANE: datasets.DANECoverage(dane[c.Domain])}
			if tt.want.Reason != "" {
				got.Reason = h.TLSA.DNSSECReason
			}
			// Every endpoint of the host (each address, one mode) has the
			// same verdict: the first one's is compared, the others with it.
			n := 0
			for _, e := range eps {
				if e.Host != c.Host {
					continue
				}
				if n++; n == 1 {
					got.Status, got.EndpointReason = e.DANEStatus, e.DANEReason
				} else if e.DANEStatus != got.Status || e.DANEReason != got.EndpointReason {
					t.Errorf("%s %s: dane %s %q, another address %s %q", c.Host, e.Address, e.DANEStatus, e.DANEReason, got.Status, got.EndpointReason)
				}
			}
			if n == 0 {
				t.Errorf("no endpoints rows for %s", c.Host)
			}
			if got != tt.want {
				t.Errorf("%s (-want +got):\n-%+v\n+%+v", c.Host, tt.want, got)
			}
			checkHostTruth(t, w, h, true)
		})
	}
}

// TestLabRolledOver scans one world in two epochs (lab.Config.Rolled):
// the tlsa-rolled-over host passes in the first scan and fails with
// no_match in the second, with the same TLSA records in both, each
// endpoint as the truth of its epoch says.
func TestLabRolledOver(t *testing.T) {
	type epoch struct {
		records []string
		eps     []datasets.Endpoint
	}
	var got [2]epoch
	var host string
	for i, rolled := range []bool{false, true} {
		w, _, out := labScanWith(t, lab.Config{Domains: 1000, Seed: 7, DNSSEC: true, Rolled: rolled}, 50, withSMTP("any"))
		for _, c := range w.DANECases() {
			if c.Name == lab.CaseRolledOver {
				host = c.Host
			}
		}
		if host == "" {
			t.Fatalf("no case %s in the world", lab.CaseRolledOver)
		}
		hostRows, err := datasets.ReadTable[datasets.MXHost](out, datasets.TableMXHosts)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hostRows {
			if h.Host == host {
				got[i].records = h.TLSA.Records
			}
		}
		eps, err := datasets.ReadTable[datasets.Endpoint](out, datasets.TableEndpoints)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range eps {
			if e.Host != host {
				continue // the other hosts are the same in both epochs (TestLabEndpointsTruth checks them)
			}
			truth := w.Endpoints(e.Host, true)
			j := slices.IndexFunc(truth, func(tr lab.EndpointTruth) bool { return tr.Address == e.Address })
			if j < 0 {
				t.Errorf("rolled %v: %s %s: an endpoint the world does not have", rolled, e.Host, e.Address)
				continue
			}
			if want := truth[j].Verdict; e.Failure != want.Probe || string(e.DANEStatus) != want.DANEStatus || e.DANEReason != want.DANEReason {
				t.Errorf("rolled %v: %s %s: failure %q, dane %s %q; want failure %q, dane %s %q",
					rolled, e.Host, e.Address, e.Failure, e.DANEStatus, e.DANEReason, want.Probe, want.DANEStatus, want.DANEReason)
			}
			got[i].eps = append(got[i].eps, e)
		}
	}
	if len(got[0].records) != 1 || !slices.Equal(got[0].records, got[1].records) {
		t.Errorf("%s: TLSA records %q, then %q; want the same one record", host, got[0].records, got[1].records)
	}
	for i, want := range []struct {
		status datasets.DANEStatus
		reason string
	}{{datasets.DANEPass, ""}, {datasets.DANEFail, "no_match"}} {
		if len(got[i].eps) == 0 {
			t.Errorf("epoch %d: no endpoints rows for %s", i, host)
		}
		for _, e := range got[i].eps {
			if e.DANEStatus != want.status || e.DANEReason != want.reason {
				t.Errorf("epoch %d: %s %s: dane %s %q, want %s %q", i, e.Host, e.Address, e.DANEStatus, e.DANEReason, want.status, want.reason)
			}
		}
	}
}

// BenchmarkLabScanSMTP scans a signed 20,000-domain lab world with
// validation and STARTTLS probes of every MX address (the lab's mail
// servers run in the same process) and reports endpoints probed per second
// and the dedup ratio, domains per probed endpoint. The README's figures
// come from `danescan lab --domains 200000`.
func BenchmarkLabScanSMTP(b *testing.B) {
	w, srv, list, anchors := benchWorld(b, true)
	smtp, err := lab.StartSMTP(w, lab.SMTPOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer smtp.Close()
	var domains, probed int64
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		cfg := Config{Resolvers: []string{srv.Addr()}, Workers: 500, Timeout: 500 * time.Millisecond, Retries: 1,
			DNSSEC: true, TrustAnchors: anchors, TrustAnchorSource: "lab"}
		withSMTP("any")(&cfg)
		cfg.SMTPWorkers, cfg.SMTPDial, cfg.Allow = 200, smtp.Dial, lab.Networks()
		man, err := Run(context.Background(), cfg, []Input{{Path: list}}, filepath.Join(b.TempDir(), "out"), nil)
		if err != nil {
			b.Fatal(err)
		}
		domains += man.Counts.Domains
		probed += man.Counts.EndpointsProbed
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(domains)/secs, "domains/s")
	b.ReportMetric(float64(probed)/secs, "endpoints/s")
	b.ReportMetric(float64(domains)/float64(max(1, probed)), "domains/endpoint")
}
