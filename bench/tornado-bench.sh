#!/usr/bin/env bash
# TornadoVM backend benchmark (never in CI): every kernel, a forward, a scoring batch and a whole DPO step on the cpu
# and tornadovm backends, with the tornadovm backend's host-device copies and bytes per call. Prints a markdown table.
# Needs the TornadoVM SDK under /opt/tornadovm (see README, "TornadoVM backend"); the tornadovm Maven profile then
# compiles the benchmark (trainer/src/tornado-test/java/.../TornadoBench.java).
# Usage: bench/tornado-bench.sh [REPS]   (timed repetitions per row after 2 warm-up calls; default 10)
# Env: JAVA_HOME (default: the JDK 25 that bin/with-jdk25 picks), BENCH_OUT=file keeps the output.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ARGFILE=/opt/tornadovm/tornado-argfile
if [ ! -f "$ARGFILE" ]; then
  echo "tornado-bench: TornadoVM SDK not found under /opt/tornadovm (see README, \"TornadoVM backend\")" >&2
  exit 1
fi
CP_FILE="$(mktemp "${TMPDIR:-/tmp}/tornado-bench-cp.XXXXXX")"
# Build the modules (and the tornado test tree) and write trainer's test class path; the SDK's own jars come from the
# argfile's module path, so tornado-api is left off the class path.
(cd "$ROOT" && "$ROOT/bin/with-jdk25" ./mvnw -q -B -ntp install -DskipTests \
  && "$ROOT/bin/with-jdk25" ./mvnw -q -B -ntp -pl trainer dependency:build-classpath -Dmdep.includeScope=test \
     -Dmdep.excludeArtifactIds=tornado-api -Dmdep.outputFile="$CP_FILE") >&2
CP="$ROOT/trainer/target/test-classes:$ROOT/trainer/target/classes:$(cat "$CP_FILE")"
rm -f "$CP_FILE"
# The argfile puts "." on the module path, where any jar breaks start-up: run from an empty directory.
WD="$(mktemp -d "${TMPDIR:-/tmp}/tornado-bench.XXXXXX")"
cd "$WD"
"$ROOT/bin/with-jdk25" bash -c 'exec "$JAVA_HOME/bin/java" "$@"' java @"$ARGFILE" -Dtornado.recover.bailout=False \
  --add-modules jdk.incubator.vector -Dai.djl.offline=true -Xmx4g -Xss8m \
  -Dpairwise.shared.models="$ROOT/../shared/models" -cp "$CP" org.pairwise.trainer.tornado.TornadoBench "$@" \
  | tee "${BENCH_OUT:-/dev/null}"
rmdir "$WD" 2>/dev/null || true
