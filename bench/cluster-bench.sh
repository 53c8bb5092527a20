#!/usr/bin/env bash
# Votes/s and p99 of POST /api/preferences (each acknowledged after its commit) in one run, for:
#   1 node on SQLite (the embedded default), then 1, 2 and 3 nodes (--cluster) on one PostgreSQL
# on this host: a throwaway PostgreSQL (initdb into a scratch folder, a free loopback port, removed afterwards), the
# demo model, the pools pre-filled, the trainer paused so DPO steps do not compete for the cores. The load test
# spreads its people over the nodes (--url A,B,C) and audits the store through the first. Best of RUNS runs of SECS
# seconds, closed loop. On a 2-core host several nodes measure correctness and overhead, not scale.
# Usage: bench/cluster-bench.sh   (env: RUNS=2 SECS=10 ANNOTATORS=64 CONNECTIONS=32 WARMUP=5s)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS=${RUNS:-2} SECS=${SECS:-10} ANNOTATORS=${ANNOTATORS:-64} CONNECTIONS=${CONNECTIONS:-32} WARMUP=${WARMUP:-5s}
JAR="$ROOT/launcher/target/pairwise.jar"
[ -f "$JAR" ] || (cd "$ROOT" && bin/with-jdk25 ./mvnw -q -B -DskipTests package)
JAVA_HOME=${JAVA_HOME:-$(bash -c 'ls -d /usr/lib/jvm/*25* | head -1')}
JAVA="$JAVA_HOME/bin/java"
JOPTS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx1g)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || { echo "no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)" >&2; exit 2; }
OUT=$(mktemp -d /tmp/pairwise-cluster-bench.XXXXXX)
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TOKEN=$(/usr/bin/python3 -c 'import secrets; print(secrets.token_hex(24))')
PGPORT=$(free_port)
PIDS=()
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  as_pg "$PGBIN/pg_ctl" -D "$OUT/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$OUT/pg"
}
trap cleanup EXIT TERM INT

mkdir -p "$OUT/pg"
[ "$(id -u)" = 0 ] && chown postgres "$OUT" "$OUT/pg"
as_pg "$PGBIN/initdb" -D "$OUT/pg" -U pairwise --auth=trust >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$OUT/pg" -o "-p $PGPORT -k $OUT/pg -c listen_addresses=127.0.0.1" -l "$OUT/pg/log" -w start >/dev/null

serve() {  # serve NAME STORE [extra flags...]; prints the node's URL
  local name=$1 store=$2; shift 2
  local port; port=$(free_port)
  "$JAVA" "${JOPTS[@]}" -jar "$JAR" serve --port "$port" --data-dir "$OUT/$name" --admin-token "$TOKEN" \
    --store "$store" --pool-size 256 --pair-views 1000000000 --max-new-tokens 16 --generation-threads 1 \
    --training-threads 1 "$@" >"$OUT/$name.log" 2>&1 &
  PIDS+=($!)
  echo "http://127.0.0.1:$port"
}
await_pool() {
  for _ in $(seq 600); do
    curl -sf -H "Authorization: Bearer $TOKEN" "$1/api/stats" | /usr/bin/python3 -c 'import json,sys
p=json.load(sys.stdin)["pool"]; sys.exit(0 if p["ready"]>=p["size"] else 1)' 2>/dev/null && return 0
    sleep 1
  done
  echo "no full pool at $1 (see $OUT/*.log)" >&2; return 1
}
stop_nodes() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=(); }
measure() {  # measure LABEL URL,URL,...
  local label=$1 urls=$2 first=${2%%,*}
  curl -sf -X POST -H "Authorization: Bearer $TOKEN" "$first/api/trainer/pause" >/dev/null || true
  for i in $(seq "$RUNS"); do
    echo "$label: run $i" >&2
    "$JAVA" -XX:+UseParallelGC -jar "$JAR" loadtest --url "$urls" --admin-token "$TOKEN" --workload vote \
      --duration "${SECS}s" --warmup "$WARMUP" --annotators "$ANNOTATORS" --connections "$CONNECTIONS" \
      --report "$OUT/$label-$i.json" >"$OUT/$label-$i.out" 2>&1 || echo "  (exit $?: $OUT/$label-$i.out)" >&2
  done
}

echo "results in $OUT" >&2
U=$(serve sqlite "sqlite:$OUT/sqlite/pairwise.db"); await_pool "$U"; measure sqlite-1 "$U"; stop_nodes
for n in 1 2 3; do
  db="nodes$n"
  as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U pairwise "$db"
  CPORT=$(( 20000 + RANDOM % 20000 ))
  urls=()
  for k in $(seq "$n"); do
    urls+=("$(serve "pg$n-$k" "postgresql://pairwise@127.0.0.1:$PGPORT/$db" --cluster --cluster-port "$CPORT" \
      --cluster-name "bench-$n")")
  done
  for u in "${urls[@]}"; do await_pool "$u"; done
  measure "pg-$n" "$(IFS=,; echo "${urls[*]}")"
  stop_nodes
done

/usr/bin/python3 - "$OUT" "$RUNS" <<'PY'
import json, os, sys
out, runs = sys.argv[1], int(sys.argv[2])
print(f"{'store and nodes':28} {'votes/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'audit':>6}")
for label, name in [("sqlite-1", "1 node, SQLite"), ("pg-1", "1 node, PostgreSQL"), ("pg-2", "2 nodes, PostgreSQL"),
                    ("pg-3", "3 nodes, PostgreSQL")]:
    best = None
    for i in range(1, runs + 1):
        p = os.path.join(out, f"{label}-{i}.json")
        if not os.path.exists(p):
            continue
        r = json.load(open(p))
        e = next(x for x in r["endpoints"] if x["endpoint"] == "POST /api/preferences")
        row = (e["ok_per_second"], e["latency"]["p50_ms"], e["latency"]["p99_ms"],
               "PASS" if (r.get("audit") or {}).get("passed") else "FAIL")
        best = row if best is None or row[0] > best[0] else best
    if best:
        print(f"{name:28} {best[0]:9.0f} {best[1]:8.1f} {best[2]:8.1f} {best[3]:>6}")
    else:
        print(f"{name:28} {'(no run)':>9}")
PY
