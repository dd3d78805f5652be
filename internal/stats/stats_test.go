package stats

import (
	"math"
	"testing"
)

func TestQuantileMatchesNumpyLinear(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 10}
	// numpy.quantile([1,2,3,4,10], [0, .25, .5, .9, 1]) = [1, 2, 3, 7.6, 10]
	for _, c := range []struct{ q, want float64 }{{0, 1}, {.25, 2}, {.5, 3}, {.9, 7.6}, {1, 10}} {
		if got := Quantile(xs, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v)=%v want %v", c.q, got, c.want)
		}
	}
}

func TestHolm(t *testing.T) {
	// statsmodels multipletests([0.01, 0.04, 0.03, 0.005], method="holm")[1] = [0.03, 0.06, 0.06, 0.02]
	got := Holm([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("Holm = %v want %v", got, want)
		}
	}
	if g := Holm([]float64{math.NaN(), 0.5}); !math.IsNaN(g[0]) || g[1] != 0.5 {
		t.Fatalf("NaN handling: %v", g)
	}
}
