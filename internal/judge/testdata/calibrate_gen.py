#!/usr/bin/python3
"""Fixtures for calibrate_test.go and the judge_calibrate script test.
References from Debian's python3-sklearn, python3-scipy and python3-statsmodels.
Run from the repository root (shared/ beside it):

    /usr/bin/python3 internal/judge/testdata/calibrate_gen.py

It writes, beside itself:
- calibrate_hhh_verdicts.jsonl: pairwise verdicts on the first 40 rows of
  Prometheus' hhh_alignment_eval.json by two deliberately simple judges that
  need no model: "longer-response" picks the longer response (a pure length
  bias), "always-A" always picks the first position (a pure position bias).
  Row i shows the human-preferred (chosen) response as A when i is even and
  as B when i is odd, the convention of `tunecheck judge calibrate --prometheus
  hhh_alignment_eval.json`.
- calibrate_scores_judgments.jsonl / calibrate_scores_labels.jsonl: a 1-10
  judge graded twice per item, and two annotators, on 30 synthetic items.
- calibrate_expected.json: the reference figures.
"""
import json
import pathlib

import numpy as np
import scipy.stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

here = pathlib.Path(__file__).resolve().parent
shared = here.parents[2] / ".." / "shared" / "data" / "prometheus"
expected = {}


def response(prompt):
    return prompt.split("###Response to evaluate:\n", 1)[1].split("\n\n###Score Rubrics:", 1)[0]


# 1. HHH: verdicts of two judges on a subset.
hhh = json.load(open(shared / "hhh_alignment_eval.json"))
rows = range(40)
lines, exp = [], {}
for judge in ["longer-response", "always-A"]:
    verdicts, labels = [], []
    for i in rows:
        chosen, rejected = response(hhh[i]["chosen_instruction"]), response(hhh[i]["rejected_instruction"])
        a, b = (chosen, rejected) if i % 2 == 0 else (rejected, chosen)
        if judge == "always-A":
            v = "A"
        else:
            v = "A" if len(a) > len(b) else "B" if len(b) > len(a) else "tie"
        verdicts.append(v)
        labels.append("A" if i % 2 == 0 else "B")
        lines.append(json.dumps({"id": f"hhh-{i}", "judge": judge, "choice": v}))
    v, l = np.array(verdicts), np.array(labels)
    nt = (v != "tie") & (l != "tie")
    exp[judge] = dict(pairs=len(v), agreement=float((v == l).mean()),
                      agreement_without_ties=float((v[nt] == l[nt]).mean()), pairs_without_ties=int(nt.sum()),
                      cohen_kappa=float(cohen_kappa_score(l, v)))
(here / "calibrate_hhh_verdicts.jsonl").write_text("\n".join(lines) + "\n")
expected["hhh"] = exp

# 2. Scores: a judge graded twice, two annotators (the second on half the items).
rng = np.random.default_rng(11)
n = 30
truth = rng.integers(1, 11, n)
j0 = np.clip(truth + rng.integers(-2, 3, n), 1, 10)
j1 = np.clip(j0 + rng.integers(-1, 2, n), 1, 10)
h1 = np.clip(truth + rng.integers(-1, 2, n), 1, 10)
h2 = np.clip(truth + rng.integers(-1, 2, n), 1, 10)
jl = [json.dumps({"id": f"item-{i}", "score": int(s), "judge": "judge-x", "sample": k})
      for k, js in enumerate([j0, j1]) for i, s in enumerate(js)]
(here / "calibrate_scores_judgments.jsonl").write_text("\n".join(jl) + "\n")
ll = [json.dumps({"id": f"item-{i}", "label": int(h1[i]), "annotator": "ann1"}) for i in range(n)]
ll += [json.dumps({"id": f"item-{i}", "label": int(h2[i]), "annotator": "ann2"}) for i in range(0, n, 2)]
(here / "calibrate_scores_labels.jsonl").write_text("\n".join(ll) + "\n")
# Pairs: every label against the judge's sample 0, in label-file order.
hum = np.concatenate([h1, h2[0::2]]).astype(float)
jud = np.concatenate([j0, j0[0::2]]).astype(float)
table, _ = aggregate_raters(np.stack([j0, j1], axis=1))
expected["scores"] = dict(
    pairs=len(hum), agreement=float((hum == jud).mean()),
    cohen_kappa=float(cohen_kappa_score(hum, jud)),
    cohen_kappa_quadratic=float(cohen_kappa_score(hum, jud, weights="quadratic")),
    spearman=float(scipy.stats.spearmanr(hum, jud).correlation),
    kendall_tau_b=float(scipy.stats.kendalltau(hum, jud).correlation),
    mean_abs_diff=float(np.abs(hum - jud).mean()),
    retest_all_agree=int((j0 == j1).sum()),
    retest_fleiss_kappa=float(fleiss_kappa(table, method="fleiss")),
)

# 3. Prometheus test-retest: three GPT-4 samples per item.
for name in ["mt_bench_eval", "vicuna_eval"]:
    d = json.load(open(shared / f"{name}.json"))
    s = np.array([r["gpt4_score"] for r in d])
    table, _ = aggregate_raters(s)
    expected[name] = dict(items=len(d), all_agree=int((s.min(axis=1) == s.max(axis=1)).sum()),
                          fleiss_kappa=float(fleiss_kappa(table, method="fleiss")))

(here / "calibrate_expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
