#!/usr/bin/env bash
# The whole engine table in one command: memory bandwidth (STREAM-style, same JVM harness), decode and prompt
# processing against llama.cpp on the same GGUF files (bench/llama-bench.sh), prefill log-probs and decode against
# PyTorch (bench/engine-bench.sh), pair generation; every engine, shape and storage type, with ratios. Prints the date,
# the CPU, the load average before and after (a busy machine moves every figure), then markdown tables.
#   bench/engine-table.sh [small|qwen2.5-0.5b ...]     (both shapes by default; about 30-60 minutes on 2 cores)
#   env: as bench/llama-bench.sh; SKIP_TORCH=1 leaves PyTorch out.
# Needs node/npm, Debian's python3-torch with libopenblas0-openmp (installed with apt-get when missing) and numpy.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
shapes=("${@:-small qwen2.5-0.5b}")
out="$(mktemp -d "${TMPDIR:-/tmp}/engine-table.XXXXXX")"
trap 'rm -rf "$out"' EXIT

if [ -z "${SKIP_TORCH:-}" ] && ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "engine-table: installing python3-torch and libopenblas0-openmp with apt-get" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-openmp >&2
fi
# Build the jar first, so the build does not run inside a measurement.
"$ROOT/bin/pairwise" --version >/dev/null 2>&1 || true

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), $(nproc) cores," \
    "$(grep -o -w -E 'avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/header"

"$ROOT/bin/pairwise" bench --stream --threads "${THREADS:-2}" --repeats 5 2>/dev/null | tail -n1 > "$out/results.jsonl"
"$ROOT/bench/llama-bench.sh" "${shapes[@]}" >> "$out/results.jsonl"
if [ -z "${SKIP_TORCH:-}" ]; then
  BENCH_OUT="$out/torch.jsonl" "$ROOT/bench/engine-bench.sh" "${shapes[@]}" > /dev/null
  cat "$out/torch.jsonl" >> "$out/results.jsonl"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/header"
cat "$out/header"
/usr/bin/python3 "$ROOT/bench/engine_table.py" < "$out/results.jsonl"
if [ -n "${BENCH_OUT:-}" ]; then cp "$out/results.jsonl" "$BENCH_OUT"; fi
