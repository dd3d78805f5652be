package scorer

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tunecheck/tunecheck/metrics/regression"
	"github.com/tunecheck/tunecheck/metrics/text"
)

// regressionEntries score the output parsed as a number against the first
// reference parsed as a number, with scikit-learn 1.2.1's and scipy 1.10.1's
// definitions (metrics/regression). An output that is not a number makes the
// item unscorable; it is never scored as 0.
func regressionEntries() []Entry {
	parse := "The output and the reference, trimmed, must each be one finite decimal number, such as 42, -0.5 or 1e3."
	corpusNote := parse + " Per item: the negated squared error, so that higher is better as for the metric."
	return []Entry{
		{Name: "mae", Doc: "mean absolute error (scikit-learn 1.2.1 mean_absolute_error)", Notes: parse,
			Metrics: []Metric{lowerMean("mae")}, New: newRegression("mae")},
		{Name: "mse", Doc: "mean squared error (scikit-learn 1.2.1 mean_squared_error)", Notes: parse,
			Metrics: []Metric{lowerMean("mse")}, New: newRegression("mse")},
		{Name: "mape", Doc: "mean absolute percentage error, as a fraction (scikit-learn 1.2.1 mean_absolute_percentage_error)", Notes: parse,
			Metrics: []Metric{lowerMean("mape")}, New: newRegression("mape")},
		{Name: "rmse", Doc: "root mean squared error, from the summed squared errors (scikit-learn 1.2.1 mean_squared_error squared=False)", Notes: parse + " Per item: the absolute error (the RMSE of the item alone).",
			Metrics: []Metric{corpus("rmse", Lower)}, New: newRegression("rmse")},
		{Name: "r2", Doc: "coefficient of determination of the outputs against the references (scikit-learn 1.2.1 r2_score)", Notes: corpusNote,
			Metrics: []Metric{corpus("r2", Higher)}, New: newRegression("r2")},
		{Name: "pearson", Doc: "Pearson correlation of references and outputs (scipy 1.10.1 pearsonr)", Notes: corpusNote,
			Metrics: []Metric{corpus("pearson", Higher)}, New: newRegression("pearson")},
		{Name: "spearman", Doc: "Spearman rank correlation, average ranks for ties (scipy 1.10.1 spearmanr)", Notes: corpusNote,
			Metrics: []Metric{corpus("spearman", Higher)}, New: newRegression("spearman")},
		{Name: "kendall", Doc: "Kendall's tau-b (scipy 1.10.1 kendalltau)", Notes: corpusNote,
			Metrics: []Metric{corpus("kendall", Higher)}, New: newRegression("kendall")},
	}
}

// The statistics of one item: a count, the reference x and output y, their
// squares and product, and the absolute and squared errors. Sums of them give
// RMSE, and R² and Pearson by the textbook formulas; AggregateItems reads x
// and y back from each item's vector.
const (
	stN = iota
	stX
	stY
	stXX
	stYY
	stXY
	stAbs
	stSq
	statsLen
)

type regressionScorer struct{ metric string }

// itemRegression is a regression scorer whose exact value needs the pairs.
type itemRegression struct{ regressionScorer }

func newRegression(metric string) func(Options) (Scorer, error) {
	return func(o Options) (Scorer, error) {
		if err := newOpts(o).done(metric); err != nil {
			return nil, err
		}
		r := regressionScorer{metric: metric}
		switch metric {
		case "mae", "mse", "mape":
			return meanRegression{r}, nil
		case "rmse":
			return r, nil
		}
		return itemRegression{r}, nil
	}
}

// parseNumber reads a whole output or reference as one finite number.
func parseNumber(what, s string) (float64, error) {
	t := strings.TrimFunc(s, text.IsPySpace)
	v, err := strconv.ParseFloat(t, 64)
	// Go also reads hexadecimal floats; Python's float does not.
	if err != nil && !errors.Is(err, strconv.ErrRange) || strings.ContainsAny(t, "xX") {
		if len(t) > 40 {
			t = t[:40] + "…"
		}
		return 0, fmt.Errorf("the %s %q is not a number", what, t)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("the %s %q is not a finite number", what, t)
	}
	return v, nil
}

// pair is the item's (reference, output) as numbers.
func pair(in Input) (x, y float64, err error) {
	if len(in.References) == 0 {
		return 0, 0, errNoRefs
	}
	if x, err = parseNumber("reference", in.References[0]); err != nil {
		return 0, 0, err
	}
	if y, err = parseNumber("output", in.Prediction); err != nil {
		return 0, 0, err
	}
	return x, y, nil
}

func (r regressionScorer) Metrics() []Metric {
	if r.metric == "rmse" {
		return []Metric{corpus("rmse", Lower)}
	}
	return []Metric{corpus(r.metric, Higher)}
}

