package ckptselect

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"

	"github.com/tunecheck/tunecheck/internal/curves"
	"github.com/tunecheck/tunecheck/internal/report"
)

// Colours as internal/report's plots use them.
const (
	colMetric   = "#0969da" // blue: the metric and its interval band
	colEvalLoss = "#b35900" // orange: eval loss
	colTrain    = "#6e7781" // grey: train loss
	colPickM    = "#1a7f37" // green: the metric's pick
	colPickL    = "#cf222e" // red: the eval loss's pick
	colInk      = "#1b1f24"
	colMuted    = "#57606a"
	colRule     = "#d0d7de"
)

// maxCurvePoints bounds each loss line: more points than pixels only make
// the SVG heavier.
const maxCurvePoints = 800

// svgText is data made safe for SVG text content (see internal/report/svg.go).
func svgText(s string) string { return html.EscapeString(report.PlainText(s)) }

// fx writes a coordinate with at most one decimal.
func fx(x float64) string {
	s := strings.TrimSuffix(fmt.Sprintf("%.1f", x), ".0")
	if s == "-0" {
		return "0"
	}
	return s
}

// SVG draws the metric's mean per step with its interval as a band (left
// axis) and the log's train and eval loss (right axis) over the same steps,
// with a vertical line at each pick. It stands alone: no script, no fonts
// fetched, every data string escaped.
func SVG(w io.Writer, r Report) error {
	const (
		width, height  = 900.0, 470.0
		x0, x1, y0, y1 = 72.0, 812.0, 64.0, 380.0
	)
	var b strings.Builder
	f := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	f(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" width="%s" height="%s" role="img" font-family="system-ui,sans-serif" font-size="12">`, fx(width), fx(height), fx(width), fx(height))
	f(`<title>%s</title><rect width="100%%" height="100%%" fill="#fff"/>`, svgText(headline(r, func(s string) string { return s })))

	// x: every evaluated step and every logged loss step.
	smin, smax := r.Rows[0].Step, r.Rows[len(r.Rows)-1].Step
	for _, c := range [][]curves.Point{r.trainCurve, r.evalCurve} {
		if len(c) > 0 {
			smin, smax = min(smin, c[0].Step), max(smax, c[len(c)-1].Step)
		}
	}
	if smin == smax {
		smin, smax = smin-1, smax+1
	}
	x := func(s int64) float64 { return x0 + (x1-x0)*float64(s-smin)/float64(smax-smin) }

	// left y: the metric's intervals.
	mlo, mhi := math.Inf(1), math.Inf(-1)
	for _, row := range r.Rows {
		mlo, mhi = min(mlo, row.CI.Low, row.Mean), max(mhi, row.CI.High, row.Mean)
	}
	mlo, mhi = pad(mlo, mhi)
	ym := func(v float64) float64 { return y1 - (y1-y0)*(v-mlo)/(mhi-mlo) }

	// right y: the losses.
	llo, lhi := math.Inf(1), math.Inf(-1)
	for _, c := range [][]curves.Point{r.trainCurve, r.evalCurve} {
		for _, p := range c {
			llo, lhi = min(llo, p.Value), max(lhi, p.Value)
		}
	}
	haveLoss := !math.IsInf(llo, 0)
	if haveLoss {
		llo, lhi = pad(llo, lhi)
	}
	yl := func(v float64) float64 { return y1 - (y1-y0)*(v-llo)/(lhi-llo) }

	// frame, grid and ticks
	f(`<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="%s"/>`, fx(x0), fx(y0), fx(x1-x0), fx(y1-y0), colRule)
	for i := 0; i <= 4; i++ {
		v := mlo + (mhi-mlo)*float64(i)/4
		y := ym(v)
		f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-dasharray="2 3"/>`, fx(x0), fx(y), fx(x1), fx(y), colRule)
		f(`<text x="%s" y="%s" text-anchor="end" fill="%s">%s</text>`, fx(x0-6), fx(y+4), colMetric, tick(v))
		if haveLoss {
			lv := llo + (lhi-llo)*float64(i)/4
			f(`<text x="%s" y="%s" fill="%s">%s</text>`, fx(x1+6), fx(yl(lv)+4), colEvalLoss, tick(lv))
		}
	}
	for _, s := range stepTicks(r, smin, smax) {
		f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, fx(x(s)), fx(y1), fx(x(s)), fx(y1+4), colMuted)
		f(`<text x="%s" y="%s" text-anchor="middle" fill="%s">%d</text>`, fx(x(s)), fx(y1+18), colMuted, s)
	}
	f(`<text x="%s" y="%s" text-anchor="middle" fill="%s">step</text>`, fx((x0+x1)/2), fx(y1+40), colInk)
	f(`<text transform="translate(18 %s) rotate(-90)" text-anchor="middle" fill="%s">%s</text>`, fx((y0+y1)/2), colMetric, svgText(r.Metric))
	if haveLoss {
		f(`<text transform="translate(%s %s) rotate(90)" text-anchor="middle" fill="%s">loss</text>`, fx(width-14), fx((y0+y1)/2), colEvalLoss)
	}

	// the picks
	picks := []struct {
		step  int64
		col   string
		label string
	}{{r.BestByMetric.Step, colPickM, "metric pick"}}
	if l := r.BestByEvalLoss; l != nil {
		picks = append(picks, struct {
			step  int64
			col   string
			label string
		}{l.Step, colPickL, "eval-loss pick"})
	}
	for i, p := range picks {
		f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="6 3"/>`, fx(x(p.step)), fx(y0), fx(x(p.step)), fx(y1), p.col)
		f(`<text x="%s" y="%s" text-anchor="middle" fill="%s" font-weight="600">%s %d</text>`, fx(x(p.step)), fx(y0-6-14*float64(i)), p.col, p.label, p.step)
	}

	// losses: train (thin grey), eval (orange, dashed)
	if haveLoss {
		for _, c := range []struct {
			pts  []curves.Point
			col  string
			dash string
		}{{r.trainCurve, colTrain, ""}, {r.evalCurve, colEvalLoss, ` stroke-dasharray="5 3"`}} {
			if len(c.pts) == 0 {
				continue
			}
			var pts []string
			for _, p := range thin(c.pts, maxCurvePoints) {
				pts = append(pts, fx(x(p.Step))+","+fx(yl(p.Value)))
			}
			f(`<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"%s/>`, strings.Join(pts, " "), c.col, c.dash)
		}
	}

	// the metric: interval band, mean line, one dot per step with a tooltip
	var top, bottom, line []string
	for _, row := range r.Rows {
		top = append(top, fx(x(row.Step))+","+fx(ym(row.CI.High)))
		line = append(line, fx(x(row.Step))+","+fx(ym(row.Mean)))
	}
	for i := len(r.Rows) - 1; i >= 0; i-- {
		bottom = append(bottom, fx(x(r.Rows[i].Step))+","+fx(ym(r.Rows[i].CI.Low)))
	}
	f(`<polygon points="%s" fill="%s" fill-opacity="0.18" stroke="none"/>`, strings.Join(append(top, bottom...), " "), colMetric)
	f(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(line, " "), colMetric)
	for _, row := range r.Rows {
		f(`<g><title>%s</title><circle cx="%s" cy="%s" r="4" fill="%s" stroke="#fff" stroke-width="1"/></g>`,
			svgText(fmt.Sprintf("step %d (run %s): %s [%s, %s], n %d, failed %d", row.Step, row.RunID, num(row.Mean), num(row.CI.Low), num(row.CI.High), row.N, row.Failed)),
			fx(x(row.Step)), fx(ym(row.Mean)), colMetric)
	}

	// legend
	lx := x0
	legend := []struct{ col, label, dash string }{{colMetric, r.Metric + " (" + pct(r.Confidence) + " interval)", ""}}
	if len(r.evalCurve) > 0 {
		legend = append(legend, struct{ col, label, dash string }{colEvalLoss, "eval loss", ` stroke-dasharray="5 3"`})
	}
	if len(r.trainCurve) > 0 {
		legend = append(legend, struct{ col, label, dash string }{colTrain, "train loss", ""})
	}
	for _, l := range legend {
		f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"%s/>`, fx(lx), fx(height-18), fx(lx+22), fx(height-18), l.col, l.dash)
		label := svgText(l.label)
		f(`<text x="%s" y="%s" fill="%s">%s</text>`, fx(lx+28), fx(height-14), colInk, label)
		lx += 28 + 7*float64(len([]rune(l.label))) + 24
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// pad widens [lo, hi] by 5% each side (by 1 when they are equal).
func pad(lo, hi float64) (float64, float64) {
	if hi == lo {
		return lo - 1, hi + 1
	}
	m := (hi - lo) * 0.05
	return lo - m, hi + m
}

func tick(v float64) string { return fmt.Sprintf("%.3g", v) }

// stepTicks labels every evaluated step when there are few, else six evenly
// spaced steps.
func stepTicks(r Report, lo, hi int64) []int64 {
	if len(r.Rows) <= 12 {
		out := make([]int64, len(r.Rows))
		for i, row := range r.Rows {
			out[i] = row.Step
		}
		return out
	}
	out := make([]int64, 0, 6)
	for i := range 6 {
		out = append(out, lo+(hi-lo)*int64(i)/5)
	}
	return out
}

// thin keeps at most n points, evenly by index, always the last one.
func thin(ps []curves.Point, n int) []curves.Point {
	if len(ps) <= n {
		return ps
	}
	out := make([]curves.Point, 0, n+1)
	for i := 0; i < n; i++ {
		out = append(out, ps[i*len(ps)/n])
	}
	return append(out, ps[len(ps)-1])
}
