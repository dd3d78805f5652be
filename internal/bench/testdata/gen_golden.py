# Reference renderings of the built-in benchmarks' first items, written
# independently of the Go code: its own readers of the original file formats
# and the real Python pieces lm-evaluation-harness relies on (jinja2 with
# StrictUndefined and keep_trailing_newline, random.Random(1234).sample,
# ast.literal_eval, PyYAML), following lm_eval/api/task.py fewshot_context
# and lm_eval/api/samplers.py, lm_eval/tasks/hellaswag/utils.py,
# truthfulqa/utils.py (mc2: leading true answers) and
# winogrande/preprocess_winogrande.py (partial scoring).
# Run from internal/bench: python3 testdata/gen_golden.py
import ast, csv, gzip, json, os, random, re
import yaml
from jinja2 import BaseLoader, Environment, StrictUndefined

HERE = os.path.dirname(os.path.abspath(__file__))
EMB = os.path.join(HERE, "..", "..", "benchdata", "data")
ORIG = os.path.join(HERE, "original")
TASKS = os.path.join(HERE, "..", "tasks")
env = Environment(loader=BaseLoader, undefined=StrictUndefined, keep_trailing_newline=True)

def hs_pre(t):
    t = t.strip().replace(" [title]", ". ")
    t = re.sub("\\[.*?\\]", "", t)
    return t.replace("  ", " ")

def hs_process(docs):
    return [dict(d, query=hs_pre(d["activity_label"] + ": " + d["ctx_a"] + " " + d["ctx_b"].capitalize()),
                 choices=[hs_pre(e) for e in d["endings"]], gold=int(d["label"])) for d in docs]

def load_cfg(path):
    class L(yaml.SafeLoader): pass
    L.add_constructor("!function", lambda l, n: {"utils.process_docs": hs_process}[l.construct_scalar(n)])
    cfg = yaml.load(open(path), Loader=L)
    if "include" in cfg:
        base = load_cfg(os.path.join(os.path.dirname(path), cfg.pop("include")))
        base.update(cfg)
        cfg = base
    return cfg

