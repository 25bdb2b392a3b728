#!/usr/bin/env python3
"""PyTorch reference for `tinyattn bench`: exactly the model and training step that
crates/tinyattn/src/bench.rs times, in PyTorch eager, printed as JSON.

    python3 -m pip install torch        # from PyPI; the Rust side never needs it
    cargo run --release -- bench --torch python3

`tinyattn bench --torch PYTHON` runs this file with the same sizes, step count and thread
count and prints tinyattn / PyTorch side by side. It can also run alone:

    python3 scripts/torch_bench.py --threads 2 --steps 20 --sizes tiny,small

The model matches tinyattn_model::Transformer with default settings: token + learned position
embeddings, pre-LayerNorm blocks (multi-head attention with biased Q/K/V/O projections, GELU
MLP of width 4 * d_model, residuals), final LayerNorm, linear output layer. The loss is the
cross-entropy of predicting each input token at its own position, AdamW at lr 1e-3 with burn's
AdamWConfig defaults (betas 0.9/0.999, eps 1e-5, weight decay 1e-4), as in bench.rs.
"""

import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Keep in step with SIZES in crates/tinyattn/src/bench.rs.
SIZES = {
    "tiny": dict(vocab=64, d_model=64, heads=4, layers=2, seq=32, batch=64),
    "small": dict(vocab=256, d_model=128, heads=4, layers=4, seq=64, batch=32),
    "medium": dict(vocab=512, d_model=256, heads=8, layers=4, seq=128, batch=16),
}


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.norm_attention = nn.LayerNorm(d, eps=1e-5)
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)
        self.output = nn.Linear(d, d)
        self.norm_mlp = nn.LayerNorm(d, eps=1e-5)
        self.mlp_in = nn.Linear(d, 4 * d)
        self.mlp_out = nn.Linear(4 * d, d)

    def forward(self, x):
        b, s, d = x.shape
        h = self.norm_attention(x)

        def split(t):
            # [batch, seq, d_model] -> [batch, heads, seq, d_head]
            return t.view(b, s, self.heads, d // self.heads).transpose(1, 2)

        context = F.scaled_dot_product_attention(
            split(self.query(h)), split(self.key(h)), split(self.value(h))
        )
        # [batch, heads, seq, d_head] -> [batch, seq, d_model]
        x = x + self.output(context.transpose(1, 2).reshape(b, s, d))
        return x + self.mlp_out(F.gelu(self.mlp_in(self.norm_mlp(x))))


class Transformer(nn.Module):
    def __init__(self, vocab, d_model, heads, layers, seq):
        super().__init__()
        self.tokens = nn.Embedding(vocab, d_model)
        self.positions = nn.Embedding(seq, d_model)
        self.blocks = nn.ModuleList(Block(d_model, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model, eps=1e-5)
        self.lm_head = nn.Linear(d_model, vocab)

    def forward(self, tokens):
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.tokens(tokens) + self.positions(positions)
        for block in self.blocks:
            x = block(x)
        return self.lm_head(self.norm(x))


def throughput(size, steps):
    model = Transformer(size["vocab"], size["d_model"], size["heads"], size["layers"], size["seq"])
    optim = torch.optim.AdamW(
        model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-5, weight_decay=1e-4
    )
    shape = (size["batch"], size["seq"])
    per_step = size["batch"] * size["seq"]

    def train_step():
        tokens = torch.randint(0, size["vocab"], shape)
        logits = model(tokens)
        loss = -F.log_softmax(logits, dim=2).gather(2, tokens.unsqueeze(2)).mean()
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()

    def tokens_per_s(step):
        # Two warm-up calls, as bench.rs does, then `steps` timed ones.
        for _ in range(2):
            step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        return per_step * steps / (time.perf_counter() - start)

    train = tokens_per_s(train_step)
    model.eval()
    with torch.inference_mode():
        fwd = tokens_per_s(lambda: model(torch.randint(0, size["vocab"], shape)).sum().item())
    return train, fwd


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", default="tiny,small,medium")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    names = [n for n in args.sizes.split(",") if n]
    for name in names:
        if name not in SIZES:
            parser.error(f"unknown size {name!r}; the sizes are {', '.join(SIZES)}")
    results = {}
    for name in names:
        train, fwd = throughput(SIZES[name], args.steps)
        results[name] = {"train_tokens_per_s": train, "forward_tokens_per_s": fwd}
    if args.json:
        print(json.dumps({"torch": torch.__version__, "threads": args.threads, "sizes": results}))
    else:
        print(f"torch {torch.__version__}, {args.threads} threads")
        for name, r in results.items():
            print(f"{name:<8} {r['train_tokens_per_s']:>14.0f} {r['forward_tokens_per_s']:>16.0f}")


if __name__ == "__main__":
    main()
