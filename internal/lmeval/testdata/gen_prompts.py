# Reference renderings for the fixture tasks, written independently of the Go
# code with the real Python pieces lm-evaluation-harness relies on — jinja2
# (StrictUndefined, keep_trailing_newline), random.Random(seed).sample,
# ast.literal_eval, PyYAML with a !function constructor — following
# lm_eval/api/task.py's fewshot_context/build_qa_turn and
# lm_eval/api/samplers.py. Output: testdata/golden/<task>.json.
# Run from internal/lmeval: python3 testdata/gen_prompts.py
import ast, json, os, random, re, sys
import yaml
from jinja2 import BaseLoader, Environment, StrictUndefined

HERE = os.path.dirname(os.path.abspath(__file__))
env = Environment(loader=BaseLoader, undefined=StrictUndefined, keep_trailing_newline=True)
env.filters["regex_replace"] = lambda s, p, r, count=0: re.sub(p, r, s, count=count)

def hs_pre(text):
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    return text.replace("  ", " ")

def hs_process(docs):
    out = []
    for d in docs:
        n = dict(d)
        n.update({"query": hs_pre(d["activity_label"] + ": " + d["ctx_a"] + " " + d["ctx_b"].capitalize()),
                  "choices": [hs_pre(e) for e in d["endings"]], "gold": int(d["label"])})
        out.append(n)
    return out

HOOKS = {"hellaswag/utils.process_docs": hs_process}

def load(path, seen=()):
    path = os.path.abspath(path)
    assert path not in seen
    d = os.path.basename(os.path.dirname(path))
    class L(yaml.SafeLoader): pass
    L.add_constructor("!function", lambda l, n: HOOKS[d + "/" + l.construct_scalar(n)])
    cfg = yaml.load(open(path), Loader=L)
    if "include" not in cfg:
        return cfg
    inc = cfg.pop("include")
    merged = {}
    for i in inc if isinstance(inc, list) else [inc]:
        sub = load(os.path.join(os.path.dirname(path), i), seen + (path,))
        sub.pop("task_list", None)
        merged.update(sub)
    merged.update(cfg)
    return merged

def rows(cfg, split):
    base = os.path.join(HERE, "data", cfg["dataset_path"])
    if cfg.get("dataset_name"):
        base = os.path.join(base, cfg["dataset_name"])
    docs = [json.loads(l) for l in open(os.path.join(base, split + ".jsonl"))]
    return cfg["process_docs"](docs) if cfg.get("process_docs") else docs

def run(path, limit=None, num_fewshot=None):
    cfg = load(path)
    test, val, train = cfg.get("test_split"), cfg.get("validation_split"), cfg.get("training_split")
    fs_cfg = cfg.get("fewshot_config") or {}
    fs_split = fs_cfg.get("split", cfg.get("fewshot_split"))
    eval_docs = rows(cfg, test if test else val)
    features = list(eval_docs[0].keys())
    has_choice = cfg.get("doc_to_choice") is not None
    n = cfg.get("num_fewshot") or 0 if num_fewshot is None else num_fewshot
    if fs_split is not None:
        pool = rows(cfg, fs_split)
    elif fs_cfg.get("samples") is not None:
        pool = fs_cfg["samples"]
    else:
        pool = rows(cfg, train or val or test)
    rnd = random.Random(1234)
    tdelim, fdelim = cfg.get("target_delimiter", " "), cfg.get("fewshot_delimiter", "\n\n")

    def field(doc, f, kind):
        if isinstance(f, int) or isinstance(f, list):
            return f
        if callable(f):
            return f(doc)
        if f in features:
            return doc[f]
        s = env.from_string(f).render(**doc)
        if kind == "choice":
            return ast.literal_eval(s)
        if s.isdigit() and has_choice:
            return ast.literal_eval(s)
        if kind == "target" and len(s) >= 2 and s[0] == "[" and s[-1] == "]":
            try:
                return ast.literal_eval(s)
            except (SyntaxError, ValueError):
                return s
        return s

    out = []
    for i, doc in enumerate(eval_docs[:limit]):
        desc = cfg.get("description", "")
        ctx = (doc[desc] if desc in doc else env.from_string(desc).render(**doc)) if desc else ""
        shots = []
        if n > 0:
            exclude = fs_split == test
            if fs_cfg.get("sampler", "default") == "first_n":
                p = [x for x in pool if x != doc] if exclude else pool
                picked = p[:n]
            else:
                s = rnd.sample(pool, n + 1 if exclude else n)
                picked = [x for x in s if x != doc][:n] if exclude else s
            for fs in picked:
                q = field(fs, fs_cfg.get("doc_to_text", cfg["doc_to_text"]), "text")
                c = field(fs, cfg["doc_to_choice"], "choice") if has_choice else None
                a = field(fs, fs_cfg.get("doc_to_target", cfg["doc_to_target"]), "target")
                ans = c[a] if (c and isinstance(a, int)) else a[0] if isinstance(a, list) else a
                ctx += q + (tdelim + ans + fdelim if a is not None and a != "" else "")
                shots.append(pool.index(fs))
        ctx += field(doc, cfg["doc_to_text"], "text")
        rec = {"doc": i, "fewshot": shots, "context": ctx}
        tgt = field(doc, cfg.get("doc_to_target"), "target")
        if cfg.get("output_type") == "multiple_choice":
            ch = [str(x) for x in field(doc, cfg["doc_to_choice"], "choice")]
            rec["choices"] = ch
            rec["continuations"] = [tdelim + x for x in ch]
            rec["gold"] = tgt if isinstance(tgt, int) else ch.index(tgt)
        else:
            rec["targets"] = [str(x) for x in tgt] if isinstance(tgt, list) else [str(tgt)]
        out.append(rec)
    return {"task": cfg["task"], "num_fewshot": n, "instances": out}

CASES = [("mmlu/mmlu_anatomy.yaml", 3, 5), ("arc/arc_easy.yaml", 4, 3), ("arc/arc_challenge.yaml", 4, 10),
         ("hellaswag/hellaswag.yaml", 2, 2), ("gsm8k/gsm8k.yaml", 3, None), ("gsm8k/gsm8k-cot.yaml", 2, None)]
os.makedirs(os.path.join(HERE, "golden"), exist_ok=True)
for path, limit, shots in CASES:
    g = run(os.path.join(HERE, "tasks", path), limit, shots)
    g["file"], g["limit"] = path, limit
    with open(os.path.join(HERE, "golden", g["task"] + ".json"), "w") as f:
        json.dump(g, f, indent=1, ensure_ascii=False)
        f.write("\n")
