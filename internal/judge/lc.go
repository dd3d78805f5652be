package judge

import (
	"errors"
	"fmt"
	"math"
)

// LCFit is a fitted length-controlled win rate.
//
// The model is a simplified AlpacaEval 2 length-controlled GLM (Dubois et
// al. 2024, "Length-Controlled AlpacaEval", arXiv:2404.04475; alpaca_eval's
// metrics/glm_winrate.py, formula length_controlled_minimal without the
// gamed-baseline term):
//
//	logit P(model preferred) = Intercept + Slope · tanh(Δ / SD(Δ))
//
// with Δ = len(baseline output) − len(model output) in characters (the sign
// AlpacaEval uses) and SD the sample standard deviation of Δ over the items
// (ddof 1; Δ is not centred). The soft preferences (in [0, 1]) are the
// response of a binomial GLM with the logit link, fitted by maximum
// likelihood (IRLS) — the fractional-response model statsmodels'
// GLM(family=Binomial()) fits. The length-controlled win rate is the
// prediction with Δ set to 0, averaged over items, ×100; without per-item
// terms that is 100·logistic(Intercept). AlpacaEval's published figure also
// has an instruction-difficulty term and regularises towards the baseline's
// own verbose/concise runs; this model has neither.
type LCFit struct {
	Intercept float64 `json:"intercept"`
	Slope     float64 `json:"tanh_std_delta_len"`
	// InterceptSE and SlopeSE are the model-based standard errors (inverse Fisher information).
	InterceptSE float64 `json:"intercept_se"`
	SlopeSE     float64 `json:"tanh_std_delta_len_se"`
	// SDDeltaLen is SD(Δ), the scale of the length difference.
	SDDeltaLen float64 `json:"sd_delta_len"`
	// WinRate is the length-controlled win rate, ×100 (in JSON as the
	// result's length_controlled_winrate).
	WinRate float64 `json:"-"`
	// StandardError is its delta-method standard error from InterceptSE, ×100
	// (lc_standard_error).
	StandardError float64 `json:"-"`
	Iterations    int     `json:"iterations"`
	N             int     `json:"n"`
}

// LCWinRate fits the length-controlled model to items with baseline and model
// output lengths and soft preferences for the model in [0, 1].
func LCWinRate(lenBaseline, lenModel, pref []float64) (LCFit, error) {
	n := len(pref)
	if len(lenBaseline) != n || len(lenModel) != n {
		return LCFit{}, fmt.Errorf("%d baseline lengths, %d model lengths, %d preferences", len(lenBaseline), len(lenModel), n)
	}
	if n < 3 {
		return LCFit{}, fmt.Errorf("%d items: too few to fit", n)
	}
	delta := make([]float64, n)
	var mean float64
	for i := range n {
		delta[i] = lenBaseline[i] - lenModel[i]
		mean += delta[i]
	}
	mean /= float64(n)
	var ss float64
	for _, d := range delta {
		ss += (d - mean) * (d - mean)
	}
	sd := math.Sqrt(ss / float64(n-1))
	if sd == 0 {
		return LCFit{}, errors.New("every item has the same length difference: the length effect cannot be told from the intercept")
	}
	x := make([][]float64, n)
	for i, d := range delta {
		x[i] = []float64{1, math.Tanh(d / sd)}
	}
	m, err := LCLogit(x, pref)
	if err != nil {
		return LCFit{}, err
	}
	p := lcLogistic(m.Coef[0])
	return LCFit{
		Intercept: m.Coef[0], Slope: m.Coef[1],
		InterceptSE: m.SE[0], SlopeSE: m.SE[1],
		SDDeltaLen:    sd,
		WinRate:       p * 100,
		StandardError: p * (1 - p) * m.SE[0] * 100,
		Iterations:    m.Iterations,
		N:             n,
	}, nil
}

// LCLogitModel is a fitted logistic regression.
type LCLogitModel struct {
	Coef []float64
	// SE are sqrt(diag((XᵀWX)⁻¹)) at the optimum, as statsmodels' bse (nonrobust).
	SE         []float64
	Deviance   float64
	Iterations int
}

