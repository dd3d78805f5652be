#!/usr/bin/python3
"""Trains the two tiny models of examples/live-tiny and writes them as GGUF.

  base.gguf       a ~0.9 M-parameter Llama-architecture model, byte-level, pre-trained
                  on tunecheck's own documentation (docs/*.md and README.md)
  ticket.lora.gguf  a LoRA adapter of it, fine-tuned to route support tickets to one of
                  four labels (task: tickets.jsonl); llama-server loads it with --lora
  checkpoints/checkpoint-N/adapter.lora.gguf
                  the adapter as it stood at fine-tune step N (for `tunecheck watch`)
  reference.json  greedy continuations and their per-token logprobs computed by PyTorch,
                  which the live tests compare with llama-server's (conversion check)

and the task data beside the plan: data/tickets-heldout.jsonl, data/general-heldout.jsonl.

Run from the repository root, with Debian's python3-torch and python3-numpy
(install libopenblas0-pthread too: without it torch's matmul is ~25x slower) and
the gguf writer from the llama.cpp source that scripts/llama-server.sh fetches:

  scripts/llama-server.sh --source /tmp/llama.cpp >/dev/null
  PYTHONPATH=/tmp/llama.cpp/gguf-py /usr/bin/python3 examples/live-tiny/train/train.py

Everything is seeded (SEED below); CI does not retrain, the outputs are committed.

The model is written from scratch here rather than with Hugging Face transformers
(not in Debian) so that its layout is exactly llama.cpp's "llama" architecture:
RMSNorm, rotary embeddings on adjacent pairs (llama.cpp's NORM rope, so no q/k
permutation is needed), SwiGLU feed-forward, untied output. Tokens are the 256
bytes (GPT-2 byte-to-unicode names, no merges) plus <s> and </s>.
"""
import argparse
import glob
import hashlib
import json
import math
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20261207
HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.dirname(HERE)
ROOT = os.path.dirname(os.path.dirname(EXAMPLE))

BOS, EOS = 256, 257
VOCAB = 258
CFG = dict(dim=128, n_layers=4, n_heads=4, ffn=384, ctx_train=192, ctx_max=1024, eps=1e-5, rope_base=10000.0)

CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def encode(text):
    return list(text.encode("utf-8"))


# ---------------------------------------------------------------- model


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class LoRALinear(nn.Module):
    """A bias-free linear layer with an optional LoRA pair: W x + (alpha/r) B A x."""

    def __init__(self, d_in, d_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d_out, d_in) * (1.0 / math.sqrt(d_in)))
        self.lora_a = None
        self.lora_b = None
        self.scale = 0.0

    def add_lora(self, rank, alpha, gen):
        d_out, d_in = self.weight.shape
        self.lora_a = nn.Parameter(torch.randn(rank, d_in, generator=gen) / math.sqrt(d_in))
        self.lora_b = nn.Parameter(torch.zeros(d_out, rank))
        self.scale = alpha / rank

    def forward(self, x):
        y = x @ self.weight.t()
        if self.lora_a is not None:
            y = y + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale
        return y


def rope(x, base):
    # x: (B, H, T, D); rotate adjacent pairs (2i, 2i+1) as llama.cpp's NORM rope does.
    _, _, t, d = x.shape
    inv = base ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)
    ang = torch.arange(t, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = ang.cos(), ang.sin()
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1)
    return out.flatten(-2)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["dim"]
        self.c = c
        self.attn_norm = RMSNorm(d, c["eps"])
        self.q = LoRALinear(d, d)
        self.k = LoRALinear(d, d)
        self.v = LoRALinear(d, d)
        self.o = LoRALinear(d, d)
        self.ffn_norm = RMSNorm(d, c["eps"])
        self.gate = LoRALinear(d, c["ffn"])
        self.up = LoRALinear(d, c["ffn"])
        self.down = LoRALinear(c["ffn"], d)

    def linears(self):
        return dict(attn_q=self.q, attn_k=self.k, attn_v=self.v, attn_output=self.o,
                    ffn_gate=self.gate, ffn_up=self.up, ffn_down=self.down)

    def forward(self, x):
        b, t, d = x.shape
        h = self.c["n_heads"]
        hd = d // h
        n = self.attn_norm(x)
        q = self.q(n).view(b, t, h, hd).transpose(1, 2)
        k = self.k(n).view(b, t, h, hd).transpose(1, 2)
        v = self.v(n).view(b, t, h, hd).transpose(1, 2)
        q, k = rope(q, self.c["rope_base"]), rope(k, self.c["rope_base"])
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.o(y)
        n = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(n)) * self.up(n))


