package analysis

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danescan/danescan/datasets"
)

const (
	hexA = "0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"
	hexB = "1d83bd81c856bd2aaa9922c242e773dabd7aececf8dc34f6c625c67775d6e4e7"
)

// fixture is one domain with one MX host and one endpoint, configured as
// a well-run DANE domain that no check may fire on, before a mutation.
type fixture struct {
	d   datasets.Domain
	h   datasets.MXHost
	eps []datasets.Endpoint
	// prev is the same domain in the previous scan, for the checks
	// across scans; nil when the fixture needs none.
	prev *fixture
}

// scan sets the scan id of the fixture's rows.
func (f *fixture) scan(id string) {
	f.d.ScanID, f.h.ScanID = id, id
	for i := range f.eps {
		f.eps[i].ScanID = id
	}
}

// Leaf certificates of the fixtures' chains: only their bytes matter.
var (
	leafOld = []byte("leaf certificate before the rollover")
	leafNew = []byte("leaf certificate after the rollover")
	caCert  = []byte("issuing CA certificate")
)

// rollOver makes f's endpoint present another leaf certificate that its
// TLSA records do not match, after it passed with the same records in the
// previous scan (f.prev).
func (f *fixture) rollOver() {
	f.prev = goodFixture(f.d.Domain)
	f.prev.eps[0].Chain = [][]byte{leafOld, caCert}
	f.fail("fail", "no_match")
	f.eps[0].NearMiss, f.eps[0].Chain = "none", [][]byte{leafNew, caCert}
}

func goodFixture(name string) *fixture {
	host := "mx." + name
	secure := func(q string, recs ...string) datasets.RRset {
		return datasets.RRset{QName: q, Rcode: "NOERROR", TTL: 3600, Records: recs, DNSSEC: datasets.DNSSECSecure}
	}
	f := &fixture{
		d: datasets.Domain{ScanID: "fixture", Domain: name, Input: name, MXKind: "mx", MX: secure(name, "10 "+host+"."),
			MXHosts: []string{host}, MXHostCount: 1, MXSecure: true, MXHostsWithTLSA: 1, TLSAAllMX: true,
			TLSRPT: secure("_smtp._tls."+name, `"v=TLSRPTv1; rua=mailto:r@`+name+`"`), TLSRPTPublished: true,
			DANE: datasets.DANEAll, MXHostsPassing: 1},
		h: datasets.MXHost{ScanID: "fixture", Host: host, A: secure(host, "192.0.2.1"), AAAA: secure(host),
			Addresses: []string{"192.0.2.1"}, AddressesSecure: true, TLSABaseDomain: host,
			TLSA: secure("_25._tcp."+host, "3 1 1 "+hexA, "3 1 1 "+hexB), TLSAState: datasets.TLSAStateDANE,
			DANEStatus: datasets.DANEPass, Endpoints: 1},
	}
	f.h.AAAA.Failure = "nodata"
	f.eps = []datasets.Endpoint{f.endpoint("192.0.2.1", datasets.DANEPass, "")}
	return f
}

func (f *fixture) endpoint(addr string, status datasets.DANEStatus, reason string) datasets.Endpoint {
	return datasets.Endpoint{ScanID: "fixture", Host: f.h.Host, TLSABaseDomain: f.h.Host, Address: addr, Port: 25, SigAlgs: "any",
		TLSAState: datasets.TLSAStateDANE, STARTTLSOffered: true, TLSVersion: "TLS 1.3", ChainLength: 2,
		DANEStatus: status, DANEReason: reason, TLSAUnusable: []string{"", ""}}
}

// failEndpoint makes the fixture's endpoint fail DANE with reason.
func (f *fixture) fail(status datasets.DANEStatus, reason string) {
	f.eps[0].DANEStatus, f.eps[0].DANEReason = status, reason
	f.h.DANEStatus, f.h.DANEReason = status, f.eps[0].Address+": "+reason
	f.d.DANE, f.d.MXHostsPassing = datasets.DANENone, 0
}

