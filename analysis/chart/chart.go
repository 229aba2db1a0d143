// Package chart draws the charts of danescan's report as self-contained SVG,
// with the standard library alone: Bar, Funnel, Line and StackedBars. It
// knows nothing of DANE or of the report; the caller passes labels and
// values.
//
// Each function returns one <svg> element as a string, ready to be inlined in
// report.html or saved as an .svg file next to report.md. The SVG uses no
// JavaScript, no external fonts, stylesheets or images, only presentation
// attributes and font-family "sans-serif". It is 720 px wide (and scales down
// with max-width: 100%), has role="img", a <title> and a <desc> referenced by
// aria-labelledby, and text labels for the values.
//
// Output is deterministic: the same input gives the same bytes. Coordinates are
// printed with one decimal (strconv.FormatFloat(v, 'f', 1, 64)); the element
// ids are derived from a hash of the chart's content, so two charts on one page
// get different ids unless they are identical.
//
// No input makes these functions panic or produce invalid XML: text is made
// valid UTF-8, characters that XML 1.0 forbids are replaced by U+FFFD and the
// rest is escaped; NaN, ±Inf and negative values are drawn as zero and labelled
// as given ("n/a" for NaN and ±Inf); empty input draws "No data"; long labels
// are cut with an ellipsis, the full text kept in a <title> child of the bar;
// more than chartMaxRows bars are cut off with a "… N more" line.
//
// Colours come from the Okabe-Ito palette (Okabe & Ito, "Color Universal
// Design", 2008), which stays distinguishable under the common forms of colour
// blindness; see chartPalette. Line charts also vary the dash pattern per
// series, so that lines can be told apart without colour.
//
// Numbers: counts are printed with a comma as thousands separator
// (1,234,567) and at most one decimal; percentages with one decimal and a
// space before the sign ("12.5 %").
package chart

