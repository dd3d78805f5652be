package judge

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tunecheck/tunecheck/metrics/classification"
	"github.com/tunecheck/tunecheck/metrics/regression"
)

// Agreement statistics between raters (a judge and humans, several judges, or
// one judge sampled several times). Pure functions; each names the reference
// implementation it matches, checked in agree_test.go against fixtures that
// testdata/agree_gen.py writes with Debian's scikit-learn, statsmodels and
// SciPy. Cohen's kappa and the rank correlations are the parity-tested ones of
// metrics/classification and metrics/regression, under one signature here.

// KappaWeights selects Cohen's kappa's disagreement weights: none (nominal
// labels), linear |i − j| or quadratic (i − j)² between label ranks (ordinal
// scores).
type KappaWeights = classification.KappaWeights

// The weightings of KappaCohen.
const (
	KappaUnweighted = classification.KappaUnweighted
	KappaLinear     = classification.KappaLinear
	KappaQuadratic  = classification.KappaQuadratic
)

// KappaCohen is Cohen's kappa between two raters' labels of the same items, as
// sklearn.metrics.cohen_kappa_score(a, b, weights=…): the labels are the
// sorted union of both raters' values, ranked 0..k−1; the weights act on ranks.
// It is 1 − Σw·O / Σw·E with O the observed confusion counts and E the outer
// product of the marginals / n; NaN when E has no weight (both raters gave one
// and the same label to everything), as sklearn's 0/0.
func KappaCohen[T agreeOrdered](a, b []T, w KappaWeights) (float64, error) {
	if len(a) != len(b) {
		return math.NaN(), fmt.Errorf("%d labels against %d", len(a), len(b))
	}
	if len(a) == 0 {
		return math.NaN(), errors.New("no items")
	}
	r, err := classification.CohenKappa(agreeLabels(a), agreeLabels(b), w)
	if err != nil {
		return math.NaN(), err
	}
	return r.Value, nil
}

// agreeOrdered are the label types KappaCohen takes: numeric scores or strings.
type agreeOrdered interface {
	int | float64 | string
}

func agreeLabels[T agreeOrdered](xs []T) []classification.Label {
	out := make([]classification.Label, len(xs))
	for i, x := range xs {
		switch v := any(x).(type) {
		case int:
			out[i] = classification.Int(v)
		case float64:
			out[i] = classification.Num(v)
		case string:
			out[i] = classification.Str(v)
		}
	}
	return out
}

// KappaFleiss is Fleiss' kappa of a table counts[item][category] (how many
// raters put the item in the category; the same number of raters per item), as
// statsmodels.stats.inter_rater.fleiss_kappa(table, method='fleiss').
func KappaFleiss(counts [][]int) (float64, error) {
	if len(counts) == 0 {
		return math.NaN(), errors.New("no items")
	}
	k := len(counts[0])
	raters := 0
	for _, c := range counts[0] {
		raters += c
	}
	if raters < 2 {
		return math.NaN(), errors.New("fewer than 2 ratings per item")
	}
	catSum := make([]float64, k)
	var pBar float64
	for i, row := range counts {
		if len(row) != k {
			return math.NaN(), fmt.Errorf("item %d has %d categories, item 0 has %d", i, len(row), k)
		}
		s, sq := 0, 0
		for j, c := range row {
			if c < 0 {
				return math.NaN(), fmt.Errorf("item %d: negative count", i)
			}
			s += c
			sq += c * c
			catSum[j] += float64(c)
		}
		if s != raters {
			return math.NaN(), fmt.Errorf("item %d has %d ratings, item 0 has %d: Fleiss' kappa needs the same number per item", i, s, raters)
		}
		pBar += float64(sq-raters) / float64(raters*(raters-1))
	}
	n := float64(len(counts))
	pBar /= n
	var pe float64
	for _, s := range catSum {
		p := s / (n * float64(raters))
		pe += p * p
	}
	return (pBar - pe) / (1 - pe), nil
}

// AgreementMetric is the difference function of Krippendorff's alpha.
type AgreementMetric int