def jsonl(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt") as f:
        return [json.loads(l) for l in f if l.strip()]

# --- readers of the original formats (and of the stored derived cuts) ---
def mmlu(root, subject, split):
    rows = list(csv.reader(open(os.path.join(root, "mmlu", "data", split, f"{subject}_{split}.csv"), newline="")))
    return [{"question": r[0], "subject": subject, "choices": r[1:5], "answer": "ABCD".index(r[5])} for r in rows]

def arc(path):
    out = []
    for i, d in enumerate(jsonl(path)):
        if "query" in d:
            labels = [chr(65 + j) for j in range(len(d["choices"]))]
            out.append({"question": d["query"][len("Question: "):] if d["query"].startswith("Question: ") else d["query"],
                        "choices": {"text": d["choices"], "label": labels}, "answerKey": labels[d["gold"]]})
        else:
            q = d["question"]
            out.append({"question": q["stem"], "choices": {"text": [c["text"] for c in q["choices"]],
                        "label": [c["label"] for c in q["choices"]]}, "answerKey": d["answerKey"]})
    return out

def hellaswag_txt(path):
    lines = open(path).read().rstrip("\n").split("\n")
    out = []
    for i in range(0, len(lines), 6):
        label, ctx = lines[i].split(": ", 1)
        out.append({"activity_label": label, "ctx_a": ctx, "ctx_b": "", "endings": lines[i + 2:i + 6], "label": lines[i + 1]})
    return out

def truthfulqa(path):
    out = []
    for d in json.load(open(path)):
        t = lambda m: {"choices": list(m.keys()), "labels": list(m.values())}
        out.append({"question": d["question"], "mc1_targets": t(d["mc1_targets"]), "mc2_targets": t(d["mc2_targets"])})
    return out

def piqa(root):
    labels = open(os.path.join(root, "piqa", "valid-labels.lst")).read().split()
    return [dict(goal=d["goal"], sol1=d["sol1"], sol2=d["sol2"], label=int(l))
            for d, l in zip(jsonl(os.path.join(root, "piqa", "valid.jsonl")), labels)]

# --- lm-eval's prompt assembly ---
def render(cfg, eval_docs, pool, n, limit):
    if cfg.get("process_docs"):
        eval_docs = cfg["process_docs"](eval_docs)
        pool = cfg["process_docs"](pool) if pool else pool
    features = list(eval_docs[0].keys())
    has_choice = cfg.get("doc_to_choice") is not None
    rnd = random.Random(1234)
    tdelim, fdelim = cfg.get("target_delimiter", " "), cfg.get("fewshot_delimiter", "\n\n")
    fs_cfg = cfg.get("fewshot_config") or {}

    def field(doc, f, kind):
        if isinstance(f, (int, list)):
            return f
        if f in features:
            return doc[f]
        s = env.from_string(f).render(**doc)
        if kind == "choice":
            return ast.literal_eval(s)
        if s.isdigit() and has_choice:
            return ast.literal_eval(s)
        return s

    out = []
    for i, doc in enumerate(eval_docs[:limit]):
        desc = cfg.get("description", "")
        ctx = env.from_string(desc).render(**doc) if desc else ""
        shots = []
        if n > 0:
            picked = pool[:n] if fs_cfg.get("sampler") == "first_n" else rnd.sample(pool, n)
            for fs in picked:
                q = field(fs, cfg["doc_to_text"], "text")
                c = field(fs, cfg["doc_to_choice"], "choice") if has_choice else None
                a = field(fs, cfg["doc_to_target"], "target")
                ans = c[a] if (c and isinstance(a, int)) else a
                ctx += q + tdelim + ans + fdelim
                shots.append(pool.index(fs))
        ctx += field(doc, cfg["doc_to_text"], "text")
        rec = {"task": cfg["task"], "doc": i, "context": ctx, "fewshot": shots}
        tgt = field(doc, cfg.get("doc_to_target"), "target")
        if cfg["output_type"] == "multiple_choice":
            ch = [str(x) for x in field(doc, cfg["doc_to_choice"], "choice")]
            rec.update(choices=ch, continuations=[tdelim + x for x in ch], gold=tgt if isinstance(tgt, int) else ch.index(tgt))
            if cfg["task"] == "truthfulqa_mc2":
                labels = doc["mc2_targets"]["labels"]
                rec["golds"] = list(range(labels.index(0)))
        else:
            rec["targets"] = [str(tgt)]
        out.append(rec)
    return out

def task(family, name):
    return load_cfg(os.path.join(TASKS, family, name + ".yaml"))

def mmlu_cfg(subject):
    cfg = load_cfg(os.path.join(TASKS, "mmlu", "_default_template_yaml"))
    cfg.update(task="mmlu_" + subject, description=f"The following are multiple choice questions (with answers) about {subject.replace('_', ' ')}.\n\n")
    return cfg

def winogrande(rows, limit):
    out = []
    for i, d in enumerate(rows[:limit]):
        if "sentence" in d:
            idx = d["sentence"].index("_")
            ctxs = [d["sentence"][:idx] + o for o in (d["option1"], d["option2"])]
            cont, gold = d["sentence"][idx + 1:].strip(), {"1": 0, "2": 1}[d["answer"]]
        else:
            ctxs, cont, gold = d["context_options"], d["continuation"], d["gold"]
        out.append({"task": "winogrande", "doc": i, "contexts": ctxs, "choices": ctxs, "continuations": [" " + cont], "gold": gold})
    return out

CASES = {
    "mmlu": lambda: [x for s in ("abstract_algebra", "anatomy") for x in render(mmlu_cfg(s), mmlu(EMB, s, "test"), mmlu(EMB, s, "dev"), 5, 2)],
    "arc_easy": lambda: render(task("arc", "arc_easy"), arc(os.path.join(EMB, "arc", "arc_easy_test_first300.jsonl")), None, 0, 2),
    "arc_easy_original": lambda: render(task("arc", "arc_easy"), arc(os.path.join(ORIG, "arc", "ARC-Easy-Test.jsonl")), None, 0, 2),
    "arc_challenge": lambda: render(task("arc", "arc_challenge"), arc(os.path.join(EMB, "arc", "arc_challenge_test_first300.jsonl")), None, 0, 2),
    "hellaswag": lambda: render(task("hellaswag", "hellaswag"), hellaswag_txt(os.path.join(EMB, "hellaswag", "hellaswag_val_full_first500.txt")), None, 0, 2),
    "hellaswag_original": lambda: render(task("hellaswag", "hellaswag"), jsonl(os.path.join(ORIG, "hellaswag", "hellaswag_val.jsonl")), None, 0, 2),
    "truthfulqa_mc1": lambda: render(task("truthfulqa", "truthfulqa_mc1"), truthfulqa(os.path.join(EMB, "truthfulqa", "v1", "mc_task.json")), None, 0, 2),
    "truthfulqa_mc2": lambda: render(task("truthfulqa", "truthfulqa_mc2"), truthfulqa(os.path.join(EMB, "truthfulqa", "v1", "mc_task.json")), None, 0, 2),
    "gsm8k_original": lambda: render(task("gsm8k", "gsm8k"), jsonl(os.path.join(ORIG, "gsm8k", "test.jsonl")), jsonl(os.path.join(ORIG, "gsm8k", "train.jsonl")), 5, 2),
    # PIQA doc 2 has an apostrophe in a choice: Python repr quotes it with "…".
    "piqa": lambda: render(task("piqa", "piqa"), piqa(EMB), None, 0, 3),
    "winogrande": lambda: winogrande(jsonl(os.path.join(EMB, "winogrande", "winogrande_dev.jsonl")), 2),
    "winogrande_original": lambda: winogrande(jsonl(os.path.join(ORIG, "winogrande", "dev.jsonl")), 2),
    "humaneval": lambda: [{"task": "humaneval", "doc": i, "context": d["prompt"], "targets": [d["test"] + "\ncheck(" + d["entry_point"] + ")"]}
                          for i, d in enumerate(jsonl(os.path.join(EMB, "humaneval", "HumanEval.jsonl.gz"))[:2])],
}
for name, fn in CASES.items():
    with open(os.path.join(HERE, "golden", name + ".json"), "w") as f:
        json.dump(fn(), f, indent=1, ensure_ascii=False)
        f.write("\n")