// checkFixtures breaks one good fixture per check in the way the check
// looks for.
var checkFixtures = map[string]func(f *fixture){
	"dane-ta-not-in-chain":       func(f *fixture) { f.fail("fail", "ta_not_in_chain") },
	"dane-no-match":              func(f *fixture) { f.fail("fail", "no_match") },
	"dane-ta-name-mismatch":      func(f *fixture) { f.fail("fail", "name_mismatch") },
	"dane-ta-expired":            func(f *fixture) { f.fail("fail", "expired") },
	"dane-ta-chain-invalid":      func(f *fixture) { f.fail("fail", "chain_invalid") },
	"tlsa-no-usable-records":     func(f *fixture) { f.fail(datasets.DANENoUsable, "") },
	"starttls-missing-with-tlsa": func(f *fixture) { f.fail(datasets.DANETransportFailed, "starttls_not_offered") },
	"transport-failed-with-tlsa": func(f *fixture) { f.fail(datasets.DANETransportFailed, "tls_handshake_failed") },
	"tlsa-pkix-usage":            func(f *fixture) { f.h.TLSA.Records = []string{"1 1 1 " + hexA, "3 1 1 " + hexB} },
	"tlsa-undefined-parameters":  func(f *fixture) { f.h.TLSA.Records = []string{"3 1 1 " + hexA[:62], "3 1 1 " + hexB} },
	"tlsa-in-insecure-zone": func(f *fixture) {
		f.h.TLSA.DNSSEC, f.h.TLSAState = datasets.DNSSECInsecure, datasets.TLSAStateNoTLSA
	},
	"dnssec-bogus-mx": func(f *fixture) {
		f.d.MX.DNSSEC, f.d.MX.DNSSECReason, f.d.MXSecure = datasets.DNSSECBogus, "signature_expired", false
	},
	"dnssec-bogus-address": func(f *fixture) { f.h.A.DNSSEC, f.h.A.DNSSECReason = datasets.DNSSECBogus, "ds_mismatch" },
	"tlsa-lookup-unusable": func(f *fixture) {
		f.h.TLSA.DNSSEC, f.h.TLSA.DNSSECReason, f.h.TLSAState = datasets.DNSSECIndeterminate, "lookup_failed", datasets.TLSAStateUnusable
	},
	"endpoints-inconsistent": func(f *fixture) {
		f.eps = append(f.eps, f.endpoint("2001:db8::1", "fail", "no_match"))
	},
	"dane-some-mx-hosts": func(f *fixture) { f.d.DANE = datasets.DANESome },
	"dane-behind-insecure-mx": func(f *fixture) {
		f.d.MXSecure, f.d.MX.DNSSEC = false, datasets.DNSSECInsecure
	},
	"mx-target-cname": func(f *fixture) { f.h.Canonical = "real." + f.h.Host },
	"null-mx-mixed": func(f *fixture) {
		f.d.MXKind = "mixed_null_mx"
		f.d.MX.Records = append(f.d.MX.Records, "0 .")
	},
	"tip-selector-1":            func(f *fixture) { f.h.TLSA.Records = []string{"3 0 1 " + hexA, "3 1 1 " + hexB} },
	"tip-single-tlsa":           func(f *fixture) { f.h.TLSA.Records = f.h.TLSA.Records[:1] },
	"tip-tlsa-ttl":              func(f *fixture) { f.h.TLSA.TTL = 86400 },
	"tip-domain-unsigned":       func(f *fixture) { f.d.MX.DNSSEC, f.d.MXSecure = datasets.DNSSECInsecure, false },
	"tip-mx-zone-unsigned":      func(f *fixture) { f.h.A.DNSSEC = datasets.DNSSECInsecure },
	"tip-tlsrpt-missing":        func(f *fixture) { f.d.TLSRPTPublished = false },
	"dane-stale-after-rollover": (*fixture).rollOver,
}

