package trend

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/chart"
)

// The chart's size in points: one panel, or the metric over the delta.
const (
	plotW      = 8 * 72
	panelH     = 4 * 72
	deltaPanel = 3 * 72
)

// maxTickLabels bounds the labelled runs on the x axis; between them runs
// get an unlabelled tick.
const maxTickLabels = 24

var (
	metricColor = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	deltaColor  = color.NRGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	driftColor  = color.NRGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	zeroColor   = color.NRGBA{A: 0x80}
	bandColor   = color.NRGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0x30}
)

// Chart is what RenderPlot draws.
type Chart struct {
	Title  string // e.g. "qa.exact_match across the runs of plan nightly"
	Metric string // the y-axis label
	Points []Point
	// Checks are Scan's results for Points (nil: no drift marks).
	Checks []Check
	// Window is the drift window the checks used, for the legend.
	Window int
}

// WritePlot renders the chart to path; its extension picks the format
// (.svg, .png or .pdf).
func WritePlot(path string, c Chart) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if !slices.Contains(chart.Formats, format) {
		return fmt.Errorf("plot %s: unknown image type %q (use .svg, .png or .pdf)", path, format)
	}
	var buf bytes.Buffer
	if err := RenderPlot(&buf, format, c); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing plot %s: %w", path, err)
	}
	return nil
}

// RenderPlot draws the metric of every run in run order, with its
// confidence interval as an error bar, the runs that drifted marked with a
// triangle pointing the way they went, and the last run's drift interval as
// a band over the runs it was judged against. When any run compared two
// models, a second panel below draws the delta vs the baseline the same way,
// over a line at zero.
func RenderPlot(w io.Writer, format string, c Chart) error {
	if len(c.Points) == 0 {
		return fmt.Errorf("no runs to plot")
	}
	top := metricPanel(c)
	bottom, ok := deltaPanelPlot(c)
	f := chart.Figure{W: plotW, H: panelH, Panels: []chart.Panel{top}}
	if ok {
		// The delta panel shares the x axis: the run labels are drawn once,
		// under it.
		top.XTicks = unlabelled(top.XTicks)
		top.XLabel = ""
		top.Height, bottom.Height = panelH, deltaPanel
		f.H += deltaPanel
		f.Panels = []chart.Panel{top, bottom}
	}
	return chart.Render(w, format, f)
}

func newPanel(c Chart) chart.Panel {
	n := len(c.Points)
	return chart.Panel{
		XMin: -0.5, XMax: float64(n) - 0.5,
		XLabel:        "run (oldest first)",
		XTicks:        runTicks(c.Points),
		RotateXLabels: true,
	}
}

// runTicks labels the runs, at most maxTickLabels of them (evenly spaced,
// always the last), each by its TickLabel.
func runTicks(pts []Point) []chart.Tick {
	every := (len(pts) + maxTickLabels - 1) / maxTickLabels
	ticks := make([]chart.Tick, len(pts))
	for i, p := range pts {
		ticks[i] = chart.Tick{Value: float64(i)}
		if (len(pts)-1-i)%every == 0 {
			ticks[i].Label = TickLabel(p)
		}
	}
	return ticks
}

func unlabelled(ts []chart.Tick) []chart.Tick {
	out := make([]chart.Tick, len(ts))
	for i, t := range ts {
		out[i] = chart.Tick{Value: t.Value}
	}
	return out
}

// TickLabel names a run on the x axis: its id, shortened when it is one of
// tunecheck's (start time, a dash, a random suffix: 20261206T211726Z-26a88148)
// to the start time to the minute and the suffix, still unique.
func TickLabel(p Point) string {
	stamp, suffix, ok := strings.Cut(p.Run, "-")
	if !ok {
		return p.Run
	}
	at, err := time.Parse("20060102T150405Z", stamp)
	if err != nil {
		return p.Run
	}
	return at.Format("2006-01-02 15:04") + " " + suffix
}

