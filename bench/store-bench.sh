#!/usr/bin/env bash
# The product's preference store on each database, below HTTP (bench/StoreBench.java): CLIENTS closed-loop clients
# recording votes through the store's group-commit writer, anonymous and named (a named vote also takes the lease
# and dedupe path), on SQLite (a file in a scratch folder: WAL, synchronous=FULL) and on a throwaway PostgreSQL
# (initdb in the scratch folder, pg_ctl on a free loopback port, fsync on). ROUNDS rounds, alternating; one line per
# run: votes/s, p50 and p99 acknowledgement latency (after COMMIT), votes per transaction.
# BASE_CLASSES=DIR adds, in each round, a SQLite run on another build's server classes (e.g. an older commit's
# server/target/classes, with this build's other modules): the embedded default before and after a change.
# Usage: bench/store-bench.sh   (env: CLIENTS=64 VOTES=20000 ROUNDS=3 STORES="sqlite postgres" BASE_CLASSES=...)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CLIENTS=${CLIENTS:-64} VOTES=${VOTES:-20000} ROUNDS=${ROUNDS:-3} STORES=${STORES:-"sqlite postgres"}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
WORK=$(mktemp -d /tmp/pairwise-store-bench.XXXXXX)
chmod 755 "$WORK"
echo "scratch folder: $WORK" >&2
(cd "$ROOT" && bin/with-jdk25 ./mvnw -q -B -o -P '!tornadovm' -DskipTests -pl server -am compile >&2 \
  && bin/with-jdk25 ./mvnw -q -B -o -P '!tornadovm' -pl server dependency:build-classpath \
       -Dmdep.outputFile="$WORK/cp.txt" -Dmdep.includeScope=runtime >&2)
OTHERS=""
for m in config model trainer accel; do OTHERS="$OTHERS:$ROOT/$m/target/classes"; done
CP="$ROOT/server/target/classes$OTHERS:$(cat "$WORK/cp.txt")"
[ -n "${BASE_CLASSES:-}" ] && STORES="$STORES sqlite@base"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGDATA="$WORK/pg"
mkdir -p "$PGDATA" && { [ "$(id -u)" = 0 ] && chown postgres "$PGDATA" || true; }
as_pg "$PGBIN/initdb" -D "$PGDATA" -U bench --auth=trust -E UTF8 --locale=C >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nfsync = on\n" "$PORT" "$PGDATA" \
  >> "$PGDATA/postgresql.conf"
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w start >/dev/null
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 143' TERM INT
JAVA_HOME=${JAVA_HOME:-$(bash -c 'ls -d /usr/lib/jvm/*25* | head -1')}
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-12s %-9s %8s %9s %9s %9s %10s\n" store votes clients votes/s "p50 ms" "p99 ms" votes/tx
n=0
for round in $(seq "$ROUNDS"); do
  for named in false true; do
    for store in $STORES; do
      n=$((n + 1))
      cp="$CP"
      case "$store" in
        sqlite) spec="sqlite:$WORK/s$n.db" ;;
        sqlite@base) spec="sqlite:$WORK/s$n.db"; cp="$BASE_CLASSES$OTHERS:$(cat "$WORK/cp.txt")" ;;
        *) as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U bench "b$n"; spec="postgresql://bench@127.0.0.1:$PORT/b$n" ;;
      esac
      "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" "$ROOT/bench/StoreBench.java" "$spec" \
        "$CLIENTS" "$VOTES" "$named" "$store" 2> "$WORK/err.log" || { cat "$WORK/err.log" >&2; exit 1; }
    done
  done
done
