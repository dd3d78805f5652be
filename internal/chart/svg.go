package chart

import (
	"bytes"
	"fmt"
	"html"
	"image/color"
	"io"
	"strconv"
	"strings"
)

// svgCanvas writes SVG 1.1 text. Data strings reach it only as text content,
// escaped.
type svgCanvas struct {
	b    bytes.Buffer
	w, h float64
}

func newSVG(w, h float64) *svgCanvas { return &svgCanvas{w: w, h: h} }

// f writes a coordinate with at most two decimals.
func f(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

func hexColor(c color.NRGBA) string { return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B) }

func opacity(prop string, c color.NRGBA) string {
	if c.A == 0xff {
		return ""
	}
	return ";" + prop + ":" + f(float64(c.A)/255)
}

func svgPath(pts []XY, closed bool) string {
	var b strings.Builder
	for i, p := range pts {
		if i == 0 {
			b.WriteString("M")
		} else {
			b.WriteString("L")
		}
		b.WriteString(f(p.X) + "," + f(p.Y))
	}
	if closed {
		b.WriteString("Z")
	}
	return b.String()
}

func (s *svgCanvas) stroke(pts []XY, c color.NRGBA, width float64, dashes []float64) {
	if len(pts) < 2 {
		return
	}
	fmt.Fprintf(&s.b, `<path d="%s" style="fill:none;stroke:%s%s;stroke-width:%s`, svgPath(pts, false), hexColor(c), opacity("stroke-opacity", c), f(width))
	if len(dashes) > 0 {
		ds := make([]string, len(dashes))
		for i, d := range dashes {
			ds[i] = f(d)
		}
		fmt.Fprintf(&s.b, ";stroke-dasharray:%s", strings.Join(ds, ","))
	}
	s.b.WriteString("\"/>\n")
}

func (s *svgCanvas) fill(pts []XY, c color.NRGBA) {
	if len(pts) < 3 {
		return
	}
	fmt.Fprintf(&s.b, "<path d=\"%s\" style=\"fill:%s%s\"/>\n", svgPath(pts, true), hexColor(c), opacity("fill-opacity", c))
}

func (s *svgCanvas) circle(x, y, r float64, c color.NRGBA) {
	fmt.Fprintf(&s.b, "<circle cx=\"%s\" cy=\"%s\" r=\"%s\" style=\"fill:%s%s\"/>\n", f(x), f(y), f(r), hexColor(c), opacity("fill-opacity", c))
}

func (s *svgCanvas) text(x, y float64, str string, size float64, anchor int, vertical bool) {
	fmt.Fprintf(&s.b, `<text x="%s" y="%s"`, f(x), f(y))
	if vertical {
		fmt.Fprintf(&s.b, ` transform="rotate(-90 %s %s)"`, f(x), f(y))
	}
	if a := [...]string{"start", "middle", "end"}[anchor]; a != "start" {
		fmt.Fprintf(&s.b, ` text-anchor="%s"`, a)
	}
	fmt.Fprintf(&s.b, ` style="font-size:%spx">%s</text>`+"\n", f(size), html.EscapeString(str))
}

func (s *svgCanvas) finish(w io.Writer) error {
	_, err := fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%spt" height="%spt" viewBox="0 0 %s %s" font-family="Helvetica, Arial, sans-serif">
<rect width="100%%" height="100%%" fill="#FFFFFF"/>
%s</svg>
`, f(s.w), f(s.h), f(s.w), f(s.h), s.b.String())
	return err
}
