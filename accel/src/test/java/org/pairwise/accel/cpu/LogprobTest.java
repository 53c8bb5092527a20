package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.MatmulTest.f;
import static org.pairwise.accel.cpu.TestData.assertClose;
import static org.pairwise.accel.cpu.TestData.d;
import static org.pairwise.accel.cpu.TestData.random;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.pairwise.accel.DType;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;
import org.pairwise.accel.cpu.TestData.StoredWeight;

class LogprobTest {
    private static final CpuBackend cpu = new CpuBackend(3);
    /** V = 1003 is no multiple of any chunk size; rows 1 and 4 are masked (prompt positions). */
    private static final int V = 1003;
    private static final int[] TARGETS = {5, -1, 1002, 0, -100, 517, 256};

    @AfterAll
    static void close() {
        cpu.close();
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void forwardMatchesMaterialisedLogSoftmax(DType dtype) {
        int C = MatmulTest.cFor(dtype), N = TARGETS.length;
        Random r = new Random(60);
        StoredWeight sw = TestData.store(random(r, V * C, 0.5), dtype, V, C);
        float[] h = random(r, N * C, 1);
        Tensor logp = cpu.upload(random(r, N, 1)), lse = cpu.upload(random(r, N, 1)), sum = cpu.upload(random(r, N, 1));
        cpu.logprobForward(logp, lse, sum, cpu.upload(h), cpu.weight(sw.seg(), dtype, V, C), TARGETS, N, C, V);

        double[][] ls = Reference.logSoftmax(d(h), sw.values(), N, C, V);
        double[] logits = Reference.logits(d(h), sw.values(), N, C, V);
        double[] eLogp = new double[N], eLse = new double[N], eSum = new double[N];
        for (int n = 0; n < N; n++) {
            if (TARGETS[n] < 0) {
                continue;
            }
            eLogp[n] = ls[n][TARGETS[n]];
            eLse[n] = logits[n * V] - ls[n][0];
            for (int v = 0; v < V; v++) {
                eSum[n] += logits[n * V + v];
            }
        }
        assertClose("logp", eLogp, cpu.download(logp), 1e-5);
        assertClose("lse", eLse, cpu.download(lse), 1e-5);
        assertClose("logitSum", eSum, cpu.download(sum), 1e-4);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void backwardMatchesFiniteDifferences(DType dtype) {
        int C = MatmulTest.cFor(dtype), N = TARGETS.length;
        Random r = new Random(61);
        StoredWeight sw = TestData.store(random(r, V * C, 0.5), dtype, V, C);
        double[] h = d(random(r, N * C, 1)), g = d(random(r, N, 1));
        Weight w = cpu.weight(sw.seg(), dtype, V, C);
        Tensor ht = cpu.upload(f(h)), lse = cpu.allocate(N);
        cpu.logprobForward(cpu.allocate(N), lse, cpu.allocate(N), ht, w, TARGETS, N, C, V);
        Tensor dh = cpu.allocate(N * C);
        cpu.logprobBackward(dh, cpu.upload(f(g)), ht, w, lse, TARGETS, N, C, V);
        double[] expected = TestData.gradient(x -> {
            double[][] ls = Reference.logSoftmax(x, sw.values(), N, C, V);
            double l = 0;
            for (int n = 0; n < N; n++) {
                l += TARGETS[n] < 0 ? 0 : g[n] * ls[n][TARGETS[n]];
            }
            return l;
        }, h);
        assertClose("dh", expected, cpu.download(dh), 1e-4);
    }
}
