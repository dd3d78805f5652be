#!/usr/bin/env python3
"""Independent reference for dataset fingerprints and derived ids.

Reads real files from shared/data with Python's own json/csv/gzip modules and
writes fingerprints.json, which dataset_test.go compares against. Canonical
form as docs/formats.md defines it: sorted keys, compact, non-ASCII kept,
integral numbers as integers, other numbers in shortest round-trip form
written the ECMAScript way (what Go's encoding/json does).

Run from this directory:  python3 fingerprint_reference.py ../../../../shared/data
Generated with Python 3 (the version is recorded in the output file).
"""
import csv, gzip, hashlib, io, json, sys
from decimal import Decimal

FILES = [
    "benchmarks/gsm8k/test_first300.jsonl",
    "mtbench/question.jsonl",
    "curves/llamafactory_qwen2.5-7b-medical.trainer_log.jsonl",
    "benchmarks/humaneval/HumanEval.jsonl.gz",
    "benchmarks/truthfulqa/v1/TruthfulQA.csv",
    "benchmarks/truthfulqa/v1/mc_task.json",
    "alpacaeval/weighted_alpaca_eval_gpt4_turbo_leaderboard.csv",
    "alpacaeval/annotations/gpt-3.5-turbo-1106_concise.json",
    "prometheus/vicuna_eval.json",
]


def num(f):
    if isinstance(f, bool) or isinstance(f, int):
        return str(int(f)).lower() if isinstance(f, bool) else str(f)
    if f == int(f) and abs(f) < 2**53:
        return str(int(f))
    r = repr(f)
    if 1e-6 <= abs(f) < 1e21:
        s = format(Decimal(r), "f")
        return s
    mant, exp = r.split("e")
    return mant + "e" + ("-" if exp.startswith("-") else "+") + exp.lstrip("+-").lstrip("0")


def enc(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return num(v)
    if isinstance(v, str):
        s = json.dumps(v, ensure_ascii=False)
        return s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if isinstance(v, list):
        return "[" + ",".join(enc(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(enc(k) + ":" + enc(v[k]) for k in sorted(v)) + "}"
    raise TypeError(type(v))


def rows(path):
    raw = open(path, "rb").read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
        path = path[:-3]
    text = raw.decode("utf-8-sig")
    if path.endswith(".jsonl"):
        return [json.loads(l) for l in text.splitlines() if l.strip()]
    if path.endswith(".json"):
        return json.loads(text)
    if path.endswith(".csv"):
        r = csv.reader(io.StringIO(text, newline=""))
        header = next(r)
        return [dict(zip(header, rec)) for rec in r]
    raise ValueError(path)


def main(root):
    out = {"python": sys.version.split()[0], "files": {}}
    for rel in FILES:
        rs = rows(root + "/" + rel)
        h = hashlib.sha256()
        ids, seen = [], {}
        for r in rs:
            c = enc(r).encode("utf-8")
            h.update(c + b"\n")
            i = hashlib.sha256(c).hexdigest()[:12]
            seen[i] = seen.get(i, 0) + 1
            ids.append(i if seen[i] == 1 else "%s-%d" % (i, seen[i]))
        out["files"][rel] = {"rows": len(rs), "fingerprint": "sha256:" + h.hexdigest(), "first_ids": ids[:3]}
    json.dump(out, open("fingerprints.json", "w"), indent=1, sort_keys=True)
    print(json.dumps(out, indent=1))


main(sys.argv[1])
