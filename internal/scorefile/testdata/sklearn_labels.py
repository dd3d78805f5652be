"""Reference values for `tunecheck score` precision/recall/f1 with --labels.

Generated with Debian's python3-sklearn 1.2.1:

    /usr/bin/python3 internal/scorefile/testdata/sklearn_labels.py > internal/scorefile/testdata/sklearn_labels.json

Each case is label rows, the flags as scorefile.Options, and what
precision_recall_fscore_support returns (or the error it raises).
"""
import json
import warnings

import sklearn
from sklearn.metrics import precision_recall_fscore_support

assert sklearn.__version__ == "1.2.1", sklearn.__version__

MULTI = ([0, 1, 2, 0, 1, 2, 0, 2], [0, 2, 1, 0, 0, 2, 1, 2])
BINARY = ([0, 1, 1, 0, 1, 0, 1], [0, 1, 0, 0, 1, 0, 1])
WORDS = (["neg", "pos", "neu", "neg", "pos", "neu", "pos"], ["neg", "neu", "neu", "pos", "pos", "neg", "pos"])

cases = []
def case(name, data, labels, average, zero_division="warn", pos_label=1):
    y_true, y_pred = data
    out = {"name": name, "label": y_true, "pred": y_pred, "labels": labels,
           "average": average or "none", "zero_division": str(zero_division)}
    if pos_label != 1:
        out["pos_label"] = pos_label
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            p, r, f, _ = precision_recall_fscore_support(
                y_true, y_pred, labels=labels, average=average,
                zero_division=zero_division, pos_label=pos_label)
        if average is None:
            out["per_class"] = {"precision": list(map(float, p)), "recall": list(map(float, r)), "f1": list(map(float, f))}
        else:
            out["precision"], out["recall"], out["f1"] = float(p), float(r), float(f)
        out["warns"] = any("ill-defined" in str(x.message) for x in w)
    except ValueError as e:
        out["error"] = str(e)
    cases.append(out)

for avg in ["micro", "macro", "weighted", None]:
    case(f"subset [0, 1] {avg}", MULTI, [0, 1], avg)
    case(f"subset [2] {avg}", MULTI, [2], avg)
    for zd in ["warn", 0, 1]:
        case(f"unseen 3 {avg} zero_division={zd}", MULTI, [0, 1, 2, 3], avg, zd)
        case(f"only unseen [3] {avg} zero_division={zd}", MULTI, [3], avg, zd)
        case(f"subset and unseen [1, 3] {avg} zero_division={zd}", MULTI, [1, 3], avg, zd)
    case(f"words subset {avg}", WORDS, ["pos", "neg"], avg)
    case(f"words unseen {avg}", WORDS, ["neg", "neu", "pos", "other"], avg, 1)
# binary: scikit-learn ignores labels and scores pos_label alone.
case("binary ignores labels [0]", BINARY, [0], "binary")
case("binary ignores labels [0, 1, 2]", BINARY, [0, 1, 2], "binary")
case("binary pos_label 0 ignores labels", BINARY, [1], "binary", pos_label=0)
case("binary needs two classes", MULTI, [0, 1], "binary")
case("binary data, macro over [0]", BINARY, [0], "macro")
case("binary data, micro over [0, 1, 5]", BINARY, [0, 1, 5], "micro", 1)
json.dump({"sklearn": sklearn.__version__, "cases": cases}, __import__("sys").stdout, indent=1)
print()
