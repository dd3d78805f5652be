package chart

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"strings"
)

// pdfCanvas writes a one-page PDF 1.4 whose text is the standard Helvetica
// (one of the fourteen fonts every reader has, so none is embedded). PDF 1.4
// transparency needs a graphics state per alpha; instead a translucent colour
// is mixed with the white page, which is what it looks like wherever shapes
// do not overlap.
type pdfCanvas struct {
	b    bytes.Buffer
	w, h float64
}

func newPDF(w, h float64) *pdfCanvas {
	c := &pdfCanvas{w: w, h: h}
	// Flip to y-down so that the chart's coordinates apply unchanged.
	fmt.Fprintf(&c.b, "1 0 0 -1 0 %s cm 1 J 1 j\n", f(h))
	return c
}

func pdfRGB(c color.NRGBA) (r, g, b float64) {
	a := float64(c.A) / 255
	mix := func(v uint8) float64 { return float64(v)/255*a + (1 - a) }
	return mix(c.R), mix(c.G), mix(c.B)
}

func (c *pdfCanvas) path(pts []XY) {
	for i, p := range pts {
		op := "l"
		if i == 0 {
			op = "m"
		}
		fmt.Fprintf(&c.b, "%s %s %s\n", f(p.X), f(p.Y), op)
	}
}

func (c *pdfCanvas) stroke(pts []XY, col color.NRGBA, width float64, dashes []float64) {
	if len(pts) < 2 {
		return
	}
	r, g, b := pdfRGB(col)
	ds := make([]string, len(dashes))
	for i, d := range dashes {
		ds[i] = f(d)
	}
	fmt.Fprintf(&c.b, "%s %s %s RG %s w [%s] 0 d\n", f(r), f(g), f(b), f(width), strings.Join(ds, " "))
	c.path(pts)
	c.b.WriteString("S\n")
}

func (c *pdfCanvas) fill(pts []XY, col color.NRGBA) {
	if len(pts) < 3 {
		return
	}
	r, g, b := pdfRGB(col)
	fmt.Fprintf(&c.b, "%s %s %s rg\n", f(r), f(g), f(b))
	c.path(pts)
	c.b.WriteString("h f\n")
}

func (c *pdfCanvas) circle(x, y, r float64, col color.NRGBA) {
	// Four Bézier quarter arcs.
	const k = 0.5523
	cr, cg, cb := pdfRGB(col)
	fmt.Fprintf(&c.b, "%s %s %s rg %s %s m\n", f(cr), f(cg), f(cb), f(x+r), f(y))
	fmt.Fprintf(&c.b, "%s %s %s %s %s %s c\n", f(x+r), f(y+k*r), f(x+k*r), f(y+r), f(x), f(y+r))
	fmt.Fprintf(&c.b, "%s %s %s %s %s %s c\n", f(x-k*r), f(y+r), f(x-r), f(y+k*r), f(x-r), f(y))
	fmt.Fprintf(&c.b, "%s %s %s %s %s %s c\n", f(x-r), f(y-k*r), f(x-k*r), f(y-r), f(x), f(y-r))
	fmt.Fprintf(&c.b, "%s %s %s %s %s %s c h f\n", f(x+k*r), f(y-r), f(x+r), f(y-k*r), f(x+r), f(y))
}

// pdfString encodes s for WinAnsiEncoding: Latin-1 runes as themselves,
// anything else as '?', with the string delimiters escaped.
func pdfString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r >= 0xa0 && r <= 0xff:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

func (c *pdfCanvas) text(x, y float64, s string, size float64, anchor int, vertical bool) {
	shift := textWidth(s, size) * float64(anchor) / 2
	// In the flipped space, upright text has the matrix [1 0 0 -1]; a quarter
	// turn anticlockwise on the page is [0 -1 -1 0].
	m := fmt.Sprintf("1 0 0 -1 %s %s", f(x-shift), f(y))
	if vertical {
		m = fmt.Sprintf("0 -1 -1 0 %s %s", f(x), f(y+shift))
	}
	fmt.Fprintf(&c.b, "0 0 0 rg BT /F1 %s Tf %s Tm (%s) Tj ET\n", f(size), m, pdfString(s))
}

func (c *pdfCanvas) finish(w io.Writer) error {
	var out bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, out.Len())
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>", f(c.w), f(c.h)))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", c.b.Len(), c.b.String()))
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	_, err := w.Write(out.Bytes())
	return err
}
