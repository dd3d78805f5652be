package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// WinsTiesLosses counts the items where cand[i] is above, equal to and
// below base[i].
func WinsTiesLosses(base, cand []float64) (wins, ties, losses int) {
	for i := range base {
		switch d := cand[i] - base[i]; {
		case d > 0:
			wins++
		case d < 0:
			losses++
		default:
			ties++
		}
	}
	return wins, ties, losses
}

// MDEFromInterval is the minimum detectable effect (two-sided α = 0.05,
// 80% power) of a delta known only through its bootstrap interval, as for a
// corpus metric: the interval's width gives the standard error under the
// normal approximation, se = (high − low) / (2·z₍₁₊conf₎/₂), and the MDE is
// (z₀.₉₇₅ + z₀.₈)·se. 0 for a degenerate interval.
func MDEFromInterval(ci Interval, conf float64) float64 {
	w := ci.High - ci.Low
	if !(w > 0) || math.IsInf(w, 0) || conf <= 0 || conf >= 1 {
		return 0
	}
	z := distuv.UnitNormal
	se := w / (2 * z.Quantile((1+conf)/2))
	return (z.Quantile(1-mdeAlpha/2) + z.Quantile(mdePower)) * se
}
