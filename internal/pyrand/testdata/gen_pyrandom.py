# Generates pyrandom.json: CPython random.Random streams the Go pyrand.Random must
# reproduce. Run: python3 testdata/gen_pyrandom.py > testdata/pyrandom.json (from internal/pyrand)
import json, random, sys
cases = []
for seed in [0, 1, 1234, 42, 2**32 + 7, -5]:
    r = random.Random(seed)
    c = {"seed": seed, "random": [r.random() for _ in range(5)], "bits": [r.getrandbits(k) for k in (1, 7, 32, 33, 64)]}
    samples = []
    for n, k in [(10, 3), (5, 5), (100, 6), (1000, 25), (30, 2), (22, 21), (7, 0)]:
        samples.append({"n": n, "k": k, "got": r.sample(range(n), k)})
    c["samples"] = samples
    cases.append(c)
# lm-eval's default sampler: one Random(1234) shared across docs, n+1 draws.
r = random.Random(1234)
cases.append({"seed": 1234, "random": [], "bits": [], "samples": [{"n": 50, "k": 6, "got": r.sample(range(50), 6)} for _ in range(4)]})
json.dump({"python": sys.version.split()[0], "cases": cases}, sys.stdout, indent=1)
print()
