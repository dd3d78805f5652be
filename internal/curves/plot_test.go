package curves

import (
	"bytes"
	"math"
	"regexp"
	"strconv"
	"testing"
)

func TestYRange(t *testing.T) {
	// A fine-tune starting at 25 and settling near 2 (as mT5 does).
	var startup, lasts []float64
	for i := range 200 {
		startup = append(startup, 2+23*math.Exp(-float64(i)/3))
	}
	diverging := []float64{}
	for i := range 60 {
		diverging = append(diverging, 1+29*math.Pow(float64(i)/59, 2))
	}
	tests := []struct {
		name         string
		vs, lasts    []float64
		maxHi, minHi float64
	}{
		{"start-up spike does not squash the axis", startup, append(lasts, startup[len(startup)-1]), 4, 2},
		{"a diverging run keeps its last points in view", diverging, []float64{30}, 32, 30},
		{"a late jump up stays visible", append(slicesRepeat(1.0, 100), 5), []float64{5}, 6, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, hi := yRange(tt.vs, tt.lasts)
			if hi > tt.maxHi || hi < tt.minHi {
				t.Errorf("top %v, want in [%v, %v]", hi, tt.minHi, tt.maxHi)
			}
		})
	}
}

func slicesRepeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestStepTicks(t *testing.T) {
	for _, r := range [][2]float64{{0, 7000}, {10, 2800}, {0, 19}, {0, 500}} {
		labels := 0
		for _, tk := range stepTicks(r[0], r[1]) {
			if tk.Label != "" {
				labels++
			}
		}
		if labels < 6 || labels > 12 {
			t.Errorf("%v: %d labelled ticks, want 6 to 12", r, labels)
		}
	}
}

// TestPlotLegendAndClipping: the legend sits beside the plot area, not on
// it; file names keep their dots; a start-up spike is pinned to the top edge
// (drawn, marked) instead of stretching the axis.
func TestPlotLegendAndClipping(t *testing.T) {
	run := synth(2000, 200, func(s float64) float64 {
		if s <= 30 {
			return 40 // start-up spike
		}
		return 2*math.Exp(-s/700) + 1
	}, func(s float64) float64 { return 2*math.Exp(-s/700) + 1.2 })
	run.Name = "run.v2.trainer_state.json"
	a, err := AnalyzeRun(run, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	p, err := buildPlot([]Analysis{a})
	if err != nil {
		t.Fatal(err)
	}
	if p.YMax > 10 {
		t.Errorf("y axis top %v: the spike at 40 squashes the curves", p.YMax)
	}
	var buf bytes.Buffer
	if err := RenderPlot(&buf, "svg", []Analysis{a, a}); err != nil {
		t.Fatal(err)
	}
	svg := buf.String()
	if !bytes.Contains(buf.Bytes(), []byte(">run.v2.trainer_state.json</text>")) {
		t.Errorf("the legend lost the file name's dots")
	}
	// A train-only run is in the legend too, and its last raw point in view.
	trainOnly := synth(600, 100, func(s float64) float64 { return 1 + 29*math.Pow(s/600, 2) }, nil)
	trainOnly.Name = "qlora.train-only.jsonl"
	b, err := AnalyzeRun(trainOnly, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	p, err = buildPlot([]Analysis{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if p.YMax < 30 {
		t.Errorf("y axis top %v hides the diverging run's last loss, 30", p.YMax)
	}
	var buf2 bytes.Buffer
	if err := RenderPlot(&buf2, "svg", []Analysis{a, b}); err != nil || !bytes.Contains(buf2.Bytes(), []byte(">qlora.train-only.jsonl</text>")) {
		t.Errorf("train-only run missing from the legend (%v)", err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("cross: off the axis")) {
		t.Errorf("no key for clipped points")
	}
	// The legend's text starts right of the last x tick label (2000).
	xOf := func(text string) float64 {
		m := regexp.MustCompile(`<text x="([0-9.]+)"[^>]*\n?[^>]*>` + regexp.QuoteMeta(text) + `</text>`).FindStringSubmatch(svg)
		if m == nil {
			t.Fatalf("no text %q in the SVG", text)
		}
		x, _ := strconv.ParseFloat(m[1], 64)
		return x
	}
	if tick, name := xOf("2000"), xOf("run.v2.trainer_state.json"); name <= tick {
		t.Errorf("legend at x=%v overlaps the plot area (last tick at x=%v)", name, tick)
	}
}
