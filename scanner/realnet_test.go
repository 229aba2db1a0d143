package scanner_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/danescan/danescan/datasets"
)

// The realnet tier (issue 6) checks danescan's verdicts against real
// third-party servers on loopback: testdata/realnet/realnet.sh brings up NSD
// for a private signed root, TLD and case zones, Unbound validating from
// that root, and Postfix with one STARTTLS listener per MX host; Postfix's
// posttls-finger is the referee for DANE. It needs root, apt-get and
// unshare(1), so it runs only when asked:
//
//	DANESCAN_REALNET=1 go test ./scanner -run TestRealnet -v
//
// DANESCAN_REALNET_UP=1 uses servers already up (realnet.sh up) instead of
// starting them; DANESCAN_REALNET_KEEP=1 leaves them running afterwards.
// REALNET_DIR is the script's state directory (default /tmp/danescan-realnet).
const realnetResolver = "127.53.0.100:53"

// realnetCase is one line of testdata/realnet/cases.txt.
type realnetCase struct {
	Domain   string
	MXDNSSEC string // the status the zones were built to give the MX RRset
	Verdict  string // the DANE verdict the case was built for (see cases.txt)
	About    string
}

func readRealnetCases(t *testing.T, path string) []realnetCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []realnetCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			t.Fatalf("%s: bad line %q", path, line)
		}
		cases = append(cases, realnetCase{Domain: fields[0], MXDNSSEC: fields[1], Verdict: fields[2], About: strings.Join(fields[3:], " ")})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// unboundVerdict asks the validating resolver for name and type as an
// ordinary validating stub would (RD and DO, no CD; over TCP when the UDP
// answer is truncated) and maps its answer to a DNSSEC status: AD set is
// secure, SERVFAIL is bogus, any other answer without AD is insecure. It
// also returns the answer's header line, to print on a disagreement.
func unboundVerdict(ctx context.Context, name string, qtype uint16) (string, string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(1232, true)
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.ExchangeContext(ctx, m, realnetResolver)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, m, realnetResolver)
	}
	if err != nil {
		return "", "", fmt.Errorf("unbound %s %s: %w", name, dns.TypeToString[qtype], err)
	}
	seen := fmt.Sprintf("rcode %s ad=%t, %d answers", dns.RcodeToString[r.Rcode], r.AuthenticatedData, len(r.Answer))
	if c.Net == "tcp" {
		seen += " over TCP"
	}
	switch {
	case r.Rcode == dns.RcodeServerFailure:
		return "bogus", seen, nil
	case r.AuthenticatedData:
		return "secure", seen, nil
	default:
		return "insecure", seen, nil
	}
}

// fingerVerdict runs posttls-finger (through realnet.sh finger, which points
// it at Unbound) for domain and maps what it logs to danescan's verdict
// vocabulary for the first MX host: pass (a Verified TLS connection), fail
// (TLSA records were used and the connection is not Verified),
// no_usable_records ("no usable TLSA records found"), not_applicable (no
// TLSA: "resorting to"), transport_failed (DANE applies and no TLS session
// came about), tlsa_lookup_failed ("TLSA lookup error": the TLSA answer is
// a name service error, and Postfix defers), dns_failure (a name service
// error of the MX or address lookup: what a bogus answer is to a stub),
// null_mx. It also returns the lines that decided, to print.
func fingerVerdict(ctx context.Context, script, dir, domain string) (string, string, error) {
	cmd := exec.CommandContext(ctx, "bash", script, "finger", domain)
	cmd.Env = append(os.Environ(), "REALNET_DIR="+dir, "FINGER_OPTS=-v")
	b, err := cmd.CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("realnet.sh finger %s: %v\n%s", domain, err, b)
	}
	out := string(b)
	var key []string
	for _, line := range strings.Split(out, "\n") {
		for _, m := range []string{"TLS connection established", "resorting to", "verification failed", "Matched DANE",
			"Name service error", "nullMX", "lookup failed", "Failed to establish", "TLSA lookup error"} {
			if strings.Contains(line, m) {
				key = append(key, line)
				break
			}
		}
	}
	seen := strings.Join(key, "\n")
	switch {
	case strings.Contains(out, "(nullMX)"):
		return "null_mx", seen, nil
	case strings.Contains(out, "TLSA lookup error"): // logged beside a name service error
		return "tlsa_lookup_failed", seen, nil
	case strings.Contains(out, "Name service error"):
		return "dns_failure", seen, nil
	case strings.Contains(out, "Verified TLS connection established"):
		return "pass", seen, nil
	case strings.Contains(out, "no usable TLSA records found"):
		return "no_usable_records", seen, nil
	case strings.Contains(out, "no TLSA records found"), strings.Contains(out, "resorting to"):
		return "not_applicable", seen, nil
	case strings.Contains(out, "TLS connection established"):
		return "fail", seen, nil
	default:
		return "transport_failed", seen, nil
	}
}

