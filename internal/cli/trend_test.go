package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/tunecheck/tunecheck/internal/store"
)

// trendPoints are runs r1… of model tuned with the given means (± 0.02),
// the first without a comparison.
func trendPoints(means ...float64) []app.TrendPoint {
	start := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	out := make([]app.TrendPoint, len(means))
	for i, m := range means {
		out[i] = app.TrendPoint{
			Run:     store.Run{ID: fmt.Sprintf("r%d", i+1), StartedAt: start.Add(time.Duration(i) * time.Hour)},
			Model:   "tuned",
			Summary: stats.Summary{N: 200, Mean: m, CI: stats.Interval{Low: m - 0.02, High: m + 0.02}},
		}
		if i > 0 {
			out[i].Delta = &stats.Paired{N: 200, Delta: m - 0.4, CI: stats.Interval{Low: m - 0.43, High: m - 0.37}}
		}
	}
	return out
}

func trendOpts() trendOptions {
	return trendOptions{Metric: "qa.exact_match", Limit: 50, Window: 5}
}

func TestTrendTable(t *testing.T) {
	var out bytes.Buffer
	if err := writeTrend(&out, trendOpts(), "nightly", trendPoints(0.47, 0.48, 0.46, 0.49, 0.47, 0.48, 0.30)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		"run  started           model  qa.exact_match [CI]      n    delta [CI]                  drift",
		"r1   2026-12-01 09:30  tuned  0.4700 [0.4500, 0.4900]  200  —",
		"r2   2026-12-01 10:30  tuned  0.4800 [0.4600, 0.5000]  200  +0.0800 [+0.0500, +0.1100]",
		"r7   2026-12-01 15:30  tuned  0.3000 [0.2800, 0.3200]  200  -0.1000 [-0.1300, -0.0700]  down",
	}
	if len(lines) != 9 || lines[0] != want[0] || lines[1] != want[1] || lines[2] != want[2] || lines[7] != want[3] {
		t.Fatalf("table:\n%s\nwant rows like:\n%s", out.String(), strings.Join(want, "\n"))
	}
	for _, l := range lines {
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing space: %q", l)
		}
	}
	if !strings.HasPrefix(lines[8], "last run drifted DOWN: 0.3000 is below [0.4") || !strings.HasSuffix(lines[8], "] of the previous 5 runs") {
		t.Fatalf("closing line %q", lines[8])
	}
}

func TestTrendClosingLine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window int
		means  []float64
		want   string
	}{
		{"within", 5, []float64{0.47, 0.48, 0.46, 0.49, 0.47, 0.48}, "last run: 0.4800 is within the previous 5 runs' range [0."},
		{"up", 5, []float64{0.47, 0.48, 0.46, 0.49, 0.47, 0.70}, "last run drifted UP: 0.7000 is above [0."},
		{"down", 2, []float64{0.50, 0.50, 0.40}, "last run drifted DOWN: 0.4000 is below [0.4755, 0.5245] of the previous 2 runs"}, // 0.5 ± √1.5·0.02,
		{"too few runs", 5, []float64{0.47, 0.48, 0.10}, "last run: not judged for drift: 2 earlier runs, the window is 5 (--window)"},
		{"one run", 5, []float64{0.47}, "last run: not judged for drift: 0 earlier runs, the window is 5 (--window)"},
		{"two runs", 5, []float64{0.47, 0.2}, "last run: not judged for drift: 1 earlier run, the window is 5 (--window)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := trendOpts()
			o.Window = tc.window
			var out bytes.Buffer
			if err := writeTrend(&out, o, "nightly", trendPoints(tc.means...)); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, tc.want) {
				t.Fatalf("closing line %q, want %q…", last, tc.want)
			}
		})
	}
}

func TestTrendFailOnDrift(t *testing.T) {
	o := trendOpts()
	o.FailOnDrift = true
	var out bytes.Buffer
	err := writeTrend(&out, o, "nightly", trendPoints(0.47, 0.48, 0.46, 0.49, 0.47, 0.30))
	var silent *silentErr
	if exitcode.Of(err) != exitcode.Drift || !errors.As(err, &silent) {
		t.Fatalf("drifted last run with --fail-on-drift: %v (exit %d), want a silent exit 5", err, exitcode.Of(err))
	}
	if !strings.Contains(out.String(), "last run drifted DOWN") {
		t.Fatalf("the table is not printed before failing:\n%s", out.String())
	}
	// An earlier run that drifted does not fail the command; nor does the
	// last run without a full window.
	for _, means := range [][]float64{{0.47, 0.48, 0.46, 0.49, 0.47, 0.30, 0.31, 0.30, 0.29, 0.30, 0.31}, {0.5, 0.1}} {
		out.Reset()
		if err := writeTrend(&out, o, "nightly", trendPoints(means...)); err != nil {
			t.Fatalf("%v: %v\n%s", means, err, out.String())
		}
	}
	if !strings.Contains(out.String(), "not judged") {
		t.Fatalf("two runs, window 5:\n%s", out.String())
	}
}

