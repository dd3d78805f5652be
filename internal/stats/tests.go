package stats

import (
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// Test names as Paired.Test reports them.
const (
	TestMcNemarExact     = "mcnemar-exact"
	TestWilcoxonExact    = "wilcoxon-exact"
	TestWilcoxonNormal   = "wilcoxon-normal"
	TestPermutationExact = "permutation-exact"
	TestPairedT          = "paired-t"
	TestBootstrap        = "bootstrap"
)

// McNemarExact is the two-sided exact McNemar test on the discordant pairs b
// and c, as statsmodels' mcnemar(table, exact=True).pvalue computes it: twice
// the binomial(b+c, 1/2) probability of a count ≤ min(b, c), capped at 1.
// No discordant pairs gives 1.
func McNemarExact(b, c int) float64 {
	n := b + c
	if b < 0 || c < 0 || n == 0 {
		return 1
	}
	m := min(b, c)
	// P(X ≤ m) for X ~ Binomial(n, 1/2) is I_{1/2}(n−m, m+1), the regularised
	// incomplete beta that scipy's binom.cdf evaluates too.
	p := 2 * mathext.RegIncBeta(float64(n-m), float64(m+1), 0.5)
	return math.Min(p, 1)
}

// wilcoxonExactMax is the largest sample scipy 1.10's method="auto" still
// gives the exact null distribution.
const wilcoxonExactMax = 50

// Wilcoxon is the signed-rank test of the paired differences d exactly as
// scipy 1.10's scipy.stats.wilcoxon(d) computes it with its defaults
// (zero_method="wilcox", correction=False, two-sided, method="auto"):
//
//   - stat is min(R+, R−), the smaller rank sum, ranks of |d| averaged over ties;
//   - with n ≤ 50 differences and no zeros the p-value is exact (exact = true),
//     from the null distribution of R+, even when there are ties: scipy then
//     truncates R+ to an integer, and so does this;
//   - otherwise (n > 50, or any zero) zeros are dropped and the p-value is the
//     normal approximation without continuity correction, the variance
//     reduced by Σ(t³−t)/48 over groups of t tied |d|.
//
// Where scipy raises an error (no differences, or all of them zero) this
// returns stat 0 and p = 1: nothing is claimed.
func Wilcoxon(d []float64) (stat, p float64, exact bool) {
	if len(d) == 0 {
		return 0, 1, false
	}
	zeros := 0
	for _, x := range d {
		if x == 0 {
			zeros++
		}
	}
	exact = len(d) <= wilcoxonExactMax && zeros == 0
	if zeros == len(d) {
		return 0, 1, false
	}
	nz := d
	if zeros > 0 {
		nz = make([]float64, 0, len(d)-zeros)
		for _, x := range d {
			if x != 0 {
				nz = append(nz, x)
			}
		}
	}
	ranks, ties := absRanks(nz)
	var rPlus, rMinus float64
	for i, x := range nz {
		if x > 0 {
			rPlus += ranks[i]
		} else {
			rMinus += ranks[i]
		}
	}
	stat = math.Min(rPlus, rMinus)
	n := len(nz)
	if exact {
		pmf := wilcoxonPMF(n)
		r := int(rPlus) // scipy: int(r_plus), a truncation when ties make it x.5
		if r == (len(pmf)-1)/2 {
			return stat, 1, true
		}
		var less, greater float64
		for _, q := range pmf[:r+1] {
			less += q
		}
		for _, q := range pmf[r:] {
			greater += q
		}
		return stat, math.Min(math.Max(2*math.Min(less, greater), 0), 1), true
	}
	fn := float64(n)
	mean := fn * (fn + 1) * 0.25
	v := fn * (fn + 1) * (2*fn + 1)
	for _, t := range ties {
		ft := float64(t)
		v -= 0.5 * ft * (ft*ft - 1)
	}
	se := math.Sqrt(v / 24)
	z := (stat - mean) / se
	return stat, math.Erfc(math.Abs(z) / math.Sqrt2), false
}

// absRanks returns the ranks of |x| (1-based, ties averaged, as scipy's
// rankdata) and the sizes of the tie groups larger than one.
func absRanks(x []float64) (ranks []float64, ties []int) {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return math.Abs(x[idx[a]]) < math.Abs(x[idx[b]]) })
	ranks = make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && math.Abs(x[idx[j]]) == math.Abs(x[idx[i]]) {
			j++
		}
		r := float64(i+j+1) / 2 // mean of ranks i+1 … j
		for k := i; k < j; k++ {
			ranks[idx[k]] = r
		}
		if j-i > 1 {
			ties = append(ties, j-i)
		}
		i = j
	}
	return ranks, ties
}

