"""Generate reference.jsonl: scikit-learn 1.2.1 outputs the parity file lacks.

calibration_curve (uniform and quantile bins), confusion_matrix (with and
without labels), roc_curve (drop_intermediate=False), log_loss, brier and
roc_auc on seeded data. Made with Debian 12 python3-sklearn 1.2.1+dfsg-1,
python3-numpy 1.24.2, python3-scipy 1.10.1:

    /usr/bin/python3 gen_reference.py > reference.jsonl
"""
import json

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn import metrics

assert sklearn.__version__ == "1.2.1", sklearn.__version__

rng = np.random.default_rng(20261123)


def emit(**kw):
    print(json.dumps(kw, sort_keys=True))


# Calibration: probabilities with ties on bin edges and repeated values.
y = rng.integers(0, 2, 300)
p = np.clip(0.35 * y + rng.uniform(0, 0.65, 300), 0, 1).round(2)
p[:6] = [0.0, 0.1, 0.2, 0.30000000000000004, 0.5, 1.0]
for strategy in ("uniform", "quantile"):
    for n_bins in (3, 5, 10):
        pt, pp = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
        emit(id=f"calibration-{strategy}-{n_bins}", kind="calibration", y_true=y.tolist(), y_prob=p.tolist(),
             n_bins=n_bins, strategy=strategy, prob_true=pt.tolist(), prob_pred=pp.tolist())

# String labels with pos_label.
ys = np.array(["no", "yes"])[y[:40]]
pt, pp = calibration_curve(ys, p[:40], n_bins=4, pos_label="yes")
emit(id="calibration-strings", kind="calibration", y_true=ys.tolist(), y_prob=p[:40].tolist(), n_bins=4,
     strategy="uniform", pos_label="yes", prob_true=pt.tolist(), prob_pred=pp.tolist())

# Confusion matrices.
t = rng.integers(0, 4, 50)
q = rng.integers(0, 5, 50)
emit(id="confusion-5class", kind="confusion", y_true=t.tolist(), y_pred=q.tolist(),
     matrix=metrics.confusion_matrix(t, q).tolist())
emit(id="confusion-labels", kind="confusion", y_true=t.tolist(), y_pred=q.tolist(), labels=[3, 0, 9],
     matrix=metrics.confusion_matrix(t, q, labels=[3, 0, 9]).tolist())

# ROC curve points and AUC with many ties.
yb = rng.integers(0, 2, 500)
s = (0.3 * yb + rng.uniform(0, 1, 500)).round(1)
fpr, tpr, thr = metrics.roc_curve(yb, s, drop_intermediate=False)
emit(id="roc-curve-ties", kind="roc_curve", y_true=yb.tolist(), y_score=s.tolist(), fpr=fpr.tolist(),
     tpr=tpr.tolist(), thresholds=thr[1:].tolist(), roc_auc=metrics.roc_auc_score(yb, s),
     average_precision=metrics.average_precision_score(yb, s),
     partial_auc_0_2=metrics.roc_auc_score(yb, s, max_fpr=0.2))