// LCLogit fits a logistic regression of y in [0, 1] (fractional responses
// allowed) on the rows of x (include a column of ones for an intercept) by
// Newton-Raphson, which for the canonical logit link is IRLS:
// β ← β + (XᵀWX)⁻¹Xᵀ(y − μ), W = diag(μ(1 − μ)). It stops when the largest
// step is below 1e-12 (relative to the coefficient) and fails on divergence
// (complete separation) or after 100 iterations.
func LCLogit(x [][]float64, y []float64) (LCLogitModel, error) {
	n := len(y)
	if len(x) != n || n == 0 {
		return LCLogitModel{}, fmt.Errorf("%d rows of x, %d responses", len(x), n)
	}
	k := len(x[0])
	for i, row := range x {
		if len(row) != k {
			return LCLogitModel{}, fmt.Errorf("row %d has %d columns, row 0 has %d", i, len(row), k)
		}
		if y[i] < 0 || y[i] > 1 || math.IsNaN(y[i]) {
			return LCLogitModel{}, fmt.Errorf("response %d is %v, outside [0, 1]", i, y[i])
		}
	}
	beta := make([]float64, k)
	info := make([][]float64, k)
	for a := range info {
		info[a] = make([]float64, k)
	}
	grad := make([]float64, k)
	for it := 1; it <= 100; it++ {
		for a := range k {
			grad[a] = 0
			clear(info[a])
		}
		for i, row := range x {
			mu := lcLogistic(lcDot(row, beta))
			w := mu * (1 - mu)
			r := y[i] - mu
			for a := range k {
				grad[a] += row[a] * r
				for b := 0; b <= a; b++ {
					info[a][b] += w * row[a] * row[b]
				}
			}
		}
		for a := range k {
			for b := a + 1; b < k; b++ {
				info[a][b] = info[b][a]
			}
		}
		step, err := lcSolve(info, grad)
		if err != nil {
			return LCLogitModel{}, fmt.Errorf("iteration %d: %w (are the columns collinear, or the responses separated?)", it, err)
		}
		done := true
		for a := range k {
			beta[a] += step[a]
			if math.Abs(step[a]) > 1e-12*math.Max(1, math.Abs(beta[a])) {
				done = false
			}
			if math.IsNaN(beta[a]) || math.Abs(beta[a]) > 1e6 {
				return LCLogitModel{}, fmt.Errorf("iteration %d: coefficient %d diverges (the responses are separated by the predictors)", it, a)
			}
		}
		if done {
			return lcFinish(x, y, beta, it)
		}
	}
	return LCLogitModel{}, errors.New("no convergence in 100 Newton iterations")
}

// lcFinish computes the standard errors and deviance at the optimum beta.
func lcFinish(x [][]float64, y []float64, beta []float64, it int) (LCLogitModel, error) {
	k := len(beta)
	info := make([][]float64, k)
	for a := range info {
		info[a] = make([]float64, k)
	}
	dev := 0.0
	for i, row := range x {
		mu := lcLogistic(lcDot(row, beta))
		for a := range k {
			for b := range k {
				info[a][b] += mu * (1 - mu) * row[a] * row[b]
			}
		}
		dev += 2 * (lcXLogY(y[i], mu) + lcXLogY(1-y[i], 1-mu))
	}
	se := make([]float64, k)
	for a := range k {
		e := make([]float64, k)
		e[a] = 1
		col, err := lcSolve(info, e)
		if err != nil {
			return LCLogitModel{}, err
		}
		se[a] = math.Sqrt(col[a])
	}
	return LCLogitModel{Coef: append([]float64(nil), beta...), SE: se, Deviance: dev, Iterations: it}, nil
}

// lcXLogY is y·log(y/mu), 0 when y = 0: one term of the binomial deviance.
func lcXLogY(y, mu float64) float64 {
	if y == 0 {
		return 0
	}
	return y * math.Log(y/mu)
}

func lcDot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// lcLogistic is 1/(1+e^−z), computed without overflow.
func lcLogistic(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// lcSolve solves the symmetric positive definite system a·x = b by Cholesky.
func lcSolve(a [][]float64, b []float64) ([]float64, error) {
	k := len(b)
	l := make([][]float64, k)
	for i := range k {
		l[i] = make([]float64, k)
		for j := 0; j <= i; j++ {
			s := a[i][j]
			for m := range j {
				s -= l[i][m] * l[j][m]
			}
			if i == j {
				if s <= 0 || math.IsNaN(s) {
					return nil, errors.New("information matrix is not positive definite")
				}
				l[i][i] = math.Sqrt(s)
			} else {
				l[i][j] = s / l[j][j]
			}
		}
	}
	z := make([]float64, k)
	for i := range k {
		s := b[i]
		for m := range i {
			s -= l[i][m] * z[m]
		}
		z[i] = s / l[i][i]
	}
	x := make([]float64, k)
	for i := k - 1; i >= 0; i-- {
		s := z[i]
		for m := i + 1; m < k; m++ {
			s -= l[m][i] * x[m]
		}
		x[i] = s / l[i][i]
	}
	return x, nil
}
