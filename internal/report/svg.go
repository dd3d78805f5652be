package report

// The HTML report's plots, drawn here as SVG text so that the page stands
// alone (no script, no image beside it). Every string from the report that
// reaches a plot goes through svgText: plainText, then html.EscapeString, so
// data shows as text inside <text> and <title> and can never become markup.
// Numbers are written by fmt, never from data. The result is template.HTML
// for that reason only.

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/stats"
)

// Colours, chosen to stay apart for red–green colour blindness where it
// matters (better and worse also differ in the ▲/▼ marks and the text) and to
// reach 4.5:1 against white for text.
const (
	colBetter    = "#1a7f37" // green: better by the metric's direction, interval excludes 0
	colWorse     = "#cf222e" // red: worse, interval excludes 0
	colUnclear   = "#6e7781" // grey: the interval includes 0
	colNeutral   = "#0969da" // blue: a metric with no better direction (length, latency)
	colBaseline  = "#b35900" // orange: the baseline in distributions and slices
	colCandidate = "#0969da" // blue: the candidate
	colInk       = "#1b1f24"
	colMuted     = "#57606a"
	colRule      = "#d0d7de"
)

// modelColours are the series colours, baseline first; a run of more than
// two models (no comparison) takes the rest in turn.
var modelColours = []string{colBaseline, colCandidate, "#8250df", "#1a7f37", "#6e7781"}

// svgText is data made safe for SVG text content and attribute values.
func svgText(s string) string { return html.EscapeString(plainText(s)) }

