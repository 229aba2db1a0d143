package analysis

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"

	"github.com/danescan/danescan/analysis/chart"
	"github.com/danescan/danescan/datasets"
)

// Files names what Write wrote.
type Files struct {
	Markdown, HTML, JSON string          // the paths of report.md, report.html and report.json
	Findings             []datasets.Part // the Parquet parts of the findings table
}

// Write writes the analysis into dir (created): report.md, report.html,
// report.json and the findings table (Parquet, dir/findings/). Files are
// replaced when dir holds an earlier report.
func (a *Analysis) Write(dir string) (*Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f := &Files{Markdown: filepath.Join(dir, "report.md"), HTML: filepath.Join(dir, "report.html"), JSON: filepath.Join(dir, "report.json")}
	js, err := json.MarshalIndent(a.Report, "", "  ")
	if err != nil {
		return nil, err
	}
	for _, x := range []struct {
		path string
		data []byte
	}{
		{f.Markdown, []byte(a.Report.Markdown())},
		{f.HTML, []byte(a.Report.HTML())},
		{f.JSON, append(js, '\n')},
	} {
		if err := os.WriteFile(x.path, x.data, 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.RemoveAll(filepath.Join(dir, datasets.TableFindings)); err != nil {
		return nil, err
	}
	w, err := datasets.NewTableWriter[datasets.Finding](dir, datasets.TableFindings, datasets.WriterOptions{
		Metadata: map[string]string{"danescan.scan_id": a.Report.Scan.ScanID}})
	if err != nil {
		return nil, err
	}
	for i := range a.Findings {
		if err := w.Write(&a.Findings[i]); err != nil {
			w.Close()
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	f.Findings = w.Parts()
	return f, nil
}

// thousands formats n with comma separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func pctString(n, of int64) string { return fmt.Sprintf("%.1f %%", pct(n, of)) }

var severityTitle = map[string]string{
	SeverityDeliveryFails:   "delivery fails",
	SeverityWeakensSecurity: "weakens security",
	SeverityAdvice:          "advice",
}

// source says where the scan was read from: its dataset, or how many of
// its shards and where; quote surrounds the directory name.
func (d DatasetInfo) source(quote string) string {
	if d.Shards == nil {
		return "dataset " + quote + d.Dir + quote
	}
	return fmt.Sprintf("%d of %d shards, in %s%s%s", len(d.Shards.Given), d.Shards.Count, quote, d.Dir, quote)
}

// String is the line of the report on the input; empty for nil.
func (in *InputCounts) String() string {
	if in == nil {
		return ""
	}
	return fmt.Sprintf("Input: %s entries, %s distinct valid names, %s duplicates, %s invalid, %s excluded.",
		thousands(in.Entries), thousands(in.Domains), thousands(in.Duplicates), thousands(in.Invalid), thousands(in.Excluded))
}

// Markdown renders the report as Markdown.
func (r *Report) Markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# DANE for SMTP report: scan %s\n\n", r.Scan.ScanID)
	for _, w := range r.Warnings {
		p("> **Warning:** %s\n\n", w)
	}
	p("Scan %s (%s), started %s, %s; DNSSEC %s, SMTP %s. Schema version %s.\n\n",
		r.Scan.ScanID, r.Scan.source("`"), r.Scan.Started.UTC().Format("2006-01-02 15:04 UTC"),
		map[bool]string{true: "complete", false: "INCOMPLETE"}[r.Scan.Complete],
		map[bool]string{true: "validated", false: "not validated"}[r.Scan.DNSSECValidated],
		map[bool]string{true: "probed", false: "not probed"}[r.Scan.SMTPProbed], r.Scan.SchemaVersion)
	p("Counted units: %s domains, %s MX hosts, %s endpoints (MX host addresses, per certificate type probed), %s TLSA RRsets, %s TLSA records.\n\n",
		thousands(r.Totals.Domains), thousands(r.Totals.MXHosts), thousands(r.Totals.Endpoints), thousands(r.Totals.TLSARRsets), thousands(r.Totals.TLSARecords))
	if in := r.Input.String(); in != "" {
		p("%s\n\n", in)
	}

	p("## Adoption funnel (per domain)\n\n| stage | domains | of scanned | of previous |\n| --- | ---: | ---: | ---: |\n")
	var first, prev int64
	for i, s := range r.Funnel {
		if strings.HasPrefix(s.Name, "(beside)") {
			p("| %s | %s | %s | |\n", s.Name, thousands(s.Count), pctString(s.Count, first))
			continue
		}
		if i == 0 {
			first, prev = s.Count, s.Count
		}
		p("| %s | %s | %s | %s |\n", s.Name, thousands(s.Count), pctString(s.Count, first), pctString(s.Count, prev))
		prev = s.Count
	}
	p("\nDANE protects a domain's mail at the last stage: secure MX RRset, secure TLSA at every MX host, and every address of every host passing (RFC 7672 §2.2). An MX host whose TLSA lookup is bogus or indeterminate stands with the hosts that have secure TLSA: DANE senders defer delivery to it, so its domains fail DANE rather than lack it.\n\n")

	p("## Failing DANE in every counting unit\n\nSurveys disagree by a factor of ten mostly because they count different things; here is the same scan in each unit.\n\n| unit | failing | DANE applies to | share |\n| --- | ---: | ---: | ---: |\n")
	for _, u := range r.Units {
		p("| %s | %s | %s | %.1f %% |\n", u.Unit, thousands(u.Failing), thousands(u.Applicable), u.Percent)
	}

	p("\n## DNSSEC failures by reason\n\nRRsets that did not validate, as danescan's own validator classified them (MX per domain; A, AAAA and TLSA per MX host).\n\n| RRset | status | reason | count |\n| --- | --- | --- | ---: |\n")
	for _, c := range r.DNSSECFailures {
		p("| %s | %s | %s | %s |\n", c.RRset, c.Status, c.Reason, thousands(c.Count))
	}
	if len(r.DNSSECFailures) == 0 {
		p("| (none) | | | |\n")
	}

	p("\n## Why records do not match (per endpoint)\n\nEndpoints that fail DANE or have no usable record, by reason and nearest miss (after Lee et al., USENIX Security 2022: a record that would match with another usage, selector, matching type or chain depth, the hash of nothing, or none: stale or unrelated data; stale_after_rollover when, with the previous scan given, the endpoint passed then with the same TLSA records and presents another certificate now).\n\n| reason | nearest miss | endpoints |\n| --- | --- | ---: |\n")
	for _, c := range r.NearMisses {
		reason := c.Reason
		if reason == "" {
			reason = "no usable records"
		}
		p("| %s | %s | %s |\n", reason, c.NearMiss, thousands(c.Count))
	}
	if len(r.NearMisses) == 0 {
		p("| (none) | | |\n")
	}
	bs := r.BesideDANE
	p("\n## MTA-STS and TLS-RPT beside DANE (per domain)\n\nOf %s DANE-protected domains, %s also publish MTA-STS (%s) and %s TLS-RPT (%s); of all domains with MX, %s publish MTA-STS and %s TLS-RPT. Both may stand beside DANE (RFC 8461 §2; the article's tip), and TLS-RPT reports senders' DANE failures to the domain.\n",
		thousands(bs.DANEProtected), thousands(bs.DANEWithMTASTS), pctString(bs.DANEWithMTASTS, bs.DANEProtected), thousands(bs.DANEWithTLSRPT), pctString(bs.DANEWithTLSRPT, bs.DANEProtected), thousands(bs.MTASTS), thousands(bs.TLSRPT))

	p("\n## Misconfigurations\n\n| check | severity | unit | count | domains | source | examples |\n| --- | --- | --- | ---: | ---: | --- | --- |\n")
	for _, c := range r.Checks {
		ex := strings.Join(c.Examples, ", ")
		p("| `%s` | %s | %s | %s | %s | %s | %s |\n", c.ID, severityTitle[c.Severity], c.Unit, thousands(c.Count), thousands(c.Domains), c.Source, ex)
	}
	p("\n### What the checks mean\n\n")
	for _, c := range r.Checks {
		p("- `%s` (%s, per %s): %s (%s)\n", c.ID, severityTitle[c.Severity], c.Unit, c.Description, c.Source)
	}

	p("\n## By TLD (per domain)\n\n| TLD | domains | with MX | MX secure | DANE on every MX | DANE on some |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, t := range r.TLDs {
		p("| .%s | %s | %s | %s | %s (%s) | %s |\n", t.TLD, thousands(t.Domains), thousands(t.WithMX), thousands(t.MXSecure), thousands(t.DANEAll), pctString(t.DANEAll, t.WithMX), thousands(t.DANESome))
	}
	p("\n## Mail providers (registrable domain of the MX hosts)\n\n| provider | domains served | MX hosts | DANE-protected domains | state |\n| --- | ---: | ---: | ---: | --- |\n")
	for i, pr := range r.Providers {
		if i == 20 {
			p("| … %d more | | | | |\n", len(r.Providers)-20)
			break
		}
		p("| %s | %s | %s | %s | %s |\n", pr.Provider, thousands(pr.Domains), thousands(pr.MXHosts), thousands(pr.DANEDomains), pr.State)
	}
	p("\nConcentration: ")
	for i, c := range r.Concentration {
		if i > 0 {
			p(", ")
		}
		p("top %d providers serve %.1f %% of the DANE-protected domains", c.Top, c.Percent)
	}
	p(".\n")

	if len(r.Trends) > 0 {
		p("\n## Trends\n\n| scan | started | domains | with MX | MX secure | DANE-protected |\n| --- | --- | ---: | ---: | ---: | ---: |\n")
		for _, t := range r.Trends {
			p("| %s | %s | %s | %s | %s | %s (%s) |\n", t.ScanID, t.Started.UTC().Format("2006-01-02"), thousands(t.Domains), thousands(t.WithMX), thousands(t.MXSecure), thousands(t.DANEAll), pctString(t.DANEAll, t.WithMX))
		}
	}
	if c := r.Changes; c != nil {
		p("\nFrom %s to %s: %s domains gained DANE (%s), %s lost it (%s); %s MX hosts newly fail DANE (%s), %s were fixed (%s).\n",
			c.From, c.To, thousands(c.GainedDANE), strings.Join(c.GainedExamples, ", "), thousands(c.LostDANE), strings.Join(c.LostExamples, ", "),
			thousands(c.NewFailingHosts), strings.Join(c.NewFailingExamples, ", "), thousands(c.FixedHosts), strings.Join(c.FixedExamples, ", "))
	}
	return b.String()
}

// HTML renders the report as one self-contained page: inline CSS and SVG
// charts, no script, no external resource.
func (r *Report) HTML() string {
	var b strings.Builder
	e := html.EscapeString
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>DANE for SMTP report: %s</title>\n", e(r.Scan.ScanID))
	p("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}" +
		"td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}td.n{text-align:right}" +
		".warn{background:#fff3cd;border:1px solid #e0c060;padding:.5em 1em}figure{margin:1em 0}</style></head><body>\n")
	p("<h1>DANE for SMTP report: scan %s</h1>\n", e(r.Scan.ScanID))
	for _, w := range r.Warnings {
		p("<p class=\"warn\"><strong>Warning:</strong> %s</p>\n", e(w))
	}
	p("<p>Scan %s (%s), started %s.</p>\n", e(r.Scan.ScanID), e(r.Scan.source("")), r.Scan.Started.UTC().Format("2006-01-02 15:04 UTC"))
	p("<p>Counted units: %s domains, %s MX hosts, %s endpoints, %s TLSA RRsets, %s TLSA records.</p>\n",
		thousands(r.Totals.Domains), thousands(r.Totals.MXHosts), thousands(r.Totals.Endpoints), thousands(r.Totals.TLSARRsets), thousands(r.Totals.TLSARecords))
	if in := r.Input.String(); in != "" {
		p("<p>%s</p>\n", e(in))
	}

	var stages []chart.Item
	for _, s := range r.Funnel {
		if !strings.HasPrefix(s.Name, "(beside)") {
			stages = append(stages, chart.Item{Label: s.Name, Value: float64(s.Count)})
		}
	}
	p("<h2>Adoption funnel</h2>\n<figure id=\"chart-funnel\">%s</figure>\n", chart.Funnel("Adoption funnel, per domain", stages))
	p("<table><tr><th>stage</th><th>domains</th></tr>\n")
	for _, s := range r.Funnel {
		p("<tr><td>%s</td><td class=\"n\">%s</td></tr>\n", e(s.Name), thousands(s.Count))
	}
	p("</table>\n")

	p("<h2>Failing DANE in every counting unit</h2>\n<table><tr><th>unit</th><th>failing</th><th>DANE applies to</th><th>share</th></tr>\n")
	for _, u := range r.Units {
		p("<tr><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%.1f %%</td></tr>\n", e(u.Unit), thousands(u.Failing), thousands(u.Applicable), u.Percent)
	}
	p("</table>\n")

	p("<h2>DNSSEC failures by reason</h2>\n<table><tr><th>RRset</th><th>status</th><th>reason</th><th>count</th></tr>\n")
	for _, c := range r.DNSSECFailures {
		p("<tr><td>%s</td><td>%s</td><td>%s</td><td class=\"n\">%s</td></tr>\n", e(c.RRset), e(c.Status), e(c.Reason), thousands(c.Count))
	}
	p("</table>\n")

	p("<h2>Why records do not match</h2>\n<table><tr><th>reason</th><th>nearest miss</th><th>endpoints</th></tr>\n")
	for _, c := range r.NearMisses {
		p("<tr><td>%s</td><td>%s</td><td class=\"n\">%s</td></tr>\n", e(c.Reason), e(c.NearMiss), thousands(c.Count))
	}
	p("</table>\n<p>MTA-STS beside DANE: %s of %s DANE-protected domains; TLS-RPT: %s.</p>\n", thousands(r.BesideDANE.DANEWithMTASTS), thousands(r.BesideDANE.DANEProtected), thousands(r.BesideDANE.DANEWithTLSRPT))

	var bars []chart.Item
	for _, c := range r.Checks {
		if c.Count > 0 {
			bars = append(bars, chart.Item{Label: c.ID, Value: float64(c.Count), Note: c.Unit})
		}
	}
	sortBars(bars)
	p("<h2>Misconfigurations</h2>\n<figure id=\"chart-checks\">%s</figure>\n", chart.Bar("Checks that fired, by count in their unit", bars, ""))
	p("<table><tr><th>check</th><th>severity</th><th>unit</th><th>count</th><th>domains</th><th>what it means</th><th>source</th><th>examples</th></tr>\n")
	for _, c := range r.Checks {
		p("<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			e(c.ID), e(severityTitle[c.Severity]), e(c.Unit), thousands(c.Count), thousands(c.Domains), e(c.Description), e(c.Source), e(strings.Join(c.Examples, ", ")))
	}
	p("</table>\n")

	var stacks []chart.Stack
	for i, t := range r.TLDs {
		if i == 20 {
			break
		}
		none := t.WithMX - t.DANEAll - t.DANESome
		stacks = append(stacks, chart.Stack{Label: "." + t.TLD, Segments: []chart.Segment{{Name: "DANE on every MX", Value: float64(t.DANEAll)}, {Name: "on some", Value: float64(t.DANESome)}, {Name: "none", Value: float64(max(none, 0))}}})
	}
	p("<h2>By TLD</h2>\n<figure id=\"chart-tld\">%s</figure>\n", chart.StackedBars("DANE share by TLD (domains with MX)", stacks))
	p("<h2>Mail providers</h2>\n<table><tr><th>provider</th><th>domains served</th><th>MX hosts</th><th>DANE-protected domains</th><th>state</th></tr>\n")
	for i, pr := range r.Providers {
		if i == 20 {
			break
		}
		p("<tr><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td>%s</td></tr>\n", e(pr.Provider), thousands(pr.Domains), thousands(pr.MXHosts), thousands(pr.DANEDomains), e(pr.State))
	}
	p("</table>\n<p>")
	for i, c := range r.Concentration {
		if i > 0 {
			p(", ")
		}
		p("top %d providers: %.1f %% of DANE-protected domains", c.Top, c.Percent)
	}
	p("</p>\n")
	if len(r.Trends) > 0 {
		var xs []string
		var dane, secure []float64
		for _, t := range r.Trends {
			xs = append(xs, t.Started.UTC().Format("2006-01-02"))
			dane = append(dane, pct(t.DANEAll, t.WithMX))
			secure = append(secure, pct(t.MXSecure, t.WithMX))
		}
		p("<h2>Trends</h2>\n<figure id=\"chart-trends\">%s</figure>\n", chart.Line("Share of domains with MX", xs, []chart.Series{{Name: "DANE-protected", Points: dane}, {Name: "MX RRset secure", Points: secure}}, "%"))
		if c := r.Changes; c != nil {
			p("<p>From %s to %s: %s domains gained DANE, %s lost it; %s MX hosts newly fail DANE, %s were fixed.</p>\n",
				e(c.From), e(c.To), thousands(c.GainedDANE), thousands(c.LostDANE), thousands(c.NewFailingHosts), thousands(c.FixedHosts))
		}
	}
	p("</body></html>\n")
	return b.String()
}

// sortBars orders bars by value, largest first, then label.
func sortBars(bars []chart.Item) {
	for i := 1; i < len(bars); i++ {
		for j := i; j > 0 && (bars[j].Value > bars[j-1].Value || (bars[j].Value == bars[j-1].Value && bars[j].Label < bars[j-1].Label)); j-- {
			bars[j], bars[j-1] = bars[j-1], bars[j]
		}
	}
}
