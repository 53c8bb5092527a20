#!/usr/bin/env bash
# Side by side with the real TRL DPOTrainer: `pairwise train` (F32) and TRL 1.13 (fp32, and its default bf16) on the
# same random-weight Hugging Face model directory, the same TRL standard-format JSONL (64 pairs, 128-word prompts,
# 127-word completions: 256 tokens per sequence with EOS) and the same DPOConfig file (beta 0.1, batch 2,
# accumulation 1, learning rate 5e-6, max_length 1024, LoRA r 16 / alpha 32 on the seven projections), 2 threads
# each, one process per run; prints one markdown table (bench/trl_bench.py says how it measures).
# Never part of CI or the product's dependencies: TRL lives in a venv in a scratch folder, built when missing.
#
# Usage: bench/trl-bench.sh [small] [qwen2.5-0.5b]      (default: both)
#        bench/trl-bench.sh --venv-only                  (build the venv, print its python; for bench/trl_fixtures.py)
# Env: TRL_BENCH_DIR  scratch folder: venv V/, model directories, data, runs (default /tmp/pairwise-trl-bench)
#      PYTHON         the interpreter the venv is made from (default python3.11)
#      STEPS_SMALL, STEPS_QWEN  optimizer steps per run (default 10 and 6)
#      RUNS           comma-separated subset of pairwise,trl-fp32,trl-bf16
#      PAIRWISE_JAVA_OPTS (default -Xmx16g); BENCH_OUT=file.json keeps the results
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${TRL_BENCH_DIR:-/tmp/pairwise-trl-bench}"
V="$DIR/V"
mkdir -p "$DIR"

if ! "$V/bin/python" -c "import trl, peft, transformers, datasets, accelerate" 2>/dev/null; then
  echo "trl-bench: building the TRL venv in $V ..." >&2
  "${PYTHON:-python3.11}" -m venv "$V"
  "$V/bin/pip" install "transformers==5.17.0" "peft==0.21.0" "trl==1.13.0" datasets accelerate >&2
fi
if [ "${1:-}" = "--venv-only" ]; then
  echo "$V/bin/python"
  exit 0
fi

shapes=("${@:-small qwen2.5-0.5b}")
args=()
for shape in ${shapes[@]}; do
  case "$shape" in
    small) vocab=32000 steps="${STEPS_SMALL:-10}" ;;
    qwen2.5-0.5b) vocab=151936 steps="${STEPS_QWEN:-6}" ;;
    *) echo "trl-bench: unknown shape '$shape' (small, qwen2.5-0.5b)" >&2; exit 2 ;;
  esac
  # Written once; a later run reuses them.
  if [ ! -f "$DIR/$shape/model.safetensors" ]; then
    echo "trl-bench: writing the $shape model directory ..." >&2
    "$V/bin/python" "$ROOT/bench/trl_models.py" model "$DIR/$shape" --shape "$shape" >&2
  fi
  if [ ! -f "$DIR/pairs-$shape.jsonl" ]; then
    "$V/bin/python" "$ROOT/bench/trl_models.py" data "$DIR/pairs-$shape.jsonl" --vocab "$vocab"
  fi
  args+=(--shape "$shape" --steps "$steps")
done
"$V/bin/python" "$ROOT/bench/trl_bench.py" --dir "$DIR" --python "$V/bin/python" "${args[@]}" \
  --runs "${RUNS:-pairwise,trl-fp32,trl-bf16}" ${BENCH_OUT:+--out "$BENCH_OUT"}
