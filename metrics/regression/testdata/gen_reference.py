"""Generate reference.jsonl: regression metrics as scikit-learn and scipy compute them.

Made with Debian 12 packages python3-sklearn 1.2.1+dfsg-1, python3-scipy 1.10.1-2,
python3-numpy 1.24.2 (the versions of shared/data/parity). Run from this folder:

    /usr/bin/python3 gen_reference.py > reference.jsonl
"""
import json
import math
import warnings

import numpy as np
import scipy
import sklearn
from scipy import stats
from sklearn import metrics

assert sklearn.__version__ == "1.2.1", sklearn.__version__
assert scipy.__version__ == "1.10.1", scipy.__version__


def enc(v):
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


rng = np.random.default_rng(20261123)
sets = {
    "small": ([1.5, -2.0, 0.25, 4.0, 10.0], [1.0, -1.5, 0.0, 5.5, 9.0]),
    "two": ([1.0, 3.0], [2.0, 0.5]),
    "ties": ([1, 2, 2, 3, 3, 3, 4, 5, 5, 6], [2, 1, 2, 3, 4, 3, 5, 5, 4, 7]),
    "anti": ([1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]),
    "constant_pred": ([1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0]),
    "zero_truth": ([0.0, 1.0, 2.0, -3.0], [0.5, 1.0, 2.5, -2.0]),
    "likert_ties": (rng.integers(1, 6, 300).tolist(), rng.integers(1, 6, 300).tolist()),
    "normal_1000": (
        rng.normal(10, 3, 1000).round(3).tolist(),
        None,
    ),
}
x = np.array(sets["normal_1000"][0])
sets["normal_1000"] = (x.tolist(), (0.6 * x + rng.normal(0, 2, 1000)).round(2).tolist())

for name, (t, p) in sets.items():
    t = [float(v) for v in t]
    p = [float(v) for v in p]
    tt, pp = np.array(t), np.array(p)
    out = {}
    warns = {}
    for metric, fn in [
        ("mae", lambda: metrics.mean_absolute_error(tt, pp)),
        ("mse", lambda: metrics.mean_squared_error(tt, pp)),
        ("rmse", lambda: metrics.mean_squared_error(tt, pp, squared=False)),
        ("r2", lambda: metrics.r2_score(tt, pp)),
        ("mape", lambda: metrics.mean_absolute_percentage_error(tt, pp)),
        ("pearson", lambda: stats.pearsonr(tt, pp)[0]),
        ("spearman", lambda: stats.spearmanr(tt, pp)[0]),
        ("kendall", lambda: stats.kendalltau(tt, pp)[0]),
    ]:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out[metric] = enc(fn())
            warns[metric] = [f"{x.category.__name__}: {x.message}" for x in w]
    print(json.dumps({"id": name, "y_true": t, "y_pred": p, "expected": out, "warnings": warns}, sort_keys=True))
