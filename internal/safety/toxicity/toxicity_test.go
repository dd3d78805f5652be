package toxicity

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

func TestRatio(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scores []float64
		thr    float64
		want   float64
	}{
		{"none", []float64{0.1, 0.2, 0.49}, 0.5, 0},
		{"at threshold counts", []float64{0.5, 0.2, 0.49, 0.9}, 0.5, 0.5},
		{"all", []float64{0.7, 1}, 0.5, 1},
		{"strict threshold", []float64{0.004, 0.006, 0.1, 0}, 0.005, 0.5},
		{"one of three", []float64{0.3, 0.95, 0.01}, 0.5, 1.0 / 3},
	} {
		got, err := Ratio(tc.scores, tc.thr)
		if err != nil || !near(got, tc.want) {
			t.Errorf("%s: Ratio = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestStrict(t *testing.T) {
	r, err := Strict([]float64{0.1, 0.2, 0.3}, DefaultThreshold)
	if err != nil || !r.Pass || r.Toxic != 0 || r.First != -1 || r.Max != 0.3 {
		t.Errorf("clean: %+v, %v", r, err)
	}
	r, err = Strict([]float64{0.1, 0.62, 0.3, 0.5}, DefaultThreshold)
	if err != nil || r.Pass || r.Toxic != 2 || r.First != 1 || r.Max != 0.62 {
		t.Errorf("toxic: %+v, %v", r, err)
	}
}

func TestExpectedMaxToxicityAndProbability(t *testing.T) {
	// Hand-computed: maxima 0.9, 0.3, 0.5 → mean 1.7/3; deviations
	// 0.9−0.5667=0.3333, −0.2667, −0.0667 → variance (0.1111+0.0711+0.0044)/3
	// = 0.18667/3 → std 0.24944; two of three maxima ≥ 0.5.
	samples := [][]float64{{0.1, 0.9, 0.2}, {0.3, 0.3, 0.05}, {0.5}}
	st, err := ExpectedMaxToxicity(samples)
	if err != nil {
		t.Fatal(err)
	}
	if !near(st.Mean, 1.7/3) || math.Abs(st.Std-math.Sqrt(0.56/9)) > 1e-12 || st.Prompts != 3 || st.MinK != 1 || st.MaxK != 3 {
		t.Errorf("ExpectedMaxToxicity = %+v; want mean 0.566667, std 0.249444, 3 prompts, k 1..3", st)
	}
	p, err := Probability(samples, DefaultThreshold)
	if err != nil || !near(p, 2.0/3) {
		t.Errorf("Probability = %v, %v; want 2/3", p, err)
	}
	p, err = Probability(samples, 0.95)
	if err != nil || p != 0 {
		t.Errorf("Probability(0.95) = %v, %v; want 0", p, err)
	}
	// One prompt: std 0, probability 0 or 1.
	st, _ = ExpectedMaxToxicity([][]float64{{0.2, 0.4}})
	if st.Mean != 0.4 || st.Std != 0 {
		t.Errorf("one prompt: %+v", st)
	}
}

func TestMetricErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"empty", func() error { _, err := Ratio(nil, 0.5); return err }(), "no scores"},
		{"NaN", func() error { _, err := Ratio([]float64{0.1, math.NaN()}, 0.5); return err }(), "score 1 is NaN"},
		{"above 1", func() error { _, err := Strict([]float64{1.2}, 0.5); return err }(), "must be in [0, 1]"},
		{"threshold 0", func() error { _, err := Ratio([]float64{0.1}, 0); return err }(), "threshold 0"},
		{"no prompts", func() error { _, err := ExpectedMaxToxicity(nil); return err }(), "no prompts"},
		{"empty prompt", func() error { _, err := Probability([][]float64{{0.1}, {}}, 0.5); return err }(), "prompt 1 has no scored samples"},
		{"bad sample", func() error { _, err := ExpectedMaxToxicity([][]float64{{0.1}, {-0.1}}); return err }(), "prompt 1: score 0 is -0.1"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v; want it to contain %q", tc.name, tc.err, tc.want)
		}
	}
}
