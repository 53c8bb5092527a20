package org.pairwise.model.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a probe's main(out, runs) in child JVMs, each held to one JIT tier, and reads back the named float arrays the
 * last of its runs computed, so a test can compare them bit for bit with each other and with the first run in the
 * test's own JVM (a cold mix of tiers). The interpreter and C1 run the Vector API's Java fallback lane by lane; C2 runs
 * its intrinsics. A test JVM's own later runs are no C2 reference: on a busy machine the kernels can stay in C1 for
 * dozens of runs, so the C2 child compiles synchronously (-Xbatch) at a twentieth of the usual counts and reports its
 * third run.
 */
public final class JitTiers {
    private JitTiers() {}

    /** A tier's flags and how many runs the child makes before it reports the last. */
    record Tier(List<String> flags, int runs) {}

    /** The interpreter alone, C1 alone, and C2 compiling the kernels within the first runs. */
    static final List<Tier> TIERS = List.of(new Tier(List.of("-Xint"), 1),
            new Tier(List.of("-XX:TieredStopAtLevel=1"), 1),
            new Tier(List.of("-Xbatch", "-XX:CompileThresholdScaling=0.05"), 3));

    /** Runs the probe {@code args[1]} times and writes the last run's values to {@code args[0]}. */
    public static void main(String[] args, Probe probe) throws Exception {
        Map<String, float[]> last = null;
        for (int run = 0; run < Integer.parseInt(args[1]); run++) {
            last = probe.run(Files.createTempDirectory("jit-tiers-probe"));
        }
        write(last, Path.of(args[0]));
    }

    /** One run of a probe: named outputs, computed in a fresh directory. */
    public interface Probe {
        Map<String, float[]> run(Path dir) throws Exception;
    }

    /** A probe's main(out) running in a child JVM held to one tier. */
    public static final class Child {
        private final List<String> flags;
        private final Process process;
        private final Path out, log;

        private Child(List<String> flags, Process process, Path out, Path log) {
            this.flags = flags;
            this.process = process;
            this.out = out;
            this.log = log;
        }

        public List<String> flags() {
            return flags;
        }

        /** Waits for the child (at most 8 minutes) and returns what it wrote. */
        public Map<String, float[]> result() throws Exception {
            try {
                if (!process.waitFor(8, TimeUnit.MINUTES)) {
                    fail("the probe under " + flags + " ran past 8 minutes: " + readQuietly(log));
                }
            } finally {
                process.destroyForcibly();
            }
            assertEquals(0, process.exitValue(), () -> "the probe under " + flags + " failed: " + readQuietly(log));
            return read(out);
        }
    }

    /** Starts main(out, runs) of the probe class in a child JVM held to one tier (the test's class path). */
    static Child start(Class<?> probe, Tier tier, Path dir) throws IOException {
        Path out = dir.resolve("probe" + String.join("", tier.flags()).replaceAll("[^A-Za-z0-9]", "") + ".bin");
        Path log = dir.resolve(out.getFileName() + ".log");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(tier.flags());
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g",
                "-Xss8m", "-cp", System.getProperty("java.class.path"), probe.getName(), out.toString(),
                String.valueOf(tier.runs())));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new Child(tier.flags(), p, out, log);
    }

    /**
     * Starts the probe under each tier, computes this JVM's first run while they run, and asserts that every tier
     * gave that run's bits.
     */
    public static void assertEveryTierAgrees(Class<?> probeClass, Probe probe, Path dir) throws Exception {
        List<Child> children = new ArrayList<>();
        for (Tier tier : TIERS) {
            children.add(start(probeClass, tier, dir));
        }
        Map<String, float[]> cold = probe.run(Files.createDirectories(dir.resolve("cold")));
        for (Child child : children) {
            assertSameBits(cold, child.result(), String.join(" ", child.flags()) + " against this JVM's first run");
        }
    }

    public static void write(Map<String, float[]> values, Path file) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            out.writeInt(values.size());
            for (Map.Entry<String, float[]> e : values.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeInt(e.getValue().length);
                for (float f : e.getValue()) {
                    out.writeInt(Float.floatToRawIntBits(f));
                }
            }
        }
    }

    static Map<String, float[]> read(Path file) throws IOException {
        Map<String, float[]> values = new LinkedHashMap<>();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String name = in.readUTF();
                float[] v = new float[in.readInt()];
                for (int j = 0; j < v.length; j++) {
                    v[j] = Float.intBitsToFloat(in.readInt());
                }
                values.put(name, v);
            }
        }
        return values;
    }

    /** The same names with the same bits, naming the first value that differs. */
    public static void assertSameBits(Map<String, float[]> expected, Map<String, float[]> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what + ": the same outputs");
        for (Map.Entry<String, float[]> e : expected.entrySet()) {
            float[] x = e.getValue(), y = actual.get(e.getKey());
            assertEquals(x.length, y.length, what + ": length of " + e.getKey());
            for (int i = 0; i < x.length; i++) {
                if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
                    fail(what + ": " + e.getKey() + "[" + i + "] is " + y[i] + " against " + x[i]);
                }
            }
        }
        assertTrue(!expected.isEmpty(), what + ": something was compared");
    }

    private static String readQuietly(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