import (
	"fmt"
	"hash/fnv"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Item is one bar of a Bar chart or one stage of a Funnel: a label, a
// value, and an optional note shown after the value (e.g. "12.5 %").
type Item struct {
	Label string  // the bar's or stage's label
	Value float64 // its value, drawn as the bar's length
	Note  string  // shown in parentheses after the value; may be empty
}

// Series is one line of a trend chart: its name (shown in the legend) and one
// value per x label. A NaN or ±Inf point leaves a gap in the line.
type Series struct {
	Name   string    // shown in the legend
	Points []float64 // one value per x label
}

// Segment is one part of a Stack, e.g. the domains with DANE on all, some or
// none of their MX hosts.
type Segment struct {
	Name  string  // shown in the legend
	Value float64 // its length in the stack
}

// Stack is one row of StackedBars: a category (e.g. a TLD) and its segments.
type Stack struct {
	Label    string    // the category, left of the bar
	Segments []Segment // its parts, in the order of the legend
}

const (
	chartWidth       = 720.0 // px, the viewBox width
	chartPad         = 16.0  // px, left/right/bottom margin
	chartTitleY      = 24.0  // baseline of the visible title
	chartMaxRows     = 40    // bars, stages or stacks drawn; the rest are summarised
	chartMaxSeries   = 8     // lines drawn in a Line
	chartLabelRunes  = 28    // category labels are cut to this many runes
	chartValueRunes  = 24    // value labels (value, unit and note) are cut to this many runes
	chartXLabelRunes = 12    // x-axis labels of a Line
	chartNameRunes   = 24    // legend entries
	chartMaxXLabels  = 10    // x-axis labels shown in a Line, evenly spaced
	chartRuneWidth   = 6.6   // px, rough advance of one rune at font-size 12
	chartBarColour   = "#0072B2"
	chartGridColour  = "#DDDDDD"
	chartAxisColour  = "#555555"
	chartTextColour  = "#222222"
	chartMutedColour = "#555555"
)

// chartColour is a fill colour and the text colour (black or white) with the
// higher contrast on it.
type chartColour struct {
	Fill, Text string
}

// chartPalette is the Okabe-Ito palette, in the order colours are handed out
// to series and segments: blue, orange, bluish green, vermillion, reddish
// purple, sky blue, black, yellow. Yellow comes last because it is faint on
// white as a line. Text is white on blue and black, black on the others (each
// pair has a WCAG contrast ratio of at least 4.5; see TestChartPaletteContrast).
var chartPalette = [...]chartColour{
	{"#0072B2", "#FFFFFF"}, // blue
	{"#E69F00", "#000000"}, // orange
	{"#009E73", "#000000"}, // bluish green
	{"#D55E00", "#000000"}, // vermillion
	{"#CC79A7", "#000000"}, // reddish purple
	{"#56B4E9", "#000000"}, // sky blue
	{"#000000", "#FFFFFF"}, // black
	{"#F0E442", "#000000"}, // yellow
}

// chartDashes are the stroke-dasharray values of the lines of a Line,
// one per palette colour, so that series differ in more than colour.
var chartDashes = [...]string{"", "6 3", "2 3", "8 3 2 3", "12 4", "4 4", "1 4", "10 2 2 2"}

// Bar draws horizontal bars in the order given (the caller sorts them,
// usually largest first), each labelled with its value at the bar end: the
// value, then unit ("%" prints the value as a percentage with one decimal,
// any other non-empty unit is appended after a space), then the Note in
// parentheses. Bar lengths are proportional to the values; the longest bar is
// the largest value. Only the first 40 bars are drawn, followed by a
// "… N more" line. It returns the <svg> element as a string.
func Bar(title string, bars []Item, unit string) string {
	const (
		top    = 44.0
		rowH   = 24.0
		barH   = 16.0
		labelX = 200.0 // right edge of the labels
		barX   = 208.0
		valueW = 176.0 // room for the value label after the longest bar
	)
	barW := chartWidth - barX - valueW - chartPad

	shown, more := chartCap(len(bars), chartMaxRows)
	maxValue := 0.0
	for _, b := range bars[:shown] {
		maxValue = math.Max(maxValue, chartPositive(b.Value))
	}

	var c chartSVG
	c.heading(title)
	var desc strings.Builder
	fmt.Fprintf(&desc, "Bar chart of %s values.", chartCount(len(bars)))
	y := top
	if len(bars) == 0 {
		c.text(barX, y+rowH/2+4, "start", `fill="`+chartMutedColour+`"`, "No data")
		y += rowH
	}
	for _, b := range bars[:shown] {
		label := chartClean(b.Label)
		value := chartValue(b.Value, unit, b.Note)
		w := 0.0
		if maxValue > 0 && chartPositive(b.Value) > 0 {
			w = math.Max(1, chartPositive(b.Value)/maxValue*barW) // at least 1 px, to be seen
		}
		baseline := y + rowH/2 + 4
		c.text(labelX, baseline, "end", "", chartTruncate(label, chartLabelRunes))
		c.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`+"\n",
			chartCoord(barX), chartCoord(y+(rowH-barH)/2), chartCoord(w), chartCoord(barH), chartBarColour,
			chartEscape(label+": "+value))
		c.text(barX+w+6, baseline, "start", "", chartTruncate(value, chartValueRunes))
		fmt.Fprintf(&desc, " %s: %s.", label, value)
		y += rowH
	}
	if more > 0 {
		c.text(barX, y+rowH/2+4, "start", `fill="`+chartMutedColour+`"`, "… "+chartCount(more)+" more")
		fmt.Fprintf(&desc, " … %s more.", chartCount(more))
		y += rowH
	}
	return c.document(title, desc.String(), y+chartPad)
}

// Funnel draws the adoption funnel: one bar per stage, centred, its width
// proportional to its value (the first stage, normally the largest, is the
// widest), labelled with the count, the Note if any, the percentage of the
// first stage and the percentage of the previous stage. A percentage whose
// base is zero, negative, NaN or ±Inf is printed as "n/a". Only the first 40
// stages are drawn. It returns the <svg> element as a string.
func Funnel(title string, stages []Item) string {
	const (
		top    = 44.0
		rowH   = 44.0
		barH   = 30.0
		labelX = 168.0
		barX   = 176.0
		barW   = 280.0
		textX  = 468.0
	)
	shown, more := chartCap(len(stages), chartMaxRows)
	maxValue := 0.0
	for _, s := range stages[:shown] {
		maxValue = math.Max(maxValue, chartPositive(s.Value))
	}

	var c chartSVG
	c.heading(title)
	var desc strings.Builder
	fmt.Fprintf(&desc, "Funnel of %s stages.", chartCount(len(stages)))
	y := top
	if len(stages) == 0 {
		c.text(barX, y+rowH/2+4, "start", `fill="`+chartMutedColour+`"`, "No data")
		y += rowH
	}
	for i, s := range stages[:shown] {
		label := chartClean(s.Label)
		count := chartValue(s.Value, "", s.Note)
		var share string
		if i == 0 {
			share = chartShare(s.Value, stages[0].Value) + " of first"
		} else {
			share = chartShare(s.Value, stages[0].Value) + " of first, " +
				chartShare(s.Value, stages[i-1].Value) + " of previous"
		}
		w := 0.0
		if maxValue > 0 && chartPositive(s.Value) > 0 {
			w = math.Max(1, chartPositive(s.Value)/maxValue*barW) // at least 1 px, to be seen
		}
		c.text(labelX, y+rowH/2+4, "end", "", chartTruncate(label, chartLabelRunes-4))
		c.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`+"\n",
			chartCoord(barX+(barW-w)/2), chartCoord(y+(rowH-barH)/2), chartCoord(w), chartCoord(barH), chartBarColour,
			chartEscape(label+": "+count+", "+share))
		c.text(textX, y+rowH/2-2, "start", `font-weight="bold"`, chartTruncate(count, chartValueRunes+10))
		c.text(textX, y+rowH/2+12, "start", `font-size="11" fill="`+chartMutedColour+`"`, share)
		fmt.Fprintf(&desc, " %s: %s, %s.", label, count, share)
		y += rowH
	}
	if more > 0 {
		c.text(barX, y+rowH/2, "start", `fill="`+chartMutedColour+`"`, "… "+chartCount(more)+" more")
		fmt.Fprintf(&desc, " … %s more.", chartCount(more))
		y += rowH / 2
	}
	return c.document(title, desc.String(), y+chartPad)
}

