package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// update rewrites testdata/charts/*.svg.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/charts")

// chartDoc is what a test needs to know about a chart: the attributes of the
// root element, the text of its <title> and <desc>, the number of elements by
// name, the text of all <text> elements and of all nested <title> elements.
type chartDoc struct {
	root     map[string]string
	title    string
	desc     string
	count    map[string]int
	texts    []string // the content of each <text>
	tooltips []string // the content of each <title> below the root's
}

// parseChart decodes every token of svg with encoding/xml and fails the test
// on any error or on a document that is not one <svg> element.
func parseChart(t *testing.T, svg string) chartDoc {
	t.Helper()
	doc := chartDoc{root: map[string]string{}, count: map[string]int{}}
	d := xml.NewDecoder(strings.NewReader(svg))
	d.Strict = true
	var stack []string
	var text strings.Builder
	roots := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("invalid XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				roots++
				if tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root element is %v, want svg in the SVG namespace", tok.Name)
				}
				for _, a := range tok.Attr {
					doc.root[a.Name.Local] = a.Value
				}
			}
			doc.count[tok.Name.Local]++
			stack = append(stack, tok.Name.Local)
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			switch {
			case tok.Name.Local == "title" && len(stack) == 2:
				doc.title = text.String()
			case tok.Name.Local == "desc" && len(stack) == 2:
				doc.desc = text.String()
			case tok.Name.Local == "title":
				doc.tooltips = append(doc.tooltips, text.String())
			case tok.Name.Local == "text":
				doc.texts = append(doc.texts, text.String())
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		}
	}
	if roots != 1 {
		t.Fatalf("%d root elements, want 1", roots)
	}
	if doc.root["role"] != "img" {
		t.Errorf(`role = %q, want "img"`, doc.root["role"])
	}
	if doc.root["font-family"] != "sans-serif" {
		t.Errorf(`font-family = %q, want "sans-serif"`, doc.root["font-family"])
	}
	if doc.count["title"] == 0 || doc.count["desc"] != 1 {
		t.Errorf("%d <title> and %d <desc>, want at least 1 and exactly 1", doc.count["title"], doc.count["desc"])
	}
	for _, id := range strings.Fields(doc.root["aria-labelledby"]) {
		if !strings.Contains(svg, `id="`+id+`"`) {
			t.Errorf("aria-labelledby names %q, which no element has", id)
		}
	}
	for _, bad := range []string{"NaN", "Inf", "<script", "href", "url(", "@import"} {
		if strings.Contains(svg, bad) {
			t.Errorf("output contains %q", bad)
		}
	}
	return doc
}

// hasText reports whether one of the <text> elements is exactly s.
func (d chartDoc) hasText(s string) bool {
	for _, t := range d.texts {
		if t == s {
			return true
		}
	}
	return false
}

