"""Reference LSH bandings for TestOptimalLSH.

For each (threshold, num_perm) it searches b = 1..num_perm, r = 1..num_perm//b and keeps the
first strict minimum of 0.5*FP + 0.5*FN, where FP integrates 1-(1-s^r)^b over [0, threshold]
and FN integrates (1-s^r)^b over [threshold, 1], using scipy.integrate.quad (the integrator
datasketch's MinHashLSH uses when scipy is installed).

Run: /usr/bin/python3 testdata/lsh_params.py > testdata/lsh_params.json
Generated with Debian bookworm /usr/bin/python3 (3.11) and python3-scipy 1.10.1.
"""
import json
from scipy.integrate import quad


def best(threshold, num_perm, wfp=0.5, wfn=0.5):
    err_min, opt = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp, _ = quad(lambda s: 1 - (1 - s ** r) ** b, 0.0, threshold)
            fn, _ = quad(lambda s: (1 - s ** r) ** b, threshold, 1.0)
            e = wfp * fp + wfn * fn
            if e < err_min:
                err_min, opt = e, (b, r)
    return opt, err_min


cases = []
for num_perm in (16, 64, 128, 256):
    for threshold in (0.5, 0.7, 0.8, 0.9, 0.95):
        (b, r), e = best(threshold, num_perm)
        cases.append({"threshold": threshold, "num_perm": num_perm, "bands": b, "rows": r, "error": e})
print(json.dumps(cases, indent=1))
