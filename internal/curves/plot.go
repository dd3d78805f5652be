package curves

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// maxPlotPoints bounds each drawn line: more points than pixels only makes
// the SVG heavier.
const maxPlotPoints = 2000

// plotW and plotH are the chart's size.
const (
	plotW = 8 * vg.Inch
	plotH = 4.5 * vg.Inch
)

// WritePlot draws train and eval loss of every run on one chart and writes it
// to path; the extension picks the format (.svg, .png, .pdf).
func WritePlot(path string, as []Analysis) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	switch format {
	case "svg", "png", "pdf":
	default:
		return fmt.Errorf("plot %s: unknown image type %q (use .svg, .png or .pdf)", path, format)
	}
	var buf bytes.Buffer
	if err := RenderPlot(&buf, format, as); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing plot %s: %w", path, err)
	}
	return nil
}

// RenderPlot writes the chart in format ("svg", "png", "pdf") to w, for
// reports that inline it.
func RenderPlot(w io.Writer, format string, as []Analysis) error {
	p, legend, labels, err := buildPlot(as)
	if err != nil {
		return err
	}
	c, err := draw.NewFormattedCanvas(plotW, plotH, format)
	if err != nil {
		return err
	}
	drawWithLegend(draw.New(c), p, legend, labels)
	_, err = c.WriteTo(w)
	return err
}

// drawWithLegend draws the chart with its legend in a column to the right
// of the plot area, where it can hide no data.
func drawWithLegend(dc draw.Canvas, p *plot.Plot, legend *plot.Legend, labels []string) {
	lw := vg.Length(0)
	for _, l := range labels {
		lw = max(lw, legend.TextStyle.Width(l))
	}
	if lw > 0 {
		lw += legend.ThumbnailWidth + legend.TextStyle.Width(" ")
	}
	if lw == 0 {
		p.Draw(dc)
		return
	}
	gap := vg.Points(8)
	// A very long legend (many runs with long names) takes at most 40% of
	// the width; its text is then cut by the canvas edge, not the data.
	lw = min(lw, 0.4*dc.Size().X)
	p.Draw(draw.Crop(dc, 0, -(lw + 2*gap), 0, 0))
	top := vg.Length(0)
	if p.Title.Text != "" {
		top = p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	}
	legend.Draw(draw.Crop(dc, dc.Size().X-lw-gap, 0, 0, -top-gap))
}