// hasTooltip reports whether one of the nested <title> elements contains s.
func (d chartDoc) hasTooltip(s string) bool {
	for _, t := range d.tooltips {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

// countDiff compares element counts; it returns "" if they match.
func countDiff(want map[string]int, got map[string]int) string {
	var b strings.Builder
	for _, name := range []string{"rect", "path", "circle", "line", "text"} {
		w, ok := want[name]
		if ok && w != got[name] {
			fmt.Fprintf(&b, "<%s>: -%d +%d\n", name, w, got[name])
		}
	}
	return b.String()
}

const (
	hostileLabel = `<script>alert("x")</script> & 'quotes'`
	longLabel    = "a-very-long-subdomain-label-that-keeps-going.mail.example-provider.co.uk"
	brokenLabel  = "bad\xffutf8\x00nul\x1bescape\ttab\nnewline\u0085"
)

func manyBars(n int) []Item {
	bars := make([]Item, n)
	for i := range bars {
		bars[i] = Item{Label: fmt.Sprintf("mx%d.example.net", i), Value: float64(n - i)}
	}
	return bars
}

func TestBar(t *testing.T) {
	tests := []struct {
		name   string
		title  string
		bars   []Item
		unit   string
		rects  int
		texts  []string // <text> elements expected verbatim
		labels []string // labels expected (full) in a tooltip
	}{
		{
			name:  "counts",
			title: "Top MX providers",
			bars: []Item{
				{Label: "google.com", Value: 1234567, Note: "45.2 %"},
				{Label: "outlook.com", Value: 98765},
				{Label: "example.org", Value: 1},
			},
			rects:  3,
			texts:  []string{"Top MX providers", "google.com", "1,234,567 (45.2 %)", "98,765", "1"},
			labels: []string{"google.com", "outlook.com", "example.org"},
		},
		{
			name:  "percent unit",
			title: "Share",
			bars:  []Item{{Label: "a", Value: 12.345}, {Label: "b", Value: 100}},
			unit:  "%",
			rects: 2,
			texts: []string{"12.3 %", "100.0 %"},
		},
		{
			name:  "other unit",
			title: "Latency",
			bars:  []Item{{Label: "a", Value: 1500.25}},
			unit:  "ms",
			rects: 1,
			texts: []string{"1,500.3 ms"},
		},
		{name: "nil", title: "Empty", rects: 0, texts: []string{"No data"}},
		{name: "empty", title: "Empty", bars: []Item{}, rects: 0, texts: []string{"No data"}},
		{name: "empty title", title: "", bars: []Item{{Label: "a", Value: 1}}, rects: 1},
		{
			name:  "zero negative NaN Inf",
			title: "Odd values",
			bars: []Item{
				{Label: "zero", Value: 0}, {Label: "negative", Value: -5},
				{Label: "nan", Value: math.NaN()}, {Label: "inf", Value: math.Inf(1)}, {Label: "-inf", Value: math.Inf(-1)},
			},
			rects:  5,
			texts:  []string{"0", "-5", "n/a"},
			labels: []string{"zero", "negative", "nan", "inf", "-inf"},
		},
		{
			name:   "hostile label",
			title:  hostileLabel,
			bars:   []Item{{Label: hostileLabel, Value: 3, Note: hostileLabel}},
			rects:  1,
			texts:  []string{hostileLabel},
			labels: []string{hostileLabel},
		},
		{
			name:   "long label",
			title:  "Long",
			bars:   []Item{{Label: longLabel, Value: 3}},
			rects:  1,
			texts:  []string{"a-very-long-subdomain-label…"},
			labels: []string{longLabel},
		},
		{
			name:  "broken UTF-8 and control characters",
			title: brokenLabel,
			bars:  []Item{{Label: brokenLabel, Value: 3}},
			rects: 1,
			texts: []string{"bad\uFFFDutf8\uFFFDnul\uFFFDescape tab new…"},
		},
		{
			name:  "thousands of bars",
			title: "Many",
			bars:  manyBars(5000),
			rects: chartMaxRows,
			texts: []string{"mx0.example.net", "5,000", "mx39.example.net", "… 4,960 more"},
		},
		{name: "exactly the cap", title: "Forty", bars: manyBars(chartMaxRows), rects: chartMaxRows},
		{name: "tiny and huge", title: "Range", bars: []Item{{Label: "a", Value: math.MaxFloat64}, {Label: "b", Value: math.SmallestNonzeroFloat64}}, rects: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg := Bar(tt.title, tt.bars, tt.unit)
			doc := parseChart(t, svg)
			wantTitle := chartClean(tt.title)
			if tt.title == "" {
				wantTitle = "Chart"
			}
			if doc.title != wantTitle {
				t.Errorf("title = %q, want %q", doc.title, wantTitle)
			}
			if diff := countDiff(map[string]int{"rect": tt.rects, "path": 0, "circle": 0}, doc.count); diff != "" {
				t.Errorf("element counts (-want +got):\n%s", diff)
			}
			for _, s := range tt.texts {
				if !doc.hasText(s) {
					t.Errorf("no <text> %q in %q", s, doc.texts)
				}
			}
			for _, s := range tt.labels {
				if !doc.hasTooltip(s) {
					t.Errorf("no <title> with %q", s)
				}
				if !strings.Contains(svg, html.EscapeString(s)) {
					t.Errorf("output lacks the escaped label %q", html.EscapeString(s))
				}
			}
			if more := len(tt.bars) - chartMaxRows; more > 0 && !strings.Contains(doc.desc, chartCount(more)+" more") {
				t.Errorf("desc does not say how many bars were left out: %q", doc.desc)
			}
		})
	}
}

func TestBarLengths(t *testing.T) {
	svg := Bar("Lengths", []Item{{Label: "a", Value: 200}, {Label: "b", Value: 100}, {Label: "c", Value: -1}}, "")
	var widths []float64
	for _, m := range strings.Split(svg, `<rect `)[1:] {
		_, rest, _ := strings.Cut(m, `width="`)
		w, _, _ := strings.Cut(rest, `"`)
		f, err := strconv.ParseFloat(w, 64)
		if err != nil {
			t.Fatalf("width %q: %v", w, err)
		}
		widths = append(widths, f)
	}
	if len(widths) != 3 || widths[0] <= 0 || widths[1] != widths[0]/2 || widths[2] != 0 {
		t.Errorf("bar widths = %v, want [w w/2 0] with w > 0", widths)
	}
}

func TestFunnel(t *testing.T) {
	tests := []struct {
		name   string
		stages []Item
		rects  int
		texts  []string
	}{
		{
			name: "adoption",
			stages: []Item{
				{Label: "Domains", Value: 1000000},
				{Label: "with MX", Value: 800000},
				{Label: "DNSSEC-signed", Value: 80000},
				{Label: "with TLSA", Value: 8000},
				{Label: "valid DANE", Value: 6000},
			},
			rects: 5,
			texts: []string{
				"Domains", "1,000,000", "100.0 % of first",
				"800,000", "80.0 % of first, 80.0 % of previous",
				"6,000", "0.6 % of first, 75.0 % of previous",
			},
		},
		{name: "nil", rects: 0, texts: []string{"No data"}},
		{name: "single stage", stages: []Item{{Label: "Domains", Value: 7}}, rects: 1, texts: []string{"7", "100.0 % of first"}},
		{
			name:   "zero first stage",
			stages: []Item{{Label: "a", Value: 0}, {Label: "b", Value: 0}},
			rects:  2,
			texts:  []string{"n/a of first", "n/a of first, n/a of previous"},
		},
		{
			name:   "zero in the middle",
			stages: []Item{{Label: "a", Value: 10}, {Label: "b", Value: 0}, {Label: "c", Value: 0}},
			rects:  3,
			texts:  []string{"0.0 % of first, 0.0 % of previous", "0.0 % of first, n/a of previous"},
		},
		{
			name:   "NaN, Inf and negative",
			stages: []Item{{Label: "a", Value: math.NaN()}, {Label: "b", Value: math.Inf(1)}, {Label: "c", Value: -3}},
			rects:  3,
			texts:  []string{"n/a", "n/a of first", "n/a of first, n/a of previous"},
		},
		{
			name:   "hostile and long labels",
			stages: []Item{{Label: hostileLabel, Value: 2, Note: "note"}, {Label: longLabel, Value: 1}},
			rects:  2,
			texts:  []string{"<script>alert(\"x\")</scr…", "2 (note)", "50.0 % of first, 50.0 % of previous"},
		},
		{name: "many", stages: manyBars(100), rects: chartMaxRows, texts: []string{"… 60 more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg := Funnel("Adoption funnel", tt.stages)
			doc := parseChart(t, svg)
			if doc.title != "Adoption funnel" || !doc.hasText("Adoption funnel") {
				t.Errorf("title = %q, want %q shown and as <title>", doc.title, "Adoption funnel")
			}
			if diff := countDiff(map[string]int{"rect": tt.rects, "path": 0, "circle": 0}, doc.count); diff != "" {
				t.Errorf("element counts (-want +got):\n%s", diff)
			}
			for _, s := range tt.texts {
				if !doc.hasText(s) {
					t.Errorf("no <text> %q in %q", s, doc.texts)
				}
			}
			for _, s := range tt.stages[:min(len(tt.stages), chartMaxRows)] {
				if !doc.hasTooltip(s.Label) || !strings.Contains(doc.desc, s.Label) {
					t.Errorf("label %q is not in a <title> and the <desc>", s.Label)
				}
			}
		})
	}
}

func TestLine(t *testing.T) {
	dates := []string{"2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"}
	tests := []struct {
		name    string
		xLabels []string
		series  []Series
		unit    string
		paths   int
		circles int
		texts   []string
		moves   int // "M" commands in all paths: 1 per unbroken run of points
	}{
		{
			name:    "percent",
			xLabels: dates,
			series: []Series{
				{Name: "DNSSEC", Points: []float64{5, 5.5, 6, 6.25}},
				{Name: "DANE", Points: []float64{0.1, 0.2, 0.3, 0.45}},
			},
			unit:    "%",
			paths:   2,
			circles: 8,
			moves:   2,
			texts:   []string{"DNSSEC", "DANE", "2026-01-01", "2026-04-01", "0 %", "100 %", "6.3 %", "0.5 %"},
		},
		{
			name:    "counts",
			xLabels: dates,
			series:  []Series{{Name: "domains", Points: []float64{1200, 4500, 9000, 12345}}},
			unit:    "domains",
			paths:   1,
			circles: 4,
			moves:   1,
			texts:   []string{"0", "5,000", "15,000", "12,345", "domains"},
		},
		{
			name:    "fractions",
			xLabels: []string{"a", "b"},
			series:  []Series{{Name: "s", Points: []float64{0.01, 0.03}}},
			paths:   1,
			circles: 2,
			moves:   1,
			texts:   []string{"0.01", "0.03", "0"},
		},
		{
			name:    "gaps",
			xLabels: dates,
			series:  []Series{{Name: "s", Points: []float64{1, math.NaN(), 3, math.Inf(1)}}},
			paths:   1,
			circles: 2,
			moves:   2,
		},
		{
			name:    "single point",
			xLabels: []string{"2026-01-01"},
			series:  []Series{{Name: "s", Points: []float64{42}}},
			paths:   1,
			circles: 1,
			moves:   1,
			texts:   []string{"42", "2026-01-01"},
		},
		{name: "nil", paths: 0, circles: 0, texts: []string{"No data"}},
		{name: "labels but no series", xLabels: dates, paths: 0, circles: 0},
		{
			name:    "all invalid",
			xLabels: dates,
			series:  []Series{{Name: "s", Points: []float64{math.NaN(), math.Inf(-1)}}, {Name: "empty"}},
			paths:   0,
			circles: 0,
			texts:   []string{"s", "empty"},
		},
		{
			name:    "zero and negative",
			xLabels: dates,
			series:  []Series{{Name: "s", Points: []float64{0, -1, 0, -2}}},
			paths:   1,
			circles: 4,
			moves:   1,
			texts:   []string{"-2"},
		},
		{
			name:    "no x labels",
			series:  []Series{{Name: "s", Points: []float64{1, 2, 3}}},
			paths:   1,
			circles: 3,
			moves:   1,
		},
		{
			name:    "more points than labels",
			xLabels: []string{"a", "b"},
			series:  []Series{{Name: "s", Points: []float64{1, 2, 3, 4}}},
			paths:   1,
			circles: 2,
			moves:   1,
		},
		{
			name:    "percent above 100",
			xLabels: []string{"a", "b"},
			series:  []Series{{Name: "s", Points: []float64{50, 120}}},
			unit:    "%",
			paths:   1,
			circles: 2,
			moves:   1,
			texts:   []string{"150 %"},
		},
		{
			name:    "hostile and long names",
			xLabels: []string{hostileLabel, longLabel},
			series:  []Series{{Name: hostileLabel, Points: []float64{1, 2}}, {Name: longLabel, Points: []float64{2, 1}}},
			paths:   2,
			circles: 4,
			moves:   2,
			texts:   []string{"<script>alert(\"x\")</scr…", "a-very-long…"},
		},
		{
			name: "many series and dates",
			xLabels: func() []string {
				l := make([]string, 365)
				for i := range l {
					l[i] = fmt.Sprint("d", i)
				}
				return l
			}(),
			series: func() []Series {
				s := make([]Series, 20)
				for i := range s {
					s[i] = Series{Name: fmt.Sprint("series ", i), Points: make([]float64, 365)}
				}
				return s
			}(),
			paths:   chartMaxSeries,
			circles: chartMaxSeries * 365,
			moves:   chartMaxSeries,
			texts:   []string{"d0", "d37", "… 12 more series"},
		},
		{
			name:    "huge values",
			xLabels: []string{"a", "b"},
			series:  []Series{{Name: "s", Points: []float64{math.MaxFloat64, math.SmallestNonzeroFloat64}}},
			paths:   1,
			circles: 2,
			moves:   1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg := Line("Adoption over time", tt.xLabels, tt.series, tt.unit)
			doc := parseChart(t, svg)
			if doc.title != "Adoption over time" {
				t.Errorf("title = %q", doc.title)
			}
			if diff := countDiff(map[string]int{"rect": 0, "path": tt.paths, "circle": tt.circles}, doc.count); diff != "" {
				t.Errorf("element counts (-want +got):\n%s", diff)
			}
			for _, s := range tt.texts {
				if !doc.hasText(s) {
					t.Errorf("no <text> %q in %q", s, doc.texts)
				}
			}
			moves := 0
			for _, p := range strings.Split(svg, `<path d="`)[1:] {
				d, _, _ := strings.Cut(p, `"`)
				moves += strings.Count(d, "M")
			}
			if moves != tt.moves {
				t.Errorf("%d M commands in paths, want %d", moves, tt.moves)
			}
		})
	}
}

