package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Effect names.
const (
	EffectCohenDz   = "cohen_dz"
	EffectOddsRatio = "odds_ratio"
)

// CohenDz is Cohen's d_z of paired differences: mean(d)/sd(d), sd over n−1.
// ok is false (and the value 0) with fewer than two differences or zero
// variance, where it is undefined.
func CohenDz(d []float64) (dz float64, ok bool) {
	if len(d) < 2 {
		return 0, false
	}
	sd := StdDev(d)
	if sd == 0 {
		return 0, false
	}
	return Mean(d) / sd, true
}

// ClopperPearson is the exact (Clopper–Pearson) interval of a binomial
// proportion k/n at level conf, as statsmodels' proportion_confint(k, n,
// method="beta"): beta quantiles, with 0 and 1 at the ends where k = 0 or
// k = n.
func ClopperPearson(k, n int, conf float64) Interval {
	if n <= 0 || k < 0 || k > n {
		return Interval{Low: 0, High: 1}
	}
	a := (1 - conf) / 2
	iv := Interval{Low: 0, High: 1}
	if k > 0 {
		iv.Low = distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1)}.Quantile(a)
	}
	if k < n {
		iv.High = distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(1 - a)
	}
	return iv
}

// OddsRatio is the odds ratio b/c of the discordant pairs of a McNemar
// table, with the conf-level interval from the exact Clopper–Pearson interval
// of p = b/(b+c) transformed by p/(1−p).
//
// JSON cannot carry Inf or NaN, so where b/c is not finite:
//   - c = 0 or b = 0: Value is the Haldane–Anscombe estimate
//     (b+½)/(c+½) (1 when b = c = 0);
//   - b = 0: CI is [0, upper], the exact interval's upper end;
//   - c = 0 (the upper end is unbounded) or b = c = 0: CI is nil.
func OddsRatio(b, c int, conf float64) Effect {
	e := Effect{Name: EffectOddsRatio}
	if b < 0 || c < 0 {
		return Effect{Name: EffectOddsRatio, Value: 1}
	}
	if b == 0 || c == 0 {
		e.Value = (float64(b) + 0.5) / (float64(c) + 0.5)
	} else {
		e.Value = float64(b) / float64(c)
	}
	if c == 0 {
		return e
	}
	p := ClopperPearson(b, b+c, conf)
	odds := func(q float64) float64 { return q / (1 - q) }
	e.CI = &Interval{Low: odds(p.Low), High: odds(p.High)}
	return e
}

// MDE is the minimum detectable effect of a two-sided paired t-test: the
// smallest |true mean difference|, in the metric's units, that the test at
// level alpha detects with the given power on n pairs whose differences have
// standard deviation sdDiff. It is statsmodels'
// TTestPower().solve_power(nobs=n, alpha=alpha, power=power,
// alternative="two-sided") (a standardised effect d) times sdDiff, from the
// noncentral t distribution. 0 where undefined (n < 2, sdDiff ≤ 0, alpha or
// power outside (0, 1)).
func MDE(sdDiff float64, n int, alpha, power float64) float64 {
	if n < 2 || !(sdDiff > 0) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1) {
		return 0
	}
	d := powerEffect(n, alpha, power)
	if !(d > 0) || math.IsInf(d, 0) {
		return 0
	}
	return d * sdDiff
}

// powerEffect solves ttestPower(d, n, alpha) = power for d > 0 (power
// rises with d); 0 if power is at or below alpha, where d = 0 already
// has it.
func powerEffect(n int, alpha, power float64) float64 {
	crit := tCrit(n, alpha)
	if powerAt(0, n, crit) >= power {
		return 0
	}
	// Start from the normal approximation and widen until bracketed.
	z := distuv.UnitNormal
	hi := 2 * (z.Quantile(1-alpha/2) + z.Quantile(power)) / math.Sqrt(float64(n))
	for powerAt(hi, n, crit) < power {
		hi *= 2
		if hi > 1e6 {
			return 0
		}
	}
	// Illinois (modified regula falsi) on g(d) = power(d) − target: keeps a
	// bracket like bisection, converges superlinearly (a dozen or so power
	// evaluations rather than fifty).
	lo, hi2 := 0.0, hi
	glo, ghi := powerAt(lo, n, crit)-power, powerAt(hi2, n, crit)-power
	side := 0
	for range 100 {
		x := (lo*ghi - hi2*glo) / (ghi - glo)
		if !(x > lo && x < hi2) {
			x = (lo + hi2) / 2
		}
		gx := powerAt(x, n, crit) - power
		if gx == 0 || hi2-lo <= 4e-16*hi2 {
			return x
		}
		if gx < 0 {
			lo, glo = x, gx
			if side == -1 {
				ghi /= 2
			}
			side = -1
		} else {
			hi2, ghi = x, gx
			if side == 1 {
				glo /= 2
			}
			side = 1
		}
		if math.Abs(gx) < 1e-15 {
			return x
		}
	}
	return (lo + hi2) / 2
}