// clipRunes shortens s to at most n runes, with an ellipsis when cut.
func clipRunes(s string, n int) string {
	s = termText(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// deltaClass says how a delta is coloured: better or worse only when its
// interval excludes zero and the metric has a direction; a neutral metric
// (length, latency, tokens) is always neutral, whichever way it moved.
func deltaClass(p stats.Paired, direction string) string {
	if p.N == 0 {
		return "unclear"
	}
	if direction == "neutral" {
		return "neutral"
	}
	switch _, d := mark(p, direction); d {
	case "up":
		return "better"
	case "down":
		return "worse"
	}
	return "unclear"
}

func classColour(class string) string {
	switch class {
	case "better":
		return colBetter
	case "worse":
		return colWorse
	case "neutral":
		return colNeutral
	}
	return colUnclear
}

// svgDoc collects one <svg> element.
type svgDoc struct {
	b strings.Builder
}

func (d *svgDoc) f(format string, args ...any) { fmt.Fprintf(&d.b, format, args...) }

// open starts the element; label is its accessible name (data, escaped
// here), written as a <title> child so that no data goes in an attribute.
func (d *svgDoc) open(w, h float64, label string) {
	d.f(`<svg class="plot" viewBox="0 0 %s %s" width="%s" height="%s" role="img" font-family="system-ui,sans-serif" font-size="12"><title>%s</title>`, fx(w), fx(h), fx(w), fx(h), svgText(label))
}

func (d *svgDoc) html() template.HTML {
	d.b.WriteString("</svg>")
	return template.HTML(d.b.String()) // every string in it went through svgText
}

// fx writes a coordinate with at most one decimal.
func fx(x float64) string {
	s := fmt.Sprintf("%.1f", x)
	s = strings.TrimSuffix(s, ".0")
	if s == "-0" {
		return "0"
	}
	return s
}

// forestRow is one task × metric of the forest plot.
type forestRow struct {
	Task, Metric string
	Direction    string
	P            stats.Paired
	// Gates are the gates on this metric's delta (or its interval's ends).
	Gates []gate.Result
}

// forestScale is the half-width of a row's scale: the largest absolute
// value among the delta, its intervals and its gates' thresholds, so that
// everything drawn in the row fits and zero sits in the middle.
func forestScale(r forestRow) float64 {
	s := max(math.Abs(r.P.Delta), math.Abs(r.P.CI.Low), math.Abs(r.P.CI.High))
	if hasBCa(r.P) {
		s = max(s, math.Abs(r.P.CIBCa.Low), math.Abs(r.P.CIBCa.High))
	}
	for _, g := range r.Gates {
		s = max(s, math.Abs(g.Threshold))
	}
	if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return 1
	}
	return s
}

// hasBCa reports whether the BCa interval is set and differs from the
// percentile interval (older reports lack it).
func hasBCa(p stats.Paired) bool {
	b := p.CIBCa
	return (b.Low != 0 || b.High != 0) && b != p.CI
}

// gateOp writes a gate's comparison and threshold ("≥ -0.05").
func gateOp(g gate.Result) string {
	op := map[string]string{">=": "≥", "<=": "≤", "!=": "≠", "==": "="}[g.Op]
	if op == "" {
		op = g.Op
	}
	field := ""
	if end, ok := strings.CutPrefix(g.Field, "delta."); ok {
		field = end + " "
	}
	return fmt.Sprintf("%s%s %v", field, op, g.Threshold)
}

// forestPlot draws one row per task × metric: the delta as a dot, its
// percentile interval as a thick line, the BCa interval (when it differs) as
// a thin line below it, and the row's delta gates as dashed lines. Each row
// has its own scale, symmetric around zero, printed under its label.
func forestPlot(rows []forestRow) template.HTML {
	const (
		w, top, rowH       = 1100.0, 8.0, 40.0
		x0, x1, textX      = 270.0, 690.0, 712.0
		labelChars, gateCh = 38, 64
	)
	xm, half := (x0+x1)/2, (x1-x0)/2
	h := top + rowH*float64(len(rows)) + 8
	var d svgDoc
	d.open(w, h, "forest plot of the deltas")
	for i, r := range rows {
		y := top + rowH*float64(i)
		cy := y + 15
		if i%2 == 0 {
			d.f(`<rect x="0" y="%s" width="%s" height="%s" fill="#f6f8fa"/>`, fx(y), fx(w), fx(rowH))
		}
		class := deltaClass(r.P, r.Direction)
		col := classColour(class)
		s := forestScale(r) * 1.08
		x := func(v float64) float64 { return xm + max(-1, min(1, v/s))*half }
		arrow := map[string]string{"higher": "↑", "lower": "↓", "neutral": "·"}[r.Direction]
		d.f(`<g><title>%s</title>`, svgText(fmt.Sprintf("%s · %s (%s is better): delta %s, interval [%s, %s]", r.Task, r.Metric, directionWord(r.Direction), signed(r.P.Delta), signed(r.P.CI.Low), signed(r.P.CI.High))))
		d.f(`<text x="8" y="%s" fill="%s">%s <tspan fill="%s">%s</tspan></text>`, fx(cy+4), colInk, svgText(clipRunes(r.Task+" · "+r.Metric, labelChars)), colMuted, arrow)
		// the row's scale: its two ends
		d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, fx(x0), fx(cy), fx(x1), fx(cy), colRule)
		d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`,
			fx(x0), fx(cy-4), fx(x0), fx(cy+4), colRule, fx(x1), fx(cy-4), fx(x1), fx(cy+4), colRule)
		for _, g := range r.Gates {
			gx := x(g.Threshold)
			d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="4 3"/>`, fx(gx), fx(y+3), fx(gx), fx(y+rowH-3), colInk)
		}
		if r.P.N > 0 {
			d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="4" stroke-linecap="round"/>`, fx(x(r.P.CI.Low)), fx(cy), fx(x(r.P.CI.High)), fx(cy), col)
			if hasBCa(r.P) {
				d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5"/>`, fx(x(r.P.CIBCa.Low)), fx(cy+8), fx(x(r.P.CIBCa.High)), fx(cy+8), col)
			}
			d.f(`<circle cx="%s" cy="%s" r="5.5" fill="%s" stroke="#fff" stroke-width="1.5"/>`, fx(x(r.P.Delta)), fx(cy), col)
			mk, _ := mark(r.P, r.Direction)
			d.f(`<text x="%s" y="%s" fill="%s" font-weight="600">%s [%s, %s]%s</text>`, fx(textX), fx(cy+4), col, signed(r.P.Delta), signed(r.P.CI.Low), signed(r.P.CI.High), mk)
		} else {
			d.f(`<text x="%s" y="%s" fill="%s">no pairs</text>`, fx(textX), fx(cy+4), colMuted)
		}
		d.f(`<text x="8" y="%s" fill="%s" font-size="10">scale ±%s</text>`, fx(cy+18), colMuted, shortNum(s))
		var notes []string
		for _, g := range r.Gates {
			notes = append(notes, fmt.Sprintf("gate %s: %s", gateOp(g), g.Status))
		}
		if len(notes) > 0 {
			d.f(`<text x="%s" y="%s" fill="%s" font-size="11">%s</text>`, fx(textX), fx(cy+19), colMuted, svgText(clipRunes(strings.Join(notes, " · "), gateCh)))
		}
		d.f(`</g>`)
	}
	// zero sits in the middle of every row
	d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1"/>`, fx(xm), fx(top), fx(xm), fx(h-8), colInk)
	return d.html()
}

