#!/usr/bin/python3
"""Fixtures for agree_test.go from Debian's python3-sklearn (cohen_kappa_score),
python3-statsmodels (fleiss_kappa) and python3-scipy (spearmanr, kendalltau).
Regenerate with

    /usr/bin/python3 internal/judge/testdata/agree_gen.py > internal/judge/testdata/agree_fixtures.json
"""
import json
import sys

import numpy as np
import scipy
import scipy.stats
import sklearn
import statsmodels
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

rng = np.random.default_rng(7)


def num(x):
    x = float(x)
    return None if np.isnan(x) else x


cohen = []
# Ordinal scores 1-10 and 1-5, a judge that is right-ish, with ties.
for name, n, k, noise in [("scores_1_10", 80, 10, 1.5), ("scores_1_5", 40, 5, 0.8), ("exact", 12, 5, 0.0)]:
    a = rng.integers(1, k + 1, n)
    b = np.clip(np.round(a + rng.normal(0, noise, n)), 1, k).astype(int) if noise else a.copy()
    cohen.append(dict(name=name, a=a.tolist(), b=b.tolist(),
                      unweighted=num(cohen_kappa_score(a, b)),
                      linear=num(cohen_kappa_score(a, b, weights="linear")),
                      quadratic=num(cohen_kappa_score(a, b, weights="quadratic"))))
# Pairwise verdicts (strings), a label only one rater uses.
a = rng.choice(["A", "B", "tie"], 60, p=[0.45, 0.45, 0.1])
b = np.where(rng.random(60) < 0.7, a, rng.choice(["A", "B", "tie"], 60))
b[0] = "both bad"
cohen.append(dict(name="verdicts", a=a.tolist(), b=b.tolist(), unweighted=num(cohen_kappa_score(a, b))))

fleiss = []
for name, n, k, r in [("3_raters_5_cats", 30, 5, 3), ("6_raters_3_cats", 25, 3, 6)]:
    truth = rng.integers(0, k, n)
    table = np.zeros((n, k), dtype=int)
    for i in range(n):
        for _ in range(r):
            c = truth[i] if rng.random() < 0.6 else rng.integers(0, k)
            table[i, c] += 1
    fleiss.append(dict(name=name, table=table.tolist(), kappa=num(fleiss_kappa(table, method="fleiss"))))

corr = []
for name, n, ties in [("continuous", 50, False), ("tied_scores", 60, True), ("small", 5, True)]:
    if ties:
        a = rng.integers(1, 6, n).astype(float)
        b = np.clip(a + rng.integers(-1, 2, n), 1, 5).astype(float)
    else:
        a = rng.normal(size=n)
        b = a + rng.normal(size=n)
    corr.append(dict(name=name, a=a.tolist(), b=b.tolist(),
                     spearman=num(scipy.stats.spearmanr(a, b).correlation),
                     kendall_tau_b=num(scipy.stats.kendalltau(a, b).correlation)))

json.dump(dict(generator="agree_gen.py", sklearn=sklearn.__version__, statsmodels=statsmodels.__version__,
               scipy=scipy.__version__, cohen=cohen, fleiss=fleiss, correlation=corr), sys.stdout)
print()
