#!/usr/bin/env bash
# Load-test benchmarks of issue 6, in one run against one server (a separate JVM on this host, demo model, pool
# pre-filled, trainer paused so DPO steps do not compete for the cores):
#   constant   GET /api/bench/constant (bench_route=true): the framework's own ceiling on this server
#   next-pair  GET /api/pairs/next
#   vote       POST /api/preferences, each acknowledged after its SQLite commit (closed loop, then open loop at
#              VOTE_RATE/s for the p99 without coordinated omission)
#   heap       heap after a full GC before and after a SOAK-second annotate run (fetch, think, vote)
# Best of RUNS runs of SECS seconds each, after a warm-up. The machine is shared: read numbers as approximate.
# Usage: bench/loadtest-bench.sh   (env: RUNS=3 SECS=10 SOAK=600 SOAK_RATE=1000 VOTE_RATE=10000 CONNECTIONS=32
#                                   PIPELINING=8 ANNOTATORS=256 WARMUP=8s)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS=${RUNS:-3} SECS=${SECS:-10} SOAK=${SOAK:-600} SOAK_RATE=${SOAK_RATE:-1000} VOTE_RATE=${VOTE_RATE:-10000}
CONNECTIONS=${CONNECTIONS:-32} PIPELINING=${PIPELINING:-8} ANNOTATORS=${ANNOTATORS:-256} WARMUP=${WARMUP:-8s}
JAR="$ROOT/launcher/target/pairwise.jar"
[ -f "$JAR" ] || (cd "$ROOT" && bin/with-jdk25 ./mvnw -q -B -DskipTests package)
JAVA_HOME=${JAVA_HOME:-$(bash -c '. /dev/null; ls -d /usr/lib/jvm/*25* | head -1')}
JAVA="$JAVA_HOME/bin/java"
JOPTS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC)
OUT=$(mktemp -d /tmp/pairwise-loadtest-bench.XXXXXX)
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOKEN=$(/usr/bin/python3 -c 'import secrets; print(secrets.token_hex(24))')  # serve takes 32 characters at least
URL="http://127.0.0.1:$PORT"

"$JAVA" "${JOPTS[@]}" -jar "$JAR" serve --port "$PORT" --data-dir "$OUT/data" --admin-token "$TOKEN" \
  --bench-route true --pool-size 1024 --pair-views 1000000000 --max-new-tokens 16 \
  --generation-threads 1 --training-threads 1 >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
echo "server pid $SERVER on $URL; results in $OUT" >&2

stat() { curl -sf "$URL/api/stats" || true; }
for _ in $(seq 600); do
  stat | /usr/bin/python3 -c 'import json,sys; p=json.load(sys.stdin)["pool"]; sys.exit(0 if p["ready"]>=p["size"] else 1)' \
    2>/dev/null && break
  sleep 1
done
curl -sf -X POST -H "Authorization: Bearer $TOKEN" "$URL/api/trainer/pause" >/dev/null

lt() { "$JAVA" -XX:+UseParallelGC -jar "$JAR" loadtest --url "$URL" --admin-token "$TOKEN" "$@"; }
# Each run is a new client JVM: --warmup lets its JIT warm up on the same load before measuring.
closed=(--connections "$CONNECTIONS" --pipelining "$PIPELINING" --annotators "$ANNOTATORS" --warmup "$WARMUP")
heap() {  # KiB used after a full GC, young + old
  "$JAVA_HOME/bin/jcmd" "$SERVER" GC.run >/dev/null
  "$JAVA_HOME/bin/jcmd" "$SERVER" GC.heap_info | /usr/bin/python3 -c '
import re,sys; t=sys.stdin.read(); print(sum(int(u) for u in re.findall(r"(?:PSYoungGen|ParOldGen)\s+total \d+K, used (\d+)K", t)))'
}

