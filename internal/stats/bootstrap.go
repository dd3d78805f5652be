package stats

import (
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/stat/distuv"
)

// MultinomialMaxN is the sample size below which the bootstrap draws exact
// multinomial resamples (n items with replacement); from this size on it
// draws Poisson(1) weights (see the package doc).
const MultinomialMaxN = 5000

// stream is one resample's random numbers: a 64-bit Weyl sequence mixed by a
// 128-bit multiply (the wyrand construction), cheap enough to draw a weight
// per item per resample. Each resample has its own stream seeded from
// (Config.Seed, resample index), so the numbers never depend on how
// resamples are shared among goroutines. Two streams are the same Weyl
// sequence at different offsets; with seeds spread by splitmix64, 10,000
// streams of 50,000 numbers overlap with probability below 1e-6.
type stream uint64

const (
	weylInc = 0xa0761d6478bd642f
	weylMix = 0xe7037ed1a0b428db
)

func (s *stream) next() uint64 {
	*s += weylInc
	hi, lo := bits.Mul64(uint64(*s), uint64(*s)^weylMix)
	return hi ^ lo
}

// mix64 is the splitmix64 finaliser, to derive independent stream seeds.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// streamFor is resample b's stream.
func streamFor(seed uint64, b int) stream {
	return stream(mix64(seed^0x5851f42d4c957f2d) ^ mix64(uint64(b)+0x9e3779b97f4a7c15))
}

// Poisson(1) weights from 32-bit uniforms u: the weight is the number of
// cut points cut[k] = ⌊F(k)·2³²⌋ (F the Poisson(1) CDF) at or below u, so
// each weight has its Poisson probability to within 2⁻³². The top poisBits
// bits of u index poisTab, which holds the weight for every bucket that no
// cut point splits, and −1 for the few that one does (about 0.6% of draws),
// where the cut points decide.
const poisBits = 10

type poissonTable struct {
	tab [1 << poisBits]float64
	cut []uint32
}

var pois = newPoissonTable()

func newPoissonTable() *poissonTable {
	t := &poissonTable{}
	term, cdf := math.Exp(-1), 0.0
	for k := 0; ; k++ {
		cdf += term
		term /= float64(k + 1)
		c := math.Floor(cdf * (1 << 32))
		if c >= (1<<32)-1 {
			break
		}
		t.cut = append(t.cut, uint32(c))
	}
	const shift = 32 - poisBits
	for j := range t.tab {
		lo := uint32(j) << shift
		hi := lo + (1<<shift - 1)
		kl, kh := t.slow(lo), t.slow(hi)
		if kl == kh {
			t.tab[j] = kl
		} else {
			t.tab[j] = -1
		}
	}
	return t
}

func (t *poissonTable) slow(u uint32) float64 {
	k := 0
	for k < len(t.cut) && u >= t.cut[k] {
		k++
	}
	return float64(k)
}

func (t *poissonTable) draw(u uint32) float64 {
	w := t.tab[u>>(32-poisBits)]
	if w < 0 {
		return t.slow(u)
	}
	return w
}

// PoissonWeights fills w with resample b's Poisson(1) item weights: the
// weights BootMean and BootstrapWeighted use for n ≥ MultinomialMaxN. Item
// 2j takes the low half of the stream's j-th number, item 2j+1 the high half.
func PoissonWeights(w []float64, seed uint64, b int) {
	s := streamFor(seed, b)
	i := 0
	for ; i+1 < len(w); i += 2 {
		r := s.next()
		w[i] = pois.draw(uint32(r))
		w[i+1] = pois.draw(uint32(r >> 32))
	}
	if i < len(w) {
		w[i] = pois.draw(uint32(s.next()))
	}
}

// MultinomialWeights fills w with resample b's multinomial counts: len(w)
// items drawn with replacement, w[i] the number of times item i was drawn.
func MultinomialWeights(w []float64, seed uint64, b int) {
	clear(w)
	s := streamFor(seed, b)
	n := uint64(len(w))
	for range n {
		hi, _ := bits.Mul64(s.next(), n)
		w[hi]++
	}
}

// resampleWeights fills w with resample b's weights, by n.
func resampleWeights(w []float64, seed uint64, b int) {
	if len(w) < MultinomialMaxN {
		MultinomialWeights(w, seed, b)
	} else {
		PoissonWeights(w, seed, b)
	}
}

// parallel runs f(0) … f(units−1) on up to GOMAXPROCS goroutines. Each f
// writes only its own results, so the outcome does not depend on the number
// of goroutines.
func parallel(units int, f func(u int)) {
	workers := min(runtime.GOMAXPROCS(0), units)
	if workers <= 1 {
		for u := range units {
			f(u)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				u := int(next.Add(1) - 1)
				if u >= units {
					return
				}
				f(u)
			}
		})
	}
	wg.Wait()
}

