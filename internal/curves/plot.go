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

	"github.com/tunecheck/tunecheck/internal/chart"
)

// maxPlotPoints bounds each drawn line: more points than pixels only makes
// the SVG heavier.
const maxPlotPoints = 2000

// plotW and plotH are the chart's size in points (8 × 4.5 inches).
const (
	plotW = 8 * 72
	plotH = 4.5 * 72
)

// runColors tell the runs apart (the soft palette gonum/plot used, so that
// plots keep their colours).
var runColors = []color.NRGBA{
	{R: 241, G: 90, B: 96, A: 255},
	{R: 122, G: 195, B: 106, A: 255},
	{R: 90, G: 155, B: 212, A: 255},
	{R: 250, G: 167, B: 91, A: 255},
	{R: 158, G: 103, B: 171, A: 255},
	{R: 206, G: 112, B: 88, A: 255},
	{R: 215, G: 127, B: 180, A: 255},
}

// WritePlot draws train and eval loss of every run on one chart and writes it
// to path; the extension picks the format (.svg, .png, .pdf).
func WritePlot(path string, as []Analysis) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if !slices.Contains(chart.Formats, format) {
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
// reports that inline it. The legend is a column right of the plot area,
// where it can hide no data.
func RenderPlot(w io.Writer, format string, as []Analysis) error {
	p, err := buildPlot(as)
	if err != nil {
		return err
	}
	return chart.Render(w, format, chart.Figure{W: plotW, H: plotH, Panels: []chart.Panel{p}})
}

func buildPlot(as []Analysis) (chart.Panel, error) {
	p := chart.Panel{Title: "Train and eval loss", XLabel: "step", YLabel: "loss", LegendRight: true}
	if len(as) == 1 {
		p.Title += ": " + as[0].Name
	}
	if len(as) > 0 && !slices.ContainsFunc(as, func(a Analysis) bool { return a.StepUnit != "epoch" }) {
		p.XLabel = "epoch"
	}
	entry := func(label string, st ...chart.Style) {
		// Names are drawn as given: a file name keeps its dots and underscores.
		p.Legend = append(p.Legend, chart.LegendEntry{Label: label, Styles: st})
	}
	multi := len(as) > 1
	// The y range is decided first, on every curve drawn, so that points
	// outside it can be pinned to its edge rather than lost.
	var yvals, lasts []float64
	xlo, xhi := math.Inf(1), math.Inf(-1)
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
		for _, ps := range [][]Point{a.Train, a.Eval} {
			for _, pt := range ps {
				xlo, xhi = min(xlo, float64(pt.Step)), max(xhi, float64(pt.Step))
			}
		}
	}
	lo, hi := 0.0, 1.0
	if len(yvals) > 0 {
		lo, hi = yRange(yvals, lasts)
	}
	if !(xhi >= xlo) {
		xlo, xhi = 0, 1
	} else if xhi == xlo {
		xlo, xhi = xlo-0.5, xhi+0.5
	}
	p.XMin, p.XMax, p.YMin, p.YMax = xlo, xhi, lo, hi
	p.XTicks = stepTicks(xlo, xhi)
	var clipped []chart.XY
	clip := func(ps []Point) []chart.XY {
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
		c     color.NRGBA
		label string
	}
	var stops []stopLine
	for i, a := range as {
		c := runColors[i%len(runColors)]
		clipped = clipped[:0]
		add := func(label string, st ...chart.Style) {
			if !multi {
				entry(label, st...)
			}
		}
		if len(a.Train) > 0 {
			raw := chart.Style{Color: fade(c), Width: 0.5}
			p.Items = append(p.Items, chart.Item{Kind: chart.Line, Points: clip(envelope(a.Train, maxPlotPoints)), Style: raw})
			sm := chart.Style{Color: c, Width: 1.5}
			p.Items = append(p.Items, chart.Item{Kind: chart.Line, Points: clip(stride(finitePoints(a.TrainSmoothed), maxPlotPoints)), Style: sm})
			add("train (smoothed)", sm)
			if multi && len(finitePoints(a.Eval)) == 0 {
				entry(a.Name, sm) // a train-only run is named by its train line
			}
		}
		if ev := finitePoints(a.Eval); len(ev) > 0 {
			l := chart.Style{Color: c, Width: 1.5, Dashes: []float64{5, 3}}
			s := chart.Style{Color: c, Shape: chart.Circle, Radius: 2}
			pts := clip(stride(ev, maxPlotPoints))
			p.Items = append(p.Items, chart.Item{Kind: chart.Line, Points: pts, Style: l}, chart.Item{Kind: chart.Markers, Points: pts, Style: s})
			add("eval", l, s)
			if multi {
				entry(a.Name, l, s)
			}
		}
		if b := a.BestEval; b != nil {
			m := chart.Style{Color: c, Shape: chart.TriUp, Radius: 6}
			p.Items = append(p.Items, chart.Item{Kind: chart.Markers, Points: clip([]Point{{Step: b.Step, Value: b.Value}}), Style: m})
			add(fmt.Sprintf("eval minimum (%s %d)", a.StepUnit, b.Step), m)
		}
		if len(clipped) > 0 {
			m := chart.Style{Color: c, Shape: chart.Cross, Radius: 2}
			p.Items = append(p.Items, chart.Item{Kind: chart.Markers, Points: slices.Clone(clipped), Style: m})
			add("off the axis (drawn at its edge)", m)
		}
		if es := a.EarlyStopping; es != nil && es.HF.Stopped {
			stops = append(stops, stopLine{step: float64(es.HF.StopStep), c: c,
				label: fmt.Sprintf("early stop, patience %d (%s %d)", es.Patience, a.StepUnit, es.HF.StopStep)})
		}
	}
	// Stop lines span the y range.
	for _, st := range stops {
		l := chart.Style{Color: st.c, Width: 1, Dashes: []float64{2, 2}}
		p.Items = append(p.Items, chart.Item{Kind: chart.Line, Points: []chart.XY{{X: st.step, Y: p.YMin}, {X: st.step, Y: p.YMax}}, Style: l})
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
	return p, nil
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
func stepTicks(lo, hi float64) []chart.Tick {
	if !(hi > lo) {
		return chart.NiceTicks(lo, hi)
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
	var ticks []chart.Tick
	minor := step / 2
	for v := math.Ceil(lo/minor) * minor; v <= hi+minor*1e-9; v += minor {
		t := chart.Tick{Value: v}
		if r := math.Round(v / step); math.Abs(v/step-r) < 1e-9 {
			t.Label = strconv.FormatFloat(r*step, 'g', 10, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

func fade(c color.NRGBA) color.NRGBA {
	c.A = 90
	return c
}

func xys(ps []Point) []chart.XY {
	out := make([]chart.XY, len(ps))
	for i, p := range ps {
		out[i] = chart.XY{X: float64(p.Step), Y: p.Value}
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
