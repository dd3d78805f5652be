// Package regression computes regression errors and correlations: MAE, MSE,
// RMSE, R² and MAPE as scikit-learn 1.2.1 defines them, and Pearson,
// Spearman (average ranks for ties) and Kendall's tau-b (the O(n log n)
// algorithm, as scipy 1.10.1's kendalltau) correlations. Undefined values
// (R² of one sample, a correlation with a constant input) are NaN with a
// warning returned as a value, as the references return NaN and warn.
package regression

import (
	"fmt"
	"math"
	"slices"
)

// Result is a value with the warnings the reference would have emitted.
type Result struct {
	Value    float64
	Warnings []string
}

func check(yTrue, yPred []float64, minRows int) error {
	if len(yTrue) != len(yPred) {
		return fmt.Errorf("y_true has %d rows but y_pred has %d: give one prediction per row", len(yTrue), len(yPred))
	}
	if len(yTrue) < minRows {
		if minRows == 1 {
			return fmt.Errorf("no rows: the metric is undefined on empty input (scikit-learn raises too)")
		}
		return fmt.Errorf("%d rows: the correlation needs at least %d (scipy raises too)", len(yTrue), minRows)
	}
	for i := range yTrue {
		if math.IsNaN(yTrue[i]) || math.IsInf(yTrue[i], 0) {
			return fmt.Errorf("row %d: y_true is %v: values must be finite numbers", i+1, yTrue[i])
		}
		if math.IsNaN(yPred[i]) || math.IsInf(yPred[i], 0) {
			return fmt.Errorf("row %d: y_pred is %v: values must be finite numbers", i+1, yPred[i])
		}
	}
	return nil
}

// MAE is the mean absolute error.
func MAE(yTrue, yPred []float64) (float64, error) {
	if err := check(yTrue, yPred, 1); err != nil {
		return 0, err
	}
	s := 0.0
	for i := range yTrue {
		s += math.Abs(yPred[i] - yTrue[i])
	}
	return s / float64(len(yTrue)), nil
}

// MSE is the mean squared error.
func MSE(yTrue, yPred []float64) (float64, error) {
	if err := check(yTrue, yPred, 1); err != nil {
		return 0, err
	}
	s := 0.0
	for i := range yTrue {
		d := yTrue[i] - yPred[i]
		s += d * d
	}
	return s / float64(len(yTrue)), nil
}

// RMSE is the square root of the MSE (mean_squared_error(squared=False)).
func RMSE(yTrue, yPred []float64) (float64, error) {
	v, err := MSE(yTrue, yPred)
	return math.Sqrt(v), err
}

// MAPE is scikit-learn's mean absolute percentage error: the mean of
// |y_pred - y_true| / max(|y_true|, eps), as a fraction (not percent). A zero
// y_true gives a huge but finite term, as in scikit-learn.
func MAPE(yTrue, yPred []float64) (float64, error) {
	if err := check(yTrue, yPred, 1); err != nil {
		return 0, err
	}
	const eps = 2.220446049250313e-16
	s := 0.0
	for i := range yTrue {
		s += math.Abs(yPred[i]-yTrue[i]) / math.Max(math.Abs(yTrue[i]), eps)
	}
	return s / float64(len(yTrue)), nil
}

// R2 is the coefficient of determination, 1 - SS_res/SS_tot. As scikit-learn
// does, a constant y_true gives 1 when predicted exactly and 0 otherwise, and
// fewer than two rows give NaN with a warning.
func R2(yTrue, yPred []float64) (Result, error) {
	if err := check(yTrue, yPred, 1); err != nil {
		return Result{}, err
	}
	if len(yTrue) < 2 {
		return Result{Value: math.NaN(), Warnings: []string{"R² is undefined with fewer than two samples; the value is NaN"}}, nil
	}
	m := meanOf(yTrue)
	num, den := 0.0, 0.0
	for i := range yTrue {
		d := yTrue[i] - yPred[i]
		num += d * d
		e := yTrue[i] - m
		den += e * e
	}
	switch {
	case num == 0:
		return Result{Value: 1}, nil
	case den == 0:
		return Result{Value: 0}, nil
	}
	return Result{Value: 1 - num/den}, nil
}