// danescanVerdict is fingerVerdict's vocabulary applied to danescan's rows:
// the dane_status of the domain's first MX host's endpoint, unless the MX
// RRset is bogus or failed (dns_failure), a null MX, or insecure (a DANE
// client does not look at TLSA then: not_applicable).
func danescanVerdict(d datasets.Domain, eps map[string][]datasets.Endpoint) (string, string) {
	seen := fmt.Sprintf("mx_kind %s, mx_dnssec %s %s, mx_secure %t, dane %q (%s)", d.MXKind, d.MX.DNSSEC, d.MX.DNSSECReason, d.MXSecure, d.DANE, d.DANEReason)
	switch {
	case d.MXKind == "null_mx":
		return "null_mx", seen
	case d.MX.DNSSEC == "bogus" || d.MX.Failure != "":
		return "dns_failure", seen
	case !d.MXSecure:
		return "not_applicable", seen
	case len(d.MXHosts) == 0 || len(eps[d.MXHosts[0]]) == 0:
		return "no_endpoint", seen
	}
	e := eps[d.MXHosts[0]][0]
	return string(e.DANEStatus), seen + fmt.Sprintf("; endpoint %s %s: %s %s (probe failure %q)", e.Host, e.Address, e.DANEStatus, e.DANEReason, e.Failure)
}

// realnetHost is what the first MX host of a case must look like beyond
// the verdict, for the cases whose point is a column of mx_hosts or
// endpoints (issue 10): UnboundA and UnboundTLSA are what the zones were
// built to make Unbound say of the host's A and TLSA RRsets (checked as
// setup), Rows what danescan's rows must say.
type realnetHost struct {
	UnboundA, UnboundTLSA string
	Rows                  realnetRows
}

// realnetRows are danescan's columns that realnetHost checks.
type realnetRows struct {
	TLSADNSSEC  string                // mx_hosts.tlsa_dnssec
	TLSARecords bool                  // mx_hosts.tlsa_records is not empty
	TLSAState   datasets.TLSAState    // mx_hosts.tlsa_state
	DANEStatus  datasets.DANEStatus   // endpoints.dane_status, every endpoint of the host
	DANE        datasets.DANECoverage // domains.dane
}

// realnetHosts holds the realnetHost expectations by case domain. A host
// in an unsigned zone with TLSA (insecure.test, and unsigned.test behind
// unsignedmx.test's signed MX) has its TLSA RRset recorded as insecure,
// though DANE does not apply to it.
var realnetHosts = map[string]realnetHost{
	"insecure.test": {"insecure", "insecure", realnetRows{TLSADNSSEC: datasets.DNSSECInsecure, TLSARecords: true,
		TLSAState: datasets.TLSAStateSkipped, DANEStatus: datasets.DANENotApplicable, DANE: datasets.DANENone}},
	"unsignedmx.test": {"insecure", "insecure", realnetRows{TLSADNSSEC: datasets.DNSSECInsecure, TLSARecords: true,
		TLSAState: datasets.TLSAStateSkipped, DANEStatus: datasets.DANENotApplicable, DANE: datasets.DANENone}},
	"tlsaexpired.test": {"secure", "bogus", realnetRows{TLSADNSSEC: datasets.DNSSECBogus, TLSARecords: true,
		TLSAState: datasets.TLSAStateUnusable, DANEStatus: datasets.DANETLSALookupFailed, DANE: datasets.DANENone}},
	"large300.test": {"secure", "secure", realnetRows{TLSADNSSEC: datasets.DNSSECSecure, TLSARecords: true,
		TLSAState: datasets.TLSAStateDANE, DANEStatus: datasets.DANEPass, DANE: datasets.DANEAll}},
}

