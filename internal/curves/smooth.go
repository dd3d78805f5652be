package curves

import (
	"math"
	"sort"
)

// Smooth applies TensorBoard's debiased exponential moving average with
// weight w in [0, 1): the running average starts at zero and is divided by
// 1-w^k after k finite points, so early values are not dragged towards zero.
// Non-finite points pass through unsmoothed and do not enter the average; a
// constant series is returned as is, as TensorBoard does.
func Smooth(ps []Point, w float64) []Point {
	out := make([]Point, len(ps))
	copy(out, ps)
	if len(ps) == 0 || w <= 0 {
		return out
	}
	constant := true
	for _, p := range ps {
		if p.Value != ps[0].Value {
			constant = false
			break
		}
	}
	if constant {
		return out
	}
	// wk is w^k after k finite points, kept as a running product rather
	// than a pow per point.
	last, wk := 0.0, 1.0
	for i, p := range ps {
		if !finite(p.Value) {
			continue
		}
		last = last*w + (1-w)*p.Value
		wk *= w
		out[i].Value = last / (1 - wk)
	}
	return out
}

// valueAt returns the series value at step, interpolating linearly between
// the neighbouring points and holding the end values beyond them; ok is false
// for an empty series.
func valueAt(ps []Point, step int64) (float64, bool) {
	if len(ps) == 0 {
		return 0, false
	}
	i := sort.Search(len(ps), func(i int) bool { return ps[i].Step >= step })
	switch {
	case i == len(ps):
		return ps[len(ps)-1].Value, true
	case ps[i].Step == step || i == 0:
		return ps[i].Value, true
	}
	a, b := ps[i-1], ps[i]
	t := float64(step-a.Step) / float64(b.Step-a.Step)
	return a.Value + t*(b.Value-a.Value), true
}

// median returns the median of xs (xs is reordered).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// madSample bounds the points a MAD is computed from: a noise scale from
// 65,536 evenly spaced residuals is as good as from a million, and sorting
// a million floats would dominate the analysis of a long run.
const madSample = 1 << 16

// mad is the median absolute deviation scaled to estimate a normal σ.
func mad(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	if len(xs) > madSample {
		k := (len(xs) + madSample - 1) / madSample
		sub := make([]float64, 0, madSample)
		for i := 0; i < len(xs); i += k {
			sub = append(sub, xs[i])
		}
		xs = sub
	}
	c := append([]float64(nil), xs...)
	m := median(c)
	for i, x := range xs {
		c[i] = math.Abs(x - m)
	}
	return 1.4826 * median(c)
}

// evalNoise estimates the point-to-point noise σ of an eval-loss curve.
// Second differences cancel a locally linear trend, and for white noise their
// variance is 6σ²; the MAD keeps one jump from setting the scale. Two parts
// of a fine-tuning curve are curvature, not noise, and are left out: the
// steep first descent (until the loss has made half of its drop to the
// minimum) and the vertex at the minimum itself, which is sharpest exactly
// when the run overfits. With fewer than four second differences left, σ
// cannot be estimated, and half a percent of the minimum stands in for it.
func evalNoise(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	m := 0
	for i, v := range vs {
		if v < vs[m] {
			m = i
		}
	}
	low := vs[m]
	k0 := 0
	for k0 < m && vs[k0]-low > 0.5*(vs[0]-low) {
		k0++
	}
	d2 := make([]float64, 0, len(vs))
	for i := max(k0+1, 1); i < len(vs)-1; i++ {
		if i == m {
			continue
		}
		d2 = append(d2, vs[i+1]-2*vs[i]+vs[i-1])
	}
	floor := 0.005 * math.Abs(low)
	if len(d2) < 4 {
		if len(d2) == 0 {
			return floor
		}
		return max(mad(d2)/math.Sqrt(6), floor)
	}
	return mad(d2) / math.Sqrt(6)
}
