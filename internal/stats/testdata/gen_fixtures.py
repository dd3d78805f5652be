#!/usr/bin/python3
"""Reference values for internal/stats, from scipy 1.10 and statsmodels (Debian 12's python3-scipy,
python3-statsmodels).

Regenerate (from the repository root):

    apt-get install -y python3-scipy python3-statsmodels
    /usr/bin/python3 internal/stats/testdata/gen_fixtures.py > internal/stats/testdata/fixtures.json

The inputs are drawn from a fixed numpy seed, so the output is the same on every run with the same
library versions. reference_test.go reads fixtures.json.
"""
import itertools
import json
import sys
import warnings

import numpy as np
import scipy
import statsmodels
from scipy import stats
from scipy.stats._resampling import _bca_interval
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.power import TTestPower
from statsmodels.stats.proportion import proportion_confint

warnings.simplefilter("ignore")
rng = np.random.default_rng(20261206)
out = {"versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__}}


def fl(a):
    return [float(x) for x in a]


# McNemar, exact: small and large b, c; b = c; no discordant pairs; one side zero.
out["mcnemar"] = []
for b, c in [(0, 0), (1, 0), (0, 1), (3, 3), (5, 1), (2, 9), (7, 0), (10, 25), (40, 60),
             (100, 130), (500, 620), (2000, 2100), (5000, 5000), (30, 1)]:
    p = mcnemar([[11, b], [c, 13]], exact=True).pvalue
    out["mcnemar"].append({"b": b, "c": c, "p": float(p)})

# Wilcoxon signed-rank with scipy's defaults.
wil = []
def wcase(name, d):
    d = np.asarray(d, dtype=float)
    res = stats.wilcoxon(d)
    exact = len(d) <= 50 and not np.any(d == 0)
    wil.append({"name": name, "d": fl(d), "stat": float(res.statistic), "p": float(res.pvalue), "exact": bool(exact)})

wcase("normal n=10", rng.normal(0.3, 1, 10))
wcase("normal n=30", rng.normal(0.2, 1, 30))
wcase("normal n=50 (largest exact)", rng.normal(0.1, 1, 50))
wcase("normal n=51 (smallest normal)", rng.normal(0.1, 1, 51))
wcase("normal n=200", rng.normal(-0.1, 1, 200))
wcase("all positive n=8", [0.5, 1.5, 2.0, 0.1, 0.7, 3.0, 1.1, 0.2])
wcase("all negative n=6", [-0.5, -1.5, -2.0, -0.1, -0.7, -3.0])
wcase("ties, no zeros, n=20 (exact, R+ truncated)", np.round(rng.normal(0.2, 1, 20), 0) + 0.5)
wcase("ties n=12", [1, -1, 2, 2, -2, 3, 3, 3, -1, 4, 1, 2])
wcase("zeros n=15 (normal)", [0, 1, -2, 0, 3, 4, -1, 2, 5, 0, 6, 1, 2, -3, 7])
wcase("ties and zeros n=80", np.round(rng.normal(0.3, 1.5, 80), 0))
wcase("F1 deltas n=300", np.round(rng.beta(2, 3, 300) - rng.beta(2, 3.3, 300), 2))
wcase("centre n=4", [1, -2, -3, 4])
wcase("single", [2.5])
out["wilcoxon"] = wil

# Paired t-test.
tt = []
for name, a, b in [
    ("normal n=5", rng.normal(0, 1, 5), rng.normal(0.5, 1, 5)),
    ("normal n=40", rng.normal(0, 1, 40), rng.normal(0.2, 1, 40)),
    ("binary n=300", rng.integers(0, 2, 300), rng.integers(0, 2, 300)),
    ("large t n=1000", rng.normal(0, 1, 1000), rng.normal(0.3, 1, 1000) + 0),
]:
    a = np.asarray(a, dtype=float); b = np.asarray(b, dtype=float)
    res = stats.ttest_rel(b, a)
    tt.append({"name": name, "d": fl(b - a), "t": float(res.statistic), "p": float(res.pvalue)})
out["ttest_rel"] = tt

# Exact sign-flip permutation p, brute force in integers (values are multiples of 1/1000).
sf = []
def sfcase(name, milli):
    m = np.asarray(milli, dtype=np.int64)
    nz = m[m != 0]
    obs = abs(int(nz.sum()))
    count = 0
    k = len(nz)
    # all 2^k sign patterns, in blocks
    signs_lo = np.array(list(itertools.product([1, -1], repeat=min(k, 10))), dtype=np.int64)
    lo = nz[:min(k, 10)]
    hi = nz[min(k, 10):]
    s_lo = signs_lo @ lo
    for sg in itertools.product([1, -1], repeat=len(hi)):
        s = s_lo + int(np.dot(sg, hi)) if len(hi) else s_lo
        count += int(np.sum(np.abs(s) >= obs))
    sf.append({"name": name, "d": [int(x) / 1000 for x in m], "count": count, "patterns": 2 ** k})

sfcase("n=5", [100, 200, 300, -50, 400])
sfcase("ties n=10", [100, 100, -100, 200, 200, 300, -300, 100, 400, 100])
sfcase("zeros n=12", [0, 150, 250, 0, -350, 450, 100, 0, 200, 300, -100, 50])
sfcase("tenths n=16", [100, 200, 300, -600, 100, 200, -300, 400, 500, -100, 200, 300, 100, -200, 700, 100])
sfcase("n=20", list(rng.integers(-500, 900, 20)))
sfcase("symmetric n=8", [100, -100, 200, -200, 300, -300, 400, -400])
out["signflip"] = sf

# BCa interval, given the replicates: scipy's own _bca_interval on the data and np.mean (so its
# jackknife too), then np.percentile of the same replicates.
bca = []
for name, d, conf in [
    ("skewed n=40", rng.exponential(1.0, 40) - 0.8, 0.95),
    ("F1 n=60", np.round(rng.beta(1.5, 4, 60) - rng.beta(2, 4, 60), 3), 0.95),
    ("normal n=25 conf .9", rng.normal(0.1, 1, 25), 0.90),
]:
    B = 2000
    idx = rng.integers(0, len(d), (B, len(d)))
    reps = d[idx].mean(axis=1)
    alpha = (1 - conf) / 2
    a1, a2, a_hat = _bca_interval((d,), np.mean, axis=-1, alpha=alpha, theta_hat_b=reps[None, :] if False else reps, batch=None)
    low = np.percentile(reps, float(np.squeeze(a1)) * 100)
    high = np.percentile(reps, float(np.squeeze(a2)) * 100)
    bca.append({"name": name, "d": fl(d), "reps": fl(reps), "conf": conf, "point": float(np.mean(d)),
                "a_hat": float(np.squeeze(a_hat)), "alpha1": float(np.squeeze(a1)), "alpha2": float(np.squeeze(a2)),
                "low": float(low), "high": float(high)})
out["bca"] = bca

# Odds ratio of the discordant pairs with the Clopper-Pearson interval transformed p/(1-p).
orc = []
for b, c in [(5, 1), (10, 25), (1, 9), (0, 7), (300, 280), (3, 3), (60, 40)]:
    lo, hi = proportion_confint(b, b + c, alpha=0.05, method="beta")
    orc.append({"b": b, "c": c, "p_low": float(lo), "p_high": float(hi),
                "or_low": float(lo / (1 - lo)), "or_high": float(hi / (1 - hi))})
out["odds_ratio"] = orc

# Minimum detectable standardised effect of the two-sided paired t-test.
mde = []
for n, alpha, power in [(3, 0.05, 0.8), (5, 0.05, 0.8), (10, 0.05, 0.8), (30, 0.05, 0.8), (100, 0.05, 0.8),
                        (1000, 0.05, 0.8), (100000, 0.05, 0.8), (50, 0.01, 0.9)]:
    d = TTestPower().solve_power(nobs=n, alpha=alpha, power=power, alternative="two-sided")
    mde.append({"n": n, "alpha": alpha, "power": power, "effect": float(np.squeeze(d)),
                "power_at_effect": float(TTestPower().power(effect_size=float(np.squeeze(d)), nobs=n, alpha=alpha))})
out["mde"] = mde

# The power function itself at fixed effects: solve_power stops its root search early (its own
# power at its answer is off by up to ~5e-6), so the noncentral t is checked here at 1e-9.
pw = []
for n, alpha, d in [(2, 0.05, 1.5), (3, 0.05, 3.2), (5, 0.05, 1.0), (10, 0.05, 0.9), (30, 0.05, 0.5), (100, 0.05, 0.3),
                    (1000, 0.05, 0.08), (100000, 0.05, 0.009), (50, 0.01, 0.56), (20, 0.05, 0.05)]:
    pw.append({"n": n, "alpha": alpha, "effect": d, "power": float(TTestPower().power(effect_size=d, nobs=n, alpha=alpha))})
out["power"] = pw

json.dump(out, sys.stdout, indent=1, sort_keys=True)
sys.stdout.write("\n")