// BootMean returns cfg.Resamples bootstrap replicates of the mean of xs,
// replicate b computed from resample b's weights as Σwᵢxᵢ/Σwᵢ (exactly what
// BootstrapWeighted gives for that statistic). Below MultinomialMaxN items
// the resamples are multinomial; from it on Poisson(1), streamed over the
// items four resamples per pass on GOMAXPROCS goroutines, without
// materialising the weights. Same seed, same replicates, whatever
// GOMAXPROCS. A replicate whose weights are all zero (Poisson, possible only
// for tiny n) is NaN. Empty xs gives nil.
func BootMean(xs []float64, cfg Config) []float64 {
	cfg = cfg.norm()
	if len(xs) == 0 {
		return nil
	}
	reps := make([]float64, cfg.Resamples)
	if len(xs) < MultinomialMaxN {
		bootMeanMultinomial(xs, cfg.Seed, reps)
	} else {
		bootMeanPoisson(xs, cfg.Seed, reps)
	}
	return reps
}

func bootMeanMultinomial(xs []float64, seed uint64, reps []float64) {
	n := uint64(len(xs))
	parallel(len(reps), func(b int) {
		s := streamFor(seed, b)
		var sum float64
		for range n {
			hi, _ := bits.Mul64(s.next(), n)
			sum += xs[hi]
		}
		reps[b] = sum / float64(n)
	})
}

// bootMeanPoisson computes the replicates four at a time: one pass over xs
// draws the four resamples' weights for each item from four independent
// streams (which the CPU interleaves) and accumulates Σwx and Σw in
// registers. Resample counts not divisible by four compute the missing
// resamples of the last group and drop them; they do not affect the others.
func bootMeanPoisson(xs []float64, seed uint64, reps []float64) {
	groups := (len(reps) + 3) / 4
	parallel(groups, func(g int) {
		var out [4]float64
		meanPoisson4(xs, seed, 4*g, &out)
		for k := range 4 {
			if b := 4*g + k; b < len(reps) {
				reps[b] = out[k]
			}
		}
	})
}

func meanPoisson4(xs []float64, seed uint64, b0 int, out *[4]float64) {
	s0, s1, s2, s3 := streamFor(seed, b0), streamFor(seed, b0+1), streamFor(seed, b0+2), streamFor(seed, b0+3)
	var a0, a1, a2, a3, c0, c1, c2, c3 float64
	t := pois
	i := 0
	for ; i+1 < len(xs); i += 2 {
		x, y := xs[i], xs[i+1]
		r0, r1, r2, r3 := s0.next(), s1.next(), s2.next(), s3.next()
		var w float64
		// float64(w*x) keeps the compiler from fusing into an FMA, so the
		// sums are bit-identical to BootstrapWeighted's.
		w = t.draw(uint32(r0))
		a0 += float64(w * x)
		c0 += w
		w = t.draw(uint32(r0 >> 32))
		a0 += float64(w * y)
		c0 += w
		w = t.draw(uint32(r1))
		a1 += float64(w * x)
		c1 += w
		w = t.draw(uint32(r1 >> 32))
		a1 += float64(w * y)
		c1 += w
		w = t.draw(uint32(r2))
		a2 += float64(w * x)
		c2 += w
		w = t.draw(uint32(r2 >> 32))
		a2 += float64(w * y)
		c2 += w
		w = t.draw(uint32(r3))
		a3 += float64(w * x)
		c3 += w
		w = t.draw(uint32(r3 >> 32))
		a3 += float64(w * y)
		c3 += w
	}
	if i < len(xs) {
		x := xs[i]
		var w float64
		w = t.draw(uint32(s0.next()))
		a0 += float64(w * x)
		c0 += w
		w = t.draw(uint32(s1.next()))
		a1 += float64(w * x)
		c1 += w
		w = t.draw(uint32(s2.next()))
		a2 += float64(w * x)
		c2 += w
		w = t.draw(uint32(s3.next()))
		a3 += float64(w * x)
		c3 += w
	}
	out[0], out[1], out[2], out[3] = ratio(a0, c0), ratio(a1, c1), ratio(a2, c2), ratio(a3, c3)
}

func ratio(a, c float64) float64 {
	if c == 0 {
		return math.NaN()
	}
	return a / c
}

// weightBatchFloats bounds the weights BootstrapWeighted holds at once
// (32 MiB of float64).
const weightBatchFloats = 1 << 22

// BootstrapWeighted returns cfg.Resamples bootstrap replicates of a
// statistic of n items that the caller computes from item weights: w[i] is
// item i's count in the resample (multinomial below MultinomialMaxN items,
// Poisson(1) from it on; see MultinomialWeights and PoissonWeights). For a
// corpus metric, stat sums each column weighted by w and applies the
// metric's formula to the sums. stat is called from one goroutine, in
// resample order, so it need not be safe for concurrent use; it must not
// keep w after returning. The weights of a batch of resamples are drawn in
// parallel beforehand. A NaN from stat is kept in the replicates (the
// interval functions leave it out).
func BootstrapWeighted(n int, cfg Config, stat func(w []float64) float64) []float64 {
	cfg = cfg.norm()
	if n <= 0 {
		return nil
	}
	reps := make([]float64, cfg.Resamples)
	batch := max(1, min(cfg.Resamples, weightBatchFloats/n, 256))
	buf := make([][]float64, batch)
	for k := range buf {
		buf[k] = make([]float64, n)
	}
	for b0 := 0; b0 < cfg.Resamples; b0 += batch {
		m := min(batch, cfg.Resamples-b0)
		parallel(m, func(k int) { resampleWeights(buf[k], cfg.Seed, b0+k) })
		for k := range m {
			reps[b0+k] = stat(buf[k])
		}
	}
	return reps
}

