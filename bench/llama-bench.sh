#!/usr/bin/env bash
# Side by side with llama.cpp, on the same random-weight GGUF files: pairwise and llama.cpp (node-llama-cpp 3.21.1
# from npm, which ships llama.cpp's prebuilt CPU build) each read the file and time prompt processing (4 x 256 tokens)
# and greedy decode (batch 1, a 16-token prompt, 32 new tokens), 2 threads. Prints one JSON line per engine, shape
# and storage type (F32, F16, BF16, Q8_0); at the 0.5B shape pairwise also times pair generation (PAIR_TOKENS).
# Never part of CI or of the product's dependencies: node-llama-cpp is installed into a scratch folder when missing,
# the GGUF files are written there once (bench/gguf_random.py) and reused.
#   bench/llama-bench.sh [small|qwen2.5-0.5b ...]
#   env: PAIRWISE_BENCH_DIR (scratch, default ~/.cache/pairwise-bench), DTYPES, THREADS, REPEATS, PAIR_TOKENS
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${PAIRWISE_BENCH_DIR:-$HOME/.cache/pairwise-bench}"
DTYPES="${DTYPES:-F32 F16 BF16 Q8_0}"
THREADS="${THREADS:-2}"
REPEATS="${REPEATS:-3}"
PAIR_TOKENS="${PAIR_TOKENS:-64}"
LLAMA_VERSION=3.21.1
shapes=("${@:-small qwen2.5-0.5b}")
mkdir -p "$DIR/gguf" "$DIR/llama"

installed="$(node -p "try { require('$DIR/llama/node_modules/node-llama-cpp/package.json').version } catch (e) { '' }" 2>/dev/null || true)"
if [ "$installed" != "$LLAMA_VERSION" ]; then
  echo "llama-bench: installing node-llama-cpp $LLAMA_VERSION into $DIR/llama" >&2
  (cd "$DIR/llama" && { [ -f package.json ] || echo '{"private": true}' > package.json; } \
    && npm install --no-audit --no-fund --loglevel=error "node-llama-cpp@$LLAMA_VERSION" >&2)
fi
# ES modules resolve packages from the script's own folder, so the runner runs from a copy beside node_modules.
cp "$ROOT/bench/llama_engine.mjs" "$DIR/llama/llama_engine.mjs"
/usr/bin/python3 -c "import numpy" 2>/dev/null || { echo "llama-bench: needs numpy (apt-get install python3-numpy)" >&2; exit 2; }

for shape in ${shapes[@]}; do
  for dtype in $DTYPES; do
    file="$DIR/gguf/$shape-$dtype.gguf"
    if [ ! -s "$file" ]; then
      echo "llama-bench: writing $file" >&2
      /usr/bin/python3 "$ROOT/bench/gguf_random.py" --shape "$shape" --dtype "$dtype" --out "$file"
    fi
    pairs=()
    if [ "$shape" = qwen2.5-0.5b ] && [ "$PAIR_TOKENS" -gt 0 ]; then pairs=(--pair-tokens "$PAIR_TOKENS"); fi
    echo "llama-bench: $shape $dtype: pairwise" >&2
    PAIRWISE_JAVA_OPTS="${PAIRWISE_JAVA_OPTS:--Xmx8g}" "$ROOT/bin/pairwise" bench --model "$file" --shape "$shape" \
      --threads "$THREADS" --repeats "$REPEATS" "${pairs[@]}" 2>/dev/null | tail -n1
    echo "llama-bench: $shape $dtype: llama.cpp" >&2
    REPEATS="$REPEATS" node "$DIR/llama/llama_engine.mjs" "$file" "$shape" "$dtype" "$THREADS" | tail -n1
  done
done
