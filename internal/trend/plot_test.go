package trend

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chart is six runs whose last drops, with deltas on all but the first.
func sampleChart(t *testing.T) Chart {
	t.Helper()
	ps := pts(0.05, 0.80, 0.82, 0.79, 0.81, 0.80, 0.40)
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range ps {
		ps[i].Run = fmt.Sprintf("run-%d", i+1)
		ps[i].Started = start.Add(time.Duration(i) * 24 * time.Hour)
		if i > 0 {
			d := ps[i].Mean - 0.6
			ps[i].Delta = &Estimate{N: 100, Mean: d, Low: d - 0.07, High: d + 0.07}
		}
	}
	checks, err := Scan(ps, 5)
	if err != nil {
		t.Fatal(err)
	}
	return Chart{Title: "qa.exact_match across the runs of plan nightly", Metric: "qa.exact_match", Points: ps, Checks: checks, Window: 5}
}

func render(t *testing.T, c Chart) string {
	t.Helper()
	var buf bytes.Buffer
	if err := RenderPlot(&buf, "svg", c); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func hex(c color.NRGBA) string { return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B) }

// errorBars counts the vertical strokes of colour c: one per error bar (the
// caps are horizontal, the joining line has several segments).
func errorBars(svg string, c color.NRGBA) int {
	re := regexp.MustCompile(`<path d="M([0-9.]+),[0-9.]+L([0-9.]+),[0-9.]+" style="fill:none;stroke:` + hex(c) + ``)
	n := 0
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		if m[1] == m[2] {
			n++
		}
	}
	return n
}

func TestRenderPlotDrawsBothSeries(t *testing.T) {
	c := sampleChart(t)
	svg := render(t, c)
	if got := errorBars(svg, metricColor); got != 6 {
		t.Errorf("%d metric error bars, want one per run (6)", got)
	}
	if got := errorBars(svg, deltaColor); got != 5 {
		t.Errorf("%d delta error bars, want one per run with a delta (5)", got)
	}
	for _, text := range []string{c.Title, "qa.exact_match", "delta vs baseline", "run (oldest first)", "drifted down",
		"last run&#39;s drift interval (previous 5 runs)", "qa.exact_match (mean, CI)", "delta vs baseline (mean, CI)"} {
		if !strings.Contains(svg, ">"+text+"</text>") {
			t.Errorf("no text %q in the SVG", text)
		}
	}
	// Every run is labelled once, under the lower panel only.
	for _, p := range c.Points {
		if n := strings.Count(svg, ">"+p.Run+"</text>"); n != 1 {
			t.Errorf("run %s labelled %d times, want once", p.Run, n)
		}
	}
	if strings.Contains(svg, ">drifted up</text>") {
		t.Error("a drift up is in the legend; only the last run drifted, down")
	}
	// One drift marker (the last run) and its legend swatch.
	if n := strings.Count(svg, "fill:"+hex(driftColor)); n != 2 {
		t.Errorf("%d drift-coloured fills, want the marker and its legend entry", n)
	}
}

func TestRenderPlotWithoutComparisonHasOnePanel(t *testing.T) {
	c := sampleChart(t)
	for i := range c.Points {
		c.Points[i].Delta = nil
	}
	svg := render(t, c)
	if strings.Contains(svg, "delta vs baseline") || errorBars(svg, deltaColor) != 0 {
		t.Error("a delta panel without deltas")
	}
	if got := errorBars(svg, metricColor); got != 6 {
		t.Errorf("%d metric error bars, want 6", got)
	}
	for _, p := range c.Points {
		if !strings.Contains(svg, ">"+p.Run+"</text>") {
			t.Errorf("run %s not labelled", p.Run)
		}
	}
}

func TestRenderPlotMarksBothDirections(t *testing.T) {
	ps := pts(0.01, 0.5, 0.5, 0.9, 0.5, 0.1)
	checks, err := Scan(ps, 1)
	if err != nil {
		t.Fatal(err)
	}
	svg := render(t, Chart{Title: "t", Metric: "m", Points: ps, Checks: checks, Window: 1})
	if !strings.Contains(svg, ">drifted up</text>") || !strings.Contains(svg, ">drifted down</text>") {
		t.Fatal("the legend lacks a direction")
	}
	// Runs 2 (up), 3 (down, from 0.9), 4 (down): three markers, two legend swatches.
	if n := strings.Count(svg, "fill:"+hex(driftColor)); n != 5 {
		t.Errorf("%d drift-coloured fills, want 3 markers and 2 legend entries", n)
	}
}

func TestRenderPlotWithoutChecksOrWithOneRun(t *testing.T) {
	c := sampleChart(t)
	c.Checks = nil
	if svg := render(t, c); strings.Contains(svg, "drift") {
		t.Error("drift drawn without checks")
	}
	one := pts(0.1, 0.5)
	one[0].Low, one[0].High = 0.5, 0.5 // a degenerate interval still frames
	if svg := render(t, Chart{Title: "t", Metric: "m", Points: one, Checks: []Check{{}}}); errorBars(svg, metricColor) != 1 {
		t.Error("one run: no error bar")
	}
	var buf bytes.Buffer
	if err := RenderPlot(&buf, "svg", Chart{}); err == nil {
		t.Error("no runs: no error")
	}
}

func TestWritePlot(t *testing.T) {
	dir := t.TempDir()
	c := sampleChart(t)
	png := filepath.Join(dir, "trend.png")
	if err := WritePlot(png, c); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG (%v)", err)
	}
	svg := filepath.Join(dir, "trend.SVG")
	if err := WritePlot(svg, c); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(svg); err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Fatalf("not an SVG (%v)", err)
	}
	err = WritePlot(filepath.Join(dir, "trend.gif"), c)
	if err == nil || !strings.Contains(err.Error(), `unknown image type "gif" (use .svg, .png or .pdf)`) {
		t.Fatalf("gif: %v", err)
	}
}

func TestTickLabel(t *testing.T) {
	at := time.Date(2026, 12, 6, 21, 17, 26, 0, time.UTC)
	for _, tc := range []struct {
		p    Point
		want string
	}{
		{Point{Run: "20261206T211726Z-26a88148", Started: at}, "2026-12-06 21:17 26a88148"},
		{Point{Run: "20261206T211726Z-26a88148"}, "2026-12-06 21:17 26a88148"},
		{Point{Run: "2026-12-06"}, "2026-12-06"},
		{Point{Run: "run-1", Started: at}, "run-1"},
		{Point{Run: "a-very-long-run-name", Started: at}, "a-very-long-run-name"},
	} {
		if got := TickLabel(tc.p); got != tc.want {
			t.Errorf("TickLabel(%q) = %q, want %q", tc.p.Run, got, tc.want)
		}
	}
}
