package org.pairwise.launcher;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * `pairwise bench --stream`: the machine's memory bandwidth, STREAM-style, with the threads and vector width the
 * engine uses. "read" sums a native buffer far larger than the caches (what decode does with its weights: it only
 * reads them); copy, scale, add and triad are STREAM's four kernels on heap arrays, counted as STREAM counts them
 * (bytes named in the source, write-allocate traffic not included). Best of the repeats, GB/s = 1e9 bytes/s.
 */
final class StreamBench {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private StreamBench() {}

    interface Part {
        void run(int t, long from, long to);
    }

    static Map<String, Object> run(int threads, int repeats, long megabytes) throws InterruptedException {
        int T = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        long bytes = megabytes << 20;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("engine", "stream");
        r.put("threads", T);
        r.put("megabytes", megabytes);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(bytes, 64);
            for (long i = 0; i < bytes; i += 4096) {
                seg.set(ValueLayout.JAVA_FLOAT, i, 1f);
            }
            float[] sums = new float[T];
            long n = bytes / 4 / F.length() * F.length();
            r.put("read_gb_per_s", bytes / 1e9 / best(T, repeats, n, (t, a, b) -> sums[t] = sum(seg, a, b)));
        }
        int len = (int) Math.min(Integer.MAX_VALUE - 64, bytes / 3 / 4);
        float[] a = new float[len], b = new float[len], c = new float[len];
        java.util.Arrays.fill(a, 1f);
        java.util.Arrays.fill(b, 2f);
        r.put("copy_gb_per_s", 8.0 * len / 1e9 / best(T, repeats, len, (t, x, y) -> copy(a, c, (int) x, (int) y)));
        r.put("scale_gb_per_s", 8.0 * len / 1e9 / best(T, repeats, len, (t, x, y) -> scale(c, b, (int) x, (int) y)));
        r.put("add_gb_per_s", 12.0 * len / 1e9 / best(T, repeats, len, (t, x, y) -> add(a, b, c, (int) x, (int) y)));
        r.put("triad_gb_per_s", 12.0 * len / 1e9 / best(T, repeats, len, (t, x, y) -> triad(a, b, c, (int) x, (int) y)));
        return r;
    }

    // Seconds of the fastest of 1 + repeats runs of part over [0, n) split evenly across T threads.
    private static double best(int T, int repeats, long n, Part part) throws InterruptedException {
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep <= repeats; rep++) {
            CountDownLatch start = new CountDownLatch(1), done = new CountDownLatch(T);
            long per = (n / T + 63) / 64 * 64;
            for (int t = 0; t < T; t++) {
                int id = t;
                Thread.ofPlatform().daemon().start(() -> {
                    try {
                        start.await();
                        part.run(id, Math.min(n, id * per), Math.min(n, (id + 1) * per));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        done.countDown();
                    }
                });
            }
            long t0 = System.nanoTime();
            start.countDown();
            done.await();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }

    private static float sum(MemorySegment seg, long from, long to) {
        int L = F.length();
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        long i = from;
        for (; i + 4L * L <= to; i += 4L * L) {
            s0 = s0.add(FloatVector.fromMemorySegment(F, seg, 4 * i, ByteOrder.LITTLE_ENDIAN));
            s1 = s1.add(FloatVector.fromMemorySegment(F, seg, 4 * (i + L), ByteOrder.LITTLE_ENDIAN));
            s2 = s2.add(FloatVector.fromMemorySegment(F, seg, 4 * (i + 2L * L), ByteOrder.LITTLE_ENDIAN));
            s3 = s3.add(FloatVector.fromMemorySegment(F, seg, 4 * (i + 3L * L), ByteOrder.LITTLE_ENDIAN));
        }
        for (; i + L <= to; i += L) {
            s0 = s0.add(FloatVector.fromMemorySegment(F, seg, 4 * i, ByteOrder.LITTLE_ENDIAN));
        }
        return s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
    }

    private static void copy(float[] a, float[] c, int from, int to) {
        System.arraycopy(a, from, c, from, to - from);
    }

    private static void scale(float[] c, float[] b, int from, int to) {
        int i = from;
        for (; i + F.length() <= to; i += F.length()) {
            FloatVector.fromArray(F, c, i).mul(3f).intoArray(b, i);
        }
        for (; i < to; i++) {
            b[i] = 3f * c[i];
        }
    }

    private static void add(float[] a, float[] b, float[] c, int from, int to) {
        int i = from;
        for (; i + F.length() <= to; i += F.length()) {
            FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(c, i);
        }
        for (; i < to; i++) {
            c[i] = a[i] + b[i];
        }
    }

    private static void triad(float[] a, float[] b, float[] c, int from, int to) {
        int i = from;
        for (; i + F.length() <= to; i += F.length()) {
            FloatVector.fromArray(F, c, i).fma(FloatVector.broadcast(F, 3f), FloatVector.fromArray(F, b, i)).intoArray(a, i);
        }
        for (; i < to; i++) {
            a[i] = b[i] + 3f * c[i];
        }
    }
}