func directionWord(dir string) string {
	switch dir {
	case "lower":
		return "lower"
	case "neutral":
		return "neither way"
	}
	return "higher"
}

// histSeries is one model's per-item scores on a metric.
type histSeries struct {
	Model  string
	Values []float64
	Colour string
}

// histogram draws the series' score distributions over shared bins, as the
// share of each model's items (models can have scored different numbers of
// items). A metric with few distinct values (exact match: 0 and 1) gets one
// bin per value; others 16 equal bins from the lowest score to the highest.
func histogram(metric string, series []histSeries) template.HTML {
	const (
		w                 = 360.0
		left, right       = 40.0, 350.0
		maxDistinct, bins = 11, 16
	)
	plotTop := 30 + 14*float64(len(series))
	plotBot := plotTop + 124
	h := plotBot + 30
	var all []float64
	for _, s := range series {
		all = append(all, s.Values...)
	}
	distinct := slices.Compact(slices.Sorted(slices.Values(all)))
	lo, hi := distinct[0], distinct[len(distinct)-1]
	discrete := len(distinct) <= maxDistinct
	nb := bins
	if discrete {
		nb = len(distinct)
	}
	binOf := func(v float64) int {
		if discrete {
			i, _ := slices.BinarySearch(distinct, v)
			return i
		}
		if hi == lo {
			return 0
		}
		return min(nb-1, int((v-lo)/(hi-lo)*float64(nb)))
	}
	share := make([][]float64, len(series))
	top := 0.0
	for i, s := range series {
		share[i] = make([]float64, nb)
		for _, v := range s.Values {
			share[i][binOf(v)]++
		}
		for b := range share[i] {
			if len(s.Values) > 0 {
				share[i][b] /= float64(len(s.Values))
			}
			top = max(top, share[i][b])
		}
	}
	if top == 0 {
		top = 1
	}
	var d svgDoc
	d.open(w, h, metric+" score distribution")
	d.f(`<text x="%s" y="14" fill="%s" font-weight="600">%s</text>`, fx(left), colInk, svgText(clipRunes(metric, 40)))
	for i, s := range series {
		ly := 22 + 14*float64(i)
		label := fmt.Sprintf("%s: n=%d, mean %s", clipRunes(s.Model, 28), len(s.Values), shortNum(stats.Mean(s.Values)))
		if len(s.Values) == 0 {
			label = fmt.Sprintf("%s: no scored items", clipRunes(s.Model, 28))
		}
		d.f(`<rect x="%s" y="%s" width="10" height="10" fill="%s"/><text x="%s" y="%s" fill="%s" font-size="11">%s</text>`, fx(left), fx(ly), s.Colour, fx(left+14), fx(ly+9), colInk, svgText(label))
	}
	// y axis: share of items, 0 and the top
	d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, fx(left), fx(plotBot), fx(right), fx(plotBot), colMuted)
	d.f(`<text x="%s" y="%s" fill="%s" font-size="10" text-anchor="end">%d%%</text>`, fx(left-4), fx(plotTop+4), colMuted, int(math.Round(top*100)))
	d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-dasharray="2 3"/>`, fx(left), fx(plotTop), fx(right), fx(plotTop), colRule)
	d.f(`<text x="%s" y="%s" fill="%s" font-size="10" text-anchor="end">0</text>`, fx(left-4), fx(plotBot+4), colMuted)
	bw := (right - left) / float64(nb)
	gap := min(4, bw*0.2)
	barW := (bw - gap) / float64(max(1, len(series)))
	for b := range nb {
		for i := range series {
			v := share[i][b]
			bh := v / top * (plotBot - plotTop)
			x := left + float64(b)*bw + gap/2 + float64(i)*barW
			if bh > 0 {
				d.f(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`, fx(x), fx(plotBot-bh), fx(barW), fx(bh), series[i].Colour,
					svgText(fmt.Sprintf("%s: %.0f%% of items in %s", series[i].Model, v*100, binLabel(distinct, discrete, lo, hi, nb, b))))
			}
		}
		if discrete {
			d.f(`<text x="%s" y="%s" fill="%s" font-size="10" text-anchor="middle">%s</text>`, fx(left+(float64(b)+0.5)*bw), fx(plotBot+14), colMuted, shortNum(distinct[b]))
		}
	}
	if !discrete {
		d.f(`<text x="%s" y="%s" fill="%s" font-size="10">%s</text>`, fx(left), fx(plotBot+14), colMuted, shortNum(lo))
		d.f(`<text x="%s" y="%s" fill="%s" font-size="10" text-anchor="end">%s</text>`, fx(right), fx(plotBot+14), colMuted, shortNum(hi))
		for _, s := range series {
			if len(s.Values) == 0 || hi == lo {
				continue
			}
			mx := left + (stats.Mean(s.Values)-lo)/(hi-lo)*(right-left)
			d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2" stroke-dasharray="5 3"/>`, fx(mx), fx(plotTop-4), fx(mx), fx(plotBot), s.Colour)
		}
	}
	d.f(`<text x="%s" y="%s" fill="%s" font-size="10" text-anchor="middle">share of each model's scored items</text>`, fx((left+right)/2), fx(h-4), colMuted)
	return d.html()
}