// JackknifeMean returns the leave-one-out means of xs: out[i] is the mean
// without xs[i], (Σx − xᵢ)/(n−1). Nil for fewer than two values.
func JackknifeMean(xs []float64) []float64 {
	n := len(xs)
	if n < 2 {
		return nil
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	out := make([]float64, n)
	for i, x := range xs {
		out[i] = (sum - x) / float64(n-1)
	}
	return out
}

// PercentileInterval is the central conf-level percentile interval of the
// replicates (numpy's linear quantiles), NaN replicates left out. It does
// not modify reps. All-NaN or empty replicates give the zero Interval.
func PercentileInterval(reps []float64, conf float64) Interval {
	s := sortedFinite(reps)
	if len(s) == 0 {
		return Interval{}
	}
	a := (1 - conf) / 2
	return Interval{Low: Quantile(s, a), High: Quantile(s, 1-a)}
}

func sortedFinite(reps []float64) []float64 {
	s := make([]float64, 0, len(reps))
	for _, r := range reps {
		if !math.IsNaN(r) {
			s = append(s, r)
		}
	}
	slices.Sort(s)
	return s
}

// BCaInterval is the bias-corrected and accelerated bootstrap interval
// (Efron 1987; Efron & Tibshirani 1993, §14.3) at level conf, defined as
// scipy.stats.bootstrap(method="BCa") defines it: given the replicates, the
// statistic on the full sample (point) and its leave-one-out values
// (jackknife),
//
//	z0 = Φ⁻¹(share of replicates below point, ties counting half)
//	U  = (n−1)(mean(jackknife) − jackknife),  a = ΣU³ / (6 (ΣU²)^{3/2})
//	α₁ = Φ(z0 + (z0+z_α)/(1 − a(z0+z_α))),  α₂ likewise with z_{1−α}
//
// and the interval is the α₁ and α₂ linear quantiles of the replicates.
// Where scipy would give NaN this stays finite: NaN replicates are left out;
// a constant jackknife (ΣU² = 0) gives a = 0; replicates all on one side of
// point have the share clamped to [1/(2B), 1−1/(2B)]; NaN jackknife values
// are left out, and fewer than two give a = 0. No finite replicates give the zero Interval.
func BCaInterval(reps []float64, point float64, jackknife []float64, conf float64) Interval {
	s := sortedFinite(reps)
	if len(s) == 0 {
		return Interval{}
	}
	a1, a2, _ := bcaLevelsSorted(s, point, jackknife, conf)
	return Interval{Low: Quantile(s, a1), High: Quantile(s, a2)}
}

// bcaLevels returns BCa's quantile levels α₁, α₂ and the acceleration a.
func bcaLevels(reps []float64, point float64, jackknife []float64, conf float64) (a1, a2, a float64) {
	return bcaLevelsSorted(sortedFinite(reps), point, jackknife, conf)
}

func bcaLevelsSorted(s []float64, point float64, jackknife []float64, conf float64) (a1, a2, a float64) {
	alpha := (1 - conf) / 2
	B := float64(len(s))
	below, atOrBelow := 0, 0
	for _, r := range s {
		if r < point {
			below++
		}
		if r <= point {
			atOrBelow++
		}
	}
	share := float64(below+atOrBelow) / (2 * B)
	share = math.Min(math.Max(share, 0.5/B), 1-0.5/B)
	z := distuv.UnitNormal
	z0 := z.Quantile(share)

	if slices.ContainsFunc(jackknife, math.IsNaN) {
		jackknife = slices.DeleteFunc(slices.Clone(jackknife), math.IsNaN)
	}
	if n := float64(len(jackknife)); n >= 2 {
		var mean float64
		for _, j := range jackknife {
			mean += j
		}
		mean /= n
		var num, den float64
		for _, j := range jackknife {
			u := (n - 1) * (mean - j)
			num += u * u * u
			den += u * u
		}
		num /= n * n * n
		den /= n * n
		if den > 0 {
			a = num / 6 / math.Pow(den, 1.5)
		}
	}
	za := z.Quantile(alpha)
	level := func(zq float64) float64 {
		num := z0 + zq
		l := z.CDF(z0 + num/(1-a*num))
		if math.IsNaN(l) {
			return z.CDF(zq)
		}
		return l
	}
	return level(za), level(-za), a
}

// WeightsToIndices appends to idx[:0] each item index i repeated w[i] times:
// a resample's weights as the index list a statistic over an item list
// (rather than over weighted sums) takes.
func WeightsToIndices(w []float64, idx []int) []int {
	idx = idx[:0]
	for i, x := range w {
		for range int(x) {
			idx = append(idx, i)
		}
	}
	return idx
}