// ttestPower is the power of the two-sided one-sample (paired) t-test at
// level alpha with n observations and standardised effect d, as statsmodels'
// ttest_power: P(T > t_{1−α/2}) + P(T < −t_{1−α/2}) for T noncentral t with
// n−1 degrees of freedom and noncentrality d√n.
func ttestPower(d float64, n int, alpha float64) float64 {
	return powerAt(d, n, tCrit(n, alpha))
}

// tCrit is the two-sided critical value t_{1−α/2} with n−1 degrees of freedom.
func tCrit(n int, alpha float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(1 - alpha/2)
}

// powerAt is ttestPower given the critical value.
func powerAt(d float64, n int, crit float64) float64 {
	df := float64(n - 1)
	nc := d * math.Sqrt(float64(n))
	return nctTail(crit, df, nc, true) + nctTail(-crit, df, nc, false)
}

// nctTail is P(T > t) (upper) or P(T ≤ t) for the noncentral t with df
// degrees of freedom and noncentrality nc. T = (Z+nc)/S with S = √(V/df),
// V ~ χ²(df), so P(T ≤ t) = E[Φ(t·S − nc)]: a smooth one-dimensional integral
// over the density of S, taken here by composite Simpson over ±14 standard
// deviations of S (S has mean ≈ 1 and sd ≈ 1/√(2df)), extrapolated; it
// agrees with scipy's nct (boost) to about 1e-12.
func nctTail(t, df, nc float64, upper bool) float64 {
	sd := 1 / math.Sqrt(2*df)
	lo := math.Max(0, 1-14*sd)
	hi := 1 + 14*sd + 1
	if df >= 30 {
		hi = 1 + 14*sd
	}
	lg, _ := math.Lgamma(df / 2)
	logC := math.Ln2 + df/2*math.Log(df/2) - lg
	dens := func(s float64) float64 {
		if s <= 0 {
			if df == 1 {
				return math.Exp(logC)
			}
			return 0
		}
		return math.Exp(logC + (df-1)*math.Log(s) - df*s*s/2)
	}
	f := func(s float64) float64 {
		x := t*s - nc
		var phi float64
		if upper {
			phi = 0.5 * math.Erfc(x/math.Sqrt2) // Φ(−x)
		} else {
			phi = 0.5 * math.Erfc(-x/math.Sqrt2) // Φ(x)
		}
		return phi * dens(s)
	}
	// Simpson on 2m panels and on the m panels of every other point,
	// extrapolated (Boole's rule): error O(h⁶), which matters for small df,
	// where Φ(t·s − nc) turns over within 1/t.
	// Panels, a multiple of 4: small df needs many (Φ(t·s − nc) turns within
	// 1/t ≈ 0.1 of a wide density); from df = 30 on 1,000 reach the same 1e-12.
	panels := 4000
	if df >= 30 {
		panels = 1000
	}
	h := (hi - lo) / float64(panels)
	ends := f(lo) + f(hi)
	var odd, mid2, mid4 float64 // odd i; i ≡ 2 (mod 4); i ≡ 0 (mod 4), interior
	for i := 1; i < panels; i++ {
		v := f(lo + float64(i)*h)
		switch {
		case i%2 == 1:
			odd += v
		case i%4 == 2:
			mid2 += v
		default:
			mid4 += v
		}
	}
	fine := h / 3 * (ends + 4*odd + 2*(mid2+mid4))
	coarse := 2 * h / 3 * (ends + 4*mid2 + 2*mid4)
	return fine + (fine-coarse)/15
}