echo "warm-up ..." >&2
for w in constant next-pair vote; do lt --workload "$w" --duration 5s "${closed[@]}" --no-audit >/dev/null 2>&1; done
for i in $(seq "$RUNS"); do
  for w in constant next-pair vote; do
    echo "run $i: $w" >&2
    lt --workload "$w" --duration "${SECS}s" "${closed[@]}" --report "$OUT/$w-$i.json" >/dev/null 2>"$OUT/$w-$i.err" \
      || echo "  (exit $? — see $OUT/$w-$i.err)" >&2
  done
  echo "run $i: vote at $VOTE_RATE/s (open loop)" >&2
  lt --workload vote --rate "$VOTE_RATE" --duration "${SECS}s" --warmup "$WARMUP" --connections "$CONNECTIONS" \
    --pipelining "$PIPELINING" --annotators "$ANNOTATORS" --report "$OUT/vote-open-$i.json" >/dev/null \
    2>"$OUT/vote-open-$i.err" || echo "  (exit $? — see $OUT/vote-open-$i.err)" >&2
done

HEAP0=$(heap) HEAP1=0
if [ "$SOAK" -gt 0 ]; then
  echo "soak: annotate at $SOAK_RATE votes/s for ${SOAK}s (heap after GC at start: ${HEAP0} KiB) ..." >&2
  lt --workload annotate --rate "$SOAK_RATE" --duration "${SOAK}s" --annotators 4000 --think-time exp:200ms --warmup 5s \
    --connections 64 --report "$OUT/soak.json" --html "$OUT/soak.html" >/dev/null 2>"$OUT/soak.err" \
    || echo "  (exit $? — see $OUT/soak.err)" >&2
  HEAP1=$(heap)
fi

/usr/bin/python3 - "$OUT" "$RUNS" "$HEAP0" "$HEAP1" "$SOAK" "$SOAK_RATE" <<'PY'
import json, os, sys
out, runs, h0, h1, soak, soak_rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
def load(name):
    rs = []
    for i in range(1, runs + 1):
        p = os.path.join(out, f"{name}-{i}.json")
        if os.path.exists(p):
            rs.append(json.load(open(p)))
    return rs
def best(name):
    rs = load(name)
    if not rs:
        return None
    key = lambda r: r["votes"]["per_second"] if r.get("votes") else r["endpoints"][0]["ok_per_second"]
    r = max(rs, key=key)
    e = r["endpoints"][0]
    audit = r.get("audit")
    return dict(ops=key(r), p50=e["latency"]["p50_ms"], p99=e["latency"]["p99_ms"], errors=e["errors"],
                audit=("-" if not audit else "PASS" if audit["passed"] else "FAIL"), runs=len(rs), ep=e["endpoint"],
                model=r["settings"]["load_model"])
rows = [("constant", best("constant")), ("next-pair", best("next-pair")), ("vote", best("vote")),
        ("vote-open", best("vote-open"))]
ceiling = rows[0][1]["ops"] if rows[0][1] else None
print("| workload | endpoint | load | best ops/s | ratio to constant | p50 ms | p99 ms | errors | audit | runs |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name, b in rows:
    if b is None:
        print(f"| {name} | (no result) | | | | | | | | |"); continue
    ratio = f"{b['ops'] / ceiling:.2f}" if ceiling else "-"
    print(f"| {name} | `{b['ep']}` | {b['model']} | {b['ops']:.0f} | {ratio} | {b['p50']:.2f} | {b['p99']:.2f} | {b['errors']} | {b['audit']} | {b['runs']} |")
opens = load("vote-open")
if opens:
    # An open loop offers the same rate every run, so the best run says little: show each run's tail.
    print("\nopen loop, every run (p50 / p99 / p99.9 / max ms): " + "; ".join(
        "{p50_ms:.1f} / {p99_ms:.1f} / {p999_ms:.1f} / {max_ms:.1f}".format(**r["endpoints"][0]["latency"]) for r in opens))
soakp = os.path.join(out, "soak.json")
if os.path.exists(soakp):
    s = json.load(open(soakp))
    print(f"\nsoak: {s['votes']['acknowledged']} votes in {s['elapsed_seconds']:.0f} s ({soak_rate}/s offered, open loop), "
          f"audit {'PASS' if s['audit'] and s['audit']['passed'] else 'FAIL'}; "
          f"server heap after full GC: start {h0/1024:.1f} MiB, end {h1/1024:.1f} MiB")
PY
