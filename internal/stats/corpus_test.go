package stats

import (
	"math"
	"testing"
)

func TestMDEFromInterval(t *testing.T) {
	// A 95% interval ±1.959964·se wide gives se = 1, so the MDE is
	// z.975 + z.8 = 1.959964 + 0.841621.
	got := MDEFromInterval(Interval{Low: -1.959963984540054, High: 1.959963984540054}, 0.95)
	if math.Abs(got-2.8015852) > 1e-6 {
		t.Errorf("MDE = %v, want 2.8015852", got)
	}
	if MDEFromInterval(Interval{}, 0.95) != 0 || MDEFromInterval(Interval{Low: 1, High: 0}, 0.95) != 0 {
		t.Errorf("a degenerate interval has no MDE")
	}
}

func TestWinsTiesLosses(t *testing.T) {
	w, ti, l := WinsTiesLosses([]float64{1, 2, 3, 4}, []float64{2, 2, 1, 0})
	if w != 1 || ti != 1 || l != 2 {
		t.Errorf("got %d/%d/%d", w, ti, l)
	}
}