// Line draws one line per series over xLabels (e.g. scan dates), with
// a marker at every point and the last value of each line labelled at its
// end. The y axis runs from 0 to a round number at or above the largest value,
// or from 0 to 100 when unit is "%" (further if a value exceeds 100); any other
// non-empty unit is printed above the y axis. Points beyond len(xLabels) are
// ignored; if xLabels is empty the x axis has as many unlabelled positions as
// the longest series. NaN and ±Inf points leave a gap; negative points are
// drawn at 0. Only the first 8 series are drawn, the legend says how many more
// there are. It returns the <svg> element as a string.
func Line(title string, xLabels []string, series []Series, unit string) string {
	const (
		top    = 48.0
		plotH  = 220.0
		left   = 72.0
		right  = 88.0 // room for the end-of-line value labels
		legend = 40.0 // from the x axis to the first legend row
		itemH  = 20.0
	)
	plotW := chartWidth - left - right
	bottom := top + plotH

	n := len(xLabels)
	if n == 0 {
		for _, s := range series {
			n = max(n, len(s.Points))
		}
	}
	shown, more := chartCap(len(series), chartMaxSeries)
	dataMax := 0.0
	for _, s := range series[:shown] {
		for _, p := range s.Points[:min(len(s.Points), n)] {
			dataMax = math.Max(dataMax, chartPositive(p))
		}
	}
	yMax, step, ticks := chartTicks(dataMax, unit == "%")
	xAt := func(i int) float64 {
		if n <= 1 {
			return left + plotW/2
		}
		return left + float64(i)*plotW/float64(n-1)
	}
	yAt := func(v float64) float64 {
		return bottom - math.Min(chartPositive(v), yMax)/yMax*plotH
	}
	format := func(v float64) string {
		if unit == "%" {
			return chartPercent(v)
		}
		return chartNumber(v)
	}

	var c chartSVG
	c.heading(title)
	var desc strings.Builder
	fmt.Fprintf(&desc, "Line chart of %s series over %s points.", chartCount(len(series)), chartCount(n))

	// Axes, grid and tick labels.
	decimals := chartDecimals(step)
	for i := 0; i <= ticks; i++ {
		v := float64(i) * step
		y := yAt(v)
		colour := chartGridColour
		if i == 0 {
			colour = chartAxisColour
		}
		c.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1"/>`+"\n",
			chartCoord(left), chartCoord(y), chartCoord(left+plotW), chartCoord(y), colour)
		label := chartGroup(strconv.FormatFloat(v, 'f', decimals, 64))
		if unit == "%" {
			label += " %"
		}
		c.text(left-8, y+4, "end", `font-size="11" fill="`+chartMutedColour+`"`, label)
	}
	c.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1"/>`+"\n",
		chartCoord(left), chartCoord(top), chartCoord(left), chartCoord(bottom), chartAxisColour)
	if unit != "" && unit != "%" {
		c.text(left-8, top-12, "end", `font-size="11" fill="`+chartMutedColour+`"`, chartTruncate(chartClean(unit), 12))
	}
	// Every so many x labels, so that there are at most chartMaxXLabels and
	// they do not overlap (11 px text, about 6 px a rune).
	every := max(1, (n+chartMaxXLabels-1)/chartMaxXLabels)
	if n > 1 {
		widest := 0
		for _, l := range xLabels[:min(n, len(xLabels))] {
			widest = max(widest, min(utf8.RuneCountInString(chartClean(l)), chartXLabelRunes))
		}
		every = max(every, int(math.Ceil((float64(widest)*6+8)/(plotW/float64(n-1)))))
	}
	for i := 0; i < n && i < len(xLabels); i += every {
		c.text(xAt(i), bottom+16, "middle", `font-size="11" fill="`+chartMutedColour+`"`,
			chartTruncate(chartClean(xLabels[i]), chartXLabelRunes))
	}
	if n == 0 {
		c.text(left+plotW/2, top+plotH/2, "middle", `fill="`+chartMutedColour+`"`, "No data")
	}

	// Lines, markers and end labels.
	type chartEnd struct {
		x, y  float64
		label string
	}
	var ends []chartEnd
	for si, s := range series[:shown] {
		colour := chartPalette[si%len(chartPalette)].Fill
		name := chartClean(s.Name)
		points := s.Points[:min(len(s.Points), n)]
		var d strings.Builder
		penDown := false
		last := -1
		for i, p := range points {
			if math.IsNaN(p) || math.IsInf(p, 0) {
				penDown = false
				continue
			}
			if penDown {
				d.WriteString(" L")
			} else {
				if d.Len() > 0 {
					d.WriteString(" ")
				}
				d.WriteString("M")
			}
			d.WriteString(chartCoord(xAt(i)) + " " + chartCoord(yAt(p)))
			penDown = true
			last = i
		}
		fmt.Fprintf(&desc, " %s:", name)
		if last < 0 {
			desc.WriteString(" no data.")
			continue
		}
		dash := ""
		if pattern := chartDashes[si%len(chartDashes)]; pattern != "" {
			dash = ` stroke-dasharray="` + pattern + `"`
		}
		c.printf(`<path d="%s" fill="none" stroke="%s" stroke-width="2"%s stroke-linejoin="round"><title>%s</title></path>`+"\n",
			d.String(), colour, dash, chartEscape(name))
		for i, p := range points {
			if math.IsNaN(p) || math.IsInf(p, 0) {
				continue
			}
			x := ""
			if i < len(xLabels) {
				x = chartClean(xLabels[i])
			}
			c.printf(`<circle cx="%s" cy="%s" r="3.5" fill="%s"><title>%s</title></circle>`+"\n",
				chartCoord(xAt(i)), chartCoord(yAt(p)), colour, chartEscape(name+", "+x+": "+format(p)))
			if x != "" {
				fmt.Fprintf(&desc, " %s %s", x, format(p))
			} else {
				fmt.Fprintf(&desc, " %s", format(p))
			}
			if i != last {
				desc.WriteString(",")
			}
		}
		desc.WriteString(".")
		ends = append(ends, chartEnd{xAt(last) + 8, yAt(points[last]) + 4, format(points[last])})
	}
	// End labels, sorted bottom to top and pushed up so that they do not
	// overlap each other when lines end close together, nor the x labels.
	sort.SliceStable(ends, func(i, j int) bool { return ends[i].y > ends[j].y })
	for i, e := range ends {
		if i > 0 && e.y > ends[i-1].y-12 {
			e.y = ends[i-1].y - 12
		}
		e.y = min(e.y, bottom+4)
		ends[i] = e
		c.text(e.x, e.y, "start", `font-size="11"`, chartTruncate(e.label, 12))
	}

	// Legend: a short line in the series' colour and dash, then its name.
	x, y := left, bottom+legend
	for si, s := range series[:shown] {
		name := chartTruncate(chartClean(s.Name), chartNameRunes)
		w := 28 + float64(utf8.RuneCountInString(name))*chartRuneWidth + 16
		if x+w > chartWidth-chartPad && x > left {
			x, y = left, y+itemH
		}
		dash := ""
		if pattern := chartDashes[si%len(chartDashes)]; pattern != "" {
			dash = ` stroke-dasharray="` + pattern + `"`
		}
		c.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"%s/>`+"\n",
			chartCoord(x), chartCoord(y-4), chartCoord(x+22), chartCoord(y-4), chartPalette[si%len(chartPalette)].Fill, dash)
		c.text(x+28, y, "start", "", name)
		x += w
	}
	if more > 0 {
		label := "… " + chartCount(more) + " more series"
		if w := float64(utf8.RuneCountInString(label)) * chartRuneWidth; x+w > chartWidth-chartPad && x > left {
			x, y = left, y+itemH
		}
		c.text(x, y, "start", `fill="`+chartMutedColour+`"`, label)
		fmt.Fprintf(&desc, " … %s more series.", chartCount(more))
	}
	return c.document(title, desc.String(), y+chartPad)
}