// checkRealnetHost checks the first MX host of domain d against want:
// Unbound's view of its A and TLSA RRsets (setup), then danescan's columns.
func checkRealnetHost(ctx context.Context, t *testing.T, want realnetHost, d datasets.Domain, byHost map[string]datasets.MXHost, eps map[string][]datasets.Endpoint) {
	t.Helper()
	if len(d.MXHosts) == 0 {
		t.Errorf("%s: no MX host", d.Domain)
		return
	}
	name := d.MXHosts[0]
	for _, q := range []struct {
		name  string
		qtype uint16
		want  string
	}{{name, dns.TypeA, want.UnboundA}, {"_25._tcp." + name, dns.TypeTLSA, want.UnboundTLSA}} {
		ub, seen, err := unboundVerdict(ctx, q.name, q.qtype)
		if err != nil {
			t.Error(err)
		} else if ub != q.want {
			t.Errorf("setup: unbound says %s (%s) for %s %s, the case is built for %s", ub, seen, q.name, dns.TypeToString[q.qtype], q.want)
		}
	}
	h := byHost[name]
	got := realnetRows{
		TLSADNSSEC:  h.TLSA.DNSSEC,
		TLSARecords: len(h.TLSA.Records) > 0,
		TLSAState:   h.TLSAState,
		DANE:        d.DANE,
	}
	// The first endpoint's status, or the first that differs from want.
	var statuses []string
	for i, e := range eps[name] {
		statuses = append(statuses, fmt.Sprintf("%s %s %s (tlsa_unusable %q)", e.Address, e.DANEStatus, e.DANEReason, e.TLSAUnusable))
		if i == 0 || e.DANEStatus != want.Rows.DANEStatus && got.DANEStatus == want.Rows.DANEStatus {
			got.DANEStatus = e.DANEStatus
		}
	}
	var recordLens []int
	for _, r := range h.TLSA.Records {
		recordLens = append(recordLens, len(r))
	}
	if got != want.Rows {
		t.Errorf("%s columns: got %+v, want %+v\n  mx_hosts %s: tlsa %s %q (failure %q, records of %v bytes), tlsa_state %q; endpoints dane_status %v; domains dane %q (%s)",
			d.Domain, got, want.Rows, name, h.TLSA.DNSSEC, h.TLSA.DNSSECReason, h.TLSA.Failure, recordLens, h.TLSAState, statuses, d.DANE, d.DANEReason)
		return
	}
	t.Logf("%s columns: as built (%+v)", d.Domain, got)
}

func realnetUp(t *testing.T, script string) string {
	t.Helper()
	dir := os.Getenv("REALNET_DIR")
	if dir == "" {
		dir = "/tmp/danescan-realnet"
	}
	run := func(arg string) {
		start := time.Now()
		cmd := exec.Command("bash", script, arg)
		cmd.Env = append(os.Environ(), "REALNET_DIR="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("realnet.sh %s: %v\n%s", arg, err, out)
		}
		t.Logf("realnet.sh %s: %v\n%s", arg, time.Since(start).Round(time.Millisecond), out)
	}
	if os.Getenv("DANESCAN_REALNET_UP") != "1" {
		if os.Geteuid() != 0 {
			t.Fatal("realnet.sh up needs root (apt-get, port 53); or start it yourself and set DANESCAN_REALNET_UP=1")
		}
		run("up")
		if os.Getenv("DANESCAN_REALNET_KEEP") != "1" {
			t.Cleanup(func() { run("down") })
		}
	}
	return dir
}

