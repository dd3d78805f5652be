package stats

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// pairedData is n items' scores of two models, a mean metric in [0, 1].
// reportCPU adds cpu-ns/op, the CPU time per op since start.
func reportCPU(b *testing.B, start int64) {
	if c := cpuTime(); c > 0 && b.N > 0 {
		b.ReportMetric(float64(c-start)/float64(b.N), "cpu-ns/op")
	}
}

func pairedData(n int, seed uint64) (base, cand []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	base = make([]float64, n)
	cand = make([]float64, n)
	for i := range base {
		base[i] = r.Float64()
		cand[i] = min(1, base[i]*0.8+0.3*r.Float64())
	}
	return base, cand
}

// BenchmarkPairedBootstrap100k is the paired bootstrap of a mean metric's
// delta: 10,000 resamples over 100,000 items (Poisson weights), plus the
// percentile and BCa intervals, the test and the effect size.
func BenchmarkPairedBootstrap100k(b *testing.B) {
	base, cand := pairedData(100_000, 1)
	cfg := Config{Resamples: 10_000, Seed: 7}
	start := cpuTime()
	for b.Loop() {
		ComparePairedTest(base, cand, DeclPermutation, cfg)
	}
	reportCPU(b, start)
}

// BenchmarkBootMean100k is the replicates alone.
func BenchmarkBootMean100k(b *testing.B) {
	xs, _ := pairedData(100_000, 1)
	cfg := Config{Resamples: 10_000, Seed: 7}
	start := cpuTime()
	for b.Loop() {
		BootMean(xs, cfg)
	}
	reportCPU(b, start)
}

// BenchmarkCorpusBootstrap10k mimics corpus BLEU's paired bootstrap: 1,000
// resamples over 10,000 items, each resample summing 10 statistics columns
// per model weighted by the resample's counts and applying a formula to the
// sums.
func BenchmarkCorpusBootstrap10k(b *testing.B) {
	const n, cols = 10_000, 10
	r := rand.New(rand.NewPCG(3, 4))
	colsBase := make([][]float64, cols)
	colsCand := make([][]float64, cols)
	for k := range cols {
		colsBase[k] = make([]float64, n)
		colsCand[k] = make([]float64, n)
		for i := range n {
			colsBase[k][i] = float64(r.IntN(30))
			colsCand[k][i] = float64(r.IntN(30))
		}
	}
	// The metric from its column sums, as a corpus metric's formula.
	formula := func(sums []float64) float64 {
		var v float64
		for k, s := range sums {
			v += float64(k+1) * s
		}
		return v
	}
	sums := func(cs [][]float64, w []float64, out []float64) []float64 {
		for k, col := range cs {
			var s float64
			for i, x := range col {
				s += w[i] * x
			}
			out[k] = s
		}
		return out
	}
	sb, sc := make([]float64, cols), make([]float64, cols)
	stat := func(w []float64) float64 { return formula(sums(colsCand, w, sc)) - formula(sums(colsBase, w, sb)) }
	ones := make([]float64, n)
	for i := range ones {
		ones[i] = 1
	}
	totB := slices.Clone(sums(colsBase, ones, sb))
	totC := slices.Clone(sums(colsCand, ones, sc))
	point := formula(totC) - formula(totB)
	// Leave-one-out: the totals minus the item's row.
	jb, jc := make([]float64, cols), make([]float64, cols)
	jack := func(i int) float64 {
		for k := range cols {
			jb[k] = totB[k] - colsBase[k][i]
			jc[k] = totC[k] - colsCand[k][i]
		}
		return formula(jc) - formula(jb)
	}
	cfg := Config{Resamples: 1000, Seed: 9}
	start := cpuTime()
	for b.Loop() {
		ComparePairedStat(n, point, stat, jack, cfg)
	}
	reportCPU(b, start)
}

// BenchmarkMDE is one minimum detectable effect (a root of the noncentral t
// power), as each comparison computes.
func BenchmarkMDE(b *testing.B) {
	for b.Loop() {
		MDE(0.3, 1000, 0.05, 0.8)
	}
}