class Tiny(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed = nn.Parameter(torch.randn(VOCAB, c["dim"]) * 0.02)
        self.blocks = nn.ModuleList([Block(c) for _ in range(c["n_layers"])])
        self.norm = RMSNorm(c["dim"], c["eps"])
        self.out = nn.Parameter(torch.randn(VOCAB, c["dim"]) * (1.0 / math.sqrt(c["dim"])))

    def forward(self, idx):
        x = self.embed[idx]
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x) @ self.out.t()


# ---------------------------------------------------------------- data


ASCII = {"\u2014": "--", "\u2013": "-", "\u2192": "->", "\u2190": "<-", "\u2264": "<=", "\u2265": ">=",
         "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u00d7": "x",
         "\u2248": "~", "\u2260": "!=", "\u00b1": "+-", "\u2212": "-", "\u00a0": " "}


def ascii_fold(text):
    """The corpus in ASCII: a byte-level model that never saw a multi-byte character
    never emits half of one (llama-server answers HTTP 500 to invalid UTF-8)."""
    for k, v in ASCII.items():
        text = text.replace(k, v)
    return text.encode("ascii", "ignore").decode()


def corpus():
    """The pre-training text: every docs/*.md and README.md, folded to ASCII and split
    into paragraphs; a paragraph goes to the held-out set when its sha256 starts
    with 0 or 1 (1/8)."""
    files = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")) + [os.path.join(ROOT, "README.md")])
    train, held = [], []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for para in ascii_fold(fh.read()).split("\n\n"):
                para = para.strip()
                if len(para) < 40:
                    continue
                h = hashlib.sha256(para.encode()).hexdigest()
                (held if h[0] in "01" else train).append(para)
    return files, train, held


LABELS = {
    "billing": ["I was charged twice for my plan", "the invoice shows the wrong amount",
                "I need a refund for last month", "my card payment was declined",
                "why did the price go up", "please cancel the extra charge on my bill"],
    "bug": ["the app crashes when I open settings", "export fails with an error",
            "the page is blank after the update", "search returns nothing since yesterday",
            "the upload button does nothing", "I get an exception on startup"],
    "feature": ["please add a dark mode", "it would be great to export to PDF",
                "can you support keyboard shortcuts", "I wish I could share a report",
                "add an option to sort by date", "we would love a calendar view"],
    "account": ["I forgot my password", "I cannot sign in to my account",
                "how do I change my email address", "please delete my account",
                "my username is locked", "the login code never arrives"],
}
OPENERS = ["Hi,", "Hello team,", "Hey,", "Good morning,", "Urgent:", "Quick question:", ""]
CLOSERS = ["Thanks.", "Thank you!", "Regards, Sam", "Please help.", "Cheers", "", "Best, Alex"]


def ticket(rng):
    label = rng.choice(sorted(LABELS))
    body = rng.choice(LABELS[label])
    text = " ".join(s for s in [rng.choice(OPENERS), body + rng.choice([".", "!", "..."]), rng.choice(CLOSERS)] if s)
    return text, label


def ticket_prompt(text):
    return "Ticket: " + text + "\nLabel:"


# ---------------------------------------------------------------- training


def batches(tokens, rng, bs, t):
    while True:
        starts = [rng.randrange(0, len(tokens) - t - 1) for _ in range(bs)]
        x = torch.tensor([tokens[s:s + t] for s in starts])
        y = torch.tensor([tokens[s + 1:s + t + 1] for s in starts])
        yield x, y


def pretrain(model, tokens, steps, log):
    rng = random.Random(SEED)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.05)
    it = batches(tokens, rng, 16, CFG["ctx_train"])
    t0 = time.time()
    for step in range(1, steps + 1):
        lr = 3e-3 * min(1.0, step / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = next(it)
        loss = F.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0 or step == 1:
            log(f"pretrain step {step}/{steps} loss {loss.item():.3f} ({time.time() - t0:.0f} s)")


def ticket_batch(examples, rng, bs):
    seqs, masks = [], []
    for _ in range(bs):
        text, label = rng.choice(examples)
        p, a = encode(ticket_prompt(text)), encode(" " + label) + [EOS]
        seqs.append(p + a)
        masks.append([0] * len(p) + [1] * len(a))
    t = max(len(s) for s in seqs)
    x = torch.zeros(bs, t - 1, dtype=torch.long)
    y = torch.zeros(bs, t - 1, dtype=torch.long)
    w = torch.zeros(bs, t - 1)
    for i, (s, m) in enumerate(zip(seqs, masks)):
        n = len(s) - 1
        x[i, :n] = torch.tensor(s[:-1])
        y[i, :n] = torch.tensor(s[1:])
        w[i, :n] = torch.tensor(m[1:], dtype=torch.float32)
    return x, y, w


def finetune(model, examples, steps, save_at, save, log):
    gen = torch.Generator().manual_seed(SEED)
    params = []
    for blk in model.blocks:
        for lin in blk.linears().values():
            lin.add_lora(8, 16.0, gen)
            params += [lin.lora_a, lin.lora_b]
    for p in model.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=3e-3, weight_decay=0.0)
    rng = random.Random(SEED + 1)
    t0 = time.time()
    for step in range(1, steps + 1):
        x, y, w = ticket_batch(examples, rng, 32)
        logits = model(x)
        loss = (F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1), reduction="none") * w.reshape(-1)).sum() / w.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 25 == 0 or step == 1:
            log(f"finetune step {step}/{steps} loss {loss.item():.3f} ({time.time() - t0:.0f} s)")
        if step in save_at:
            save(step)


