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
// for a private signed root, TLD and case zones, and Unbound validating from
// that root. It needs root and apt-get, so it runs only when asked:
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
		if len(fields) < 2 {
			t.Fatalf("%s: bad line %q", path, line)
		}
		cases = append(cases, realnetCase{Domain: fields[0], MXDNSSEC: fields[1], About: strings.Join(fields[2:], " ")})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// unboundVerdict asks the validating resolver for name and type as an
// ordinary validating stub would (RD and DO, no CD) and maps its answer to a
// DNSSEC status: AD set is secure, SERVFAIL is bogus, any other answer
// without AD is insecure. It also returns the answer's header line, to print
// on a disagreement.
func unboundVerdict(ctx context.Context, name string, qtype uint16) (string, string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(1232, true)
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.ExchangeContext(ctx, m, realnetResolver)
	if err != nil {
		return "", "", fmt.Errorf("unbound %s %s: %w", name, dns.TypeToString[qtype], err)
	}
	seen := fmt.Sprintf("rcode %s ad=%t, %d answers", dns.RcodeToString[r.Rcode], r.AuthenticatedData, len(r.Answer))
	switch {
	case r.Rcode == dns.RcodeServerFailure:
		return "bogus", seen, nil
	case r.AuthenticatedData:
		return "secure", seen, nil
	default:
		return "insecure", seen, nil
	}
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
// with Unbound's validation of the same name.
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
	args := []string{"scan", "--resolver", realnetResolver, "--trust-anchor", filepath.Join(dir, "root.key"),
		"--no-smtp", "--out", out, listFile}
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
				// danescan asks for TLSA only behind secure addresses (RFC 7672 §2.2).
				if h.AddressesSecure {
					compare(t, "host", "_25._tcp."+h.TLSABaseDomain, dns.TypeTLSA, h.TLSA)
				}
			}
		})
	}
}
