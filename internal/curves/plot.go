package curves

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
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

// WritePlot draws train and eval loss of every run on one chart and writes it
// to path; the extension picks the format (.svg, .png, .pdf).
func WritePlot(path string, as []Analysis) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	switch format {
	case "svg", "png", "pdf":
	default:
		return fmt.Errorf("plot %s: unknown image type %q (use .svg, .png or .pdf)", path, format)
	}
	p, err := buildPlot(as)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if err := p.Save(8*vg.Inch, 4.5*vg.Inch, path); err != nil {
		return fmt.Errorf("writing plot %s: %w", path, err)
	}
	return nil
}

// RenderPlot writes the chart in format ("svg", "png", "pdf") to w, for
// reports that inline it.
func RenderPlot(w io.Writer, format string, as []Analysis) error {
	p, err := buildPlot(as)
	if err != nil {
		return err
	}
	wt, err := p.WriterTo(8*vg.Inch, 4.5*vg.Inch, format)
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}

func buildPlot(as []Analysis) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Train and eval loss"
	if len(as) == 1 {
		p.Title.Text += ": " + as[0].Name
	}
	p.X.Label.Text = "step"
	if len(as) > 0 && !slices.ContainsFunc(as, func(a Analysis) bool { return a.StepUnit != "epoch" }) {
		p.X.Label.Text = "epoch"
	}
	p.Y.Label.Text = "loss"
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	multi := len(as) > 1
	if multi {
		// One legend entry per run keeps the legend off the curves; the
		// line styles are explained once, in the axis label.
		p.X.Label.Text += "   (solid: train, smoothed; dashed: eval; triangle: eval minimum; dotted: early stop)"
	}
	var yvals []float64
	type stopLine struct {
		step  float64
		c     color.Color
		label string
	}
	var stops []stopLine
	for i, a := range as {
		c := plotutil.Color(i)
		legend := func(label string, th ...plot.Thumbnailer) {
			if !multi {
				p.Legend.Add(label, th...)
			}
		}
		if len(a.Train) > 0 {
			raw, err := plotter.NewLine(xys(envelope(a.Train, maxPlotPoints)))
			if err != nil {
				return nil, err
			}
			raw.Color = fade(c)
			raw.Width = vg.Points(0.5)
			p.Add(raw)
			sm, err := plotter.NewLine(xys(stride(finitePoints(a.TrainSmoothed), maxPlotPoints)))
			if err != nil {
				return nil, err
			}
			sm.Color = c
			sm.Width = vg.Points(1.5)
			p.Add(sm)
			legend("train (smoothed)", sm)
			for _, q := range finitePoints(a.TrainSmoothed) {
				yvals = append(yvals, q.Value)
			}
		}
		if ev := finitePoints(a.Eval); len(ev) > 0 {
			l, s, err := plotter.NewLinePoints(xys(stride(ev, maxPlotPoints)))
			if err != nil {
				return nil, err
			}
			l.Color, l.Width, l.Dashes = c, vg.Points(1.5), []vg.Length{vg.Points(5), vg.Points(3)}
			s.Color, s.Shape, s.Radius = c, draw.CircleGlyph{}, vg.Points(2)
			p.Add(l, s)
			legend("eval", l, s)
			if multi {
				p.Legend.Add(a.Name, l, s)
			}
			for _, q := range ev {
				yvals = append(yvals, q.Value)
			}
		}
		if b := a.BestEval; b != nil {
			m, err := plotter.NewScatter(plotter.XYs{{X: float64(b.Step), Y: b.Value}})
			if err != nil {
				return nil, err
			}
			m.Color, m.Shape, m.Radius = c, draw.PyramidGlyph{}, vg.Points(6)
			p.Add(m)
			legend(fmt.Sprintf("eval minimum (step %d)", b.Step), m)
		}
		if es := a.EarlyStopping; es != nil && es.HF.Stopped {
			stops = append(stops, stopLine{step: float64(es.HF.StopStep), c: c,
				label: fmt.Sprintf("early stop, patience %d (step %d)", es.Patience, es.HF.StopStep)})
		}
	}
	if len(yvals) > 0 {
		lo, hi := yRange(yvals)
		p.Y.Min, p.Y.Max = lo, hi
	}
	// Stop lines span the y range, so they are drawn once it is known.
	for _, st := range stops {
		l, err := plotter.NewLine(plotter.XYs{{X: st.step, Y: p.Y.Min}, {X: st.step, Y: p.Y.Max}})
		if err != nil {
			return nil, err
		}
		l.Color, l.Width, l.Dashes = st.c, vg.Points(1), []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(l)
		if !multi {
			p.Legend.Add(st.label, l)
		}
	}
	return p, nil
}

// yRange frames the bulk of the curves: the first steps of a fine-tune often
// start an order of magnitude higher (mT5 starts at 25 and settles near 2),
// which would flatten everything else, so the top is the 98th percentile of
// the smoothed and eval values, and lines above it are clipped.
func yRange(vs []float64) (lo, hi float64) {
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	lo = s[0]
	hi = s[int(math.Ceil(0.98*float64(len(s)-1)))]
	if hi <= lo {
		hi = lo + math.Max(math.Abs(lo)*0.1, 1e-3)
	}
	pad := 0.05 * (hi - lo)
	return lo - pad, hi + pad
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