// wilcoxonPMF is the null distribution of R+ for n untied non-zero
// differences, P(R+ = r) for r = 0 … n(n+1)/2, built by the same halving
// recursion as scipy's _get_wilcoxon_distr so the floats agree.
func wilcoxonPMF(n int) []float64 {
	c := []float64{1}
	for k := 1; k <= n; k++ {
		next := make([]float64, k*(k+1)/2+1)
		m := len(c)
		for i, q := range c {
			next[i] = q * 0.5
		}
		off := len(next) - m
		for i, q := range c {
			next[off+i] += q * 0.5
		}
		c = next
	}
	return c
}

// PairedT is the paired t-test of the differences d, as scipy's
// ttest_rel(cand, base) computes it: t = mean/(sd/√n) with sd over n−1, and
// the two-sided p from Student's t with n−1 degrees of freedom.
//
// Where scipy returns NaN this does not: fewer than two differences, or
// differences that are all zero, give t = 0 and p = 1 (no evidence); equal
// non-zero differences (zero variance, a certain shift) give t = ±Inf, as
// scipy does, and p = 0.
func PairedT(d []float64) (t, p float64) {
	n := len(d)
	if n < 2 {
		return 0, 1
	}
	m := Mean(d)
	sd := StdDev(d)
	if sd == 0 {
		if m == 0 {
			return 0, 1
		}
		return math.Copysign(math.Inf(1), m), 0
	}
	t = m / (sd / math.Sqrt(float64(n)))
	st := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
	return t, math.Min(2*st.Survival(math.Abs(t)), 1)
}

// signFlipMax is the most non-zero differences SignFlipExact enumerates
// (2^20 sign patterns).
const signFlipMax = 20

// SignFlipExact is the exact two-sided paired permutation test: under "no
// difference" each difference's sign is equally likely to be flipped, and p
// is the share of all 2^n sign patterns whose |sum| is at least the
// observed one (the identity pattern counts, so p ≥ 2^-n). Zeros do not
// change the statistic and are left out of n. ok is false, and p 0, when
// more than 20 differences are non-zero. The result is exact and
// deterministic: sums that differ from the observed one by less than 1e-9
// of Σ|d| (floating-point noise) count as equal.
func SignFlipExact(d []float64) (p float64, ok bool) {
	var nz []float64
	var obs, scale float64
	for _, x := range d {
		if x != 0 {
			nz = append(nz, x)
			obs += x
			scale += math.Abs(x)
		}
	}
	if len(nz) == 0 {
		return 1, true
	}
	if len(nz) > signFlipMax {
		return 0, false
	}
	thr := math.Abs(obs) - 1e-9*scale
	// Meet in the middle: every pattern's sum is a + b with a from the
	// first half's 2^h sums and b from the second's, so sorting one half
	// counts all 2^n patterns in O(2^(n/2) log) rather than 2^n steps, each
	// sum added from at most ten terms (no drift from a running sum).
	h := len(nz) / 2
	as := subsetSums(nz[:h])
	bs := subsetSums(nz[h:])
	slices.Sort(bs)
	count := 0
	for _, a := range as {
		// |a+b| ≥ thr ⇔ b ≥ thr−a or b ≤ −thr−a (thr > 0); thr ≤ 0 counts all.
		if thr <= 0 {
			count += len(bs)
			continue
		}
		hi := sort.SearchFloat64s(bs, thr-a)                                   // first b ≥ thr−a
		lo := sort.Search(len(bs), func(i int) bool { return bs[i] > -thr-a }) // b ≤ −thr−a: bs[:lo]
		count += len(bs) - hi + lo
	}
	return float64(count) / math.Ldexp(1, len(nz)), true
}

// subsetSums returns Σ ±x over all 2^len(x) sign patterns.
func subsetSums(x []float64) []float64 {
	out := []float64{0}
	for _, v := range x {
		next := make([]float64, 0, 2*len(out))
		for _, s := range out {
			next = append(next, s+v, s-v)
		}
		out = next
	}
	return out
}

// PermutationTest is the paired permutation test of "no difference": exact
// (SignFlipExact, test "permutation-exact") with at most 20 non-zero
// differences, and the paired t-test beyond (test "paired-t"), its large-n
// approximation. It never returns a Monte Carlo p floored at 1/(B+1).
func PermutationTest(d []float64) (p float64, test string) {
	if p, ok := SignFlipExact(d); ok {
		return p, TestPermutationExact
	}
	_, p = PairedT(d)
	return p, TestPairedT
}