// writeFixtures writes fixtures as a dataset in dir.
func writeFixtures(t *testing.T, dir string, fs []*fixture, m datasets.Manifest) {
	t.Helper()
	var ds []datasets.Domain
	var hs []datasets.MXHost
	var es []datasets.Endpoint
	for _, f := range fs {
		ds, hs = append(ds, f.d), append(hs, f.h)
		es = append(es, f.eps...)
	}
	m.Parts = append(writeRows(t, dir, datasets.TableDomains, ds), writeRows(t, dir, datasets.TableMXHosts, hs)...)
	m.Parts = append(m.Parts, writeRows(t, dir, datasets.TableEndpoints, es)...)
	if err := datasets.WriteManifest(dir, &m); err != nil {
		t.Fatal(err)
	}
}

func writeRows[T any](t *testing.T, dir, table string, rows []T) []datasets.Part {
	t.Helper()
	w, err := datasets.NewTableWriter[T](dir, table, datasets.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if err := w.Write(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.Parts()
}

func fixtureManifest(id string, started time.Time) datasets.Manifest {
	return datasets.Manifest{SchemaVersion: datasets.SchemaVersion, ScanID: id, Started: started, Ended: started.Add(time.Minute),
		Complete: true, Config: map[string]any{"dnssec_enabled": true, "smtp_enabled": true}}
}

// TestCheckFixtures runs every check on a dataset of one good domain and
// one domain broken for each check: each check must fire on its own broken
// domain (or its host) and never on the good one, and every check must
// have a fixture.
func TestCheckFixtures(t *testing.T) {
	checks, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	fs := []*fixture{goodFixture("good.example")}
	prevs := []*fixture{goodFixture("good.example")}
	for id, mutate := range checkFixtures {
		f := goodFixture("bad-" + id + ".example")
		mutate(f)
		fs = append(fs, f)
		if f.prev != nil {
			prevs = append(prevs, f.prev)
		}
	}
	started := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	dir, prevDir := t.TempDir(), t.TempDir()
	for _, f := range prevs {
		f.scan("previous")
	}
	writeFixtures(t, prevDir, prevs, fixtureManifest("previous", started.AddDate(0, -1, 0)))
	writeFixtures(t, dir, fs, fixtureManifest("fixture", started))
	a, err := Analyze(context.Background(), []string{dir, prevDir})
	if err != nil {
		t.Fatal(err)
	}
	byCheck := map[string][]datasets.Finding{}
	for _, x := range a.Findings {
		byCheck[x.Check] = append(byCheck[x.Check], x)
	}
	for _, c := range checks {
		t.Run(c.ID, func(t *testing.T) {
			if checkFixtures[c.ID] == nil {
				t.Fatalf("check %s has no fixture in checkFixtures", c.ID)
			}
			own := "bad-" + c.ID + ".example"
			fired := false
			for _, x := range byCheck[c.ID] {
				subject := x.Domain + " " + x.Host
				if strings.Contains(subject, "good.example") {
					t.Errorf("fired on the good domain: %+v", x)
				}
				if strings.HasSuffix(x.Domain, own) || strings.HasSuffix(x.Host, own) {
					fired = true
				}
			}
			if !fired {
				t.Errorf("did not fire on %s (findings: %+v)", own, byCheck[c.ID])
			}
			var res *CheckResult
			for i := range a.Report.Checks {
				if a.Report.Checks[i].ID == c.ID {
					res = &a.Report.Checks[i]
				}
			}
			if res == nil || res.Count == 0 || res.Domains == 0 || len(res.Examples) == 0 {
				t.Errorf("report entry %+v: want a count, affected domains and examples", res)
			}
		})
	}
}

func TestParseCheckErrors(t *testing.T) {
	for name, text := range map[string]string{
		"checks/x.sql": "-- id: x\n-- unit: domain\n-- severity: advice\n-- source: s\nSELECT 1",
		"checks/y.sql": "-- id: z\n-- unit: domain\n-- severity: advice\n-- source: s\n-- description: d\nSELECT 1",
		"checks/w.sql": "-- id: w\n-- unit: planet\n-- severity: advice\n-- source: s\n-- description: d\nSELECT 1",
		"checks/v.sql": "-- id: v\n-- unit: domain\n-- severity: fatal\n-- source: s\n-- description: d\nSELECT 1",
	} {
		if _, err := parseCheck(name, text); err == nil {
			t.Errorf("parseCheck(%s) accepted a bad header", name)
		}
	}
}

// TestBadInput checks the messages for what is not an analysable dataset,
// and the warnings for what can still be analysed.
func TestBadInput(t *testing.T) {
	good := func(t *testing.T, m datasets.Manifest) string {
		dir := t.TempDir()
		writeFixtures(t, dir, []*fixture{goodFixture("good.example")}, m)
		return dir
	}
	started := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	t.Run("not a directory", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, []byte("x"), 0o644)
		if _, err := Analyze(context.Background(), []string{f}); err == nil || !strings.Contains(err.Error(), "is not a directory") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("no manifest", func(t *testing.T) {
		if _, err := Analyze(context.Background(), []string{t.TempDir()}); err == nil || !strings.Contains(err.Error(), "holds no dataset") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("newer schema", func(t *testing.T) {
		m := fixtureManifest("s", started)
		m.SchemaVersion = "99"
		if _, err := Analyze(context.Background(), []string{good(t, m)}); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("truncated part", func(t *testing.T) {
		dir := good(t, fixtureManifest("s", started))
		m, _ := datasets.ReadManifest(dir)
		p := filepath.Join(dir, m.Parts[0].Path)
		data, _ := os.ReadFile(p)
		os.WriteFile(p, data[:len(data)/2], 0o644)
		if _, err := Analyze(context.Background(), []string{dir}); err == nil || !strings.Contains(err.Error(), "cannot be read") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("incomplete and older", func(t *testing.T) {
		m := fixtureManifest("s", started)
		m.Complete, m.InterruptedBy, m.SchemaVersion = false, "SIGINT", "2"
		a, err := Analyze(context.Background(), []string{good(t, m)})
		if err != nil {
			t.Fatal(err)
		}
		md := a.Report.Markdown()
		if len(a.Report.Warnings) != 2 || !strings.Contains(md, "interrupted by SIGINT") || !strings.Contains(md, "schema version 2") {
			t.Errorf("warnings %q; report head:\n%s", a.Report.Warnings, md[:min(len(md), 600)])
		}
	})
}

// TestTrends analyses two scans of the same domains: one domain loses
// DANE, one gains it, and the changes say so.
func TestTrends(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	a1, b1 := goodFixture("a.example"), goodFixture("b.example")
	b1.fail("fail", "no_match")
	old := t.TempDir()
	a2, b2 := goodFixture("a.example"), goodFixture("b.example")
	a2.fail("fail", "no_match")
	for _, f := range []*fixture{a2, b2} {
		f.scan("new")
	}
	for _, f := range []*fixture{a1, b1} {
		f.scan("old")
	}
	writeFixtures(t, old, []*fixture{a1, b1}, fixtureManifest("old", t0))
	cur := t.TempDir()
	writeFixtures(t, cur, []*fixture{a2, b2}, fixtureManifest("new", t0.AddDate(0, 1, 0)))
	a, err := Analyze(context.Background(), []string{cur, old})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Report
	if r.Scan.ScanID != "new" || len(r.Trends) != 2 || r.Trends[0].ScanID != "old" {
		t.Fatalf("scan %s, trends %+v", r.Scan.ScanID, r.Trends)
	}
	c := r.Changes
	if c == nil || c.GainedDANE != 1 || c.LostDANE != 1 || c.GainedExamples[0] != "b.example" || c.LostExamples[0] != "a.example" ||
		c.NewFailingHosts != 1 || c.FixedHosts != 1 {
		t.Errorf("changes %+v", c)
	}
	if !strings.Contains(r.HTML(), `id="chart-trends"`) {
		t.Error("no trend chart in the HTML")
	}
}

// TestREADMEListsChecks keeps the README's catalogue in step with the
// check files.
func TestREADMEListsChecks(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skip("no README.md beside the module")
	}
	checks, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if !strings.Contains(string(readme), "| `"+c.ID+"` | "+strings.ReplaceAll(c.Severity, "_", " ")+" | "+c.Unit+" |") {
			t.Errorf("README.md's catalogue lacks check %s (%s, %s)", c.ID, c.Severity, c.Unit)
		}
	}
}
