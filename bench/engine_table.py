#!/usr/bin/env python3
"""Reads the JSON lines of bench/engine-table.sh on stdin and prints its markdown tables with ratios."""
import json
import sys

# Matrices decode reads per token (every projection and the output matrix; the embedding table only gives one row).
SHAPES = {
    "small": dict(hidden=512, layers=8, heads=8, kv=2, inter=1408, vocab=32000),
    "qwen2.5-0.5b": dict(hidden=896, layers=24, heads=14, kv=2, inter=4864, vocab=151936),
}
BYTES = {"F32": 4.0, "F16": 2.0, "BF16": 2.0, "Q8_0": 34 / 32}


def weight_bytes(shape, dtype):
    s = SHAPES[shape]
    C, hd = s["hidden"], s["hidden"] // s["heads"]
    layer = 2 * C * s["heads"] * hd + 2 * C * s["kv"] * hd + 3 * C * s["inter"]
    return (s["layers"] * layer + s["vocab"] * C) * BYTES[dtype]


def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v


rows = [json.loads(line) for line in sys.stdin if line.strip().startswith("{")]
stream = next((r for r in rows if r["engine"] == "stream"), None)
gguf = [r for r in rows if r["engine"].startswith("llama.cpp") or r.get("model", "random") != "random"]
ours = {(r["shape"], r["dtype"]): r for r in gguf if r["engine"] == "pairwise-cpu"}
llama = {(r["shape"], r["dtype"]): r for r in gguf if r["engine"].startswith("llama.cpp")}

if stream:
    print("\nMemory bandwidth (%d threads, %d MiB, best of runs, GB/s): read %.1f, copy %.1f, scale %.1f, add %.1f, "
          "triad %.1f\n" % (stream["threads"], stream["megabytes"], stream["read_gb_per_s"], stream["copy_gb_per_s"],
                            stream["scale_gb_per_s"], stream["add_gb_per_s"], stream["triad_gb_per_s"]))
read = stream["read_gb_per_s"] if stream else None

print("Decode, greedy, batch 1, 16-token prompt then 32 new tokens, same GGUF file for both engines:\n")
print("| shape | storage | pairwise tok/s | llama.cpp tok/s | pairwise / llama.cpp | pairwise GB/s of weights "
      "| of read bandwidth | peak RSS MiB pairwise / llama.cpp |")
print("|---|---|---|---|---|---|---|---|")
for key in sorted(set(ours) | set(llama), key=lambda k: (k[0] != "small", k[1])):
    o, l = ours.get(key), llama.get(key)
    od = o["decode_tokens_per_s"] if o else None
    ld = l["decode_tokens_per_s"] if l else None
    gbs = od * weight_bytes(*key) / 1e9 if od else None
    print("| %s | %s | %s | %s | %s | %s | %s | %s / %s |" % (
        key[0], key[1], fmt(od), fmt(ld), fmt(od / ld if od and ld else None, "%.2f"), fmt(gbs),
        fmt(gbs / read if gbs and read else None, "%.2f"), fmt(o and o.get("peak_rss_mb"), "%.0f"),
        fmt(l and l.get("peak_rss_mb"), "%.0f")))

print("\nPrompt processing on the same GGUF files (pairwise: sequence log-probs through the fused kernel; llama.cpp: "
      "evaluating the prompt), batch x length tokens:\n")
print("| shape | storage | pairwise tok/s | llama.cpp tok/s | pairwise / llama.cpp |")
print("|---|---|---|---|---|")
for key in sorted(set(ours) | set(llama), key=lambda k: (k[0] != "small", k[1])):
    o, l = ours.get(key), llama.get(key)
    op = o["prefill_tokens_per_s"] if o else None
    lp = l["prefill_tokens_per_s"] if l else None
    print("| %s | %s | %s | %s | %s |" % (key[0], key[1], fmt(op, "%.0f"), fmt(lp, "%.0f"),
                                           fmt(op / lp if op and lp else None, "%.2f")))

torch = [r for r in rows if r["engine"].startswith("pytorch") or (r["engine"] == "pairwise-cpu"
                                                                   and r.get("model", "random") == "random")]
if torch:
    base = {r["shape"]: r for r in torch if r["engine"].startswith("pytorch")}
    print("\nAgainst PyTorch (random weights of the shape, Qwen2's q/k/v biases and tied embeddings at 0.5B; prefill: "
          "sequence log-probs of batch x length tokens; decode as above):\n")
    print("| shape | engine | weights | prefill tok/s | vs torch | llama.cpp prompt tok/s (F32 GGUF) | decode tok/s "
          "| vs torch | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in torch:
        b = base.get(r["shape"])
        l = llama.get((r["shape"], "F32"))
        print("| %s | %s | %s | %.0f | %s | %s | %.1f | %s | %s |" % (
            r["shape"], r["engine"], r["dtype"], r["prefill_tokens_per_s"],
            fmt(r["prefill_tokens_per_s"] / b["prefill_tokens_per_s"] if b else None, "%.2f"),
            fmt(l and l["prefill_tokens_per_s"], "%.0f"), r["decode_tokens_per_s"],
            fmt(r["decode_tokens_per_s"] / b["decode_tokens_per_s"] if b else None, "%.2f"),
            fmt(r.get("peak_rss_mb"), "%.0f")))

pairs = [r for r in gguf if r["engine"] == "pairwise-cpu" and "pairs_per_min_batched" in r]
if pairs:
    print("\nPair generation (two sampled responses of one prompt, temperature 1; batched: one decode of two rows per "
          "step, weights read once for both; sequential: two generations):\n")
    print("| shape | storage | response tokens | pairs/min batched | pairs/min sequential | batched / sequential |")
    print("|---|---|---|---|---|---|")
    for r in pairs:
        print("| %s | %s | %d | %.1f | %.1f | %.2f |" % (
            r["shape"], r["dtype"], r["pair_tokens"], r["pairs_per_min_batched"], r["pairs_per_min_sequential"],
            r["pairs_per_min_batched"] / r["pairs_per_min_sequential"]))
