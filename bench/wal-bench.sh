#!/usr/bin/env bash
# The WAL's size under sustained writes with readers busy, then idle. One server (`pairwise serve`, its own JVM, demo
# model, pool pre-filled, trainer paused), a closed-loop vote load (`pairwise loadtest --workload vote`) for SECS
# seconds while READERS threads poll /api/stats and /api/votes/latest as dashboards do; the -wal and database files
# are sampled every second, through the load and IDLE seconds after it.
# Usage: bench/wal-bench.sh   (env: SECS=60 IDLE=20 READERS=2 CONNECTIONS=32 PIPELINING=8 JAR=launcher/target/pairwise.jar)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECS=${SECS:-60} IDLE=${IDLE:-20} READERS=${READERS:-2} CONNECTIONS=${CONNECTIONS:-32} PIPELINING=${PIPELINING:-8}
JAR=${JAR:-"$ROOT/launcher/target/pairwise.jar"}
[ -f "$JAR" ] || (cd "$ROOT" && bin/with-jdk25 ./mvnw -q -B -o -DskipTests -P '!tornadovm' -pl launcher -am package)
JAVA_HOME=${JAVA_HOME:-$(bash -c 'ls -d /usr/lib/jvm/*25* | head -1')}
JAVA="$JAVA_HOME/bin/java"
OUT=$(mktemp -d /tmp/pairwise-wal-bench.XXXXXX)
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOKEN="bench-admin-$RANDOM$RANDOM$RANDOM"
URL="http://127.0.0.1:$PORT"

"$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -jar "$JAR" serve \
  --port "$PORT" --data-dir "$OUT/data" --admin-token "$TOKEN" --pool-size 1024 --pair-views 1000000000 \
  --max-new-tokens 16 --generation-threads 1 --training-threads 1 >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
echo "server pid $SERVER on $URL; results in $OUT" >&2
for _ in $(seq 600); do
  curl -sf "$URL/api/stats" | /usr/bin/python3 -c 'import json,sys; p=json.load(sys.stdin)["pool"]; sys.exit(0 if p["ready"]>=p["size"] else 1)' \
    2>/dev/null && break
  sleep 1
done
curl -sf -X POST -H "Authorization: Bearer $TOKEN" "$URL/api/trainer/pause" >/dev/null

"$JAVA" -XX:+UseParallelGC -jar "$JAR" loadtest --url "$URL" --admin-token "$TOKEN" --workload vote \
  --duration "${SECS}s" --connections "$CONNECTIONS" --pipelining "$PIPELINING" --annotators 1024 --pairs 1024 --no-audit \
  --report "$OUT/vote.json" >/dev/null 2>"$OUT/vote.err" &
LOAD=$!

/usr/bin/python3 - "$OUT" "$PORT" "$READERS" "$LOAD" "$IDLE" <<'PY'
import http.client, json, os, sys, threading, time
out, port, readers, load, idle = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
wal, db = os.path.join(out, "data", "pairwise.db-wal"), os.path.join(out, "data", "pairwise.db")
size = lambda p: os.path.getsize(p) if os.path.exists(p) else 0
loading = threading.Event(); loading.set()
reads = [0]
def reader():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while loading.is_set():
        for path in ("/api/stats", "/api/votes/latest?limit=50"):
            c.request("GET", path); c.getresponse().read(); reads[0] += 1
threads = [threading.Thread(target=reader, daemon=True) for _ in range(readers)]
for t in threads: t.start()
def alive(pid):  # the load generator is the shell's child, not ours: ask /proc (a zombie has finished)
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
samples, t0 = [], time.time()
while alive(load):
    samples.append(("load", round(time.time() - t0), size(wal), size(db))); time.sleep(1)
loading.clear()
end_of_load = size(wal)
for _ in range(idle):
    samples.append(("idle", round(time.time() - t0), size(wal), size(db))); time.sleep(1)
mib = lambda b: b / 2**20
print("| phase | second | WAL MiB | database MiB |")
print("|---|---|---|---|")
for i, (phase, s, w, d) in enumerate(samples):
    if i % 5 == 0 or i == len(samples) - 1 or (phase == "idle" and samples[i - 1][0] == "load"):
        print(f"| {phase} | {s} | {mib(w):.1f} | {mib(d):.1f} |")
r = json.load(open(os.path.join(out, "vote.json"))) if os.path.exists(os.path.join(out, "vote.json")) else None
lat = r["endpoints"][0]["latency"] if r else {}
print(f"\nvotes: {r['votes']['acknowledged'] if r else '?'} acknowledged, {r['votes']['per_second'] if r else 0:.0f}/s, "
      f"p50 {lat.get('p50_ms', 0):.1f} ms, p99 {lat.get('p99_ms', 0):.1f} ms, max {lat.get('max_ms', 0):.0f} ms; "
      f"{reads[0]} dashboard reads; WAL max {mib(max(s[2] for s in samples)):.1f} MiB, at the end of the load "
      f"{mib(end_of_load):.1f} MiB, after {idle} s idle {mib(size(wal)):.1f} MiB; database {mib(size(db)):.1f} MiB")
PY