const (
	// AgreementNominal: δ² = 0 for equal values, 1 otherwise.
	AgreementNominal AgreementMetric = iota
	// AgreementInterval: δ² = (c − k)².
	AgreementInterval
	// AgreementOrdinal: δ² = (Σ_{g=c..k} n_g − (n_c + n_k)/2)², n_g the
	// number of pairable values equal to g.
	AgreementOrdinal
)

// AgreementKrippendorff is Krippendorff's alpha for units[u] = the values the
// coders gave unit u (missing values left out, so units may differ in
// length), following Krippendorff (2011), "Computing Krippendorff's
// Alpha-Reliability": a coincidence matrix over pairable values (units with at
// least two values; each pair weighted 1/(m_u − 1)), then
// alpha = 1 − (n − 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck.
func AgreementKrippendorff(units [][]float64, metric AgreementMetric) (float64, error) {
	// Distinct values, sorted.
	var vals []float64
	for _, u := range units {
		if len(u) >= 2 {
			vals = append(vals, u...)
		}
	}
	slices.Sort(vals)
	vals = slices.Compact(vals)
	if len(vals) == 0 {
		return math.NaN(), errors.New("no unit has two or more values")
	}
	k := len(vals)
	idx := func(v float64) int { i, _ := slices.BinarySearch(vals, v); return i }
	o := make([]float64, k*k)
	for _, u := range units {
		m := len(u)
		if m < 2 {
			continue
		}
		for a := range m {
			for b := range m {
				if a != b {
					o[idx(u[a])*k+idx(u[b])] += 1 / float64(m-1)
				}
			}
		}
	}
	nc := make([]float64, k)
	var n float64
	for c := range k {
		for kk := range k {
			nc[c] += o[c*k+kk]
		}
		n += nc[c]
	}
	delta := func(c, kk int) float64 {
		switch metric {
		case AgreementInterval:
			d := vals[c] - vals[kk]
			return d * d
		case AgreementOrdinal:
			lo, hi := min(c, kk), max(c, kk)
			s := 0.0
			for g := lo; g <= hi; g++ {
				s += nc[g]
			}
			s -= (nc[lo] + nc[hi]) / 2
			return s * s
		default:
			if c == kk {
				return 0
			}
			return 1
		}
	}
	var do, de float64
	for c := range k {
		for kk := range k {
			d := delta(c, kk)
			do += o[c*k+kk] * d
			de += nc[c] * nc[kk] * d
		}
	}
	if de == 0 {
		return math.NaN(), errors.New("every pairable value is the same: no variation to agree on")
	}
	return 1 - (n-1)*do/de, nil
}

// AgreementPercent is the share of items on which a and b agree, in [0, 1].
// With skipTies, items where either says tie (for which isTie is true) are
// left out first; n is the number of items counted.
func AgreementPercent[T comparable](a, b []T, skipTies bool, isTie func(T) bool) (agree float64, n int, err error) {
	if len(a) != len(b) {
		return math.NaN(), 0, fmt.Errorf("%d labels against %d", len(a), len(b))
	}
	same := 0
	for i := range a {
		if skipTies && isTie != nil && (isTie(a[i]) || isTie(b[i])) {
			continue
		}
		n++
		if a[i] == b[i] {
			same++
		}
	}
	if n == 0 {
		return math.NaN(), 0, nil
	}
	return float64(same) / float64(n), n, nil
}

// AgreementSpearman is Spearman's rank correlation, as scipy.stats.spearmanr
// (metrics/regression.Spearman): the Pearson correlation of average ranks.
// NaN when either side is constant.
func AgreementSpearman(a, b []float64) (float64, error) {
	r, err := regression.Spearman(a, b)
	if err != nil {
		return math.NaN(), err
	}
	return r.Value, nil
}

// AgreementKendallTauB is Kendall's tau-b, as scipy.stats.kendalltau
// (metrics/regression.KendallTauB). NaN when either side is constant.
func AgreementKendallTauB(a, b []float64) (float64, error) {
	r, err := regression.KendallTauB(a, b)
	if err != nil {
		return math.NaN(), err
	}
	return r.Value, nil
}
