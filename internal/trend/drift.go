// Package trend owns what `tunecheck show --trend` computes from one metric's
// values across the runs of a plan: whether each run drifted from the runs
// before it (Scan), and the chart of the metric and its delta over the runs
// (RenderPlot). Its functions are pure: values in, values or an image out.
//
// Drift is judged with a 95% prediction interval for a new run's mean (the
// textbook interval for one more draw from a normal sample, e.g. Hahn &
// Meeker, Statistical Intervals, ch. 4), floored by the runs' own margins of
// error; see Check.
package trend

import (
	"fmt"
	"gonum.org/v1/gonum/stat/distuv"
	"math"
	"time"
)

// Level is the prediction level of the drift interval.
const Level = 0.95

// Point is one run's value of the metric.
type Point struct {
	Run     string    // run id: names the run in tables and on the plot
	Started time.Time // when the run started
	N       int       // items the mean rests on
	Mean    float64
	Low     float64 // the run's own confidence interval for Mean
	High    float64
	// Delta is the paired candidate−baseline difference, nil when the run
	// compared no models.
	Delta *Estimate
}

// Estimate is a value with its confidence interval.
type Estimate struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Direction says which way a run drifted.
type Direction string

// The directions; None is also the value for a run that was not checked.
const (
	None Direction = ""
	Up   Direction = "up"
	Down Direction = "down"
)

// Check is one run's value judged against the k runs before it.
type Check struct {
	// Prev is how many earlier runs the check used: the window k, or fewer
	// when fewer came before (then Checked is false and nothing else is set).
	Prev    int
	Checked bool
	// Center is the mean of the previous runs' means, Low..High the interval
	// a run from the same process lands in with probability Level.
	Center, Low, High float64
	// Spread is the standard deviation of the previous runs' means (0 for a
	// window of one); Margin is their mean confidence half-width. The
	// interval's half-width is the larger of the two terms they give.
	Spread, Margin float64
	Dir            Direction
}

// Judge decides whether last drifted from prev (the runs before it, oldest
// first; all of them are used). With m̄ and s the mean and sample standard
// deviation of the k previous means, w̄ the mean half-width of their
// confidence intervals and t the 97.5% quantile of Student's t with k−1
// degrees of freedom, the interval is m̄ ± h with
//
//	h = √(1 + 1/k) · max(t·s, w̄)
//
// The first term is the 95% prediction interval for one more run's mean
// when runs vary as much as the previous ones did; the second is the same
// interval had they varied by exactly their own margin of error, so that
// runs that agreed to the last digit (a deterministic model on a fixed eval
// set) do not turn a change smaller than one run's measurement precision
// into drift. Treating the runs as independent samples ignores that they
// share items, which makes the check conservative: it flags less, never more.
// The run drifted up when its mean is above m̄ + h, down when below m̄ − h.
// With no previous run nothing is checked.
func Judge(prev []Point, last Point) Check {
	k := len(prev)
	c := Check{Prev: k}
	if k == 0 {
		return c
	}
	c.Checked = true
	var sum, wsum float64
	for _, p := range prev {
		sum += p.Mean
		wsum += (p.High - p.Low) / 2
	}
	c.Center = sum / float64(k)
	c.Margin = wsum / float64(k)
	half := c.Margin
	if k > 1 {
		var ss float64
		for _, p := range prev {
			ss += (p.Mean - c.Center) * (p.Mean - c.Center)
		}
		c.Spread = math.Sqrt(ss / float64(k-1))
		half = max(half, TQuantile(1-(1-Level)/2, float64(k-1))*c.Spread)
	}
	half *= math.Sqrt(1 + 1/float64(k))
	c.Low, c.High = c.Center-half, c.Center+half
	switch {
	case last.Mean > c.High:
		c.Dir = Up
	case last.Mean < c.Low:
		c.Dir = Down
	}
	return c
}

// Scan judges every run against the window runs before it; the first window
// runs have fewer and are not checked (their Check has Checked false).
func Scan(pts []Point, window int) ([]Check, error) {
	if window < 1 {
		return nil, fmt.Errorf("the drift window must be at least 1 run, got %d", window)
	}
	out := make([]Check, len(pts))
	for i := range pts {
		if i < window {
			out[i] = Check{Prev: i}
			continue
		}
		out[i] = Judge(pts[i-window:i], pts[i])
	}
	return out, nil
}

// TQuantile is the p quantile of Student's t distribution with df degrees
// of freedom (df > 0, 0 < p < 1), from gonum's distuv.StudentsT, as
// internal/stats computes its t tests.
func TQuantile(p, df float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
}