func (r regressionScorer) Stats(in Input) ([]float64, error) {
	x, y, err := pair(in)
	if err != nil {
		return nil, err
	}
	d := x - y
	st := []float64{stN: 1, stX: x, stY: y, stXX: x * x, stYY: y * y, stXY: x * y, stAbs: math.Abs(y - x), stSq: d * d}
	for _, v := range st {
		if math.IsInf(v, 0) {
			return nil, fmt.Errorf("the reference %v or output %v is too large to square", x, y)
		}
	}
	return st, nil
}

func (r regressionScorer) Score(in Input) (map[string]float64, error) {
	st, err := r.Stats(in)
	if err != nil {
		return nil, err
	}
	if r.metric == "rmse" {
		v, err := regression.RMSE(st[stX:stX+1], st[stY:stY+1])
		if err != nil {
			return nil, err
		}
		return map[string]float64{r.metric: v}, nil
	}
	return map[string]float64{r.metric: -st[stSq]}, nil
}

// Aggregate computes RMSE exactly as scikit-learn does (the same sum of
// squared errors); R² and Pearson from the sums by the one-pass formulas,
// which agree with the reference to rounding; NaN for the rank correlations,
// which need AggregateItems.
func (r regressionScorer) Aggregate(sum []float64) map[string]float64 {
	v := math.NaN()
	if len(sum) == statsLen && sum[stN] >= 1 {
		n := sum[stN]
		switch r.metric {
		case "rmse":
			v = math.Sqrt(sum[stSq] / n)
		case "r2":
			v = r2FromSums(sum)
		case "pearson":
			v = pearsonFromSums(sum)
		}
	}
	return map[string]float64{r.metric: v}
}

// spread is n times the variance from sums, 0 when it is rounding noise.
func spread(n, s, ss float64) float64 {
	v := ss - s*s/n
	if v <= 1e-12*ss {
		return 0
	}
	return v
}

func r2FromSums(sum []float64) float64 {
	n := sum[stN]
	if n < 2 {
		return math.NaN()
	}
	ssTot := spread(n, sum[stX], sum[stXX])
	switch {
	case sum[stSq] == 0:
		return 1
	case ssTot == 0:
		return 0
	}
	return 1 - sum[stSq]/ssTot
}

func pearsonFromSums(sum []float64) float64 {
	n := sum[stN]
	vx, vy := spread(n, sum[stX], sum[stXX]), spread(n, sum[stY], sum[stYY])
	if n < 2 || vx == 0 || vy == 0 {
		return math.NaN()
	}
	r := (sum[stXY] - sum[stX]*sum[stY]/n) / math.Sqrt(vx*vy)
	return math.Max(-1, math.Min(1, r))
}

// AggregateItems computes the metric on the items' (reference, output) pairs
// with metrics/regression, exactly as `tunecheck score` does; undefined
// values (a constant input, fewer than two items) are NaN.
func (r itemRegression) AggregateItems(stats [][]float64) map[string]float64 {
	x := make([]float64, 0, len(stats))
	y := make([]float64, 0, len(stats))
	for _, st := range stats {
		if len(st) != statsLen {
			return map[string]float64{r.metric: math.NaN()}
		}
		x, y = append(x, st[stX]), append(y, st[stY])
	}
	var res regression.Result
	var err error
	switch r.metric {
	case "r2":
		res, err = regression.R2(x, y)
	case "pearson":
		res, err = regression.Pearson(x, y)
	case "spearman":
		res, err = regression.Spearman(x, y)
	default:
		res, err = regression.KendallTauB(x, y)
	}
	if err != nil {
		return map[string]float64{r.metric: math.NaN()}
	}
	return map[string]float64{r.metric: res.Value}
}

// meanRegression is a regression metric that is the mean of per-item
// values (MAE, MSE, MAPE).
type meanRegression struct{ r regressionScorer }

func (m meanRegression) Metrics() []Metric { return []Metric{lowerMean(m.r.metric)} }

func (m meanRegression) Score(in Input) (map[string]float64, error) {
	x, y, err := pair(in)
	if err != nil {
		return nil, err
	}
	// The metric of the item alone is its term of the mean.
	f := regression.MAE
	switch m.r.metric {
	case "mse":
		f = regression.MSE
	case "mape":
		f = regression.MAPE
	}
	v, err := f([]float64{x}, []float64{y})
	if err != nil {
		return nil, err
	}
	if math.IsInf(v, 0) {
		return nil, fmt.Errorf("%s of reference %v and output %v is not finite", m.r.metric, x, y)
	}
	return map[string]float64{m.r.metric: v}, nil
}
