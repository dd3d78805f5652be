// Package chart draws the line charts of `tunecheck curves --plot` and
// `tunecheck show --trend --plot`: panels of lines, markers, error bars and
// shaded bands over numbered axes, with a legend, written as SVG, PNG or PDF.
//
// It is hand-written rather than gonum.org/v1/plot, which drew these charts
// before: plot embeds twelve Liberation font files and brings a PDF, LaTeX and
// FreeType stack, 6 MB of the binary in all (issue 15 caps the stripped binary
// at 40 MB), for charts that need a dozen drawing operations. SVG and PDF text
// use the viewer's Helvetica/sans-serif, so nothing is embedded; PNG text uses
// the 7×13 bitmap face of golang.org/x/image/font/basicfont and shapes are
// filled with golang.org/x/image/vector. Text widths for layout are estimated
// (Helvetica's average advance), which is all a legend column or a margin
// needs. The HTML report keeps its own inline SVG (internal/report/svg.go):
// its plots are HTML fragments with accessible titles, not image files.
//
// Coordinates are points (1/72 inch) from the top-left corner of the figure.
package chart

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// XY is one data point.
type XY struct{ X, Y float64 }

// Tick is one axis tick; an empty Label draws an unlabelled (minor) tick.
type Tick struct {
	Value float64
	Label string
}

// Shape is a marker's shape.
type Shape int

// The marker shapes.
const (
	Circle  Shape = iota // filled circle
	TriUp                // filled triangle pointing up
	TriDown              // filled triangle pointing down
	Cross                // ×, stroked
)

// Style says how an item is drawn; the zero Style draws nothing.
type Style struct {
	Color  color.NRGBA
	Width  float64   // line width in points; 0: no line
	Dashes []float64 // dash pattern in points; nil: solid
	Shape  Shape     // marker shape, when Radius > 0
	Radius float64   // marker radius in points; 0: no marker
	Fill   bool      // fill the polygon (Band)
}

// Kind is what an Item draws.
type Kind int

// The item kinds.
const (
	Line      Kind = iota // Points joined by a polyline (Width), and marked (Radius)
	Markers               // Points marked only
	ErrorBars             // a vertical bar from Low[i] to High[i] at each Points[i].X, with caps
	Band                  // the polygon through Points, filled
)

// Item is one thing drawn in a panel's data area.
type Item struct {
	Kind      Kind
	Points    []XY
	Low, High []float64 // ErrorBars only
	Cap       float64   // ErrorBars: cap width in points
	Style     Style
}

// LegendEntry is one line of a legend: a thumbnail of each style (drawn over
// one another), then the label. No styles: a text-only line.
type LegendEntry struct {
	Label  string
	Styles []Style
}

// Panel is one set of axes.
type Panel struct {
	Title          string
	XLabel, YLabel string
	XMin, XMax     float64
	YMin, YMax     float64
	// XTicks and YTicks are the ticks; nil picks round numbers.
	XTicks, YTicks []Tick
	// RotateXLabels draws the x tick labels vertically (long run names).
	RotateXLabels bool
	Items         []Item
	Legend        []LegendEntry
	// LegendRight puts the legend in a column right of the data area, where
	// it hides nothing; otherwise it sits inside the data area, top left.
	LegendRight bool
	// Height is this panel's share of the figure's height (0 counts as 1).
	Height float64
}

// Figure is the whole image: panels stacked top to bottom, sharing the left
// edge of their data areas.
type Figure struct {
	W, H   float64 // points
	Panels []Panel
}

// Formats are the file types Render writes.
var Formats = []string{"svg", "png", "pdf"}

// Render writes f in format ("svg", "png" or "pdf") to w.
func Render(w io.Writer, format string, f Figure) error {
	var c canvas
	switch format {
	case "svg":
		c = newSVG(f.W, f.H)
	case "png":
		c = newPNG(f.W, f.H)
	case "pdf":
		c = newPDF(f.W, f.H)
	default:
		return fmt.Errorf("unknown image type %q (use .svg, .png or .pdf)", format)
	}
	drawFigure(c, f)
	return c.finish(w)
}

// canvas is what each format implements. y grows downwards.
type canvas interface {
	// stroke draws the polyline through pts.
	stroke(pts []XY, c color.NRGBA, width float64, dashes []float64)
	// fill fills the closed polygon through pts.
	fill(pts []XY, c color.NRGBA)
	// circle fills a circle.
	circle(x, y, r float64, c color.NRGBA)
	// text draws s with its baseline at y; anchor 0 starts, 1 centres and 2
	// ends it at x. vertical turns it a quarter anticlockwise about (x, y).
	text(x, y float64, s string, size float64, anchor int, vertical bool)
	finish(w io.Writer) error
}

