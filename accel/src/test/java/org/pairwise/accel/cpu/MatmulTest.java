package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.TestData.assertClose;
import static org.pairwise.accel.cpu.TestData.d;
import static org.pairwise.accel.cpu.TestData.random;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.pairwise.accel.DType;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;
import org.pairwise.accel.cpu.TestData.StoredWeight;

class MatmulTest {
    private static final CpuBackend cpu = new CpuBackend(3);

    @AfterAll
    static void close() {
        cpu.close();
    }

    /** Q8_0 rows hold whole 32-value blocks, so its C is the odd multiple 96; the rest use C = 67. */
    static int cFor(DType t) {
        return t == DType.Q8_0 ? 96 : 67;
    }

    static java.util.stream.Stream<Arguments> dtypesAndRows() {
        // N = 1..3 takes the per-row decode path (2: a pair, each row against both tokens), N >= 4 the tiled one on
        // token panels (5 and 9 leave a partial panel, 40 needs several and a partial one on any vector width).
        return java.util.stream.Stream.of(DType.values())
                .flatMap(t -> java.util.stream.Stream.of(1, 2, 3, 5, 9, 40).map(n -> Arguments.of(t, n)));
    }

    @ParameterizedTest(name = "{0} N={1}")
    @MethodSource("dtypesAndRows")
    void forwardMatchesDoubleReferenceWithBias(DType dtype, int N) {
        Random r = new Random(1);
        int C = cFor(dtype), OC = 37;
        StoredWeight sw = TestData.store(random(r, OC * C, 1), dtype, OC, C);
        float[] x = random(r, N * C, 1), bias = random(r, OC, 1);
        Tensor out = cpu.allocate(N * OC);
        Weight w = cpu.weight(sw.seg(), dtype, OC, C);
        cpu.matmulForward(out, cpu.upload(x), w, cpu.upload(bias), N, C, OC);
        assertClose("out", Reference.matmul(d(x), sw.values(), d(bias), N, C, OC), cpu.download(out), 1e-5);
        cpu.matmulForward(out, cpu.upload(x), w, null, N, C, OC);
        assertClose("out without bias", Reference.matmul(d(x), sw.values(), null, N, C, OC), cpu.download(out), 1e-5);
    }

