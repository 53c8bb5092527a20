#!/usr/bin/env bash
# Side-by-side engine benchmark: pairwise (F32 and BF16 weights) against PyTorch CPU fp32 on the same shapes, in one run.
# Needs Debian's python3-torch (apt-get install python3-torch). Usage: bench/engine-bench.sh [small|qwen2.5-0.5b ...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
shapes=("${@:-small qwen2.5-0.5b}")
results=()
for shape in ${shapes[@]}; do
  for dtype in F32 BF16; do
    results+=("$(PAIRWISE_JAVA_OPTS=-Xmx8g "$ROOT/bin/pairwise" bench --shape "$shape" --dtype "$dtype" 2>/dev/null | tail -n1)")
  done
  results+=("$(/usr/bin/python3 "$ROOT/bench/torch_engine.py" --shape "$shape" --threads 2 | tail -n1)")
done
printf '%s\n' "${results[@]}" | /usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
base = {r["shape"]: r for r in rows if r["engine"].startswith("pytorch")}
print(f"| shape | engine | weights | prefill tok/s (B x T) | vs torch | decode tok/s | vs torch |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    b = base.get(r["shape"])
    pr = r["prefill_tokens_per_s"] / b["prefill_tokens_per_s"] if b else float("nan")
    dr = r["decode_tokens_per_s"] / b["decode_tokens_per_s"] if b else float("nan")
    print(f"| {r[\"shape\"]} | {r[\"engine\"]} | {r[\"dtype\"]} | {r[\"prefill_tokens_per_s\"]:.0f} ({r[\"prefill_batch\"]} x {r[\"prefill_length\"]}) | {pr:.2f} | {r[\"decode_tokens_per_s\"]:.1f} | {dr:.2f} |")
'
