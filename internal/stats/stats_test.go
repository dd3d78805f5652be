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

func TestComparePairedDetectsShift(t *testing.T) {
	n := 200
	base := make([]float64, n)
	cand := make([]float64, n)
	for i := range n {
		base[i] = float64(i%2) * 0.5
		cand[i] = base[i] + 0.1
		if i%10 == 0 {
			cand[i] = base[i] - 0.05
		}
	}
	p := ComparePaired(base, cand, Config{Seed: 1})
	if p.Wins != 180 || p.Losses != 20 || p.Ties != 0 {
		t.Fatalf("wins/losses = %d/%d/%d", p.Wins, p.Ties, p.Losses)
	}
	want := (180*0.1 - 20*0.05) / 200
	if math.Abs(p.Delta-want) > 1e-12 {
		t.Fatalf("delta %v want %v", p.Delta, want)
	}
	if !(p.CI.Low > 0 && p.CI.Low <= p.Delta && p.Delta <= p.CI.High) {
		t.Fatalf("CI %v does not bracket %v above 0", p.CI, p.Delta)
	}
	if p.PValue > 0.01 {
		t.Fatalf("p = %v, want a clear difference", p.PValue)
	}
	// Same seed, same answer.
	if q := ComparePaired(base, cand, Config{Seed: 1}); q != p {
		t.Fatalf("not deterministic: %+v vs %+v", q, p)
	}
}

func TestComparePairedNoDifference(t *testing.T) {
	base := []float64{1, 0, 1, 0, 1}
	p := ComparePaired(base, base, Config{Seed: 3})
	if p.Delta != 0 || p.CI.Low != 0 || p.CI.High != 0 || p.PValue != 1 || p.Ties != 5 {
		t.Fatalf("identical samples: %+v", p)
	}
}

func TestComparePairedEmpty(t *testing.T) {
	p := ComparePaired(nil, nil, Config{})
	if p.N != 0 || p.Delta != 0 || p.PValue != 1 {
		t.Fatalf("empty: %+v", p)
	}
}

func TestDescribeCoverage(t *testing.T) {
	// A bootstrap 95% interval of a fair coin's mean over 400 flips should be
	// about ±1.96*sqrt(.25/400) = ±0.049 wide around 0.5.
	xs := make([]float64, 400)
	for i := range xs {
		xs[i] = float64(i % 2)
	}
	s := Describe(xs, Config{Seed: 42})
	half := (s.CI.High - s.CI.Low) / 2
	if s.Mean != 0.5 || half < 0.04 || half > 0.06 {
		t.Fatalf("summary %+v, half-width %v", s, half)
	}
}

func BenchmarkComparePaired10k(b *testing.B) {
	base := make([]float64, 10000)
	cand := make([]float64, 10000)
	for i := range base {
		base[i] = float64(i % 3)
		cand[i] = float64(i % 5)
	}
	for b.Loop() {
		ComparePaired(base, cand, Config{Seed: 1})
	}
}

func TestResampleRatio(t *testing.T) {
	num := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	den := []float64{2, 2, 2, 2, 2, 2, 2, 2}
	ratio := func(idx []int) float64 {
		var a, b float64
		for _, i := range idx {
			a += num[i]
			b += den[i]
		}
		return a / b
	}
	ci := Resample(len(num), ratio, Config{Seed: 5})
	if !(ci.Low < 2.25 && 2.25 < ci.High) {
		t.Fatalf("interval %v misses the ratio of sums 2.25", ci)
	}
	d, p := ResamplePaired(len(num), func(idx []int) float64 { return ratio(idx) + 1 }, Config{Seed: 5})
	if d.Low <= 0 || p > 0.01 {
		t.Fatalf("shifted ratio: %v p=%v", d, p)
	}
}