    /** Decode of a pair gives each token exactly (bit for bit) what decoding it alone gives. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(DType.class)
    void decodeOfTwoTokensEqualsTwoSingleDecodes(DType dtype) {
        Random r = new Random(6);
        int C = cFor(dtype), OC = 37;
        StoredWeight sw = TestData.store(random(r, OC * C, 1), dtype, OC, C);
        Weight w = cpu.weight(sw.seg(), dtype, OC, C);
        float[] x = random(r, 2 * C, 1), bias = random(r, OC, 1);
        Tensor both = cpu.allocate(2 * OC), one = cpu.allocate(OC);
        cpu.matmulForward(both, cpu.upload(x), w, cpu.upload(bias), 2, C, OC);
        float[] pair = cpu.download(both);
        for (int t = 0; t < 2; t++) {
            cpu.matmulForward(one, cpu.upload(java.util.Arrays.copyOfRange(x, t * C, (t + 1) * C)), w, cpu.upload(bias),
                    1, C, OC);
            org.junit.jupiter.api.Assertions.assertArrayEquals(cpu.download(one),
                    java.util.Arrays.copyOfRange(pair, t * OC, (t + 1) * OC), dtype + " token " + t);
        }
    }

    @Test
    void weightViewOfTensorSeesLaterUpdates() {
        Random r = new Random(2);
        int N = 5, C = 67, OC = 37;
        float[] wv = random(r, OC * C, 1), x = random(r, N * C, 1);
        Tensor wt = cpu.upload(wv);
        Weight w = cpu.weightOf(wt, OC, C);
        Tensor out = cpu.allocate(N * OC);
        cpu.matmulForward(out, cpu.upload(x), w, null, N, C, OC);
        assertClose("before", Reference.matmul(d(x), d(wv), null, N, C, OC), cpu.download(out), 1e-5);
        cpu.scale(wt, -2f, wv.length);
        for (int i = 0; i < wv.length; i++) {
            wv[i] *= -2f;
        }
        cpu.matmulForward(out, cpu.upload(x), w, null, N, C, OC);
        assertClose("after update", Reference.matmul(d(x), d(wv), null, N, C, OC), cpu.download(out), 1e-5);
    }

    @ParameterizedTest(name = "{0} N={1}")
    @MethodSource("dtypesAndRows")
    void backwardMatchesFiniteDifferencesForInputAndBias(DType dtype, int N) {
        Random r = new Random(3);
        int C = cFor(dtype), OC = 37;
        StoredWeight sw = TestData.store(random(r, OC * C, 1), dtype, OC, C);
        double[] x = d(random(r, N * C, 1)), bias = d(random(r, OC, 1)), g = d(random(r, N * OC, 1));
        Tensor dinp = cpu.allocate(N * C), dbias = cpu.allocate(OC);
        cpu.matmulBackward(dinp, dbias, cpu.upload(f(g)), cpu.weight(sw.seg(), dtype, OC, C), N, C, OC);
        double[] wv = sw.values();
        assertClose("dinp", TestData.gradient(xx -> TestData.dotLoss(Reference.matmul(xx, wv, bias, N, C, OC), g), x),
                cpu.download(dinp), 1e-4);
        assertClose("dbias", TestData.gradient(bb -> TestData.dotLoss(Reference.matmul(x, wv, bb, N, C, OC), g), bias),
                cpu.download(dbias), 1e-4);
    }

    @Test
    void backwardWeightMatchesFiniteDifferences() {
        Random r = new Random(4);
        int N = 5, C = 67, OC = 37;
        double[] x = d(random(r, N * C, 1)), w = d(random(r, OC * C, 1)), g = d(random(r, N * OC, 1));
        Tensor dw = cpu.allocate(OC * C);
        cpu.matmulBackwardWeight(dw, cpu.upload(f(g)), cpu.upload(f(x)), N, C, OC);
        assertClose("dw", TestData.gradient(ww -> TestData.dotLoss(Reference.matmul(x, ww, null, N, C, OC), g), w),
                cpu.download(dw), 1e-4);
    }

    @Test
    void backwardKernelsAccumulateIntoGradients() {
        Random r = new Random(5);
        int N = 5, C = 67, OC = 37;
        float[] w = random(r, OC * C, 1), x = random(r, N * C, 1), g = random(r, N * OC, 1);
        float[] prior = random(r, N * C, 1), priorB = random(r, OC, 1), priorW = random(r, OC * C, 1);
        Tensor dinp = cpu.upload(prior), dbias = cpu.upload(priorB), dw = cpu.upload(priorW);
        cpu.matmulBackward(dinp, dbias, cpu.upload(g), cpu.weightOf(cpu.upload(w), OC, C), N, C, OC);
        cpu.matmulBackwardWeight(dw, cpu.upload(g), cpu.upload(x), N, C, OC);

        Tensor fresh = cpu.allocate(N * C), freshB = cpu.allocate(OC), freshW = cpu.allocate(OC * C);
        cpu.matmulBackward(fresh, freshB, cpu.upload(g), cpu.weightOf(cpu.upload(w), OC, C), N, C, OC);
        cpu.matmulBackwardWeight(freshW, cpu.upload(g), cpu.upload(x), N, C, OC);
        assertClose("dinp = prior + fresh", sum(prior, cpu.download(fresh)), cpu.download(dinp), 1e-6);
        assertClose("dbias = prior + fresh", sum(priorB, cpu.download(freshB)), cpu.download(dbias), 1e-6);
        assertClose("dw = prior + fresh", sum(priorW, cpu.download(freshW)), cpu.download(dw), 1e-6);
    }

    static double[] sum(float[] a, float[] b) {
        double[] s = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            s[i] = (double) a[i] + b[i];
        }
        return s;
    }

    static float[] f(double[] a) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (float) a[i];
        }
        return out;
    }
}
