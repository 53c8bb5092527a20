#!/usr/bin/env bash
# TornadoVM backend benchmark (never in CI), on stories260K when the shared models are present. Two parts:
#  1. org.pairwise.trainer.tornado.TornadoBench (trainer's tornado test tree) with -Dpairwise.tornado.fuse=false: every
#     kernel, a forward, a scoring batch and a whole DPO step on the cpu and tornadovm backends, each tornadovm call run
#     as it is made (its own compiled graph; results stay on the device until needed), with copies and bytes per call.
#     (With fusion on, a call only records work, so per-call times would time the recording.)
#  2. Steady state with fusion on (the default): a scoring batch and a DPO step repeated until their recorded
#     sequences are compiled, then REPS more; copies per step from TornadoBackend.transfersSoFar() (which runs nothing,
#     so it does not cut the sequences), time per step as the mean over the REPS (work recorded in one call runs in a
#     later one, so per-call medians would move work between calls).
# Needs the TornadoVM SDK under /opt/tornadovm (see README, "TornadoVM backend").
# Usage: bench/tornado-bench.sh [REPS]   (timed repetitions; default 10)
# Env: JAVA_HOME (default: the JDK 25 that bin/with-jdk25 picks), BENCH_OUT=file keeps the output, PARTS="1 2" (the
# parts to run).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REPS="${1:-10}"
PARTS="${PARTS:-1 2}"
ARGFILE=/opt/tornadovm/tornado-argfile
if [ ! -f "$ARGFILE" ]; then
  echo "tornado-bench: TornadoVM SDK not found under /opt/tornadovm (see README, \"TornadoVM backend\")" >&2
  exit 1
fi
TMP="$(mktemp -d "${TMPDIR:-/tmp}/tornado-bench.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
# Build accel, model and trainer in the reactor (the tornado source trees with them), never installing anything, and
# write trainer's test class path as the reactor resolves it: the modules' target/classes and target/test-classes,
# the third-party jars from the local repository. The SDK's own jars come from the argfile's module path, so
# tornado-api is left off the class path.
(cd "$ROOT" && "$ROOT/bin/with-jdk25" ./mvnw -q -B -ntp -pl trainer -am test-compile \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath -Dmdep.includeScope=test \
  -DexcludeArtifactIds=tornado-api -Dmdep.outputFile=target/bench-classpath.txt) >&2
CP="$TMP/classes:$ROOT/trainer/target/test-classes:$ROOT/trainer/target/classes:$(cat "$ROOT/trainer/target/bench-classpath.txt")"

# Part 2's driver: in TornadoBench's package (it reuses TornadoBench.Model), compiled here onto the class path.
mkdir -p "$TMP/src" "$TMP/classes" "$TMP/wd"
cat > "$TMP/src/TornadoSteadyBench.java" <<'JAVA'
package org.pairwise.trainer.tornado;

import java.util.List;
import java.util.Locale;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Backends;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.accel.tornado.TornadoBackend;
import org.pairwise.accel.tornado.Transfers;
import org.pairwise.model.SharedModels;

/** Steady-state copies and time per unit of work with the tornadovm backend's fusion on (see tornado-bench.sh). */
public final class TornadoSteadyBench {
    public static void main(String[] args) throws Exception {
        int reps = Integer.parseInt(args[0]), warm = 8;
        var stories = SharedModels.find("stories260K/stories260K.gguf");
        try (Backend cpu = new CpuBackend(Runtime.getRuntime().availableProcessors());
             TornadoBackend tvm = (TornadoBackend) Backends.open("tornadovm", 0)) {
            TornadoBench.Model mc = new TornadoBench.Model(cpu, stories), mt = new TornadoBench.Model(tvm, stories);
            System.out.println();
            System.out.println("| unit (steady state, fusion on) | shape | cpu ms | tornadovm ms | copies to device | to host "
                    + "| MB to device | MB to host | graph executions | tensors tracked |");
            System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            for (String unit : List.of("scoring batch (4 seqs)", "DPO step (2 pairs, ref cached)",
                    "DPO step (2 pairs, ref scored)")) {
                double c = mean(() -> mc.run(unit), warm, reps);
                for (int i = 0; i < warm; i++) {
                    mt.run(unit); // the first appearances run call by call, then compile, then make inputs resident
                }
                int plans = tvm.graphs();
                Transfers.Snapshot t0 = tvm.transfersSoFar();
                double t = mean(() -> mt.run(unit), 0, reps);
                Transfers.Snapshot d = tvm.transfersSoFar().minus(t0);
                System.out.printf(Locale.ROOT, "| %s | %s, 2 pairs, T %d | %.3f | %.3f%s | %d | %d | %.3f | %.3f | %d | %d |%n",
                        unit, mt.name, mt.T, c, t, tvm.graphs() == plans ? "" : " (compiled during the timed steps)",
                        d.toDevice() / reps, d.toHost() / reps, d.bytesToDevice() / 1e6 / reps,
                        d.bytesToHost() / 1e6 / reps, d.executions() / reps, tracked(tvm));
                System.err.printf("%s done%n", unit);
            }
            mc.close();
            mt.close();
        }
    }

    /** Tensors the residency bookkeeping refers to (package-private in the backend, read for the table). */
    static int tracked(TornadoBackend b) throws ReflectiveOperationException {
        java.lang.reflect.Method m = TornadoBackend.class.getDeclaredMethod("tracked");
        m.setAccessible(true);
        return (Integer) m.invoke(b);
    }

    static double mean(Runnable r, int warm, int reps) {
        for (int i = 0; i < warm; i++) {
            r.run();
        }
        long s = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            r.run();
        }
        return (System.nanoTime() - s) / 1e6 / reps;
    }
}
JAVA
"$ROOT/bin/with-jdk25" bash -c 'exec "$JAVA_HOME/bin/javac" "$@"' javac -d "$TMP/classes" \
  -cp "$CP:/opt/tornadovm/share/java/tornado/*" "$TMP/src/TornadoSteadyBench.java" >&2

# The argfile puts "." on the module path, where any jar breaks start-up: run from an empty directory.
cd "$TMP/wd"
run() {
  "$ROOT/bin/with-jdk25" bash -c 'exec "$JAVA_HOME/bin/java" "$@"' java @"$ARGFILE" -Dtornado.recover.bailout=False \
    --add-modules jdk.incubator.vector -Dai.djl.offline=true -Xmx4g -Xss8m \
    -Dpairwise.shared.models="$ROOT/../shared/models" -cp "$CP" "$@"
}
{
  case " $PARTS " in *" 1 "*)
    echo "## part 1: every call run as it is made (-Dpairwise.tornado.fuse=false)"
    run -Dpairwise.tornado.fuse=false org.pairwise.trainer.tornado.TornadoBench "$REPS"
    echo ;;
  esac
  case " $PARTS " in *" 2 "*)
    echo "## part 2: steady state, fusion on"
    run org.pairwise.trainer.tornado.TornadoSteadyBench "$REPS" ;;
  esac
} | tee "${BENCH_OUT:-/dev/null}"