// StackedBars draws one horizontal bar per stack, its segments stacked to
// 100 % of the stack's total, for shares such as "DANE on all / some / none of
// the MX hosts" per TLD. Each segment is labelled with its percentage when the
// text fits inside it (the <title> of every segment holds label, name,
// percentage and value), and each bar with its total ("n = 1,234"). Segments
// keep one colour per name across stacks, in order of first appearance, shown
// in a legend. Zero, negative, NaN and ±Inf segments are left out; a stack
// without a positive total says "no data". Only the first 40 stacks are
// drawn. It returns the <svg> element as a string.
func StackedBars(title string, stacks []Stack) string {
	const (
		legendY = 48.0
		itemH   = 20.0
		rowH    = 28.0
		barH    = 20.0
		labelX  = 160.0
		barX    = 168.0
		totalW  = 96.0
	)
	barW := chartWidth - barX - totalW - chartPad
	shown, more := chartCap(len(stacks), chartMaxRows)

	var c chartSVG
	c.heading(title)
	var desc strings.Builder
	fmt.Fprintf(&desc, "Stacked bars of %s categories, each adding up to 100 %%.", chartCount(len(stacks)))

	// Colours by segment name, in order of first appearance.
	var names []string
	colourOf := map[string]chartColour{}
	for _, s := range stacks[:shown] {
		for _, seg := range s.Segments {
			name := chartClean(seg.Name)
			if _, ok := colourOf[name]; !ok {
				colourOf[name] = chartPalette[len(names)%len(chartPalette)]
				names = append(names, name)
			}
		}
	}

	// Legend: a swatch then the name.
	x, y := barX, legendY
	for _, name := range names {
		label := chartTruncate(name, chartNameRunes)
		w := 18 + float64(utf8.RuneCountInString(label))*chartRuneWidth + 16
		if x+w > chartWidth-chartPad && x > barX {
			x, y = barX, y+itemH
		}
		c.printf(`<rect x="%s" y="%s" width="12" height="12" fill="%s"/>`+"\n",
			chartCoord(x), chartCoord(y-10), colourOf[name].Fill)
		c.text(x+18, y, "start", "", label)
		x += w
	}
	if len(names) > 0 {
		y += itemH
	}

	top := y - 4
	y = top
	if len(stacks) == 0 {
		c.text(barX, y+rowH/2+4, "start", `fill="`+chartMutedColour+`"`, "No data")
		y += rowH
	}
	for _, s := range stacks[:shown] {
		label := chartClean(s.Label)
		total := 0.0
		for _, seg := range s.Segments {
			total += chartPositive(seg.Value)
		}
		baseline := y + rowH/2 + 4
		c.text(labelX, baseline, "end", "", chartTruncate(label, chartLabelRunes-4))
		fmt.Fprintf(&desc, " %s:", label)
		if total <= 0 || math.IsInf(total, 0) {
			c.text(barX, baseline, "start", `fill="`+chartMutedColour+`"`, "no data")
			desc.WriteString(" no data.")
			y += rowH
			continue
		}
		pos := barX
		first := true
		for _, seg := range s.Segments {
			v := chartPositive(seg.Value)
			if v <= 0 {
				continue
			}
			name := chartClean(seg.Name)
			colour := colourOf[name]
			w := v / total * barW
			pct := chartPercent(v / total * 100)
			c.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`+"\n",
				chartCoord(pos), chartCoord(y+(rowH-barH)/2), chartCoord(w), chartCoord(barH), colour.Fill,
				chartEscape(label+", "+name+": "+pct+" ("+chartNumber(seg.Value)+")"))
			if float64(utf8.RuneCountInString(pct))*chartRuneWidth*11/12+6 <= w {
				c.text(pos+w/2, baseline-0.5, "middle", `font-size="11" fill="`+colour.Text+`"`, pct)
			}
			if !first {
				desc.WriteString(",")
			}
			fmt.Fprintf(&desc, " %s %s", name, pct)
			first = false
			pos += w
		}
		c.text(barX+barW+8, baseline, "start", `font-size="11" fill="`+chartMutedColour+`"`, "n = "+chartNumber(total))
		fmt.Fprintf(&desc, " (n = %s).", chartNumber(total))
		y += rowH
	}
	if more > 0 {
		c.text(barX, y+rowH/2+4, "start", `fill="`+chartMutedColour+`"`, "… "+chartCount(more)+" more")
		fmt.Fprintf(&desc, " … %s more.", chartCount(more))
		y += rowH
	}
	return c.document(title, desc.String(), y+chartPad)
}

// chartSVG collects the body of a chart; document wraps it in <svg>.
type chartSVG struct {
	b strings.Builder
}

func (c *chartSVG) printf(format string, args ...any) {
	fmt.Fprintf(&c.b, format, args...)
}

// text writes a <text> element; s is escaped here, attrs is written as is.
func (c *chartSVG) text(x, y float64, anchor, attrs, s string) {
	if attrs != "" {
		attrs = " " + attrs
	}
	c.printf(`<text x="%s" y="%s" text-anchor="%s"%s>%s</text>`+"\n", chartCoord(x), chartCoord(y), anchor, attrs, chartEscape(s))
}

// heading writes the visible title.
func (c *chartSVG) heading(title string) {
	c.text(chartPad, chartTitleY, "start", `font-size="16" font-weight="bold" fill="`+chartTextColour+`"`,
		chartTruncate(chartClean(title), 80))
}

// document returns the <svg> element of the given height around the body,
// with its accessible name (title) and description (desc).
func (c *chartSVG) document(title, desc string, height float64) string {
	if strings.TrimSpace(title) == "" {
		title = "Chart"
	}
	body := c.b.String()
	h := fnv.New32a()
	h.Write([]byte(title))
	h.Write([]byte{0})
	h.Write([]byte(desc))
	h.Write([]byte{0})
	h.Write([]byte(body))
	id := fmt.Sprintf("chart-%08x", h.Sum32())
	height = math.Ceil(height)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d"`+
		` role="img" aria-labelledby="%s-title %s-desc" font-family="sans-serif" font-size="12" fill="%s"`+
		` style="background:#fff;max-width:100%%;height:auto">`+"\n",
		int(chartWidth), int(height), int(chartWidth), int(height), id, id, chartTextColour)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`+"\n", id, chartEscape(title))
	fmt.Fprintf(&b, `<desc id="%s-desc">%s</desc>`+"\n", id, chartEscape(desc))
	b.WriteString(body)
	b.WriteString("</svg>\n")
	return b.String()
}

// chartCap returns how many of n rows to draw and how many are left over.
func chartCap(n, limit int) (shown, more int) {
	if n <= limit {
		return n, 0
	}
	return limit, n - limit
}

// chartPositive returns v if it is a positive finite number, else 0: the
// length a value is drawn with.
func chartPositive(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return 0
	}
	return v
}

// chartCoord formats a coordinate with one decimal; NaN and ±Inf become 0.
func chartCoord(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
		return "0.0"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// chartNumber formats a count or value with thousands separators and at most
// one decimal: 1234567 → "1,234,567", 1234.56 → "1,234.6". NaN and ±Inf
// give "n/a".
func chartNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	r := math.Round(v*10) / 10
	if math.IsInf(r, 0) || math.IsNaN(r) {
		r = v
	}
	prec := 1
	if r == math.Trunc(r) {
		prec = 0
	}
	if r == 0 {
		r = 0 // no "-0"
	}
	return chartGroup(strconv.FormatFloat(r, 'f', prec, 64))
}

// chartCount formats a number of items: chartNumber of an int.
func chartCount(n int) string {
	return chartNumber(float64(n))
}

// chartPercent formats a percentage with one decimal: "12.5 %". NaN and ±Inf
// give "n/a".
func chartPercent(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	// Round half away from zero (6.25 → 6.3), as readers expect;
	// FormatFloat alone rounds exact halves to even.
	if r := math.Round(v*10) / 10; !math.IsInf(r, 0) {
		v = r
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if s == "-0.0" {
		s = "0.0"
	}
	return chartGroup(s) + " %"
}

// chartShare returns v as a percentage of base, or "n/a" if base is not a
// positive finite number.
func chartShare(v, base float64) string {
	if chartPositive(base) == 0 {
		return "n/a"
	}
	return chartPercent(v / base * 100)
}

// chartValue is the label of a bar: the value with its unit, then the note.
func chartValue(v float64, unit, note string) string {
	var s string
	switch unit {
	case "%":
		s = chartPercent(v)
	case "":
		s = chartNumber(v)
	default:
		s = chartNumber(v) + " " + chartClean(unit)
	}
	if note = strings.TrimSpace(chartClean(note)); note != "" {
		s += " (" + note + ")"
	}
	return s
}

// chartGroup inserts a comma every three digits into the integer part of a
// formatted number ("-1234567.5" → "-1,234,567.5").
func chartGroup(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}

// chartTicks returns the top of the y axis, the distance between ticks and
// the number of steps from 0 to the top: round numbers (1, 2 or 5 times a
// power of ten) with at most 5 steps, or 0 to 100 by 20 for percentages
// up to 100.
func chartTicks(dataMax float64, percent bool) (top, step float64, steps int) {
	if percent && dataMax <= 100 {
		return 100, 20, 5
	}
	if !(dataMax > 1e-300) || math.IsInf(dataMax, 0) {
		return 5, 1, 5
	}
	raw := dataMax / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		step = m * mag
		if step >= raw {
			break
		}
	}
	steps = int(math.Ceil(dataMax/step - 1e-9))
	top = float64(steps) * step
	if !(step > 0) || steps < 1 || steps > 10 || math.IsInf(top, 0) || top < dataMax {
		return dataMax, dataMax / 5, 5
	}
	return top, step, steps
}

// chartDecimals returns the number of decimals that tick labels step apart
// need (0 for steps of 1 or more), at most 10.
func chartDecimals(step float64) int {
	if !(step > 0) || step >= 1 || math.IsInf(step, 0) {
		return 0
	}
	return min(10, int(math.Ceil(-math.Log10(step)-1e-9)))
}

// chartClean makes s safe to put in XML once escaped: valid UTF-8, no
// characters XML 1.0 forbids or C1 controls (replaced by U+FFFD), and tabs
// and line breaks turned into spaces.
func chartClean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case r < 0x20, r >= 0x7F && r <= 0x9F, r == 0xFFFE, r == 0xFFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}

// chartEscape returns s cleaned and escaped for XML text or attribute values.
func chartEscape(s string) string {
	return html.EscapeString(chartClean(s))
}

// chartTruncate cuts s to at most n runes, ending with "…" if it was cut.
func chartTruncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}
