"""Generates the differential fixtures of metrics/text.

Run with Debian 12's system Python (python3-levenshtein 0.12.2,
python3-numpy 1.24.2):

    /usr/bin/python3 metrics/text/testdata/gen_fixtures.py

It writes levenshtein.jsonl (Levenshtein.distance on str, and on token
lists through a private code point per distinct token), quantiles.jsonl
(numpy mean, median and quantile 0.95 with the default linear method) and
pylower.tsv (str.lower of every code point that changes; Python 3.11.2).
"""
import json
import os
import random

import Levenshtein
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

PAIRS = [
    ("", ""), ("", "abc"), ("kitten", "sitting"), ("flaw", "lawn"),
    ("intention", "execution"), ("café", "cafe"), ("e\u0301", "é"),
    ("中文字符", "中文"), ("🙂🙃", "🙃🙂"), ("abc", "abc"),
    ("the cat sat on the mat", "the cat sat on a mat"),
    ("a b c d", "d c b a"), ("İstanbul", "istanbul"),
]


def token_distance(a, b):
    # Map each distinct token to one private-use code point, so that the
    # character distance is the token distance.
    ids = {}
    def enc(s):
        return "".join(chr(0xE000 + ids.setdefault(t, len(ids))) for t in s.split())
    return Levenshtein.distance(enc(a), enc(b))


def main():
    rng = random.Random(7)
    alphabet = "abcde é中\u0301 "
    pairs = list(PAIRS)
    for _ in range(200):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 25)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 25)))
        pairs.append((a, b))
    with open(os.path.join(HERE, "levenshtein.jsonl"), "w", encoding="utf-8") as f:
        for a, b in pairs:
            f.write(json.dumps({"a": a, "b": b, "distance": Levenshtein.distance(a, b),
                                "token_distance": token_distance(a, b)}, ensure_ascii=True) + "\n")
    with open(os.path.join(HERE, "quantiles.jsonl"), "w", encoding="utf-8") as f:
        for n in [1, 2, 3, 5, 7, 10, 20, 101]:
            for _ in range(5):
                v = [round(rng.uniform(0, 100), rng.choice([0, 1, 3])) for _ in range(n)]
                f.write(json.dumps({"values": v, "mean": float(np.mean(v)),
                                    "median": float(np.median(v)),
                                    "p95": float(np.quantile(v, 0.95))}) + "\n")



def pylower():
    """pylower.tsv: every code point whose str.lower() is not itself, as
    hex code point TAB hex code points of the result (Python 3.11, Unicode 14)."""
    with open(os.path.join(HERE, "pylower.tsv"), "w", encoding="ascii") as f:
        for c in range(0x110000):
            if 0xD800 <= c <= 0xDFFF:
                continue
            low = chr(c).lower()
            if low != chr(c):
                f.write("%X\t%s\n" % (c, " ".join("%X" % ord(x) for x in low)))


if __name__ == "__main__":
    main()
    pylower()