const (
	fontSize      = 10.0
	tickFont      = 9.0
	titleFont     = 12.0
	legendFont    = 9.0
	tickLen       = 4.0
	pad           = 6.0
	thumbW        = 20.0
	legendLineGap = 1.35
)

// textWidth estimates the width of s at size points: 0.6 em a character,
// a little over Helvetica's mean advance on mixed text and digits (0.55 em)
// and over the PNG's bitmap face (7 px at 96 dpi, 5.25 pt, for text of 9 pt).
func textWidth(s string, size float64) float64 {
	return 0.6 * size * float64(utf8.RuneCountInString(s))
}

var (
	black = color.NRGBA{A: 0xff}
	grey  = color.NRGBA{R: 0x40, G: 0x40, B: 0x40, A: 0xff}
)

func drawFigure(c canvas, f Figure) {
	total := 0.0
	for _, p := range f.Panels {
		total += heightOf(p)
	}
	// A shared left edge: the widest y margin of all panels.
	left := 0.0
	for _, p := range f.Panels {
		left = max(left, yMargin(p))
	}
	y := 0.0
	for _, p := range f.Panels {
		h := f.H * heightOf(p) / total
		drawPanel(c, p, 0, y, f.W, h, left)
		y += h
	}
}

func heightOf(p Panel) float64 {
	if p.Height <= 0 {
		return 1
	}
	return p.Height
}

func yTicks(p Panel) []Tick {
	if p.YTicks != nil {
		return p.YTicks
	}
	return NiceTicks(p.YMin, p.YMax)
}

func xTicks(p Panel) []Tick {
	if p.XTicks != nil {
		return p.XTicks
	}
	return NiceTicks(p.XMin, p.XMax)
}

// yMargin is the room left of the data area: the y label, the widest tick
// label and the ticks.
func yMargin(p Panel) float64 {
	w := 0.0
	for _, t := range yTicks(p) {
		w = max(w, textWidth(t.Label, tickFont))
	}
	m := pad + w + tickLen + 3
	if p.YLabel != "" {
		m += fontSize + pad
	}
	return m
}

func legendWidth(p Panel) float64 {
	w := 0.0
	for _, e := range p.Legend {
		lw := textWidth(e.Label, legendFont)
		if len(e.Styles) > 0 {
			lw += thumbW + 4
		}
		w = max(w, lw)
	}
	return w
}