func buildPlot(as []Analysis) (*plot.Plot, *plot.Legend, []string, error) {
	p := plot.New()
	p.Title.Text = "Train and eval loss"
	if len(as) == 1 {
		p.Title.Text += ": " + as[0].Name
	}
	p.X.Label.Text = "step"
	if len(as) > 0 && !slices.ContainsFunc(as, func(a Analysis) bool { return a.StepUnit != "epoch" }) {
		p.X.Label.Text = "epoch"
	}
	p.X.Tick.Marker = plot.TickerFunc(stepTicks)
	p.Y.Label.Text = "loss"
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	legend.TextStyle.Font.Size = vg.Points(9)
	var labels []string
	entry := func(label string, th ...plot.Thumbnailer) {
		// Names are drawn as given (text.Plain): a file name keeps its dots
		// and underscores.
		legend.Add(label, th...)
		labels = append(labels, label)
	}
	multi := len(as) > 1
	// The y range is decided first, on every curve drawn, so that points
	// outside it can be pinned to its edge rather than lost.
	var yvals, lasts []float64
	for _, a := range as {
		for _, ps := range [][]Point{finitePoints(a.TrainSmoothed), finitePoints(a.Eval)} {
			yvals = append(yvals, values(ps)...)
			if len(ps) > 0 {
				lasts = append(lasts, ps[len(ps)-1].Value)
			}
		}
		if v := lastFinite(a.Train); finite(v) {
			lasts = append(lasts, v) // the raw last loss too
		}
	}
	lo, hi := 0.0, 1.0
	if len(yvals) > 0 {
		lo, hi = yRange(yvals, lasts)
	}
	p.Y.Min, p.Y.Max = lo, hi
	var clipped plotter.XYs
	clip := func(ps []Point) plotter.XYs {
		out := xys(ps)
		for i := range out {
			if y := out[i].Y; y > hi || y < lo {
				out[i].Y = math.Max(lo, math.Min(hi, y))
				clipped = append(clipped, out[i])
			}
		}
		return out
	}
	type stopLine struct {
		step  float64
		c     color.Color
		label string
	}
	var stops []stopLine
	for i, a := range as {
		c := plotutil.Color(i)
		clipped = clipped[:0]
		add := func(label string, th ...plot.Thumbnailer) {
			if !multi {
				entry(label, th...)
			}
		}
		if len(a.Train) > 0 {
			raw, err := plotter.NewLine(clip(envelope(a.Train, maxPlotPoints)))
			if err != nil {
				return nil, nil, nil, err
			}
			raw.Color = fade(c)
			raw.Width = vg.Points(0.5)
			p.Add(raw)
			sm, err := plotter.NewLine(clip(stride(finitePoints(a.TrainSmoothed), maxPlotPoints)))
			if err != nil {
				return nil, nil, nil, err
			}
			sm.Color = c
			sm.Width = vg.Points(1.5)
			p.Add(sm)
			add("train (smoothed)", sm)
			if multi && len(finitePoints(a.Eval)) == 0 {
				entry(a.Name, sm) // a train-only run is named by its train line
			}
		}
		if ev := finitePoints(a.Eval); len(ev) > 0 {
			l, s, err := plotter.NewLinePoints(clip(stride(ev, maxPlotPoints)))
			if err != nil {
				return nil, nil, nil, err
			}
			l.Color, l.Width, l.Dashes = c, vg.Points(1.5), []vg.Length{vg.Points(5), vg.Points(3)}
			s.Color, s.Shape, s.Radius = c, draw.CircleGlyph{}, vg.Points(2)
			p.Add(l, s)
			add("eval", l, s)
			if multi {
				entry(a.Name, l, s)
			}
		}
		if b := a.BestEval; b != nil {
			m, err := plotter.NewScatter(clip([]Point{{Step: b.Step, Value: b.Value}}))
			if err != nil {
				return nil, nil, nil, err
			}
			m.Color, m.Shape, m.Radius = c, draw.PyramidGlyph{}, vg.Points(6)
			p.Add(m)
			add(fmt.Sprintf("eval minimum (%s %d)", a.StepUnit, b.Step), m)
		}
		if len(clipped) > 0 {
			m, err := plotter.NewScatter(slices.Clone(clipped))
			if err != nil {
				return nil, nil, nil, err
			}
			m.Color, m.Shape, m.Radius = c, draw.CrossGlyph{}, vg.Points(2)
			p.Add(m)
			add("off the axis (drawn at its edge)", m)
		}
		if es := a.EarlyStopping; es != nil && es.HF.Stopped {
			stops = append(stops, stopLine{step: float64(es.HF.StopStep), c: c,
				label: fmt.Sprintf("early stop, patience %d (%s %d)", es.Patience, a.StepUnit, es.HF.StopStep)})
		}
	}
	// Stop lines span the y range.
	for _, st := range stops {
		l, err := plotter.NewLine(plotter.XYs{{X: st.step, Y: p.Y.Min}, {X: st.step, Y: p.Y.Max}})
		if err != nil {
			return nil, nil, nil, err
		}
		l.Color, l.Width, l.Dashes = st.c, vg.Points(1), []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(l)
		if !multi {
			entry(st.label, l)
		}
	}
	if multi {
		// One entry per run keeps the legend short; the line styles are
		// explained once, below the runs.
		for _, k := range []string{"", "solid: train (smoothed)", "faint: train (raw)", "dashed: eval", "triangle: eval minimum", "cross: off the axis, at its edge", "dotted: early stop"} {
			entry(k)
		}
	}
	return p, &legend, labels, nil
}

