#!/usr/bin/env python3
"""Differential fixture for judge.ParseScore / ParseChoice in ModeFastChat.

Re-expresses, with Python's own re and ast, how FastChat's
fastchat/llm_judge/common.py (lm-sys/FastChat@0e6d3e4b) reads a judgment:
run_judge_single searches one_score_pattern, then one_score_pattern_backup,
and ast.literal_eval's the group (-1 when nothing matches); run_judge_pair
checks "[[A]]", "[[B]]", "[[C]]" in that order ("error" otherwise).

Regenerate (Python 3.8+; the output does not depend on the version):
    python3 internal/judge/testdata/fastchat_parse_gen.py > internal/judge/testdata/fastchat_parse_expected.jsonl
"""
import ast
import json
import re

ONE_SCORE = re.compile(r"\[\[(\d+\.?\d*)\]\]")
ONE_SCORE_BACKUP = re.compile(r"\[(\d+\.?\d*)\]")

CASES = [
    "Rating: [[8]]",
    "Rating: [[8.5]]",
    "[[3]] then [[9]]",
    "See [1]. Rating: [[7]]",
    "Rating: [6]",
    "As in [2], fine. Rating: 9/10",
    "[[8.]]",
    "[[11]]",
    "[[0]]",
    "[[00]]",
    "[[08]]",
    "[[08.5]]",
    "[[007]]",
    "[[10.0]]",
    "[[\uff18]] then [[8]]",
    "Rating: [[\u0668]]",
    "[\u0663]",
    "I would rate this 8 out of 10.",
    "Rating: 8/10",
    "[RESULT] 4",
    '{"score": 8}',
    "Rating: [[ 8 ]]",
    "Rating: [[-1]]",
    "Rating: [[rating]]",
    "",
    "$ERROR$",
    "[[8.5.3]]",
    "[[8.5.3]] [4]",
    "[[1,2]] [[5]]",
    "[[[9]]]",
    "[ [7] ]",
    "Rating: [[\u200b10]] [[4]]",
    "Assistant A is better. [[A]]",
    "[[B]]",
    "Both equal. [[C]]",
    "Verdict [[B]]. (Not [[A]].)",
    "[[C]] no wait [[B]]",
    "[[a]]",
    "[[ B ]]",
    "[A]",
    "[RESULT] A",
    "[[A]][[B]][[C]]",
    "[[\u200bA]] [[B]]",
]


def score(judgment):
    match = ONE_SCORE.search(judgment)
    if not match:
        match = ONE_SCORE_BACKUP.search(judgment)
    if not match:
        return {"score": -1}
    try:
        return {"score": float(ast.literal_eval(match.groups()[0]))}
    except SyntaxError:
        return {"raises": "SyntaxError", "match": match.group(0)}


def choice(judgment):
    if "[[A]]" in judgment:
        return "A"
    if "[[B]]" in judgment:
        return "B"
    if "[[C]]" in judgment:
        return "tie"
    return "error"


for text in CASES:
    row = {"text": text}
    row.update(score(text))
    row["winner"] = choice(text)
    print(json.dumps(row, ensure_ascii=True, sort_keys=True))