func metricPanel(c Chart) chart.Panel {
	p := newPanel(c)
	p.Title = c.Title
	p.YLabel = c.Metric
	var est []Estimate
	for _, pt := range c.Points {
		est = append(est, Estimate{N: pt.N, Mean: pt.Mean, Low: pt.Low, High: pt.High})
	}
	idx := make([]int, len(est))
	for i := range idx {
		idx[i] = i
	}
	lo, hi := yExtent(est)
	var band *chart.Item
	var bandLabel string
	if len(c.Checks) == len(c.Points) {
		last := len(c.Points) - 1
		if ck := c.Checks[last]; ck.Checked {
			lo, hi = min(lo, ck.Low), max(hi, ck.High)
			x0, x1 := float64(last-ck.Prev), float64(last)
			band = &chart.Item{Kind: chart.Band, Points: []chart.XY{{X: x0, Y: ck.Low}, {X: x1, Y: ck.Low}, {X: x1, Y: ck.High}, {X: x0, Y: ck.High}}, Style: chart.Style{Color: bandColor, Fill: true}}
			bandLabel = fmt.Sprintf("last run's drift interval (previous %d runs)", c.Window)
		}
	}
	if band != nil {
		// Under the series, so that the band shades and hides nothing.
		p.Items = append(p.Items, *band)
	}
	addSeries(&p, idx, est, metricColor, c.Metric+" (mean, CI)")
	if band != nil {
		p.Legend = append(p.Legend, chart.LegendEntry{Label: bandLabel, Styles: []chart.Style{band.Style}})
	}
	if len(c.Checks) == len(c.Points) {
		var ups, downs []chart.XY
		for i, ck := range c.Checks {
			switch ck.Dir {
			case Up:
				ups = append(ups, chart.XY{X: float64(i), Y: c.Points[i].Mean})
			case Down:
				downs = append(downs, chart.XY{X: float64(i), Y: c.Points[i].Mean})
			}
		}
		for _, m := range []struct {
			xys   []chart.XY
			shape chart.Shape
			label string
		}{{ups, chart.TriUp, "drifted up"}, {downs, chart.TriDown, "drifted down"}} {
			if len(m.xys) == 0 {
				continue
			}
			st := chart.Style{Color: driftColor, Shape: m.shape, Radius: 5}
			p.Items = append(p.Items, chart.Item{Kind: chart.Markers, Points: m.xys, Style: st})
			p.Legend = append(p.Legend, chart.LegendEntry{Label: m.label, Styles: []chart.Style{st}})
		}
	}
	frame(&p, lo, hi)
	return p
}

// deltaPanelPlot reports false when no run has a delta.
func deltaPanelPlot(c Chart) (chart.Panel, bool) {
	var idx []int
	var est []Estimate
	for i, pt := range c.Points {
		if pt.Delta != nil && pt.Delta.N > 0 {
			idx = append(idx, i)
			est = append(est, *pt.Delta)
		}
	}
	if len(idx) == 0 {
		return chart.Panel{}, false
	}
	p := newPanel(c)
	p.YLabel = "delta vs baseline"
	p.Items = append(p.Items, chart.Item{Kind: chart.Line, Points: []chart.XY{{X: p.XMin, Y: 0}, {X: p.XMax, Y: 0}},
		Style: chart.Style{Color: zeroColor, Width: 0.75, Dashes: []float64{3, 3}}})
	addSeries(&p, idx, est, deltaColor, "delta vs baseline (mean, CI)")
	lo, hi := yExtent(est)
	frame(&p, min(lo, 0), max(hi, 0))
	return p, true
}

// addSeries draws the means joined by a line, each with its interval.
func addSeries(p *chart.Panel, idx []int, est []Estimate, c color.NRGBA, label string) {
	pts := make([]chart.XY, len(est))
	low, high := make([]float64, len(est)), make([]float64, len(est))
	for i, e := range est {
		pts[i] = chart.XY{X: float64(idx[i]), Y: e.Mean}
		// An interval that does not contain its mean is drawn from the mean.
		low[i], high[i] = min(e.Low, e.Mean), max(e.High, e.Mean)
	}
	line := chart.Style{Color: c, Width: 1}
	marks := chart.Style{Color: c, Shape: chart.Circle, Radius: 2.5}
	p.Items = append(p.Items,
		chart.Item{Kind: chart.ErrorBars, Points: pts, Low: low, High: high, Cap: 6, Style: chart.Style{Color: c, Width: 1}},
		chart.Item{Kind: chart.Line, Points: pts, Style: line},
		chart.Item{Kind: chart.Markers, Points: pts, Style: marks})
	p.Legend = append(p.Legend, chart.LegendEntry{Label: label, Styles: []chart.Style{line, marks}})
}

func yExtent(est []Estimate) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, e := range est {
		lo, hi = min(lo, e.Low, e.Mean), max(hi, e.High, e.Mean)
	}
	return lo, hi
}

// frame sets the y range to lo..hi with room above for the legend.
func frame(p *chart.Panel, lo, hi float64) {
	if !(hi > lo) {
		pad := math.Max(math.Abs(lo)*0.1, 1e-3)
		lo, hi = lo-pad, hi+pad
	}
	r := hi - lo
	p.YMin, p.YMax = lo-0.05*r, hi+0.35*r
}