// yRange frames the bulk of the curves robustly: the first steps of a
// fine-tune often start an order of magnitude higher (mT5 starts at 25 and
// settles near 2), which would flatten everything else. The top is the
// upper quartile plus three interquartile ranges (a start-up spike lies
// beyond it, a curve's real extent does not), never below the last value of
// any curve, so where a run ended always shows — a diverging run keeps its
// whole climb. Points beyond the range are drawn at its edge.
func yRange(vs, lasts []float64) (lo, hi float64) {
	s := slices.Clone(vs)
	sort.Float64s(s)
	q := func(f float64) float64 { return s[int(math.Round(f*float64(len(s)-1)))] }
	lo, hi = s[0], s[len(s)-1]
	if fence := q(0.75) + 3*(q(0.75)-q(0.25)); fence < hi {
		hi = fence
	}
	for _, v := range lasts {
		hi, lo = max(hi, v), min(lo, v)
	}
	if hi <= lo {
		hi = lo + math.Max(math.Abs(lo)*0.1, 1e-3)
	}
	pad := 0.05 * (hi - lo)
	return lo - pad, hi + pad
}

// stepTicks labels about nine round steps (1, 2, 2.5 or 5 times a power of
// ten apart), with unlabelled minor ticks between.
func stepTicks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	// The round step whose label count is closest to nine.
	mag := math.Pow(10, math.Floor(math.Log10((hi-lo)/9)))
	step, best := mag, math.Inf(1)
	for _, m := range []float64{0.5, 1, 2, 2.5, 5, 10} {
		st := m * mag
		if m == 2.5 && mag < 1 {
			continue // epochs and small steps stay on 1-2-5
		}
		n := math.Floor(hi/st) - math.Ceil(lo/st) + 1
		if d := math.Abs(n - 9); d < best {
			step, best = st, d
		}
	}
	var ticks []plot.Tick
	minor := step / 2
	for v := math.Ceil(lo/minor) * minor; v <= hi+minor*1e-9; v += minor {
		t := plot.Tick{Value: v}
		if r := math.Round(v / step); math.Abs(v/step-r) < 1e-9 {
			t.Label = strconv.FormatFloat(r*step, 'g', 10, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

func fade(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 90}
}

func xys(ps []Point) plotter.XYs {
	out := make(plotter.XYs, len(ps))
	for i, p := range ps {
		out[i] = plotter.XY{X: float64(p.Step), Y: p.Value}
	}
	return out
}

// stride keeps about n evenly spaced points (and always the last one).
func stride(ps []Point, n int) []Point {
	if len(ps) <= n {
		return ps
	}
	k := (len(ps) + n - 1) / n
	out := make([]Point, 0, n+1)
	for i := 0; i < len(ps); i += k {
		out = append(out, ps[i])
	}
	if out[len(out)-1].Step != ps[len(ps)-1].Step {
		out = append(out, ps[len(ps)-1])
	}
	return out
}

// envelope keeps the minimum and maximum finite point of each of about n/2
// buckets, so a decimated raw curve still shows its spikes.
func envelope(ps []Point, n int) []Point {
	ps = finitePoints(ps)
	if len(ps) <= n {
		return ps
	}
	k := (len(ps) + n/2 - 1) / (n / 2)
	out := make([]Point, 0, n+2)
	for i := 0; i < len(ps); i += k {
		end := min(i+k, len(ps))
		lo, hi := i, i
		for j := i; j < end; j++ {
			if ps[j].Value < ps[lo].Value {
				lo = j
			}
			if ps[j].Value > ps[hi].Value {
				hi = j
			}
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		out = append(out, ps[lo])
		if hi != lo {
			out = append(out, ps[hi])
		}
	}
	return out
}