func drawPanel(c canvas, p Panel, x0, y0, w, h, left float64) {
	top := y0 + pad
	if p.Title != "" {
		c.text(x0+w/2, top+titleFont, p.Title, titleFont, 1, false)
		top += titleFont + pad
	}
	xt := xTicks(p)
	bottomRoom := tickLen + 3 + tickFont
	if p.RotateXLabels {
		lw := 0.0
		for _, t := range xt {
			lw = max(lw, textWidth(t.Label, tickFont))
		}
		bottomRoom = tickLen + 3 + lw
	}
	if p.XLabel != "" {
		bottomRoom += fontSize + pad
	}
	right := x0 + w - pad
	if p.LegendRight && len(p.Legend) > 0 {
		// A very long legend takes at most 40% of the width.
		lw := min(legendWidth(p), 0.4*w)
		right -= lw + 2*pad
	}
	area := rect{x0: x0 + left, y0: top + tickFont/2, x1: right, y1: y0 + h - pad - bottomRoom}
	if area.x1 <= area.x0+10 || area.y1 <= area.y0+10 {
		return // too small to draw anything useful
	}
	px := func(v float64) float64 { return area.x0 + (v-p.XMin)/span(p.XMin, p.XMax)*(area.x1-area.x0) }
	py := func(v float64) float64 { return area.y1 - (v-p.YMin)/span(p.YMin, p.YMax)*(area.y1-area.y0) }

	// Axes, ticks and labels.
	c.stroke([]XY{{area.x0, area.y1}, {area.x1, area.y1}}, black, 0.75, nil)
	c.stroke([]XY{{area.x0, area.y0}, {area.x0, area.y1}}, black, 0.75, nil)
	for _, t := range xt {
		if t.Value < p.XMin || t.Value > p.XMax {
			continue
		}
		x := px(t.Value)
		l := tickLen
		if t.Label == "" {
			l /= 2
		}
		c.stroke([]XY{{x, area.y1}, {x, area.y1 + l}}, black, 0.5, nil)
		if t.Label == "" {
			continue
		}
		if p.RotateXLabels {
			c.text(x+tickFont/3, area.y1+tickLen+3, t.Label, tickFont, 2, true)
		} else {
			c.text(x, area.y1+tickLen+3+tickFont, t.Label, tickFont, 1, false)
		}
	}
	for _, t := range yTicks(p) {
		if t.Value < p.YMin || t.Value > p.YMax {
			continue
		}
		y := py(t.Value)
		l := tickLen
		if t.Label == "" {
			l /= 2
		}
		c.stroke([]XY{{area.x0 - l, y}, {area.x0, y}}, black, 0.5, nil)
		if t.Label != "" {
			c.text(area.x0-tickLen-3, y+tickFont/3, t.Label, tickFont, 2, false)
		}
	}
	if p.XLabel != "" {
		c.text((area.x0+area.x1)/2, y0+h-pad, p.XLabel, fontSize, 1, false)
	}
	if p.YLabel != "" {
		c.text(x0+pad+fontSize, (area.y0+area.y1)/2, p.YLabel, fontSize, 1, true)
	}

	// Data, in order.
	for _, it := range p.Items {
		pts := make([]XY, len(it.Points))
		for i, q := range it.Points {
			pts[i] = XY{px(q.X), py(q.Y)}
		}
		switch it.Kind {
		case Band:
			c.fill(pts, it.Style.Color)
		case ErrorBars:
			for i, q := range pts {
				lo, hi := py(it.Low[i]), py(it.High[i])
				c.stroke([]XY{{q.X, lo}, {q.X, hi}}, it.Style.Color, max(it.Style.Width, 1), nil)
				if it.Cap > 0 {
					c.stroke([]XY{{q.X - it.Cap/2, lo}, {q.X + it.Cap/2, lo}}, it.Style.Color, max(it.Style.Width, 1), nil)
					c.stroke([]XY{{q.X - it.Cap/2, hi}, {q.X + it.Cap/2, hi}}, it.Style.Color, max(it.Style.Width, 1), nil)
				}
			}
		default:
			if it.Kind == Line && it.Style.Width > 0 && len(pts) > 1 {
				c.stroke(pts, it.Style.Color, it.Style.Width, it.Style.Dashes)
			}
			if it.Style.Radius > 0 {
				for _, q := range pts {
					marker(c, q.X, q.Y, it.Style)
				}
			}
		}
	}

	// Legend.
	if len(p.Legend) == 0 {
		return
	}
	lx, ly := area.x0+pad, area.y0+pad
	if p.LegendRight {
		lx, ly = area.x1+2*pad, area.y0
	}
	for _, e := range p.Legend {
		ly += legendFont * legendLineGap
		tx := lx
		if len(e.Styles) > 0 {
			mid := XY{lx + thumbW/2, ly - legendFont/3}
			for _, s := range e.Styles {
				switch {
				case s.Fill:
					c.fill([]XY{{lx, mid.Y - 4}, {lx + thumbW, mid.Y - 4}, {lx + thumbW, mid.Y + 4}, {lx, mid.Y + 4}}, s.Color)
				case s.Radius > 0:
					marker(c, mid.X, mid.Y, s)
				case s.Width > 0:
					c.stroke([]XY{{lx, mid.Y}, {lx + thumbW, mid.Y}}, s.Color, s.Width, s.Dashes)
				}
			}
			tx += thumbW + 4
		}
		if e.Label != "" {
			c.text(tx, ly, e.Label, legendFont, 0, false)
		}
	}
}

type rect struct{ x0, y0, x1, y1 float64 }

func span(lo, hi float64) float64 {
	if hi > lo {
		return hi - lo
	}
	return 1
}

func marker(c canvas, x, y float64, s Style) {
	r := s.Radius
	switch s.Shape {
	case Circle:
		c.circle(x, y, r, s.Color)
	case TriUp, TriDown:
		half := r * math.Sqrt(3) / 2
		d := 1.0
		if s.Shape == TriDown {
			d = -1
		}
		c.fill([]XY{{x, y - d*r}, {x - half, y + d*r/2}, {x + half, y + d*r/2}}, s.Color)
	case Cross:
		w := max(s.Width, 1)
		c.stroke([]XY{{x - r, y - r}, {x + r, y + r}}, s.Color, w, nil)
		c.stroke([]XY{{x - r, y + r}, {x + r, y - r}}, s.Color, w, nil)
	}
}

// NiceTicks labels about six round values (1, 2 or 5 times a power of ten
// apart) between lo and hi.
func NiceTicks(lo, hi float64) []Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []Tick{{Value: lo, Label: num(lo)}}
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ts []Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		r := math.Round(v/step) * step
		if math.Abs(r) < step*1e-9 {
			r = 0
		}
		ts = append(ts, Tick{Value: r, Label: num(r)})
	}
	return ts
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
