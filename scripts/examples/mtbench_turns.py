#!/usr/bin/env python3
"""Build examples/mtbench-turns/data/questions.jsonl from FastChat's MT-Bench data.

Takes the question ids of examples/quickstart/data/mtbench_ref30.jsonl (the 30
questions with GPT-4 references) and writes, for each, both user turns from
question.jsonl and GPT-4's second-turn reference from reference_answer/gpt-4.jsonl.
No text is changed. Python 3 standard library only.

    python3 scripts/examples/mtbench_turns.py ../shared/data/mtbench
"""

import json
import os
import sys


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: mtbench_turns.py SHARED_MTBENCH_DIR  (e.g. ../shared/data/mtbench)")
    src = sys.argv[1]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ids = [r["question_id"] for r in read_jsonl(os.path.join(root, "examples/quickstart/data/mtbench_ref30.jsonl"))]
    questions = {r["question_id"]: r for r in read_jsonl(os.path.join(src, "question.jsonl"))}
    refs = {r["question_id"]: r for r in read_jsonl(os.path.join(src, "reference_answer/gpt-4.jsonl"))}

    out = os.path.join(root, "examples/mtbench-turns/data/questions.jsonl")
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        for qid in ids:
            q, ref = questions[qid], refs[qid]
            turns, ref_turns = q["turns"], ref["choices"][0]["turns"]
            if len(turns) != 2 or len(ref_turns) != 2:
                sys.exit(f"question {qid}: want 2 user turns and 2 reference turns, got {len(turns)} and {len(ref_turns)}")
            row = {"question_id": qid, "category": q["category"], "turns": turns, "reference_turn2": ref_turns[1]}
            # Same separators as the quickstart's data files (json.dumps defaults).
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(ids)} rows to {os.path.relpath(out, root)}")


if __name__ == "__main__":
    main()
