#!/usr/bin/env python3
"""PyTorch CPU baseline for `pairwise bench --dpo`: one full DPO training step on a random-weight decoder.

The decoder is bench/torch_engine.py's (same shapes, same random init), with LoRA (r=16, alpha=32 by default) on all
seven projections as extra trainable tensors, PEFT's init: A Kaiming-uniform (U(-1/sqrt(in), 1/sqrt(in))), B zeros
(autograd still computes every gradient; B = 0 changes no cost). One step, fp32:
  policy forward on the 2 x pairs sequences (chosen then rejected; a pair's two sequences share the prompt) with
  autograd; reference forward under torch.no_grad() with the adapters off; sequence log-probs over the completion
  tokens (full logits, log_softmax, gather, mask: the usual TRL way); sigmoid DPO loss (beta 0.1); backward;
  torch.optim.AdamW step; zero_grad.
Every step gets fresh random token ids (the Java side needs that to defeat its reference cache; here it changes
nothing). Prints one JSON line with the keys of the Java side. Run with Debian's python3-torch:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/torch_dpo.py --shape small
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_engine import SHAPES, Decoder  # noqa: E402

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class LoraDecoder(Decoder):
    """torch_engine's Decoder with a LoRA pair on each of the seven projections of every layer."""

    def __init__(self, s, r, alpha, seed=42):
        super().__init__(s)
        C, H, KV, D, I = s["hidden"], s["heads"], s["kv"], s["head_dim"], s["inter"]
        dims = dict(q_proj=(C, H * D), k_proj=(C, KV * D), v_proj=(C, KV * D), o_proj=(H * D, C),
                    gate_proj=(C, I), up_proj=(C, I), down_proj=(I, C))
        g = torch.Generator().manual_seed(seed)
        self.scaling = alpha / r
        self.lora = []
        for _ in range(s["layers"]):
            layer = {}
            for p in PROJECTIONS:
                n_in, n_out = dims[p]
                bound = 1 / math.sqrt(n_in)
                a = ((torch.rand(r, n_in, generator=g) * 2 - 1) * bound).requires_grad_()
                b = torch.zeros(n_out, r).requires_grad_()
                layer[p] = (a, b)
            self.lora.append(layer)

    def parameters(self):
        return [t for layer in self.lora for ab in layer.values() for t in ab]

    def lin(self, h, w, b, lora):
        y = F.linear(h, w, b)
        if lora is not None:
            a, bb = lora
            y = y + F.linear(F.linear(h, a), bb) * self.scaling
        return y

    def forward_lora(self, ids, adapters):
        s = self.s
        B, T = ids.shape
        H, KV, D = s["heads"], s["kv"], s["head_dim"]
        x = self.embed[ids]
        pos = torch.arange(T)
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        for i, L in enumerate(self.layers):
            lo = (lambda p: self.lora[i][p]) if adapters else (lambda p: None)
            h = self.rms(x, L["n1"])
            q = self.lin(h, L["wq"], L["bq"], lo("q_proj")).view(B, T, H, D).transpose(1, 2)
            k = self.lin(h, L["wk"], L["bk"], lo("k_proj")).view(B, T, KV, D).transpose(1, 2)
            v = self.lin(h, L["wv"], L["bv"], lo("v_proj")).view(B, T, KV, D).transpose(1, 2)
            q, k = self.rope(q, pos), self.rope(k, pos)
            k = k[:, :, None].expand(B, KV, H // KV, T, D).reshape(B, H, T, D)
            v = v[:, :, None].expand(B, KV, H // KV, T, D).reshape(B, H, T, D)
            att = ((q @ k.transpose(-1, -2)) / (D ** 0.5)).masked_fill(mask, float("-inf"))
            a = torch.softmax(att, -1) @ v
            x = x + self.lin(a.transpose(1, 2).reshape(B, T, H * D), L["wo"], None, lo("o_proj"))
            h = self.rms(x, L["n2"])
            gate = self.lin(h, L["wg"], None, lo("gate_proj"))
            up = self.lin(h, L["wu"], None, lo("up_proj"))
            x = x + self.lin(F.silu(gate) * up, L["wd"], None, lo("down_proj"))
        return F.linear(self.rms(x, self.norm), self.embed)


def sequence_logps(logits, ids, prompt_len):
    """Sum of next-token log-probs over the completion tokens (positions prompt_len-1 .. T-2 predict them)."""
    lp = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    mask = torch.zeros_like(lp)
    mask[:, prompt_len - 1:] = 1
    return (lp * mask).sum(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="small", choices=SHAPES)
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--prompt-length", type=int, default=128)
    ap.add_argument("--completion-length", type=int, default=128)
    ap.add_argument("--lora-r", type=int, default=16)
    ap.add_argument("--lora-alpha", type=float, default=32)
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    s = SHAPES[a.shape]
    m = LoraDecoder(s, a.lora_r, a.lora_alpha)
    opt = torch.optim.AdamW(m.parameters(), lr=5e-6, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    g = torch.Generator().manual_seed(7)
    P, Tc, B = a.prompt_length, a.completion_length, a.pairs

    def batch():
        prompt = torch.randint(0, s["vocab"], (B, P), generator=g)
        chosen = torch.cat([prompt, torch.randint(0, s["vocab"], (B, Tc), generator=g)], 1)
        rejected = torch.cat([prompt, torch.randint(0, s["vocab"], (B, Tc), generator=g)], 1)
        return torch.cat([chosen, rejected], 0)  # chosen first, then rejected, as DpoStep orders them

    def step(ids):
        t0 = time.perf_counter()
        with torch.no_grad():
            ref = sequence_logps(m.forward_lora(ids, adapters=False), ids, P)
        t1 = time.perf_counter()
        pol = sequence_logps(m.forward_lora(ids, adapters=True), ids, P)
        z = (pol[:B] - ref[:B]) - (pol[B:] - ref[B:])
        loss = -F.logsigmoid(a.beta * z).mean()
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)  # transformers' Trainer clips (max_grad_norm 1.0)
        opt.step()
        opt.zero_grad()
        t4 = time.perf_counter()
        return dict(total=t4 - t0, ref=t1 - t0, fwd=t2 - t1, bwd=t3 - t2, opt=t4 - t3, loss=loss.item())

    for _ in range(a.warmup):
        step(batch())
    runs = [step(batch()) for _ in range(a.repeats)]
    best = min(runs, key=lambda r: r["total"])
    times = [r["total"] for r in runs]
    print(json.dumps(dict(
        engine="pytorch-" + torch.__version__, shape=a.shape, dtype="F32", gradient_checkpointing=False,
        threads=a.threads, pairs=B, sequences=2 * B, prompt_length=P, completion_length=Tc, lora_r=a.lora_r,
        repeats=a.repeats, step_s_best=best["total"], step_s_mean=sum(times) / len(times), step_times_s=times,
        tokens_per_s=2 * B * (P + Tc) / best["total"], loss=runs[-1]["loss"], peak_heap_mb=None, live_heap_mb=None,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        reference_forward_s=best["ref"], policy_forward_s=best["fwd"], optimizer_s=best["opt"],
        policy_backward_s=best["bwd"])))


if __name__ == "__main__":
    main()