// TestRealnet scans the realnet cases with the danescan binary and compares
// its DNSSEC status of every MX RRset, MX host address RRset and TLSA RRset
// with Unbound's validation of the same name, and its DANE verdict per
// domain with posttls-finger's (Postfix's DANE client) for the same domain.
func TestRealnet(t *testing.T) {
	if os.Getenv("DANESCAN_REALNET") != "1" {
		t.Skip("set DANESCAN_REALNET=1 to run the realnet tier (root, apt-get, servers on 127.53.0.0/16)")
	}
	script, err := filepath.Abs(filepath.Join("testdata", "realnet", "realnet.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := realnetUp(t, script)
	cases := readRealnetCases(t, filepath.Join(dir, "cases.txt"))

	tmp := t.TempDir()
	bin := filepath.Join(tmp, "danescan")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/danescan").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var list strings.Builder
	for _, c := range cases {
		list.WriteString(c.Domain + "\n")
	}
	listFile := filepath.Join(tmp, "domains.txt")
	if err := os.WriteFile(listFile, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "out")
	// The mail servers are on loopback, which a scan refuses unless allowed.
	args := []string{"scan", "--resolver", realnetResolver, "--trust-anchor", filepath.Join(dir, "root.key"),
		"--allow", "127.53.0.0/16", "--out", out, listFile}
	start := time.Now()
	if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("danescan %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	t.Logf("danescan %s: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))

	doms, err := datasets.ReadTable[datasets.Domain](out, datasets.TableDomains)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := datasets.ReadTable[datasets.MXHost](out, datasets.TableMXHosts)
	if err != nil {
		t.Fatal(err)
	}
	byDomain := map[string]datasets.Domain{}
	for _, d := range doms {
		byDomain[d.Domain] = d
	}
	byHost := map[string]datasets.MXHost{}
	for _, h := range hosts {
		byHost[h.Host] = h
	}
	endpoints, err := datasets.ReadTable[datasets.Endpoint](out, datasets.TableEndpoints)
	if err != nil {
		t.Fatal(err)
	}
	eps := map[string][]datasets.Endpoint{}
	for _, e := range endpoints {
		eps[e.Host] = append(eps[e.Host], e)
	}

	ctx := context.Background()
	// compare checks one RRset: danescan's status against Unbound's.
	compare := func(t *testing.T, what, name string, qtype uint16, rr datasets.RRset) {
		t.Helper()
		ub, seen, err := unboundVerdict(ctx, name, qtype)
		if err != nil {
			t.Error(err)
			return
		}
		if rr.DNSSEC != ub {
			t.Errorf("%s %s %s: danescan %s (reason %q, rcode %s, failure %q) != unbound %s (%s)",
				what, name, dns.TypeToString[qtype], rr.DNSSEC, rr.DNSSECReason, rr.Rcode, rr.Failure, ub, seen)
			return
		}
		t.Logf("%s %s %s: both %s (danescan reason %q; unbound %s)", what, name, dns.TypeToString[qtype], ub, rr.DNSSECReason, seen)
	}
	for _, c := range cases {
		t.Run(c.Domain, func(t *testing.T) {
			d, ok := byDomain[c.Domain]
			if !ok {
				t.Fatalf("no domains row for %s", c.Domain)
			}
			// The world first: does Unbound see the case the zones were built for?
			if ub, seen, err := unboundVerdict(ctx, c.Domain, dns.TypeMX); err != nil {
				t.Fatal(err)
			} else if ub != c.MXDNSSEC {
				t.Errorf("setup: unbound says %s (%s) for %s MX, cases.txt expects %s (%s)", ub, seen, c.Domain, c.MXDNSSEC, c.About)
			}
			compare(t, "domain", c.Domain, dns.TypeMX, d.MX)
			for _, name := range d.MXHosts {
				h, ok := byHost[name]
				if !ok {
					t.Errorf("no mx_hosts row for %s", name)
					continue
				}
				compare(t, "host", name, dns.TypeA, h.A)
				// Whether danescan looks TLSA up behind addresses that are
				// not secure is its choice (a DANE sender does not, RFC
				// 7672 §2.2); when it did, Unbound must agree.
				if h.TLSA.DNSSEC != datasets.DNSSECNotValidated {
					compare(t, "host", "_25._tcp."+h.TLSABaseDomain, dns.TypeTLSA, h.TLSA)
				}
			}
			if want, ok := realnetHosts[c.Domain]; ok {
				checkRealnetHost(ctx, t, want, d, byHost, eps)
			}

			// DANE: danescan against posttls-finger.
			pf, pfSeen, err := fingerVerdict(ctx, script, dir, c.Domain)
			if err != nil {
				t.Fatal(err)
			}
			if pf != c.Verdict {
				t.Errorf("setup: posttls-finger says %s for %s, cases.txt expects %s (%s)\n%s", pf, c.Domain, c.Verdict, c.About, pfSeen)
			}
			ds, dsSeen := danescanVerdict(d, eps)
			if ds != pf {
				t.Errorf("DANE %s: danescan %s != posttls-finger %s\n  danescan: %s\n  posttls-finger:\n%s", c.Domain, ds, pf, dsSeen, pfSeen)
				return
			}
			// The domain's own roll-up says the same: DANE protects the
			// domain exactly when posttls-finger verified the server.
			if protected := d.MXSecure && d.TLSAAllMX && d.DANE == datasets.DANEAll; protected != (pf == "pass") {
				t.Errorf("DANE %s: domains row mx_secure %v, tlsa_all_mx %v, dane %q (%s); posttls-finger %s",
					c.Domain, d.MXSecure, d.TLSAAllMX, d.DANE, d.DANEReason, pf)
			}
			t.Logf("DANE %s: both %s (danescan: %s)", c.Domain, ds, dsSeen)
		})
	}
}
