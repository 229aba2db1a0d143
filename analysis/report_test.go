package analysis

import (
	"context"
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danescan/danescan/datasets"
	"github.com/danescan/danescan/scanner"
	"github.com/danescan/danescan/scanner/dnssec"
	"github.com/danescan/danescan/scanner/lab"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata/")

// labNow is the fixed clock of the golden lab scan.
var labNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// labDataset scans a signed 2,000-domain lab world with STARTTLS probes
// into dir, with a fixed scan id and clock, so that its report is the
// same every time.
func labDataset(t testing.TB, dir string) {
	t.Helper()
	labScan(t, lab.Config{Domains: 2000, Seed: 11, DNSSEC: true}, "golden", labNow, dir)
}

// labScan scans the lab world of wc, validated and with STARTTLS probes,
// into dir with the given scan id and clock, and returns the world.
func labScan(t testing.TB, wc lab.Config, scanID string, at time.Time, dir string) *lab.World {
	t.Helper()
	return labScans(t, wc, scanID, at, []string{dir}, []datasets.Shard{{}})
}

// labScans is labScan of the same world once per dir, each scan of
// shards[i] (the zero Shard: the whole list).
func labScans(t testing.TB, wc lab.Config, scanID string, at time.Time, dirs []string, shards []datasets.Shard) *lab.World {
	t.Helper()
	w, err := lab.Generate(wc)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return at }
	srv, err := lab.Start(w, lab.ServerOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	smtp, err := lab.StartSMTP(w, lab.SMTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	list := filepath.Join(t.TempDir(), "domains.txt")
	os.WriteFile(list, []byte(strings.Join(w.InputLines(), "\n")+"\n"), 0o644)
	anchors, err := dnssec.ParseAnchors(strings.NewReader(w.TrustAnchor()))
	if err != nil {
		t.Fatal(err)
	}
	for i, dir := range dirs {
		cfg := scanner.Config{Resolvers: []string{srv.Addr()}, Workers: 100, Timeout: time.Second, Retries: 1,
			DNSSEC: true, TrustAnchors: anchors, TrustAnchorSource: "lab", ScanID: scanID, Now: now, Shard: shards[i],
			SMTP: true, SMTPDial: smtp.Dial, SMTPWorkers: 50, AddressInterval: time.Nanosecond, Allow: lab.Networks()}
		// 2 s: at 300 ms ordinary banners timed out on a loaded machine.
		cfg.STARTTLS.BannerTimeout, cfg.STARTTLS.HandshakeTimeout = 2*time.Second, 5*time.Second
		if _, err := scanner.Run(context.Background(), cfg, []scanner.Input{{Path: list}}, dir, nil); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// TestLabRolloverReport scans the same lab world twice, the second time
// after its tlsa-rolled-over host presents a new key behind unchanged
// TLSA records, and analyses both scans: the host is stale after a
// rollover (its own near-miss class and check), and no other endpoint is.
// The first scan alone does not say so.
func TestLabRolloverReport(t *testing.T) {
	before, after := filepath.Join(t.TempDir(), "before"), filepath.Join(t.TempDir(), "after")
	wc := lab.Config{Domains: 1000, Seed: 7, DNSSEC: true}
	w := labScan(t, wc, "before", labNow, before)
	wc.Rolled = true
	labScan(t, wc, "after", labNow.AddDate(0, 1, 0), after)
	var rolled lab.DANECase
	for _, c := range w.DANECases() {
		if c.Name == lab.CaseRolledOver {
			rolled = c
		}
	}
	if rolled.Host == "" {
		t.Fatalf("the world has no %s case", lab.CaseRolledOver)
	}
	a, err := Analyze(context.Background(), []string{after, before})
	if err != nil {
		t.Fatal(err)
	}
	// One finding per endpoint of the rolled host (each of its addresses).
	var hosts []string
	findings := 0
	for _, f := range a.Findings {
		if f.Check == "dane-stale-after-rollover" {
			findings++
			if !slices.Contains(hosts, f.Host) {
				hosts = append(hosts, f.Host)
			}
		}
	}
	if d := diff([]string{rolled.Host}, hosts); d != "" {
		t.Errorf("dane-stale-after-rollover findings by host %s", d)
	}
	var stale int64
	for _, n := range a.Report.NearMisses {
		if n.NearMiss == "stale_after_rollover" {
			stale += n.Count
		}
	}
	if stale == 0 || stale != int64(findings) {
		t.Errorf("near misses %+v: want the %d endpoints of the check as stale_after_rollover", a.Report.NearMisses, findings)
	}
	alone, err := Analyze(context.Background(), []string{after})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range alone.Findings {
		if f.Check == "dane-stale-after-rollover" {
			t.Errorf("the latest scan alone found a stale endpoint: %+v", f)
		}
	}
}

// TestReportGolden analyses a fixed lab scan and compares report.md and
// report.json with the golden files (go test ./analysis -update rewrites
// them); report.html must hold its charts and no script.
func TestReportGolden(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "scan")
	labDataset(t, dir)
	a, err := Analyze(context.Background(), []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "report")
	files, err := a.Write(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct{ got, golden string }{
		{files.Markdown, "testdata/report.golden.md"},
		{files.JSON, "testdata/report.golden.json"},
	} {
		got, err := os.ReadFile(g.got)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			os.WriteFile(g.golden, got, 0o644)
			continue
		}
		want, err := os.ReadFile(g.golden)
		if err != nil {
			t.Fatalf("%v (run go test ./analysis -update)", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from %s (go test ./analysis -update rewrites it; diff them):\n%s", g.got, g.golden, firstDiff(string(want), string(got)))
		}
	}
	html, _ := os.ReadFile(files.HTML)
	for _, want := range []string{`id="chart-funnel"`, `id="chart-checks"`, `id="chart-tld"`, "<svg", "dane-ta-not-in-chain"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// xmlns="http://www.w3.org/2000/svg" names a namespace and fetches
	// nothing; anything that would load a resource is refused.
	for _, bad := range []string{"<script", " src=", "href=", "<link", "url(", "@import"} {
		if strings.Contains(string(html), bad) {
			t.Errorf("report.html contains %q: it must be self-contained", bad)
		}
	}
	var r Report
	js, _ := os.ReadFile(files.JSON)
	if err := json.Unmarshal(js, &r); err != nil || len(r.Checks) == 0 || r.Funnel[0].Count == 0 {
		t.Errorf("report.json: %v, %d checks", err, len(r.Checks))
	}
	fs, err := datasets.ReadTable[datasets.Finding](out, datasets.TableFindings)
	if err != nil || len(fs) != len(a.Findings) || len(fs) == 0 {
		t.Errorf("findings table: %d rows (%v), analysis had %d", len(fs), err, len(a.Findings))
	}
	// The lab's DANE cases are found by the checks made for them.
	fired := map[string]int64{}
	for _, c := range a.Report.Checks {
		fired[c.ID] = c.Count
	}
	for _, id := range []string{"dane-ta-not-in-chain", "dane-no-match", "dane-ta-expired", "dane-ta-name-mismatch",
		"tlsa-no-usable-records", "starttls-missing-with-tlsa", "transport-failed-with-tlsa", "dnssec-bogus-mx", "mx-target-cname", "null-mx-mixed"} {
		if fired[id] == 0 {
			t.Errorf("check %s found nothing in the lab scan", id)
		}
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestReportFieldsDocumented keeps report.json documented where it is
// declared: every field of the structs in report.go has a comment.
func TestReportFieldsDocumented(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "report.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var undocumented []string
	ast.Inspect(file, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok || !ts.Name.IsExported() {
			return true
		}
		for _, f := range st.Fields.List {
			if f.Doc == nil && f.Comment == nil {
				for _, name := range f.Names {
					undocumented = append(undocumented, ts.Name.Name+"."+name.Name)
				}
			}
		}
		return true
	})
	if len(undocumented) > 0 {
		t.Errorf("fields of report.json without a comment: %v", undocumented)
	}
}
