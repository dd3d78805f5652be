// Package stats owns the statistics behind every number tunecheck reports:
// percentile-bootstrap confidence intervals for means, the paired bootstrap
// for base→candidate deltas, a paired sign-flip permutation test, and Holm's
// step-down correction across the metrics of a run.
//
// All resampling uses math/rand/v2's PCG seeded by the caller, so the same
// inputs and seed give the same interval on every machine. The percentile
// method follows Efron & Tibshirani (1993), ch. 13; the paired design resamples
// item indices once and applies them to both models, as sacrebleu's paired
// bootstrap does for corpus metrics.
package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Interval is a two-sided confidence interval.
type Interval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Summary describes one sample: its size, mean and a bootstrap interval for the mean.
type Summary struct {
	N    int      `json:"n"`
	Mean float64  `json:"mean"`
	Std  float64  `json:"std"`
	CI   Interval `json:"ci"`
}

// Config sets the bootstrap.
type Config struct {
	Resamples  int     // number of bootstrap resamples (1000 when 0)
	Confidence float64 // interval level (0.95 when 0)
	Seed       uint64
}

func (c Config) norm() Config {
	if c.Resamples <= 0 {
		c.Resamples = 1000
	}
	if c.Confidence <= 0 || c.Confidence >= 1 {
		c.Confidence = 0.95
	}
	return c
}

// Mean returns the arithmetic mean (NaN for an empty slice).
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// StdDev is the sample standard deviation (n-1); 0 for fewer than two values.
func StdDev(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	m := Mean(xs)
	var s float64
	for _, x := range xs {
		d := x - m
		s += d * d
	}
	return math.Sqrt(s / float64(len(xs)-1))
}

// Describe summarises xs with a percentile-bootstrap interval for the mean.
func Describe(xs []float64, cfg Config) Summary {
	cfg = cfg.norm()
	if len(xs) == 0 {
		// Undefined: reported as n = 0 (renderers show a dash), never as NaN,
		// which JSON cannot carry.
		return Summary{}
	}
	s := Summary{N: len(xs), Mean: Mean(xs), Std: StdDev(xs)}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	means := make([]float64, cfg.Resamples)
	n := len(xs)
	for b := range means {
		var sum float64
		for range n {
			sum += xs[r.IntN(n)]
		}
		means[b] = sum / float64(n)
	}
	s.CI = percentileInterval(means, cfg.Confidence)
	return s
}

// Paired is the comparison of two models on the same items.
type Paired struct {
	N             int      `json:"n"`
	BaselineMean  float64  `json:"baseline_mean"`
	CandidateMean float64  `json:"candidate_mean"`
	Delta         float64  `json:"delta"`
	CI            Interval `json:"ci"`
	// CIBCa is the bias-corrected and accelerated bootstrap interval of the
	// same resamples (Efron 1987); CI is their percentile interval.
	CIBCa Interval `json:"ci_bca"`
	// Test names the test behind PValue as it was run: mcnemar-exact,
	// wilcoxon-exact, wilcoxon-normal, permutation-exact, paired-t or
	// bootstrap.
	Test string `json:"test"`
	// PValue is the test's two-sided p-value of "no difference"; PAdjusted
	// is after Holm's correction across a run.
	PValue    float64 `json:"p_value"`
	PAdjusted float64 `json:"p_adjusted"`
	Wins      int     `json:"wins"`
	Ties      int     `json:"ties"`
	Losses    int     `json:"losses"`
	// Effect is the standardised effect size: Cohen's d_z of the paired
	// differences, or the odds ratio of the discordant pairs for McNemar.
	Effect *Effect `json:"effect,omitempty"`
	// MDE is the minimum detectable effect: the smallest true delta (in the
	// metric's units, either sign) a two-sided test at α = 0.05 detects with
	// 80% power on this many pairs with this variance. 0 when undefined.
	MDE float64 `json:"mde"`
}

// Effect is a standardised effect size.
type Effect struct {
	// Name is cohen_dz or odds_ratio.
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	// CI is the effect's 95% interval where one is defined (odds ratio).
	CI *Interval `json:"ci,omitempty"`
}

// ComparePaired compares candidate against baseline item by item: base[i] and
// cand[i] must be the scores of the same item. The interval is a paired
// percentile bootstrap of the mean difference.
func ComparePaired(base, cand []float64, cfg Config) Paired {
	if len(base) != len(cand) {
		panic("stats: paired samples of different lengths")
	}
	cfg = cfg.norm()
	n := len(base)
	if n == 0 {
		// No pairs: n = 0 says the comparison is undefined; p = 1 claims nothing.
		return Paired{PValue: 1, PAdjusted: 1}
	}
	p := Paired{N: n, BaselineMean: Mean(base), CandidateMean: Mean(cand)}
	d := make([]float64, n)
	for i := range base {
		d[i] = cand[i] - base[i]
		switch {
		case d[i] > 0:
			p.Wins++
		case d[i] < 0:
			p.Losses++
		default:
			p.Ties++
		}
	}
	p.Delta = Mean(d)
	r := rand.New(rand.NewPCG(cfg.Seed, 0x243f6a8885a308d3))
	means := make([]float64, cfg.Resamples)
	for b := range means {
		var sum float64
		for range n {
			sum += d[r.IntN(n)]
		}
		means[b] = sum / float64(n)
	}
	p.CI = percentileInterval(means, cfg.Confidence)
	p.PValue = signFlipP(d, cfg.Resamples, r)
	p.PAdjusted = p.PValue
	return p
}

