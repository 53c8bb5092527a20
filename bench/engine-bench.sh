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
  # OPENBLAS_CORETYPE/L2_SIZE are set on these machines for old OpenBLAS builds and slow a current one down.
  results+=("$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$ROOT/bench/torch_engine.py" \
    --shape "$shape" --threads 2 | tail -n1)")
done
printf '%s\n' "${results[@]}" | tee "${BENCH_OUT:-/dev/null}" | /usr/bin/python3 "$ROOT/bench/table.py"
