package stats

import (
	"math"
)

// Tests a metric may declare for ComparePairedTest.
const (
	DeclPermutation = "permutation"
	DeclMcNemar     = "mcnemar"
	DeclWilcoxon    = "wilcoxon"
	DeclBootstrap   = "bootstrap"
	DeclT           = "t"
)

// MDE's design: a two-sided test at α = 0.05 with 80% power.
const (
	mdeAlpha = 0.05
	mdePower = 0.8
)

// DescribeFast summarises xs like Describe, with the interval from
// BootMean's replicates (multinomial or Poisson by size, in parallel): the
// percentile interval. Empty xs gives the zero Summary (N = 0).
func DescribeFast(xs []float64, cfg Config) Summary {
	cfg = cfg.norm()
	if len(xs) == 0 {
		return Summary{}
	}
	return Summary{N: len(xs), Mean: Mean(xs), Std: StdDev(xs), CI: PercentileInterval(BootMean(xs, cfg), cfg.Confidence)}
}

// ComparePairedTest compares candidate against baseline item by item
// (base[i] and cand[i] are the same item's scores) and fills every field of
// Paired except PAdjusted's Holm correction (PAdjusted = PValue):
//
//   - CI and CIBCa: percentile and BCa intervals of BootMean's replicates of
//     the mean difference, BCa's jackknife the leave-one-out means;
//   - PValue and Test, by the metric's declared test:
//     "permutation" (also "" and any unknown name): PermutationTest, exact up
//     to 20 non-zero differences, the paired t-test beyond;
//     "mcnemar": McNemarExact on the discordant pairs (wins, losses), the
//     exact sign test when the values are not 0/1;
//     "wilcoxon": Wilcoxon;
//     "t": PairedT;
//     "bootstrap": bootP of the replicates (2·Φ(−|Δ|/se), se their sd);
//   - Effect: the odds ratio wins/losses (> 1: the candidate wins more
//     discordant pairs; see OddsRatio) for "mcnemar", Cohen's d_z otherwise
//     (nil where undefined: n < 2 or no variance);
//   - MDE: MDE(sd of the differences, n, 0.05, 0.8), for every test.
//
// It panics if base and cand differ in length, as ComparePaired does.
func ComparePairedTest(base, cand []float64, test string, cfg Config) Paired {
	if len(base) != len(cand) {
		panic("stats: paired samples of different lengths")
	}
	cfg = cfg.norm()
	n := len(base)
	if n == 0 {
		return Paired{PValue: 1, PAdjusted: 1, Test: testName(test)}
	}
	p := Paired{N: n, BaselineMean: Mean(base), CandidateMean: Mean(cand)}
	d := make([]float64, n)
	for i := range base {
		d[i] = cand[i] - base[i]
	}
	p.Wins, p.Ties, p.Losses = WinsTiesLosses(base, cand)
	p.Delta = Mean(d)
	reps := BootMean(d, cfg)
	p.CI = PercentileInterval(reps, cfg.Confidence)
	p.CIBCa = BCaInterval(reps, p.Delta, JackknifeMean(d), cfg.Confidence)
	sd := StdDev(d)
	switch test {
	case DeclMcNemar:
		p.PValue, p.Test = McNemarExact(p.Wins, p.Losses), TestMcNemarExact
		e := OddsRatio(p.Wins, p.Losses, 0.95)
		p.Effect = &e
	case DeclWilcoxon:
		var exact bool
		_, p.PValue, exact = Wilcoxon(d)
		p.Test = TestWilcoxonNormal
		if exact {
			p.Test = TestWilcoxonExact
		}
	case DeclT:
		_, p.PValue = PairedT(d)
		p.Test = TestPairedT
	case DeclBootstrap:
		p.PValue, p.Test = bootP(reps, p.Delta), TestBootstrap
	default:
		p.PValue, p.Test = PermutationTest(d)
	}
	if p.Effect == nil {
		if dz, ok := CohenDz(d); ok {
			p.Effect = &Effect{Name: EffectCohenDz, Value: dz}
		}
	}
	p.MDE = MDE(sd, n, mdeAlpha, mdePower)
	p.PAdjusted = p.PValue
	return p
}

// testName is the name an empty comparison reports for a declared test.
func testName(test string) string {
	switch test {
	case DeclMcNemar:
		return TestMcNemarExact
	case DeclWilcoxon:
		return TestWilcoxonExact
	case DeclT:
		return TestPairedT
	case DeclBootstrap:
		return TestBootstrap
	}
	return TestPermutationExact
}

// bootP is the two-sided bootstrap p-value of "no difference" from the
// replicates of a delta: 2·Φ(−|delta|/se), se the replicates' standard
// deviation (NaNs left out), the normal approximation to the bootstrap
// distribution. Unlike counting replicates beyond zero it is never floored
// at 1/(B+1). se = 0 gives 1 for delta = 0 and 0 otherwise.
func bootP(reps []float64, delta float64) float64 {
	s := sortedFinite(reps)
	se := StdDev(s)
	if se == 0 || len(s) < 2 {
		if delta == 0 {
			return 1
		}
		return 0
	}
	return math.Min(1, math.Erfc(math.Abs(delta)/se/math.Sqrt2))
}

// ComparePairedStat is the paired bootstrap of a statistic that is not a
// mean of per-item values (corpus BLEU, chrF, ratios of sums) over n items:
//
//   - point is the statistic's delta (candidate − baseline) on all items;
//   - stat(w) is the delta with item i weighted w[i] (BootstrapWeighted: called
//     from one goroutine, in order; it need not be safe for concurrent use);
//   - jack(i) is the delta without item i (for sums: total minus row i),
//     BCa's jackknife; nil leaves the acceleration at 0 (bias-corrected
//     percentile only).
//
// It returns the percentile interval, the BCa interval and bootP's p-value
// (Test "bootstrap"). n = 0 gives zero intervals and p = 1.
func ComparePairedStat(n int, point float64, stat func(w []float64) float64, jack func(i int) float64, cfg Config) (ci, bca Interval, p float64) {
	cfg = cfg.norm()
	if n <= 0 {
		return Interval{}, Interval{}, 1
	}
	reps := BootstrapWeighted(n, cfg, stat)
	var jk []float64
	if jack != nil && n >= 2 {
		jk = make([]float64, n)
		for i := range jk {
			jk[i] = jack(i)
		}
	}
	return PercentileInterval(reps, cfg.Confidence), BCaInterval(reps, point, jk, cfg.Confidence), bootP(reps, point)
}
