package chart

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// pngScale is pixels per point: the PNG is drawn at 96 dpi.
const pngScale = 96.0 / 72

// pngCanvas rasterises onto an RGBA image. Strokes become one polygon per
// segment (all wound the same way, so overlaps do not cancel); each shape is
// rasterised in its own bounding box.
type pngCanvas struct {
	img *image.RGBA
	r   vector.Rasterizer
}

func newPNG(w, h float64) *pngCanvas {
	img := image.NewRGBA(image.Rect(0, 0, int(math.Ceil(w*pngScale)), int(math.Ceil(h*pngScale))))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	return &pngCanvas{img: img}
}

// paint fills the polygons (in points) with c.
func (p *pngCanvas) paint(polys [][]XY, c color.NRGBA) {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, poly := range polys {
		for _, q := range poly {
			minX, minY = min(minX, q.X*pngScale), min(minY, q.Y*pngScale)
			maxX, maxY = max(maxX, q.X*pngScale), max(maxY, q.Y*pngScale)
		}
	}
	box := image.Rect(int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX))+1, int(math.Ceil(maxY))+1).Intersect(p.img.Bounds())
	if box.Empty() {
		return
	}
	p.r.Reset(box.Dx(), box.Dy())
	ox, oy := float64(box.Min.X), float64(box.Min.Y)
	for _, poly := range polys {
		if len(poly) < 3 {
			continue
		}
		p.r.MoveTo(float32(poly[0].X*pngScale-ox), float32(poly[0].Y*pngScale-oy))
		for _, q := range poly[1:] {
			p.r.LineTo(float32(q.X*pngScale-ox), float32(q.Y*pngScale-oy))
		}
		p.r.ClosePath()
	}
	p.r.DrawOp = draw.Over
	p.r.Draw(p.img, box, image.NewUniform(c), image.Point{})
}

func (p *pngCanvas) stroke(pts []XY, c color.NRGBA, width float64, dashes []float64) {
	var polys [][]XY
	hw := max(width, 0.75) / 2
	for _, seg := range dash(pts, dashes) {
		a, b := seg[0], seg[1]
		dx, dy := b.X-a.X, b.Y-a.Y
		l := math.Hypot(dx, dy)
		if l == 0 {
			continue
		}
		// Extend each end by half the width so that joints close.
		ux, uy := dx/l*hw, dy/l*hw
		nx, ny := -uy, ux
		polys = append(polys, []XY{{a.X - ux + nx, a.Y - uy + ny}, {b.X + ux + nx, b.Y + uy + ny}, {b.X + ux - nx, b.Y + uy - ny}, {a.X - ux - nx, a.Y - uy - ny}})
	}
	p.paint(polys, c)
}

func (p *pngCanvas) fill(pts []XY, c color.NRGBA) { p.paint([][]XY{pts}, c) }

func (p *pngCanvas) circle(x, y, r float64, c color.NRGBA) {
	const n = 16
	poly := make([]XY, n)
	for i := range poly {
		a := 2 * math.Pi * float64(i) / n
		poly[i] = XY{x + r*math.Cos(a), y + r*math.Sin(a)}
	}
	p.paint([][]XY{poly}, c)
}

// text uses the 7×13 pixel bitmap face whatever the size asked for: PNG
// output favours a small binary over typography (the SVG is the sharp one).
func (p *pngCanvas) text(x, y float64, s string, _ float64, anchor int, vertical bool) {
	face := basicfont.Face7x13
	w := font.MeasureString(face, s).Ceil()
	if w == 0 {
		return
	}
	line := image.NewAlpha(image.Rect(0, 0, w, 13))
	d := font.Drawer{Dst: line, Src: image.Opaque, Face: face, Dot: fixed.P(0, 10)}
	d.DrawString(s)
	shift := w * anchor / 2
	px, py := int(math.Round(x*pngScale)), int(math.Round(y*pngScale))
	if !vertical {
		dst := image.Rect(px-shift, py-10, px-shift+w, py+3)
		draw.DrawMask(p.img, dst, image.Black, image.Point{}, line, image.Point{}, draw.Over)
		return
	}
	// A quarter turn anticlockwise: the text reads upwards from (x, y).
	rot := image.NewAlpha(image.Rect(0, 0, 13, w))
	for j := 0; j < 13; j++ {
		for i := 0; i < w; i++ {
			rot.SetAlpha(j, w-1-i, line.AlphaAt(i, j))
		}
	}
	dst := image.Rect(px-10, py-w+shift, px+3, py+shift)
	draw.DrawMask(p.img, dst, image.Black, image.Point{}, rot, image.Point{}, draw.Over)
}

func (p *pngCanvas) finish(w io.Writer) error { return png.Encode(w, p.img) }

// dash splits a polyline into the segments its dash pattern draws.
func dash(pts []XY, pattern []float64) [][2]XY {
	var out [][2]XY
	if len(pattern) == 0 {
		for i := 1; i < len(pts); i++ {
			out = append(out, [2]XY{pts[i-1], pts[i]})
		}
		return out
	}
	k, left, on := 0, pattern[0], true
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		l := math.Hypot(b.X-a.X, b.Y-a.Y)
		t := 0.0
		for l-t > 1e-9 {
			step := min(left, l-t)
			if on {
				p0 := XY{a.X + (b.X-a.X)*t/l, a.Y + (b.Y-a.Y)*t/l}
				p1 := XY{a.X + (b.X-a.X)*(t+step)/l, a.Y + (b.Y-a.Y)*(t+step)/l}
				out = append(out, [2]XY{p0, p1})
			}
			t += step
			left -= step
			if left <= 1e-9 {
				k = (k + 1) % len(pattern)
				left, on = pattern[k], !on
			}
		}
	}
	return out
}
