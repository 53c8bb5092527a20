#!/usr/bin/env bash
# Side-by-side DPO training-step benchmark: pairwise (F32 and BF16 base weights, with and without gradient
# checkpointing) against PyTorch CPU fp32 on the same shapes, in one run. Prints a markdown table.
# Needs Debian's python3-torch. Usage: bench/dpo-bench.sh [small|qwen2.5-0.5b ...]
# Env: JAR=/path/to/pairwise.jar runs that jar with $JAVA_HOME/bin/java (default: bin/pairwise, which rebuilds the
# jar when sources are newer); PAIRWISE_JAVA_OPTS (default -Xmx16g); REPEATS (timed steps, default 2, after 1
# warm-up); BENCH_OUT=file keeps the JSON lines.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
shapes=("${@:-small qwen2.5-0.5b}")
REPEATS="${REPEATS:-2}"
JAVA_OPTS="${PAIRWISE_JAVA_OPTS:--Xmx16g}"

pairwise() {
  if [ -n "${JAR:-}" ]; then
    # shellcheck disable=SC2086
    "${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java" --add-modules jdk.incubator.vector \
      --enable-native-access=ALL-UNNAMED -Dai.djl.offline=true -XX:+UseParallelGC $JAVA_OPTS -jar "$JAR" "$@"
  else
    PAIRWISE_JAVA_OPTS="$JAVA_OPTS" "$ROOT/bin/pairwise" "$@"
  fi
}

results=()
for shape in ${shapes[@]}; do
  for dtype in F32 BF16; do
    for ckpt in "" "--gradient-checkpointing"; do
      line="$(pairwise bench --dpo --shape "$shape" --dtype "$dtype" $ckpt --warmup 1 --repeats "$REPEATS" 2>/dev/null \
        | tail -n1)" || line=""
      echo "$line" >&2
      results+=("$line")
    done
  done
  # OPENBLAS_CORETYPE/L2_SIZE are set on these machines for old OpenBLAS builds and slow a current one down.
  line="$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$ROOT/bench/torch_dpo.py" \
    --shape "$shape" --threads 2 --warmup 1 --repeats "$REPEATS" | tail -n1)" || line=""
  echo "$line" >&2
  results+=("$line")
done
printf '%s\n' "${results[@]}" | tee "${BENCH_OUT:-/dev/null}" | /usr/bin/python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip().startswith("{")]
base = {r["shape"]: r for r in rows if r["engine"].startswith("pytorch")}
print("| shape | engine | weights | checkpointing | s/step best (mean) | tokens/s | vs torch | peak RSS | peak heap "
      "| ref fwd / policy fwd / bwd / optim (s) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    b = base.get(r["shape"])
    ratio = b["step_s_best"] / r["step_s_best"] if b else float("nan")
    heap = "%.2f GiB" % (r["peak_heap_mb"] / 1024) if r.get("peak_heap_mb") is not None else "-"
    parts = ["%.2f" % r[k] for k in ("reference_forward_s", "policy_forward_s", "policy_backward_s", "optimizer_s")
             if r.get(k) is not None]
    print("| %s | %s | %s | %s | %.2f (%.2f) | %.0f | %.2f | %.2f GiB | %s | %s |" % (
        r["shape"], r["engine"], r["dtype"], "yes" if r["gradient_checkpointing"] else "no", r["step_s_best"],
        r["step_s_mean"], r["tokens_per_s"], ratio, r["peak_rss_mb"] / 1024, heap, " / ".join(parts) or "-"))
'
