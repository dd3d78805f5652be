package trend

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The chart's size: one panel, or the metric over the delta.
const (
	plotW      = 8 * vg.Inch
	panelH     = 4 * vg.Inch
	deltaPanel = 3 * vg.Inch
)

// maxTickLabels bounds the labelled runs on the x axis; between them runs
// get an unlabelled tick.
const maxTickLabels = 24

var (
	metricColor = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	deltaColor  = color.NRGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	driftColor  = color.NRGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	zeroColor   = color.NRGBA{A: 0x80}
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
	switch format {
	case "svg", "png", "pdf":
	default:
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
	top, err := metricPanel(c)
	if err != nil {
		return err
	}
	bottom, err := deltaPanelPlot(c)
	if err != nil {
		return err
	}
	height := panelH
	if bottom != nil {
		height += deltaPanel
	}
	cv, err := draw.NewFormattedCanvas(plotW, height, format)
	if err != nil {
		return err
	}
	dc := draw.New(cv)
	if bottom == nil {
		top.Draw(dc)
	} else {
		// The delta panel shares the x axis: the run labels are drawn once,
		// under it.
		top.X.Tick.Marker = unlabelled(top.X.Tick.Marker.Ticks(top.X.Min, top.X.Max))
		top.X.Label.Text = ""
		tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Points(6)}
		cs := plot.Align([][]*plot.Plot{{top}, {bottom}}, tiles, dc)
		top.Draw(cs[0][0])
		bottom.Draw(cs[1][0])
	}
	_, err = cv.WriteTo(w)
	return err
}

func newPanel(c Chart) *plot.Plot {
	p := plot.New()
	n := len(c.Points)
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.X.Label.Text = "run (oldest first)"
	p.X.Tick.Marker = runTicks(c.Points)
	p.X.Tick.Label.Rotation = math.Pi / 2
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	return p
}

// runTicks labels the runs, at most maxTickLabels of them (evenly spaced,
// always the last), each by its TickLabel.
func runTicks(pts []Point) plot.ConstantTicks {
	every := (len(pts) + maxTickLabels - 1) / maxTickLabels
	ticks := make(plot.ConstantTicks, len(pts))
	for i, p := range pts {
		ticks[i] = plot.Tick{Value: float64(i)}
		if (len(pts)-1-i)%every == 0 {
			ticks[i].Label = TickLabel(p)
		}
	}
	return ticks
}

func unlabelled(ts []plot.Tick) plot.ConstantTicks {
	out := make(plot.ConstantTicks, len(ts))
	for i, t := range ts {
		out[i] = plot.Tick{Value: t.Value}
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

func metricPanel(c Chart) (*plot.Plot, error) {
	p := newPanel(c)
	p.Title.Text = c.Title
	p.Y.Label.Text = c.Metric
	var est []Estimate
	for _, pt := range c.Points {
		est = append(est, Estimate{N: pt.N, Mean: pt.Mean, Low: pt.Low, High: pt.High})
	}
	idx := make([]int, len(est))
	for i := range idx {
		idx[i] = i
	}
	lo, hi := yExtent(est)
	if err := addSeries(p, idx, est, metricColor, c.Metric+" (mean, CI)"); err != nil {
		return nil, err
	}
	if len(c.Checks) == len(c.Points) {
		last := len(c.Points) - 1
		if ck := c.Checks[last]; ck.Checked {
			lo, hi = min(lo, ck.Low), max(hi, ck.High)
			if err := addBand(p, float64(last-ck.Prev), float64(last), ck, c.Window); err != nil {
				return nil, err
			}
		}
		var ups, downs plotter.XYs
		for i, ck := range c.Checks {
			switch ck.Dir {
			case Up:
				ups = append(ups, plotter.XY{X: float64(i), Y: c.Points[i].Mean})
			case Down:
				downs = append(downs, plotter.XY{X: float64(i), Y: c.Points[i].Mean})
			}
		}
		for _, m := range []struct {
			xys   plotter.XYs
			glyph draw.GlyphDrawer
			label string
		}{{ups, draw.PyramidGlyph{}, "drifted up"}, {downs, downTriangle{}, "drifted down"}} {
			if len(m.xys) == 0 {
				continue
			}
			s, err := plotter.NewScatter(m.xys)
			if err != nil {
				return nil, err
			}
			s.Color, s.Shape, s.Radius = driftColor, m.glyph, vg.Points(5)
			p.Add(s)
			p.Legend.Add(m.label, s)
		}
	}
	frame(p, lo, hi)
	return p, nil
}

// deltaPanelPlot is nil when no run has a delta.
func deltaPanelPlot(c Chart) (*plot.Plot, error) {
	var idx []int
	var est []Estimate
	for i, pt := range c.Points {
		if pt.Delta != nil && pt.Delta.N > 0 {
			idx = append(idx, i)
			est = append(est, *pt.Delta)
		}
	}
	if len(idx) == 0 {
		return nil, nil
	}
	p := newPanel(c)
	p.Y.Label.Text = "delta vs baseline"
	zero, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: 0}, {X: p.X.Max, Y: 0}})
	if err != nil {
		return nil, err
	}
	zero.Color, zero.Width, zero.Dashes = zeroColor, vg.Points(0.75), []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(zero)
	if err := addSeries(p, idx, est, deltaColor, "delta vs baseline (mean, CI)"); err != nil {
		return nil, err
	}
	lo, hi := yExtent(est)
	frame(p, min(lo, 0), max(hi, 0))
	return p, nil
}

