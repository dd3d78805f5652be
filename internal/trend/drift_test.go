package trend

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// pts builds runs r0, r1, … with the given means, each with a confidence
// interval of ± half.
func pts(half float64, means ...float64) []Point {
	out := make([]Point, len(means))
	for i, m := range means {
		out[i] = Point{Run: "r" + strconv.Itoa(i), N: 100, Mean: m, Low: m - half, High: m + half}
	}
	return out
}

func TestTQuantileMatchesTables(t *testing.T) {
	f, err := os.Open("testdata/t975.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	rows := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var df, want float64
		fs := strings.Fields(line)
		if df, err = strconv.ParseFloat(fs[0], 64); err != nil {
			t.Fatal(err)
		}
		if want, err = strconv.ParseFloat(fs[1], 64); err != nil {
			t.Fatal(err)
		}
		if got := TQuantile(0.975, df); math.Abs(got-want) > 0.0005 {
			t.Errorf("t(0.975, %g) = %.5f, the table says %.3f", df, got, want)
		}
		if got := TQuantile(0.025, df); math.Abs(got+want) > 0.0005 {
			t.Errorf("t(0.025, %g) = %.5f, want %.3f", df, got, -want)
		}
		rows++
	}
	if rows < 10 {
		t.Fatalf("read %d rows of the table", rows)
	}
	// Towards the normal: z(0.975) = 1.959964.
	if got := TQuantile(0.975, 1e7); math.Abs(got-1.959964) > 1e-5 {
		t.Errorf("t(0.975, 1e7) = %.6f, want the normal 1.959964", got)
	}
	if got := TQuantile(0.5, 3); got != 0 {
		t.Errorf("median %g, want 0", got)
	}
}

func TestJudge(t *testing.T) {
	// Means 0.5, 0.6, 0.7 with narrow intervals: the spread decides.
	// m̄ = 0.6, s = 0.1, t(0.975, 2) = 4.302653, h = √(4/3)·0.4302653.
	h := math.Sqrt(4.0/3) * 0.4302653
	prev := pts(0.01, 0.5, 0.6, 0.7)
	for _, tc := range []struct {
		name string
		last float64
		want Direction
	}{
		{"within", 0.6, None},
		{"just inside above", 0.6 + h - 1e-4, None},
		{"up", 0.6 + h + 1e-4, Up},
		{"just inside below", 0.6 - h + 1e-4, None},
		{"down", 0.6 - h - 1e-4, Down},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Judge(prev, Point{Mean: tc.last})
			if !c.Checked || c.Prev != 3 || c.Dir != tc.want {
				t.Fatalf("got %+v, want checked against 3 runs, direction %q", c, tc.want)
			}
			if math.Abs(c.Center-0.6) > 1e-12 || math.Abs(c.Spread-0.1) > 1e-12 || math.Abs(c.Margin-0.01) > 1e-12 {
				t.Fatalf("centre %g spread %g margin %g, want 0.6 0.1 0.01", c.Center, c.Spread, c.Margin)
			}
			if math.Abs(c.Low-(0.6-h)) > 1e-6 || math.Abs(c.High-(0.6+h)) > 1e-6 {
				t.Fatalf("interval [%g, %g], want [%g, %g]", c.Low, c.High, 0.6-h, 0.6+h)
			}
		})
	}
}

// Runs that agree exactly (a deterministic model on a fixed eval set) have
// no spread: a change within one run's own margin of error is not drift, a
// change beyond it is.
func TestJudgeFloorsAtTheRunsMargin(t *testing.T) {
	prev := pts(0.05, 0.8, 0.8, 0.8, 0.8, 0.8)
	h := math.Sqrt(1+1.0/5) * 0.05
	if c := Judge(prev, Point{Mean: 0.79}); c.Dir != None || c.Spread != 0 || math.Abs(c.High-c.Low-2*h) > 1e-12 {
		t.Fatalf("0.79 after five runs at 0.8 ± 0.05: %+v, want no drift in 0.8 ± %g", c, h)
	}
	if c := Judge(prev, Point{Mean: 0.8 - h - 1e-9}); c.Dir != Down {
		t.Fatalf("beyond the margin: %+v, want down", c)
	}
	if c := Judge(prev, Point{Mean: 0.8 + h + 1e-9}); c.Dir != Up {
		t.Fatalf("beyond the margin: %+v, want up", c)
	}
}

// A window of one run has no spread to estimate: only the margin counts.
func TestJudgeWindowOfOne(t *testing.T) {
	prev := pts(0.1, 0.5)
	h := math.Sqrt2 * 0.1
	c := Judge(prev, Point{Mean: 0.5 + h + 1e-9})
	if c.Dir != Up || c.Spread != 0 || math.Abs(c.High-(0.5+h)) > 1e-12 {
		t.Fatalf("got %+v, want up against 0.5 ± %g", c, h)
	}
}

// Mirroring every value mirrors the verdict.
func TestJudgeIsSymmetric(t *testing.T) {
	means := []float64{0.41, 0.45, 0.43, 0.47, 0.44}
	for _, last := range []float64{0.2, 0.3, 0.4, 0.44, 0.5, 0.6, 0.7} {
		up := Judge(pts(0.02, means...), Point{Mean: last})
		neg := make([]float64, len(means))
		for i, m := range means {
			neg[i] = -m
		}
		down := Judge(pts(0.02, neg...), Point{Mean: -last})
		want := map[Direction]Direction{Up: Down, Down: Up, None: None}[up.Dir]
		if down.Dir != want || math.Abs(up.Low+down.High) > 1e-12 || math.Abs(up.High+down.Low) > 1e-12 {
			t.Errorf("last %g: %+v vs mirrored %+v", last, up, down)
		}
	}
}

func TestScan(t *testing.T) {
	// Stable, a drop at run 5, stable again at the new level, then back up.
	ps := pts(0.02, 0.80, 0.81, 0.79, 0.80, 0.81, 0.40, 0.41, 0.80)
	checks, err := Scan(ps, 3)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, c := range checks {
		if c.Checked != (i >= 3) {
			t.Errorf("run %d: checked %v with %d runs before it, window 3", i, c.Checked, i)
		}
		if want := min(i, 3); c.Prev != want {
			t.Errorf("run %d: Prev %d, want %d", i, c.Prev, want)
		}
		got = append(got, string(c.Dir))
	}
	// Run 6 is judged against 0.79, 0.81, 0.40: their spread is wide, so
	// 0.41 is within; run 7 against 0.81, 0.40, 0.41 likewise.
	want := []string{"", "", "", "", "", "down", "", ""}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("directions %q, want %q", got, want)
	}
}

func TestScanFewerRunsThanTheWindow(t *testing.T) {
	checks, err := Scan(pts(0.01, 0.9, 0.1, 0.9), 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range checks {
		if c.Checked || c.Dir != None || c.Prev != i {
			t.Fatalf("run %d with %d before it and a window of 5: %+v, want unchecked", i, i, c)
		}
	}
	if cs, err := Scan(nil, 5); err != nil || len(cs) != 0 {
		t.Fatalf("no runs: %v, %v", cs, err)
	}
}

func TestScanRefusesAWindowUnderOne(t *testing.T) {
	for _, w := range []int{0, -3} {
		if _, err := Scan(pts(0.01, 0.5, 0.5), w); err == nil || !strings.Contains(err.Error(), "at least 1") {
			t.Fatalf("window %d: err %v", w, err)
		}
	}
}