func TestStackedBars(t *testing.T) {
	tests := []struct {
		name   string
		stacks []Stack
		rects  int // segments plus legend swatches
		texts  []string
	}{
		{
			name: "DANE share by TLD",
			stacks: []Stack{
				{Label: ".nl", Segments: []Segment{{"all", 600}, {"some", 100}, {"none", 300}}},
				{Label: ".de", Segments: []Segment{{"all", 50}, {"some", 0}, {"none", 950}}},
				{Label: ".com", Segments: []Segment{{"all", 1}, {"some", 2}, {"none", 1997}}},
			},
			rects: 3 + 3 + 2 + 3, // legend + .nl + .de + .com
			texts: []string{".nl", ".de", ".com", "all", "some", "none", "60.0 %", "30.0 %", "95.0 %", "n = 1,000", "n = 2,000"},
		},
		{name: "nil", rects: 0, texts: []string{"No data"}},
		{
			name:   "stack without positive total",
			stacks: []Stack{{Label: "x", Segments: []Segment{{"all", 0}, {"none", -1}, {"some", math.NaN()}}}, {Label: "y"}},
			rects:  3, // legend only
			texts:  []string{"no data"},
		},
		{
			name:   "infinite segment",
			stacks: []Stack{{Label: "x", Segments: []Segment{{"all", math.Inf(1)}, {"none", 1}}}},
			rects:  2 + 1,
			texts:  []string{"100.0 %"},
		},
		{
			name:   "hostile and long labels",
			stacks: []Stack{{Label: hostileLabel, Segments: []Segment{{hostileLabel, 1}, {longLabel, 1}}}},
			rects:  2 + 2,
			texts:  []string{"<script>alert(\"x\")</scr…", "a-very-long-subdomain-l…"},
		},
		{
			name: "many stacks",
			stacks: func() []Stack {
				s := make([]Stack, 300)
				for i := range s {
					s[i] = Stack{Label: fmt.Sprint(".tld", i), Segments: []Segment{{"all", 1}, {"none", 1}}}
				}
				return s
			}(),
			rects: 2 + 2*chartMaxRows,
			texts: []string{"… 260 more"},
		},
		{
			name: "more names than colours",
			stacks: []Stack{{Label: "x", Segments: func() []Segment {
				s := make([]Segment, 12)
				for i := range s {
					s[i] = Segment{fmt.Sprint("s", i), 1}
				}
				return s
			}()}},
			rects: 12 + 12,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg := StackedBars("DANE share by TLD", tt.stacks)
			doc := parseChart(t, svg)
			if doc.title != "DANE share by TLD" {
				t.Errorf("title = %q", doc.title)
			}
			if diff := countDiff(map[string]int{"rect": tt.rects, "path": 0, "circle": 0}, doc.count); diff != "" {
				t.Errorf("element counts (-want +got):\n%s", diff)
			}
			for _, s := range tt.texts {
				if !doc.hasText(s) {
					t.Errorf("no <text> %q in %q", s, doc.texts)
				}
			}
			for _, s := range tt.stacks[:min(len(tt.stacks), chartMaxRows)] {
				if !strings.Contains(doc.desc, s.Label) {
					t.Errorf("label %q is not in the <desc>", s.Label)
				}
			}
		})
	}
}

func TestChartNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{7, "7"},
		{999, "999"},
		{1000, "1,000"},
		{1234567, "1,234,567"},
		{-1234567, "-1,234,567"},
		{1234.56, "1,234.6"},
		{12.04, "12"},
		{0.05, "0.1"},
		{-0.04, "0"},
		{1e15, "1,000,000,000,000,000"},
		{math.NaN(), "n/a"},
		{math.Inf(1), "n/a"},
		{math.Inf(-1), "n/a"},
	}
	for _, tt := range tests {
		if got := chartNumber(tt.in); got != tt.want {
			t.Errorf("chartNumber(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestChartPercent(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0 %"},
		{-0.01, "0.0 %"},
		{12.5, "12.5 %"},
		{12.345, "12.3 %"},
		{6.25, "6.3 %"},
		{-6.25, "-6.3 %"},
		{100, "100.0 %"},
		{12345.6, "12,345.6 %"},
		{math.NaN(), "n/a"},
		{math.Inf(1), "n/a"},
	}
	for _, tt := range tests {
		if got := chartPercent(tt.in); got != tt.want {
			t.Errorf("chartPercent(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestChartTicks(t *testing.T) {
	tests := []struct {
		max       float64
		percent   bool
		top, step float64
	}{
		{0, false, 5, 1},
		{0, true, 100, 20},
		{42, true, 100, 20},
		{120, true, 150, 50},
		{1, false, 1, 0.2},
		{7, false, 8, 2},
		{12345, false, 15000, 5000},
		{0.03, false, 0.03, 0.01},
		{math.NaN(), false, 5, 1},
	}
	for _, tt := range tests {
		top, step, steps := chartTicks(tt.max, tt.percent)
		if math.Abs(top-tt.top) > 1e-9 || math.Abs(step-tt.step) > 1e-9 || steps < 1 || steps > 10 {
			t.Errorf("chartTicks(%v, %v) = %v, %v, %d, want %v, %v", tt.max, tt.percent, top, step, steps, tt.top, tt.step)
		}
	}
	for _, v := range []float64{math.MaxFloat64, math.SmallestNonzeroFloat64, 1e-300, 1e300} {
		top, step, steps := chartTicks(v, false)
		if !(top >= v) || !(step > 0) || steps < 1 || steps > 10 || math.IsInf(top, 0) {
			t.Errorf("chartTicks(%v) = %v, %v, %d: want a finite top ≥ max and 1 to 10 positive steps", v, top, step, steps)
		}
	}
}

func TestChartTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"one more char", 10, "one more…"},
		{"ééééééééééé", 5, "éééé…"},
	}
	for _, tt := range tests {
		if got := chartTruncate(tt.in, tt.n); got != tt.want {
			t.Errorf("chartTruncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// TestChartPaletteContrast checks that the text colour of each palette entry
// has a WCAG 2 contrast ratio of at least 4.5 on its fill.
func TestChartPaletteContrast(t *testing.T) {
	luminance := func(hex string) float64 {
		var rgb [3]float64
		for i := range rgb {
			v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
			if err != nil {
				t.Fatalf("colour %q: %v", hex, err)
			}
			c := float64(v) / 255
			if c <= 0.04045 {
				rgb[i] = c / 12.92
			} else {
				rgb[i] = math.Pow((c+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
	}
	seen := map[string]bool{}
	for _, c := range chartPalette {
		if seen[c.Fill] {
			t.Errorf("colour %s appears twice", c.Fill)
		}
		seen[c.Fill] = true
		a, b := luminance(c.Fill), luminance(c.Text)
		ratio := (math.Max(a, b) + 0.05) / (math.Min(a, b) + 0.05)
		if ratio < 4.5 {
			t.Errorf("text %s on %s: contrast %.2f, want ≥ 4.5", c.Text, c.Fill, ratio)
		}
	}
	if len(chartDashes) != len(chartPalette) {
		t.Errorf("%d dash patterns for %d colours", len(chartDashes), len(chartPalette))
	}
}

// goldenCharts is one chart of each kind, as the report draws them.
func goldenCharts() map[string]string {
	return map[string]string{
		"bar.svg": Bar("Top MX providers of DANE domains", []Item{
			{Label: "mail.protection.outlook.com", Value: 123456, Note: "41.2 %"},
			{Label: "transip.email", Value: 45678, Note: "15.2 %"},
			{Label: "a-very-long-mail-provider-hostname.example.co.uk", Value: 9876, Note: "3.3 %"},
			{Label: "<tricky & \"quoted\">", Value: 12, Note: "0.0 %"},
		}, "domains"),
		"funnel.svg": Funnel("DANE adoption funnel", []Item{
			{Label: "Domains scanned", Value: 1000000},
			{Label: "with MX", Value: 812345},
			{Label: "DNSSEC-signed MX", Value: 65432},
			{Label: "with TLSA records", Value: 12345},
			{Label: "TLSA matches", Value: 11111},
		}),
		"line.svg": Line("DANE adoption over time", []string{
			"2026-01-05", "2026-02-02", "2026-03-02", "2026-04-06", "2026-05-04", "2026-06-01",
		}, []Series{
			{Name: "DNSSEC-signed MX", Points: []float64{7.9, 8.1, 8.4, math.NaN(), 8.9, 9.2}},
			{Name: "valid DANE", Points: []float64{1.1, 1.2, 1.25, 1.3, 1.42, 1.5}},
			{Name: "broken DANE", Points: []float64{0.2, 0.25, 0.22, 0.21, 0.19, 0.18}},
		}, "%"),
		"stacked.svg": StackedBars("DANE share by TLD", []Stack{
			{Label: ".nl", Segments: []Segment{{"all MX", 31234}, {"some MX", 1234}, {"no MX", 60012}}},
			{Label: ".se", Segments: []Segment{{"all MX", 8123}, {"some MX", 321}, {"no MX", 40001}}},
			{Label: ".de", Segments: []Segment{{"all MX", 2001}, {"some MX", 99}, {"no MX", 120000}}},
			{Label: ".com", Segments: []Segment{{"all MX", 5000}, {"some MX", 800}, {"no MX", 900000}}},
		}),
	}
}

func TestChartGolden(t *testing.T) {
	for name, got := range goldenCharts() {
		t.Run(name, func(t *testing.T) {
			parseChart(t, got)
			path := filepath.Join("testdata", "charts", name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./analysis/chart -update)", err)
			}
			if string(want) != got {
				t.Errorf("%s differs from the golden file; run go test ./analysis/chart -update and review the diff\n%s",
					name, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff returns the first differing line of want and got, for a readable
// failure message.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d (-want +got):\n-%s\n+%s", i+1, wl, gl)
		}
	}
	return ""
}

func TestChartDeterministic(t *testing.T) {
	first := goldenCharts()
	for range 3 {
		for name, got := range goldenCharts() {
			if !bytes.Equal([]byte(got), []byte(first[name])) {
				t.Errorf("%s: two calls with the same input gave different output", name)
			}
		}
	}
	// Different charts get different ids, so that several can share a page.
	ids := map[string]string{}
	for name, svg := range first {
		doc := parseChart(t, svg)
		id := doc.root["aria-labelledby"]
		if other, ok := ids[id]; ok {
			t.Errorf("%s and %s share aria-labelledby %q", name, other, id)
		}
		ids[id] = name
	}
}
