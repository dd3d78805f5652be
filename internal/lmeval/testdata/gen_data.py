# Builds testdata/data/ — small rows in each dataset's ORIGINAL (Hugging Face)
# schema, laid out as DATA_DIR/<dataset_path>/<dataset_name>/<split>.jsonl —
# from the real samples in ../shared/data/benchmarks (see its README.md).
# ARC's sample is llm-foundry's {query, choices, gold}; it is mapped back to
# {id, question, choices: {text, label}, answerKey} with labels A–D (ids are
# made up: "fixture-<n>"). MMLU's CSV (question, A–D, letter) becomes
# {question, subject, choices, answer: index}. GSM8K is already original.
# The shared test rows are cut into train/validation/test files for the
# fixtures; they are test data for the loader, not a benchmark.
# HellaSwag rows are written by hand (no original-schema sample exists).
# Run from internal/lmeval: python3 testdata/gen_data.py
import csv, json, os
B = os.path.join(os.path.dirname(__file__), "../../../../shared/data/benchmarks")
OUT = os.path.join(os.path.dirname(__file__), "data")

def write(path, rows):
    p = os.path.join(OUT, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

def arc(name, src):
    rows = [json.loads(l) for l in open(os.path.join(B, "arc", src))][:24]
    out = []
    for i, r in enumerate(rows):
        labels = "ABCDE"[: len(r["choices"])]
        out.append({"id": f"fixture-{name}-{i}", "question": r["query"].removeprefix("Question: "),
                    "choices": {"text": r["choices"], "label": list(labels)}, "answerKey": labels[r["gold"]]})
    write(f"allenai/ai2_arc/{name}/test.jsonl", out[:4])
    write(f"allenai/ai2_arc/{name}/validation.jsonl", out[4:8])
    write(f"allenai/ai2_arc/{name}/train.jsonl", out[8:])

arc("ARC-Easy", "arc_easy_test_first300.jsonl")
arc("ARC-Challenge", "arc_challenge_test_first300.jsonl")

def mmlu(split, n):
    rows = list(csv.reader(open(os.path.join(B, f"mmlu/data/{split}/anatomy_{split}.csv"), newline="")))[:n]
    return [{"question": r[0], "subject": "anatomy", "choices": r[1:5], "answer": "ABCD".index(r[5])} for r in rows]

write("cais/mmlu/anatomy/test.jsonl", mmlu("test", 4))
write("cais/mmlu/anatomy/dev.jsonl", mmlu("dev", 5))

g = [json.loads(l) for l in open(os.path.join(B, "gsm8k/test_first300.jsonl"))]
write("openai/gsm8k/main/test.jsonl", g[:3])
write("openai/gsm8k/main/train.jsonl", g[100:112])

hs = [
    {"ind": 4, "activity_label": "Removing ice from car", "ctx_a": "Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles.", "ctx_b": "then", "ctx": "Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles. then", "endings": [", the man adds wax to the windshield and cuts it.", ", a person board a ski lift, while two men supporting the head of the person wearing winter clothes snow as the we girls sled.", ", the man puts on a christmas coat, knitted with netting.", ", the man continues removing the snow on his car."], "source_id": "activitynet~v_-1IBHYS3L-Y", "split": "train", "split_type": "indomain", "label": "3"},
    {"ind": 13, "activity_label": "Baking cookies", "ctx_a": "A female chef in white uniform shows a stack of baking pans in a large kitchen presenting them.", "ctx_b": "The pans", "ctx": "A female chef in white uniform shows a stack of baking pans in a large kitchen presenting them. The pans", "endings": ["contain egg yolks and baking soda.", "are then sprinkled with brown sugar.", "are placed in a strainer on the counter.", "are filled with pastries and loaded into the oven."], "source_id": "activitynet~v_-2dxp-mv2zo", "split": "val", "split_type": "indomain", "label": "3"},
    {"ind": 39, "activity_label": "Home and Garden", "ctx_a": "[header] How to grow tomatoes [title] Pick a sunny spot.", "ctx_b": "tomatoes need at least six hours of sun", "ctx": "[header] How to grow tomatoes [title] Pick a sunny spot. tomatoes need at least six hours of sun", "endings": ["a day. [step] Plant them where nothing shades them.", "[substeps] Water them  at night.", "in the shade [title] Keep them cold.", "and a lot of salt."], "source_id": "wikihow~1234", "split": "val", "split_type": "zeroshot", "label": "0"},
    {"ind": 52, "activity_label": "Playing harmonica", "ctx_a": "A man is seen speaking to the camera while holding a harmonica.", "ctx_b": "he", "ctx": "A man is seen speaking to the camera while holding a harmonica. he", "endings": ["then plays the harmonica while moving his hands.", "puts the harmonica down and walks away.", "throws the harmonica into a lake.", "eats the harmonica."], "source_id": "activitynet~v_abc", "split": "train", "split_type": "indomain", "label": "0"},
    {"ind": 60, "activity_label": "Shaving legs", "ctx_a": "A woman is seen sitting on a tub and rubbing lotion on her legs.", "ctx_b": "she", "ctx": "A woman is seen sitting on a tub and rubbing lotion on her legs. she", "endings": ["then shaves her legs with a razor.", "paints her nails.", "jumps into the tub fully clothed.", "reads a book."], "source_id": "activitynet~v_def", "split": "train", "split_type": "indomain", "label": "0"},
]
write("Rowan/hellaswag/validation.jsonl", [h for h in hs if h["split"] == "val"])
write("Rowan/hellaswag/train.jsonl", [h for h in hs if h["split"] == "train"])