func binLabel(distinct []float64, discrete bool, lo, hi float64, nb, b int) string {
	if discrete {
		return shortNum(distinct[b])
	}
	step := (hi - lo) / float64(nb)
	return fmt.Sprintf("[%s, %s)", shortNum(lo+float64(b)*step), shortNum(lo+float64(b+1)*step))
}

// shortNum writes an axis label: up to three decimals, trailing zeros cut.
func shortNum(x float64) string {
	s := fmt.Sprintf("%.3f", x)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

// sliceBar is one group of a slice: each model's mean score with its
// interval, and the paired delta when the run compared two models.
type sliceBar struct {
	Value string
	Items int
	Means []stats.Summary // by series, as in sliceBars' models
	Delta *stats.Paired
}

// sliceBars draws, per group, a bar per model for its mean on the metric
// with the mean's interval as a whisker, the n it rests on, and the delta
// with its interval at the right, coloured as in the forest plot.
func sliceBars(metric, direction string, models []string, groups []sliceBar) template.HTML {
	const (
		w, top                = 780.0, 30.0
		x0, x1, dx            = 190.0, 470.0, 560.0
		barH, barGap, groupGp = 11.0, 3.0, 12.0
	)
	lo, hi := 0.0, 0.0
	for _, g := range groups {
		for _, s := range g.Means {
			if s.N == 0 {
				continue
			}
			lo, hi = min(lo, s.Mean, s.CI.Low), max(hi, s.Mean, s.CI.High)
		}
	}
	if hi == lo {
		hi = lo + 1
	}
	x := func(v float64) float64 { return x0 + (v-lo)/(hi-lo)*(x1-x0) }
	groupH := float64(len(models))*(barH+barGap) + groupGp
	h := top + groupH*float64(len(groups)) + 22
	var d svgDoc
	d.open(w, h, metric+" by slice")
	lx := x0
	for i, m := range models {
		d.f(`<rect x="%s" y="8" width="10" height="10" fill="%s"/><text x="%s" y="17" fill="%s" font-size="11">%s</text>`, fx(lx), modelColours[i%len(modelColours)], fx(lx+14), colInk, svgText(clipRunes(m, 20)))
		lx += 150
	}
	if slices.ContainsFunc(groups, func(g sliceBar) bool { return g.Delta != nil }) {
		d.f(`<text x="%s" y="17" fill="%s" font-size="11" font-weight="600">delta [interval]</text>`, fx(dx), colInk)
	}
	for gi, g := range groups {
		y := top + groupH*float64(gi)
		mid := y + (groupH-groupGp)/2
		d.f(`<g><title>%s</title>`, svgText(fmt.Sprintf("%s = %s: %d items", metric, g.Value, g.Items)))
		d.f(`<text x="8" y="%s" fill="%s">%s</text>`, fx(mid), colInk, svgText(clipRunes(g.Value, 22)))
		d.f(`<text x="8" y="%s" fill="%s" font-size="10">n=%d</text>`, fx(mid+12), colMuted, g.Items)
		for i, s := range g.Means {
			by := y + float64(i)*(barH+barGap)
			col := modelColours[i%len(modelColours)]
			if s.N == 0 {
				d.f(`<text x="%s" y="%s" fill="%s" font-size="10">—</text>`, fx(x0+4), fx(by+barH-2), colMuted)
				continue
			}
			a, b := x(min(0, s.Mean)), x(max(0, s.Mean))
			d.f(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="0.85"/>`, fx(a), fx(by), fx(max(b-a, 1)), fx(barH), col)
			d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5"/>`, fx(x(s.CI.Low)), fx(by+barH/2), fx(x(s.CI.High)), fx(by+barH/2), colInk)
			d.f(`<text x="%s" y="%s" fill="%s" font-size="10">%s (n=%d)</text>`, fx(max(b, x(s.CI.High))+4), fx(by+barH-2), colMuted, num(s.Mean), s.N)
		}
		if g.Delta != nil {
			col := classColour(deltaClass(*g.Delta, direction))
			if g.Delta.N > 0 {
				mk, _ := mark(*g.Delta, direction)
				d.f(`<text x="%s" y="%s" fill="%s" font-weight="600">%s [%s, %s]%s</text>`, fx(dx), fx(mid), col, signed(g.Delta.Delta), signed(g.Delta.CI.Low), signed(g.Delta.CI.High), mk)
				d.f(`<text x="%s" y="%s" fill="%s" font-size="10">%d pairs</text>`, fx(dx), fx(mid+12), colMuted, g.Delta.N)
			} else {
				d.f(`<text x="%s" y="%s" fill="%s">no pairs</text>`, fx(dx), fx(mid), colMuted)
			}
		}
		d.f(`</g>`)
	}
	axisY := h - 16
	d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, fx(x0), fx(axisY), fx(x1), fx(axisY), colMuted)
	d.f(`<text x="%s" y="%s" fill="%s" font-size="10">%s</text>`, fx(x0), fx(axisY+12), colMuted, shortNum(lo))
	d.f(`<text x="%s" y="%s" fill="%s" font-size="10" text-anchor="end">%s</text>`, fx(x1), fx(axisY+12), colMuted, shortNum(hi))
	if lo < 0 {
		d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, fx(x(0)), fx(top), fx(x(0)), fx(axisY), colMuted)
	}
	return d.html()
}
