#!/usr/bin/env python3
"""PyTorch CPU baseline for `pairwise bench`: the same decoder shapes, random fp32 weights, the same two measurements.

Prefill: sequence log-probs of batch x length tokens (full logits, log_softmax, gather: the usual PyTorch way).
Decode: greedy, batch 1, a 16-token prompt then N new tokens with a KV cache; prefill-only time subtracted.
Prints one JSON line. Run with Debian's python3-torch: /usr/bin/python3 bench/torch_engine.py --shape small
"""
import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F

SHAPES = {
    "qwen2.5-0.5b": dict(hidden=896, layers=24, heads=14, kv=2, head_dim=64, inter=4864, vocab=151936, bias=True,
                         theta=1e6),
    "small": dict(hidden=512, layers=8, heads=8, kv=2, head_dim=64, inter=1408, vocab=32000, bias=False, theta=1e4),
}


class Decoder:
    def __init__(self, s):
        self.s = s
        g = torch.Generator().manual_seed(1)
        u = lambda *shape: (torch.rand(*shape, generator=g) - 0.5) * 0.1
        C, H, KV, D, I = s["hidden"], s["heads"], s["kv"], s["head_dim"], s["inter"]
        self.embed = u(s["vocab"], C)
        self.layers = []
        for _ in range(s["layers"]):
            self.layers.append(dict(
                n1=u(C) + 1, wq=u(H * D, C), wk=u(KV * D, C), wv=u(KV * D, C), wo=u(C, H * D), n2=u(C) + 1,
                bq=u(H * D) if s["bias"] else None, bk=u(KV * D) if s["bias"] else None,
                bv=u(KV * D) if s["bias"] else None, wg=u(I, C), wu=u(I, C), wd=u(C, I)))
        self.norm = u(C) + 1
        inv = 1.0 / (s["theta"] ** (torch.arange(0, D, 2).float() / D))
        ang = torch.outer(torch.arange(8192).float(), inv)
        self.cos, self.sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)

    @staticmethod
    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w

    def rope(self, x, pos):
        cos, sin = self.cos[pos][None, None], self.sin[pos][None, None]
        half = x.shape[-1] // 2
        rot = torch.cat([-x[..., half:], x[..., :half]], -1)
        return x * cos + rot * sin

    def forward(self, ids, cache=None, pos0=0):
        s = self.s
        B, T = ids.shape
        H, KV, D = s["heads"], s["kv"], s["head_dim"]
        x = self.embed[ids]
        pos = torch.arange(pos0, pos0 + T)
        for i, L in enumerate(self.layers):
            h = self.rms(x, L["n1"])
            q = F.linear(h, L["wq"], L["bq"]).view(B, T, H, D).transpose(1, 2)
            k = F.linear(h, L["wk"], L["bk"]).view(B, T, KV, D).transpose(1, 2)
            v = F.linear(h, L["wv"], L["bv"]).view(B, T, KV, D).transpose(1, 2)
            q, k = self.rope(q, pos), self.rope(k, pos)
            if cache is not None:
                if i in cache:
                    k = torch.cat([cache[i][0], k], 2)
                    v = torch.cat([cache[i][1], v], 2)
                cache[i] = (k, v)
            S = k.shape[2]
            k = k[:, :, None].expand(B, KV, H // KV, S, D).reshape(B, H, S, D)
            v = v[:, :, None].expand(B, KV, H // KV, S, D).reshape(B, H, S, D)
            att = (q @ k.transpose(-1, -2)) / (D ** 0.5)
            if T > 1:
                S = k.shape[2]
                att = att.masked_fill(torch.ones(T, S, dtype=torch.bool).triu(S - T + 1), float("-inf"))
            a = torch.softmax(att, -1) @ v
            x = x + F.linear(a.transpose(1, 2).reshape(B, T, H * D), L["wo"])
            h = self.rms(x, L["n2"])
            x = x + F.linear(F.silu(F.linear(h, L["wg"])) * F.linear(h, L["wu"]), L["wd"])
        return F.linear(self.rms(x, self.norm), self.embed)


def best(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="small", choices=SHAPES)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--decode-tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    m = Decoder(SHAPES[a.shape])
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(0, SHAPES[a.shape]["vocab"], (a.batch, a.length), generator=g)

    @torch.inference_mode()
    def prefill():
        logits = m.forward(ids)
        lp = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
        return lp.sum(-1)

    prompt = torch.randint(0, SHAPES[a.shape]["vocab"], (1, 16), generator=g)

    @torch.inference_mode()
    def generate(n):
        cache = {}
        logits = m.forward(prompt, cache, 0)
        tok = logits[:, -1].argmax(-1, keepdim=True)
        for i in range(n):
            logits = m.forward(tok, cache, 16 + i)
            tok = logits[:, -1].argmax(-1, keepdim=True)

    t_prefill = best(prefill, a.repeats)
    t_prompt = best(lambda: generate(0), a.repeats)
    t_all = best(lambda: generate(a.decode_tokens), a.repeats)
    print(json.dumps(dict(engine="pytorch-" + torch.__version__, shape=a.shape, dtype="F32", threads=a.threads,
                          prefill_batch=a.batch, prefill_length=a.length,
                          prefill_tokens_per_s=a.batch * a.length / t_prefill,
                          decode_tokens_per_s=a.decode_tokens / (t_all - t_prompt),
                          peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))


if __name__ == "__main__":
    main()