# ---------------------------------------------------------------- GGUF


def byte_names():
    """GPT-2's bytes_to_unicode: the printable name of each byte in a byte-level vocabulary."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs))
    return [chr(table[b]) for b in range(256)]


def f32(t):
    return t.detach().to(torch.float32).contiguous().numpy()


def write_base(model, path, gguf):
    c = CFG
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("tunecheck tiny base")
    w.add_context_length(c["ctx_max"])
    w.add_embedding_length(c["dim"])
    w.add_block_count(c["n_layers"])
    w.add_feed_forward_length(c["ffn"])
    w.add_head_count(c["n_heads"])
    w.add_head_count_kv(c["n_heads"])
    w.add_rope_dimension_count(c["dim"] // c["n_heads"])
    w.add_rope_freq_base(c["rope_base"])
    w.add_layer_norm_rms_eps(c["eps"])
    w.add_vocab_size(VOCAB)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(byte_names() + ["<s>", "</s>"])
    w.add_token_types([gguf.TokenType.NORMAL] * 256 + [gguf.TokenType.CONTROL] * 2)
    # One merge of two bytes that never meet in the corpus (two control
    # characters): llama.cpp requires the merges key, and no merge may apply.
    names = byte_names()
    w.add_token_merges([names[1] + " " + names[2]])
    w.add_bos_token_id(BOS)
    w.add_eos_token_id(EOS)
    w.add_add_bos_token(False)
    w.add_add_eos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)
    w.add_tensor("token_embd.weight", f32(model.embed))
    for i, blk in enumerate(model.blocks):
        w.add_tensor(f"blk.{i}.attn_norm.weight", f32(blk.attn_norm.weight))
        for name, lin in blk.linears().items():
            w.add_tensor(f"blk.{i}.{name}.weight", f32(lin.weight))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", f32(blk.ffn_norm.weight))
    w.add_tensor("output_norm.weight", f32(model.norm.weight))
    w.add_tensor("output.weight", f32(model.out))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_lora(model, path, gguf, name):
    w = gguf.GGUFWriter(path, "llama")
    w.add_type(gguf.GGUFType.ADAPTER)
    w.add_name(name)
    w.add_string("adapter.type", "lora")
    w.add_float32("adapter.lora.alpha", 16.0)
    for i, blk in enumerate(model.blocks):
        for lname, lin in blk.linears().items():
            w.add_tensor(f"blk.{i}.{lname}.weight.lora_a", f32(lin.lora_a))
            w.add_tensor(f"blk.{i}.{lname}.weight.lora_b", f32(lin.lora_b))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ---------------------------------------------------------------- reference logprobs


@torch.no_grad()
def greedy(model, prompt, n):
    ids = encode(prompt)
    out = []
    for _ in range(n):
        logp = model(torch.tensor([ids]))[0, -1].log_softmax(-1)
        top = torch.topk(logp, 5)
        tok = int(top.indices[0])
        out.append(dict(id=tok, logprob=float(top.values[0]),
                        top=[dict(id=int(i), logprob=float(v)) for v, i in zip(top.values, top.indices)]))
        if tok == EOS:
            break
        ids.append(tok)
    return out


REF_PROMPTS = ["tunecheck runs the base model and the", "A plan is a YAML file", "Ticket: Hi, I forgot my password. Thanks.\nLabel:"]


@torch.no_grad()
def accuracy(model, examples):
    right = 0
    for text, label in examples:
        toks = greedy(model, ticket_prompt(text), 12)
        got = bytes(t["id"] for t in toks if t["id"] < 256).decode("utf-8", "replace").strip()
        right += got == label
    return right / len(examples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pretrain-steps", type=int, default=450)
    ap.add_argument("--finetune-steps", type=int, default=300)
    ap.add_argument("--out", default=os.path.join(EXAMPLE, "models"))
    ap.add_argument("--random", action="store_true", help="skip training (a random model, to test the export)")
    args = ap.parse_args()
    import gguf  # from the llama.cpp source: PYTHONPATH=.../gguf-py

    torch.manual_seed(SEED)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    os.makedirs(args.out, exist_ok=True)
    data_dir = os.path.join(EXAMPLE, "data")
    os.makedirs(data_dir, exist_ok=True)
    log = lambda s: print(s, file=sys.stderr, flush=True)

    files, train_paras, held_paras = corpus()
    text = "\n\n".join(train_paras)
    tokens = encode(text)
    log(f"corpus: {len(files)} files, {len(train_paras)} training paragraphs ({len(tokens)} bytes), {len(held_paras)} held out")

    rng = random.Random(SEED)
    train_tickets = [ticket(rng) for _ in range(3000)]
    seen = {t for t, _ in train_tickets}
    held_rng = random.Random(SEED + 7)
    held_tickets = []
    while len(held_tickets) < 120:
        t = ticket(held_rng)
        if t[0] not in seen and t[0] not in {h for h, _ in held_tickets}:
            held_tickets.append(t)

    model = Tiny(CFG)
    log(f"parameters: {sum(p.numel() for p in model.parameters())}")
    if not args.random:
        pretrain(model, tokens, args.pretrain_steps, log)
    write_base(model, os.path.join(args.out, "base.gguf"), gguf)
    torch.save(model.state_dict(), os.path.join(args.out, "base.pt"))  # not committed: to re-export without retraining
    ref = dict(seed=SEED, config=CFG, prompts=[])
    for p in REF_PROMPTS:
        ref["prompts"].append(dict(prompt=p, base=greedy(model, p, 24)))
    base_acc = accuracy(model, held_tickets)

    ckpt_dir = os.path.join(args.out, "checkpoints")

    def save(step):
        d = os.path.join(ckpt_dir, f"checkpoint-{step}")
        os.makedirs(d, exist_ok=True)
        write_lora(model, os.path.join(d, "adapter.lora.gguf"), gguf, f"tunecheck tiny ticket LoRA step {step}")
        acc = accuracy(model, held_tickets[:40])
        with open(os.path.join(d, "trainer_state.json"), "w") as fh:
            json.dump(dict(global_step=step, log_history=[dict(step=step, eval_accuracy_first40=acc)]), fh, indent=1)
        log(f"checkpoint {step}: accuracy on 40 held-out tickets {acc:.3f}")

    steps = 0 if args.random else args.finetune_steps
    save_at = {s for s in (50, 100, 200, steps) if 0 < s <= steps}
    gen = torch.Generator().manual_seed(SEED)
    if steps:
        finetune(model, train_tickets, steps, save_at, save, log)
    else:
        for blk in model.blocks:
            for lin in blk.linears().values():
                lin.add_lora(8, 16.0, gen)
                lin.lora_b.data.normal_(0, 0.02, generator=gen)
    write_lora(model, os.path.join(args.out, "ticket.lora.gguf"), gguf, "tunecheck tiny ticket LoRA")
    for entry in ref["prompts"]:
        entry["lora"] = greedy(model, entry["prompt"], 24)
    ft_acc = accuracy(model, held_tickets)
    ref["heldout_ticket_accuracy"] = dict(base=base_acc, lora=ft_acc)
    with open(os.path.join(args.out, "reference.json"), "w") as fh:
        json.dump(ref, fh, indent=1)
        fh.write("\n")
    log(f"held-out ticket accuracy (PyTorch, greedy): base {base_acc:.3f}, fine-tuned {ft_acc:.3f}")

    with open(os.path.join(data_dir, "tickets-heldout.jsonl"), "w") as fh:
        for i, (t, label) in enumerate(held_tickets):
            fh.write(json.dumps(dict(id=f"t{i:03d}", input=ticket_prompt(t), reference=label)) + "\n")
    with open(os.path.join(data_dir, "general-heldout.jsonl"), "w") as fh:
        n = 0
        for p in held_paras:
            b = p.encode()
            if len(b) < 160 or not p.isascii():
                continue
            fh.write(json.dumps(dict(id=f"g{n:03d}", input=p[:96], reference=p[96:160])) + "\n")
            n += 1
            if n == 60:
                break
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    digest = hashlib.sha256(text.encode()).hexdigest()
    with open(os.path.join(args.out, "TRAINING.json"), "w") as fh:
        json.dump(dict(seed=SEED, corpus_commit=commit, corpus_files=[os.path.relpath(f, ROOT) for f in files],
                       corpus_sha256=digest, corpus_bytes=len(tokens), pretrain_steps=0 if args.random else args.pretrain_steps,
                       finetune_steps=steps, torch=torch.__version__, config=CFG, random=args.random), fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