func meanOf(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func constant(xs []float64) bool {
	for _, x := range xs[1:] {
		if x != xs[0] {
			return false
		}
	}
	return true
}

var constantWarning = "an input is constant, so the correlation is undefined; the value is NaN"

// Pearson is the Pearson product-moment correlation (scipy.stats.pearsonr).
func Pearson(x, y []float64) (Result, error) {
	if err := check(x, y, 2); err != nil {
		return Result{}, err
	}
	if constant(x) || constant(y) {
		return Result{Value: math.NaN(), Warnings: []string{constantWarning}}, nil
	}
	if len(x) == 2 {
		return Result{Value: sign(x[1]-x[0]) * sign(y[1]-y[0])}, nil
	}
	mx, my := meanOf(x), meanOf(y)
	var sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxx += dx * dx
		syy += dy * dy
	}
	nx, ny := math.Sqrt(sxx), math.Sqrt(syy)
	var res Result
	if nx < 1e-13*math.Abs(mx) || ny < 1e-13*math.Abs(my) {
		res.Warnings = append(res.Warnings, "an input is nearly constant; the correlation may be inaccurate")
	}
	r := 0.0
	for i := range x {
		r += (x[i] - mx) / nx * ((y[i] - my) / ny)
	}
	res.Value = math.Max(-1, math.Min(1, r))
	return res, nil
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// Rank returns the ranks of xs (1-based), tied values sharing the average of
// their ranks (scipy.stats.rankdata, method="average").
func Rank(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case xs[a] < xs[b]:
			return -1
		case xs[a] > xs[b]:
			return 1
		}
		return 0
	})
	ranks := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && xs[idx[j]] == xs[idx[i]] {
			j++
		}
		// Ranks i+1 .. j average to (i+1+j)/2.
		r := float64(i+1+j) / 2
		for k := i; k < j; k++ {
			ranks[idx[k]] = r
		}
		i = j
	}
	return ranks
}

// Spearman is Spearman's rank correlation: the Pearson correlation of the
// average ranks (scipy.stats.spearmanr, computed like numpy.corrcoef).
func Spearman(x, y []float64) (Result, error) {
	if err := check(x, y, 2); err != nil {
		return Result{}, err
	}
	if constant(x) || constant(y) {
		return Result{Value: math.NaN(), Warnings: []string{constantWarning}}, nil
	}
	rx, ry := Rank(x), Rank(y)
	mx, my := meanOf(rx), meanOf(ry)
	var sxy, sxx, syy float64
	for i := range rx {
		dx, dy := rx[i]-mx, ry[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	n1 := float64(len(rx) - 1)
	r := sxy / n1 / math.Sqrt(sxx/n1) / math.Sqrt(syy/n1)
	return Result{Value: math.Max(-1, math.Min(1, r))}, nil
}

// KendallTauB is Kendall's tau-b, which corrects for ties in either input,
// computed in O(n log n) (Knight's algorithm, as scipy.stats.kendalltau):
// sort by (x, y), count discordant pairs as inversions of y by merge sort,
// and count ties in x, in y and in both.
func KendallTauB(x, y []float64) (Result, error) {
	if err := check(x, y, 2); err != nil {
		return Result{}, err
	}
	n := len(x)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmpFloat(x[a], x[b]); c != 0 {
			return c
		}
		return cmpFloat(y[a], y[b])
	})
	xs := make([]float64, n)
	ys := make([]float64, n)
	for i, k := range idx {
		xs[i], ys[i] = x[k], y[k]
	}
	tieRuns := func(vals []float64, alsoY []float64) int64 {
		var t int64
		for i := 0; i < n; {
			j := i + 1
			for j < n && vals[j] == vals[i] && (alsoY == nil || alsoY[j] == alsoY[i]) {
				j++
			}
			c := int64(j - i)
			t += c * (c - 1) / 2
			i = j
		}
		return t
	}
	xtie := tieRuns(xs, nil)
	ntie := tieRuns(xs, ys)
	// Discordant pairs: strict inversions of y in (x, y) order. Pairs tied
	// in x are ordered by y, so they add none.
	buf := make([]float64, n)
	dis := inversions(ys, buf)
	// ys is now sorted, so its ties come in runs.
	ytie := tieRuns(ys, nil)
	tot := int64(n) * int64(n-1) / 2
	if xtie == tot || ytie == tot {
		return Result{Value: math.NaN(), Warnings: []string{constantWarning}}, nil
	}
	conMinusDis := tot - xtie - ytie + ntie - 2*dis
	tau := float64(conMinusDis) / math.Sqrt(float64(tot-xtie)) / math.Sqrt(float64(tot-ytie))
	return Result{Value: math.Max(-1, math.Min(1, tau))}, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// inversions sorts a ascending (merge sort, using buf) and returns the
// number of pairs i < j with a[i] > a[j].
func inversions(a, buf []float64) int64 {
	n := len(a)
	if n < 2 {
		return 0
	}
	m := n / 2
	inv := inversions(a[:m], buf[:m]) + inversions(a[m:], buf[m:])
	i, j, k := 0, m, 0
	for i < m && j < n {
		if a[j] < a[i] {
			buf[k] = a[j]
			inv += int64(m - i)
			j++
		} else {
			buf[k] = a[i]
			i++
		}
		k++
	}
	k += copy(buf[k:], a[i:m])
	copy(buf[k:], a[j:n])
	copy(a, buf[:n])
	return inv
}
