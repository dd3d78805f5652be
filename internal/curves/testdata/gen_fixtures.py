#!/usr/bin/env python3
"""Writes the small per-format fixtures in testdata/logs/.

Each file follows its framework's documented on-disk format; the curves are
synthetic with a known shape, so the tests can assert the verdict. Made with
Python 3.13 (standard library only). Run from this directory:

    python3 gen_fixtures.py
"""
import csv, json, math, os, random

R = random.Random(20261123)
OUT = "logs"


def w(path, text):
    full = os.path.join(OUT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", newline="") as f:
        f.write(text)


def r4(x):
    return round(x, 4)


# Keras CSVLogger (keras.callbacks.CSVLogger): "epoch" then the sorted
# metric keys, one row per epoch. val_loss bottoms out at epoch 7 and rises
# while loss keeps falling: overfitting since epoch 7.
rows = []
for e in range(20):
    loss = 1.2 * math.exp(-e / 6) + 0.1 + R.gauss(0, 0.005)
    val = 0.55 + 0.004 * (e - 7) ** 2 + (0.006 * (e - 7) if e > 7 else 0) + R.gauss(0, 0.003)
    rows.append([e, r4(0.6 + 0.02 * e), r4(1e-3), r4(loss), r4(0.8 - 0.004 * abs(e - 7)), r4(val)])
with open(os.path.join(OUT, "keras_training.log.csv"), "w", newline="") as f:
    c = csv.writer(f, lineterminator="\n")
    c.writerow(["epoch", "accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"])
    c.writerows(rows)

# PyTorch Lightning CSVLogger metrics.csv: train rows and validation rows are
# separate and sparse (empty cells). Healthy: both losses fall.
lines = ["epoch,step,train_loss_step,train_loss_epoch,val_loss,val_acc"]
step = 0
for e in range(8):
    for i in range(5):
        step += 50
        lines.append(f"{e},{step - 1},{r4(2.0 * math.exp(-step / 900) + 0.3 + R.gauss(0, 0.02))},,,")
    lines.append(f"{e},{step - 1},,,{r4(2.1 * math.exp(-step / 900) + 0.35 + R.gauss(0, 0.004))},{r4(0.5 + 0.05 * e)}")
    lines.append(f"{e},{step - 1},,{r4(2.0 * math.exp(-step / 900) + 0.32)},,")
w("lightning/version_0/metrics.csv", "\n".join(lines) + "\n")

# OpenAI fine-tuning results file (step_metrics.csv): valid_* every 10
# steps, empty otherwise. Noisy: the validation batch loss jumps around a
# slowly falling trend.
lines = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
for s in range(1, 301):
    tl = 1.5 * math.exp(-s / 120) + 0.6 + R.gauss(0, 0.05)
    if s % 10 == 0:
        vl = 1.5 * math.exp(-s / 150) + 0.7 + R.gauss(0, 0.08)
        lines.append(f"{s},{r4(tl)},{r4(0.7 + s / 2000)},{r4(vl)},{r4(0.68 + s / 2500)}")
    else:
        lines.append(f"{s},{r4(tl)},{r4(0.7 + s / 2000)},,")
w("openai_step_metrics.csv", "\n".join(lines) + "\n")

# W&B history export (run.history().to_csv()): _step, _runtime, _timestamp
# and the Trainer's "train/..." and "eval/..." keys. The run was resumed from
# the checkpoint at step 400 after reaching 600 (train/global_step goes back
# while _step continues); after the resume both losses climb: instability.
hdr = ["_step", "_runtime", "_timestamp", "train/loss", "train/learning_rate", "train/epoch", "train/global_step", "eval/loss"]
out = [",".join(hdr)]
k = 0


def hist(gs, loss, ev):
    global k
    out.append(",".join(str(x) for x in [k, k * 3, 1700000000 + k * 3, loss, 2e-5, r4(gs / 400), gs, ev]))
    k += 1


for gs in range(20, 620, 20):
    hist(gs, r4(1.8 - 0.0012 * gs + R.gauss(0, 0.02)), "")
    if gs % 100 == 0:
        hist(gs, "", r4(1.6 - 0.0008 * gs + R.gauss(0, 0.004)))
for gs in range(420, 1020, 20):
    hist(gs, r4(1.3 + 0.0015 * (gs - 400) + R.gauss(0, 0.02)), "")
    if gs % 100 == 0:
        hist(gs, "", r4(1.3 + 0.001 * (gs - 400) + R.gauss(0, 0.004)))
w("wandb_history.csv", "\n".join(out) + "\n")

# W&B chart export ("Export CSV" on a panel): Step, "<run> - <key>" and its
# __MIN/__MAX companions. Only train loss: no eval loss.
lines = ['"Step","run-7 - train/loss","run-7 - train/loss__MIN","run-7 - train/loss__MAX"']
for s in range(10, 510, 10):
    v = r4(2.0 * math.exp(-s / 200) + 0.4 + R.gauss(0, 0.02))
    lines.append(f'"{s}","{v}","{v}","{v}"')
w("wandb_chart_export.csv", "\n".join(lines) + "\n")

# W&B history as JSONL (one history row per line, as run.scan_history()
# yields them). The loss turns to NaN at global step 700 and stays there.
lines = []
for i, gs in enumerate(range(25, 1025, 25)):
    row = {"_step": i, "_runtime": i * 2.5, "train/global_step": gs}
    if gs < 700:
        row["train/loss"] = r4(2.0 - gs / 1000 + R.gauss(0, 0.02))
    else:
        row["train/loss"] = "NaN"
    if gs % 100 == 0:
        row["eval/loss"] = r4(1.9 - gs / 1200) if gs < 700 else "NaN"
    lines.append(json.dumps(row).replace('"NaN"', "NaN"))
w("wandb_history.jsonl", "\n".join(lines) + "\n")

# Generic JSONL with its own names (needs --map step=it,train=tr,eval=va).
lines = []
for it in range(1, 61):
    row = {"it": it, "tr": r4(3 - it / 30 + R.gauss(0, 0.01))}
    if it % 6 == 0:
        row["va"] = r4(3.1 - it / 40)
    lines.append(json.dumps(row))
w("generic.jsonl", "\n".join(lines) + "\n")

# Hugging Face trainer_state.json as Trainer writes it (json.dumps, indent=2),
# with Python's NaN/Infinity tokens: one NaN grad_norm and an Infinity loss
# spike mid-run that training recovers from. Healthy.
hist_ = []
for s in range(10, 410, 10):
    e = {"epoch": r4(s / 400), "grad_norm": 1.0 + R.random(), "learning_rate": 5e-5 * (1 - s / 400), "loss": r4(2.2 - s / 400 + R.gauss(0, 0.02)), "step": s}
    if s == 120:
        e["grad_norm"] = float("nan")
    if s == 130:
        e["loss"] = float("inf")
    hist_.append(e)
    if s % 50 == 0:
        hist_.append({"epoch": r4(s / 400), "eval_loss": r4(2.0 - s / 500), "eval_runtime": 3.2, "eval_samples_per_second": 31.1, "eval_steps_per_second": 3.9, "eval_wer": r4(0.5 - s / 2000), "step": s})
hist_.append({"epoch": 1.0, "step": 400, "total_flos": 1.0e15, "train_loss": 1.7, "train_runtime": 100.0, "train_samples_per_second": 40.0, "train_steps_per_second": 4.0})
state = {"best_metric": None, "best_model_checkpoint": None, "epoch": 1.0, "eval_steps": 50, "global_step": 400, "is_hyper_param_search": False, "is_local_process_zero": True, "is_world_process_zero": True, "log_history": hist_, "logging_steps": 10, "max_steps": 400, "num_train_epochs": 1, "save_steps": 100, "total_flos": 1.0e15, "train_batch_size": 8, "trial_name": None, "trial_params": None}
w("hf_nan/trainer_state.json", json.dumps(state, indent=2, sort_keys=True) + "\n")

# A Trainer output directory: checkpoint-N/trainer_state.json at every save,
# each with the log_history up to N. Eval loss is lowest at step 300, then
# rises as train loss keeps falling: overfitting, best checkpoint-300.
full = []
for s in range(10, 810, 10):
    full.append({"epoch": r4(s / 200), "learning_rate": 1e-4, "loss": r4(1.5 * math.exp(-s / 300) + 0.2 + R.gauss(0, 0.01)), "step": s})
    if s % 100 == 0:
        full.append({"epoch": r4(s / 200), "eval_loss": r4(0.9 + 0.000004 * (s - 300) ** 2 + (0.0004 * (s - 300) if s > 300 else 0)), "step": s})
for n in range(100, 900, 100):
    h = [e for e in full if e["step"] <= n]
    evals = [e for e in h if "eval_loss" in e]
    best = min(evals, key=lambda e: e["eval_loss"])
    st = {"best_metric": best["eval_loss"], "best_model_checkpoint": f"out/checkpoint-{best['step']}", "epoch": r4(n / 200), "global_step": n, "log_history": h, "max_steps": 800, "save_steps": 100}
    w(f"hf_checkpoints/checkpoint-{n}/trainer_state.json", json.dumps(st, indent=2) + "\n")

# LLaMA-Factory trainer_log.jsonl, resumed: lines up to step 300 written
# twice (the resumed process re-logs them), then the job restarts from the
# checkpoint at step 200 and goes on to 500. Healthy.
lines = []


def lf(step, **kv):
    d = {"current_steps": step, "total_steps": 500}
    d.update(kv)
    d.update({"epoch": r4(step / 250), "percentage": round(100 * step / 500, 2), "elapsed_time": "0:01:00", "remaining_time": "0:05:00"})
    lines.append(json.dumps(d))


for s in range(10, 310, 10):
    lf(s, loss=r4(2.0 - s / 400), lr=1e-4)
    if s % 100 == 0:
        lf(s, eval_loss=r4(1.9 - s / 500))
lines.append(lines[-1])
lines.append(lines[-3])
for s in range(210, 510, 10):
    lf(s, loss=r4(1.5 - (s - 200) / 1000), lr=1e-4)
    if s % 100 == 0:
        lf(s, eval_loss=r4(1.5 - (s - 200) / 800))
w("llamafactory_resumed/trainer_log.jsonl", "\n".join(lines) + "\n")

# Too short: a Keras log of three epochs.
w("keras_short.csv", "epoch,loss,val_loss\n0,1.2,1.1\n1,0.9,0.95\n2,0.8,0.93\n")