// errorPoints feeds the error bars: each point with its interval as
// distances below and above it.
type errorPoints struct {
	xys  plotter.XYs
	errs plotter.YErrors
}

func (e errorPoints) Len() int                        { return len(e.xys) }
func (e errorPoints) XY(i int) (float64, float64)     { return e.xys.XY(i) }
func (e errorPoints) YError(i int) (float64, float64) { return e.errs.YError(i) }

// addSeries draws the means joined by a line, each with its interval.
func addSeries(p *plot.Plot, idx []int, est []Estimate, c color.Color, label string) error {
	ep := errorPoints{xys: make(plotter.XYs, len(est)), errs: make(plotter.YErrors, len(est))}
	for i, e := range est {
		ep.xys[i] = plotter.XY{X: float64(idx[i]), Y: e.Mean}
		ep.errs[i].Low, ep.errs[i].High = max(0, e.Mean-e.Low), max(0, e.High-e.Mean)
	}
	bars, err := plotter.NewYErrorBars(ep)
	if err != nil {
		return err
	}
	bars.Color = c
	bars.CapWidth = vg.Points(6)
	line, pts, err := plotter.NewLinePoints(ep.xys)
	if err != nil {
		return err
	}
	line.Color, line.Width = c, vg.Points(1)
	pts.Color, pts.Shape, pts.Radius = c, draw.CircleGlyph{}, vg.Points(2.5)
	p.Add(bars, line, pts)
	p.Legend.Add(label, line, pts)
	return nil
}

// addBand shades the last run's drift interval over the runs it was judged
// against (from x0) up to the last run (x1).
func addBand(p *plot.Plot, x0, x1 float64, ck Check, window int) error {
	band, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: ck.Low}, {X: x1, Y: ck.Low}, {X: x1, Y: ck.High}, {X: x0, Y: ck.High}})
	if err != nil {
		return err
	}
	band.Color = color.NRGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0x30}
	band.LineStyle.Width = 0
	p.Add(band)
	p.Legend.Add(fmt.Sprintf("last run's drift interval (previous %d runs)", window), band)
	return nil
}

func yExtent(est []Estimate) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, e := range est {
		lo, hi = min(lo, e.Low, e.Mean), max(hi, e.High, e.Mean)
	}
	return lo, hi
}

// frame sets the y range to lo..hi with room above for the legend.
func frame(p *plot.Plot, lo, hi float64) {
	if !(hi > lo) {
		pad := math.Max(math.Abs(lo)*0.1, 1e-3)
		lo, hi = lo-pad, hi+pad
	}
	r := hi - lo
	p.Y.Min, p.Y.Max = lo-0.05*r, hi+0.35*r
}

// downTriangle is a filled triangle pointing down, the mirror of
// draw.PyramidGlyph.
type downTriangle struct{}

func (downTriangle) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius
	half := r * vg.Length(math.Sqrt(3)/2)
	var path vg.Path
	path.Move(vg.Point{X: pt.X, Y: pt.Y - r})
	path.Line(vg.Point{X: pt.X - half, Y: pt.Y + r/2})
	path.Line(vg.Point{X: pt.X + half, Y: pt.Y + r/2})
	path.Close()
	c.SetColor(sty.Color)
	c.Fill(path)
}