func TestTrendJSON(t *testing.T) {
	o := trendOpts()
	o.JSON, o.Window = true, 3
	var out bytes.Buffer
	if err := writeTrend(&out, o, "nightly", trendPoints(0.47, 0.48, 0.46, 0.30)); err != nil {
		t.Fatal(err)
	}
	var got trendJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if got.Plan != "nightly" || got.Task != "qa" || got.Metric != "exact_match" || got.Window != 3 || got.Level != 0.95 || len(got.Points) != 4 {
		t.Fatalf("header %+v", got)
	}
	first, last := got.Points[0], got.Points[3]
	if first.Run != "r1" || first.Started != "2026-12-01T09:30:00Z" || first.Model != "tuned" || first.N != 200 || first.Mean != 0.47 ||
		fmt.Sprintf("%.2f", first.CI) != "[0.45 0.49]" || first.Delta != nil || first.Checked || first.Drift != "" || first.Interval != nil {
		t.Errorf("first point %+v", first)
	}
	if last.Delta == nil || last.Delta.N != 200 || fmt.Sprintf("%.2f", last.Delta.Mean) != "-0.10" || !last.Checked || last.Drift != "down" ||
		last.Interval == nil || !(last.Interval[0] > last.Mean) {
		t.Errorf("last point %+v", last)
	}
	for _, key := range []string{`"drift": ""`, `"delta": null`, `"ci": [`} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("no %s in\n%s", key, out.String())
		}
	}
	// No runs: an empty list, not null.
	out.Reset()
	if err := writeTrend(&out, o, "nightly", nil); err != nil || !strings.Contains(out.String(), `"points": []`) {
		t.Fatalf("no runs: %v\n%s", err, out.String())
	}
}

func TestTrendPlot(t *testing.T) {
	dir := t.TempDir()
	o := trendOpts()
	o.Plot = filepath.Join(dir, "trend.svg")
	var out bytes.Buffer
	if err := writeTrend(&out, o, "nightly", trendPoints(0.47, 0.48, 0.46, 0.49, 0.47, 0.30)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "plot: "+o.Plot+"\n") {
		t.Fatalf("no plot line:\n%s", out.String())
	}
	svg, err := os.ReadFile(o.Plot)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{">qa.exact_match across the runs of plan nightly</text>", ">r1</text>", ">r6</text>", ">drifted down</text>", ">delta vs baseline</text>"} {
		if !bytes.Contains(svg, []byte(text)) {
			t.Errorf("no %s in the plot", text)
		}
	}
	o.Plot = filepath.Join(dir, "trend.bmp")
	if err := writeTrend(&out, o, "nightly", trendPoints(0.5)); exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), `unknown image type "bmp"`) {
		t.Fatalf("bmp: %v", err)
	}
	o.Plot = filepath.Join(dir, "none.svg")
	if err := writeTrend(&out, o, "nightly", nil); exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "nothing to plot") {
		t.Fatalf("no runs: %v", err)
	}
}

func TestTrendOptionsCheck(t *testing.T) {
	for _, tc := range []struct {
		name      string
		o         trendOptions
		windowSet bool
		want      string // "" for no error
	}{
		{"show alone", trendOptions{Window: 5}, false, ""},
		{"trend", trendOpts(), true, ""},
		{"window 1", trendOptions{Metric: "qa.f1", Window: 1}, true, ""},
		{"window 0", trendOptions{Metric: "qa.f1", Window: 0}, true, "--window must be at least 1, got 0"},
		{"window negative", trendOptions{Metric: "qa.f1", Window: -2}, true, "--window must be at least 1, got -2"},
		{"no dot", trendOptions{Metric: "exact_match", Window: 5}, false, `--trend wants TASK.METRIC, got "exact_match"`},
		{"window without trend", trendOptions{Window: 3}, true, "go with --trend TASK.METRIC"},
		{"plot without trend", trendOptions{Window: 5, Plot: "a.svg"}, false, "go with --trend TASK.METRIC"},
		{"json without trend: the run as JSON", trendOptions{Window: 5, JSON: true}, false, ""},
		{"fail-on-drift without trend", trendOptions{Window: 5, FailOnDrift: true}, false, "go with --trend TASK.METRIC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.check(tc.windowSet)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || exitcode.Of(err) != exitcode.BadInput {
				t.Fatalf("err %v (exit %d), want %q, exit 2", err, exitcode.Of(err), tc.want)
			}
		})
	}
	if h := exitcode.Hint(trendOptions{Metric: "qa.f1"}.check(true)); !strings.Contains(h, "how many earlier runs") {
		t.Errorf("window 0: hint %q", h)
	}
}

// The whole command refuses a bad window before it looks for a store.
func TestShowTrendBadWindow(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Main(t.Context(), []string{"show", "--store", filepath.Join(t.TempDir(), "none.db"), "--trend", "qa.f1", "--window", "0"},
		Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	if code != int(exitcode.BadInput) || !strings.Contains(stderr.String(), "error: --window must be at least 1, got 0") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "hint: --window is how many earlier runs") {
		t.Errorf("no hint: %q", stderr.String())
	}
}