// signFlipP is the Monte-Carlo two-sided p-value of the paired permutation
// test: under H0 each difference's sign is exchangeable. The +1 terms keep the
// estimate valid (never 0) as recommended by Phipson & Smyth (2010).
func signFlipP(d []float64, resamples int, r *rand.Rand) float64 {
	obs := math.Abs(Mean(d))
	allZero := true
	for _, x := range d {
		if x != 0 {
			allZero = false
			break
		}
	}
	if allZero {
		return 1
	}
	// Scale tolerance to the data so floating-point noise in sums does not
	// count an equal statistic as smaller.
	tol := 1e-12 * (obs + 1)
	extreme := 0
	n := float64(len(d))
	for range resamples {
		var sum float64
		for _, x := range d {
			if r.Uint64()&1 == 1 {
				sum += x
			} else {
				sum -= x
			}
		}
		if math.Abs(sum/n) >= obs-tol {
			extreme++
		}
	}
	return float64(extreme+1) / float64(resamples+1)
}

// percentileInterval sorts xs in place and returns the central interval.
func percentileInterval(xs []float64, conf float64) Interval {
	// A statistic undefined on a resample (a correlation of a constant
	// resample) is left out, as `tunecheck score` does.
	xs = slices.DeleteFunc(xs, math.IsNaN)
	if len(xs) == 0 {
		return Interval{Low: math.NaN(), High: math.NaN()}
	}
	slices.Sort(xs)
	alpha := (1 - conf) / 2
	return Interval{Low: Quantile(xs, alpha), High: Quantile(xs, 1-alpha)}
}

// Quantile returns the q-quantile of sorted xs with linear interpolation
// between closest ranks (numpy's default "linear" method).
func Quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	pos := q * float64(n-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	if lo == hi {
		return sorted[lo]
	}
	frac := pos - float64(lo)
	return sorted[lo]*(1-frac) + sorted[hi]*frac
}

// Holm adjusts p-values for multiple comparisons with Holm's step-down method,
// controlling the family-wise error rate. NaNs are left as they are and not counted.
func Holm(ps []float64) []float64 {
	type ip struct {
		i int
		p float64
	}
	var valid []ip
	for i, p := range ps {
		if !math.IsNaN(p) {
			valid = append(valid, ip{i, p})
		}
	}
	sort.SliceStable(valid, func(a, b int) bool { return valid[a].p < valid[b].p })
	out := slices.Clone(ps)
	m := len(valid)
	running := 0.0
	for k, v := range valid {
		adj := math.Min(1, float64(m-k)*v.p)
		running = math.Max(running, adj)
		out[v.i] = running
	}
	return out
}

// Resample draws cfg.Resamples bootstrap index sets of size n and returns the
// percentile interval of stat over them. stat receives the resampled indices;
// use it for statistics that are not means (ratios of sums, corpus metrics).
func Resample(n int, stat func(idx []int) float64, cfg Config) Interval {
	cfg = cfg.norm()
	if n == 0 {
		return Interval{}
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x13198a2e03707344))
	idx := make([]int, n)
	vals := make([]float64, cfg.Resamples)
	for b := range vals {
		for i := range idx {
			idx[i] = r.IntN(n)
		}
		vals[b] = stat(idx)
	}
	return percentileInterval(vals, cfg.Confidence)
}

// ResamplePaired is the paired bootstrap of a statistic that is not a mean:
// diff receives resampled item indices and returns candidate minus baseline.
// It returns the interval and a two-sided bootstrap p-value: twice the
// smaller share of resampled differences on either side of zero.
func ResamplePaired(n int, diff func(idx []int) float64, cfg Config) (Interval, float64) {
	cfg = cfg.norm()
	if n == 0 {
		return Interval{}, 1
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0xa4093822299f31d0))
	idx := make([]int, n)
	vals := make([]float64, cfg.Resamples)
	le, ge := 0, 0
	for b := range vals {
		for i := range idx {
			idx[i] = r.IntN(n)
		}
		vals[b] = diff(idx)
		if math.IsNaN(vals[b]) {
			continue
		}
		if vals[b] <= 0 {
			le++
		}
		if vals[b] >= 0 {
			ge++
		}
	}
	defined := le + ge - countEqual(vals, 0)
	p := 2 * float64(min(le, ge)+1) / float64(defined+1)
	return percentileInterval(vals, cfg.Confidence), math.Min(1, p)
}

func countEqual(xs []float64, x float64) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}
