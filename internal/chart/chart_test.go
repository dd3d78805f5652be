package chart

import (
	"bytes"
	"image/color"
	"image/png"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var red = color.NRGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}

func sample() Figure {
	line := Style{Color: red, Width: 1.5, Dashes: []float64{5, 3}}
	dot := Style{Color: red, Shape: Circle, Radius: 2}
	return Figure{W: 400, H: 300, Panels: []Panel{{
		Title: "loss <of> a & b", XLabel: "step", YLabel: "loss", LegendRight: true,
		XMin: 0, XMax: 10, YMin: 0, YMax: 2,
		Items: []Item{
			{Kind: Band, Points: []XY{{1, 0.5}, {3, 0.5}, {3, 1}, {1, 1}}, Style: Style{Color: color.NRGBA{A: 0x30}, Fill: true}},
			{Kind: Line, Points: []XY{{0, 2}, {5, 1}, {10, 0.5}}, Style: line},
			{Kind: Markers, Points: []XY{{5, 1}}, Style: dot},
			{Kind: ErrorBars, Points: []XY{{5, 1}}, Low: []float64{0.8}, High: []float64{1.2}, Cap: 6, Style: Style{Color: red, Width: 1}},
			{Kind: Markers, Points: []XY{{7, 1.5}}, Style: Style{Color: red, Shape: TriDown, Radius: 5}},
		},
		Legend: []LegendEntry{{Label: "run.v2 (é)", Styles: []Style{line, dot}}, {Label: "text only"}},
	}, {Height: 0.5, XMin: 0, XMax: 1, YMin: -1, YMax: 1, RotateXLabels: true, XTicks: []Tick{{0, "run-a"}, {1, "run-b"}}}}}
}

func render(t *testing.T, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, format, sample()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSVG(t *testing.T) {
	svg := string(render(t, "svg"))
	for _, want := range []string{
		`>loss &lt;of&gt; a &amp; b</text>`, // data is text, never markup
		`>run.v2 (é)</text>`,
		`stroke-dasharray:5,3`,
		`fill-opacity:0.19`,
		`transform="rotate(-90 `,
		`>run-b</text>`,
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	// The legend starts right of the data area's right edge (the last x tick, 10).
	x := func(label string) float64 {
		m := regexp.MustCompile(`<text x="([0-9.]+)"[^>]*>` + regexp.QuoteMeta(label) + `</text>`).FindStringSubmatch(svg)
		if m == nil {
			t.Fatalf("no %q", label)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	if x("run.v2 (é)") <= x("10") {
		t.Errorf("legend overlaps the data area")
	}
}

func TestPNG(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(render(t, "png")))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 534 || b.Dy() != 400 {
		t.Errorf("size %v, want 534×400 (400×300 pt at 96 dpi)", b)
	}
	// Some pixel is the series' red, and the corner is the white page.
	found := false
	for y := 0; y < img.Bounds().Dy() && !found; y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 == 0xd6 && g>>8 == 0x27 && b>>8 == 0x28 {
				found = true
				break
			}
		}
	}
	if !found {
		t.Error("no pixel of the series colour")
	}
	if r, g, b, _ := img.At(0, 0).RGBA(); r != 0xffff || g != 0xffff || b != 0xffff {
		t.Error("the page is not white")
	}
}

// TestPDF checks the file's structure: every xref offset points at its
// object, startxref at the xref table, and the stream length is exact.
func TestPDF(t *testing.T) {
	pdf := render(t, "pdf")
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatalf("not a PDF: %.40q", pdf)
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n0 6\n")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	for i, off := range regexp.MustCompile(`(\d{10}) 00000 n `).FindAllSubmatch(pdf, -1) {
		o, _ := strconv.Atoi(string(off[1]))
		if want := strconv.Itoa(i+1) + " 0 obj"; !bytes.HasPrefix(pdf[o:], []byte(want)) {
			t.Errorf("xref entry %d points at %.12q", i+1, pdf[o:])
		}
	}
	lm := regexp.MustCompile(`/Length (\d+) >>\nstream\n`).FindSubmatchIndex(pdf)
	n, _ := strconv.Atoi(string(pdf[lm[2]:lm[3]]))
	if !bytes.HasPrefix(pdf[lm[1]+n:], []byte("endstream")) {
		t.Error("stream /Length is wrong")
	}
	if !bytes.Contains(pdf, []byte(`(loss <of> a & b) Tj`)) || !bytes.Contains(pdf, []byte(`(run.v2 \(\351\)) Tj`)) {
		t.Error("text not written as WinAnsi strings")
	}
}

func TestUnknownFormat(t *testing.T) {
	if err := Render(&bytes.Buffer{}, "gif", sample()); err == nil || !strings.Contains(err.Error(), `unknown image type "gif"`) {
		t.Errorf("err = %v", err)
	}
}

func TestDash(t *testing.T) {
	segs := dash([]XY{{0, 0}, {10, 0}, {10, 6}}, []float64{4, 2})
	on := 0.0
	for _, s := range segs {
		on += math.Hypot(s[1].X-s[0].X, s[1].Y-s[0].Y)
	}
	// 16 points of path, 4 on 2 off: on 0–4, 6–10, 12–16.
	if math.Abs(on-12) > 1e-9 {
		t.Errorf("dashes cover %v points, want 12", on)
	}
}

func TestNiceTicks(t *testing.T) {
	ts := NiceTicks(0, 2.1)
	var labels []string
	for _, tk := range ts {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, " "); got != "0 0.5 1 1.5 2" {
		t.Errorf("ticks %q", got)
	}
}
