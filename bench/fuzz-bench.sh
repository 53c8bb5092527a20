#!/usr/bin/env bash
# Malformed-request fuzz of issue 10 against one server (a separate JVM on this host, demo model): bench/fuzz.py
# sends at least REQUESTS malformed requests over every route (wrong methods, no or bad Host, bad request lines,
# content types, JSON, multipart, chunking, lengths, queries, paths, tokens, cookies, origins, headers), each on its
# own connection, and fails on any 5xx or any error body that quotes internal exception text. Two passes:
#   handlers  the failed-token limit raised out of the way, so wrong tokens reach the handlers' own checks
#   defaults  serve's defaults, so the limits (429 after 10 wrong tokens a minute) answer first
# Prints each pass's table (requests by category and by status) and the server's ERROR log lines.
# Usage: bench/fuzz-bench.sh   (env: REQUESTS=12000 DEFAULT_REQUESTS=4000 SEED=1)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REQUESTS=${REQUESTS:-12000} DEFAULT_REQUESTS=${DEFAULT_REQUESTS:-4000} SEED=${SEED:-1}
JAR="$ROOT/launcher/target/pairwise.jar"
[ -f "$JAR" ] || (cd "$ROOT" && bin/with-jdk25 ./mvnw -q -B -DskipTests package)
JAVA_HOME=${JAVA_HOME:-$(bash -c '. /dev/null; ls -d /usr/lib/jvm/*25* | head -1')}
JAVA="$JAVA_HOME/bin/java"
OUT=$(mktemp -d /tmp/pairwise-fuzz-bench.XXXXXX)
TOKEN=$(/usr/bin/python3 -c 'import secrets; print(secrets.token_hex(24))')
SERVER=""
trap '[ -z "$SERVER" ] || { kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; }' EXIT
echo "results in $OUT" >&2

pass() {  # NAME REQUESTS [serve flags...]
  local name=$1 n=$2; shift 2
  local port; port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar "$JAR" serve --port "$port" \
    --data-dir "$OUT/data-$name" --admin-token "$TOKEN" --max-new-tokens 8 --pool-size 4 \
    --generation-threads 1 --training-threads 1 "$@" >"$OUT/server-$name.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/api/training/metrics" >/dev/null 2>&1 && break; sleep 1; done
  echo "## pass: $name"
  /usr/bin/python3 "$ROOT/bench/fuzz.py" --url "http://127.0.0.1:$port" --admin-token "$TOKEN" --requests "$n" \
    --seed "$SEED" --json "$OUT/fuzz-$name.json" && rc=0 || rc=$?
  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=""
  echo "server ERROR log lines: $(grep -c ' ERROR ' "$OUT/server-$name.log" || true)"
  echo
  return $rc
}

status=0
# Short timeouts so the slow-body cases get their 408 within the fuzzer's 15 s wait.
pass handlers "$REQUESTS" --auth-failures-per-minute 1000000 --body-timeout-ms 5000 --header-timeout-ms 5000 \
  || status=1
pass defaults "$DEFAULT_REQUESTS" --body-timeout-ms 5000 --header-timeout-ms 5000 || status=1
exit $status
