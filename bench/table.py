#!/usr/bin/env python3
"""Reads bench JSON lines (pairwise and pytorch) on stdin; prints a markdown table with ratios to PyTorch."""
import json
import sys

rows = [json.loads(line) for line in sys.stdin if line.strip().startswith("{")]
base = {r["shape"]: r for r in rows if r["engine"].startswith("pytorch")}
print("| shape | engine | weights | prefill tok/s (B x T) | vs torch | decode tok/s | vs torch |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    b = base.get(r["shape"])
    pr = r["prefill_tokens_per_s"] / b["prefill_tokens_per_s"] if b else float("nan")
    dr = r["decode_tokens_per_s"] / b["decode_tokens_per_s"] if b else float("nan")
    prefill = "%.0f (%d x %d)" % (r["prefill_tokens_per_s"], r["prefill_batch"], r["prefill_length"])
    print("| %s | %s | %s | %s | %.2f | %.1f | %.2f |"
          % (r["shape"], r["engine"], r["dtype"], prefill, pr, r["decode_tokens_per_s"], dr))
