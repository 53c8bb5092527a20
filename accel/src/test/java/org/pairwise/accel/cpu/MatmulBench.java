package org.pairwise.accel.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.pairwise.accel.DType;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;

/**
 * matmul GFLOP/s on the projection shapes of a 0.5B-class model (Qwen2.5-0.5B: hidden 896, intermediate 4864,
 * vocabulary 151936) at decode (N=1) and prefill (N=256). The "gflop" counter's rate is GFLOP/s.
 * Run on demand: ./mvnw -pl accel -Pbench test-compile exec:exec -Djmh.args="MatmulBench -f 1 -wi 2 -i 3"
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
@State(Scope.Benchmark)
public class MatmulBench {
    /** OC x C, as HF's [out_features, in_features]. */
    @Param({"896x896", "4864x896", "896x4864", "151936x896"})
    public String shape;

    @Param({"1", "256"})
    public int n;

    @Param({"F32", "BF16"})
    public DType dtype;

    @Param({"2"})
    public int threads;

    private CpuBackend cpu;
    private Arena arena;
    private Weight w;
    private Tensor inp;
    private Tensor out;
    private int c;
    private int oc;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Flops {
        public double gflop;
    }

    @Setup(Level.Trial)
    public void setup() {
        String[] s = shape.split("x");
        oc = Integer.parseInt(s[0]);
        c = Integer.parseInt(s[1]);
        cpu = new CpuBackend(threads);
        arena = Arena.ofShared();
        w = cpu.weight(randomWeights(arena, dtype, (long) oc * c), dtype, oc, c);
        float[] x = new float[n * c];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextDouble() - 0.5);
        }
        inp = cpu.upload(x);
        out = cpu.allocate((long) n * oc);
    }

    static MemorySegment randomWeights(Arena arena, DType dtype, long count) {
        MemorySegment seg = arena.allocate(dtype.bytesFor(count), 64);
        SplittableRandom r = new SplittableRandom(2);
        for (long i = 0; i < count; i++) {
            float v = (float) ((r.nextDouble() - 0.5) * 0.1);
            if (dtype == DType.F32) {
                seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
            } else {
                seg.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (Float.floatToRawIntBits(v) >>> 16));
            }
        }
        return seg;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cpu.close();
        arena.close();
    }

    @Benchmark
    public void matmul(Flops flops) {
        cpu.matmulForward(out, inp, w, null, n, c, oc);
        flops.gflop += 2.0 * n * c * oc / 1e9;
    }
}
