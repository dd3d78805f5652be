#!/usr/bin/python3
"""Fixtures for lc_test.go: logistic regressions of fractional and binary
responses fitted by Debian's python3-statsmodels (0.13.5), GLM(Binomial) and
Logit. Regenerate with

    /usr/bin/python3 internal/judge/testdata/lc_gen.py > internal/judge/testdata/lc_fixtures.json
"""
import json
import pathlib

import numpy as np
import statsmodels.api as sm

rng = np.random.default_rng(20261206)
cases = []


def case(name, x, y, binary):
    X = sm.add_constant(np.asarray(x, dtype=float), has_constant="add")
    glm = sm.GLM(y, X, family=sm.families.Binomial()).fit(tol=1e-14, maxiter=200)
    c = dict(name=name, x=X.tolist(), y=[float(v) for v in y],
             glm_params=glm.params.tolist(), glm_bse=glm.bse.tolist(), glm_deviance=float(glm.deviance))
    if binary:
        logit = sm.Logit(y, X).fit(disp=0, method="newton", tol=1e-14, maxiter=200)
        c["logit_params"] = logit.params.tolist()
        c["logit_bse"] = logit.bse.tolist()
    cases.append(c)


# Soft preferences against a tanh length feature, as the LC win rate fits them.
for n, b0, b1 in [(60, -0.5, -2.5), (200, 0.3, -1.0), (805, -1.2, -3.0)]:
    d = rng.normal(0, 700, n)
    t = np.tanh(d / d.std(ddof=1))
    p = 1 / (1 + np.exp(-(b0 + b1 * t)))
    y = np.clip(p + rng.normal(0, 0.15, n), 0, 1)
    # Judge preferences are mostly near 0 or 1.
    y = np.where(rng.random(n) < 0.6, np.round(y), y)
    case(f"soft_tanh_n{n}", t[:, None], y, False)

# Binary responses with two predictors: GLM and Logit must agree with us.
n = 150
x = rng.normal(size=(n, 2))
p = 1 / (1 + np.exp(-(0.4 + 1.1 * x[:, 0] - 0.7 * x[:, 1])))
y = (rng.random(n) < p).astype(float)
case("binary_two_predictors", x, y, True)

# The three AlpacaEval variants (shared/data/alpacaeval, beside the repository):
# the model LCWinRate fits, on the stored preferences, with statsmodels.
alpaca = []
root = pathlib.Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "alpacaeval" / "annotations"
for model in ["gpt-3.5-turbo-1106", "gpt-3.5-turbo-1106_concise", "gpt-3.5-turbo-1106_verbose"]:
    recs = json.load(open(root / f"{model}.json"))
    y = np.array([r["preference"] for r in recs]) - 1
    delta = np.array([len(r["output_1"]) - len(r["output_2"]) for r in recs], dtype=float)
    sd = delta.std(ddof=1)
    X = sm.add_constant(np.tanh(delta / sd))
    glm = sm.GLM(y, X, family=sm.families.Binomial()).fit(tol=1e-14, maxiter=200)
    p0 = 1 / (1 + np.exp(-glm.params[0]))
    alpaca.append(dict(model=model, sd_delta_len=sd, params=glm.params.tolist(), bse=glm.bse.tolist(),
                       length_controlled_winrate=100 * p0, lc_standard_error=100 * p0 * (1 - p0) * glm.bse[0]))

json.dump(dict(generator="lc_gen.py", statsmodels=sm.__version__, cases=cases, alpacaeval=alpaca), __import__("sys").stdout, indent=1)
print()
