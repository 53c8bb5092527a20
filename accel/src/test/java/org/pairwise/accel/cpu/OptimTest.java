package org.pairwise.accel.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.Tensor;

class OptimTest {
    @Test
    void adamwMatchesTorchsUpdateOverSeveralSteps() {
        int n = 1037;
        SplittableRandom rng = new SplittableRandom(5);
        float[] p0 = new float[n];
        for (int i = 0; i < n; i++) {
            p0[i] = (float) rng.nextDouble(-1, 1);
        }
        double[] p = new double[n], m = new double[n], v = new double[n];
        for (int i = 0; i < n; i++) {
            p[i] = p0[i];
        }
        double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
        try (CpuBackend be = new CpuBackend(2)) {
            Tensor tp = be.upload(p0), tm = be.allocate(n), tv = be.allocate(n), tg = be.allocate(n);
            for (int step = 1; step <= 5; step++) {
                float[] g = new float[n];
                for (int i = 0; i < n; i++) {
                    g[i] = (float) rng.nextDouble(-2, 2);
                }
                be.upload(tg, 0, g, 0, n);
                be.adamwUpdate(tp, tg, tm, tv, n, (float) lr, (float) b1, (float) b2, (float) eps, (float) wd, step);
                // torch.optim.AdamW, single-tensor path, written out in double
                for (int i = 0; i < n; i++) {
                    p[i] *= 1 - lr * wd;
                    m[i] = b1 * m[i] + (1 - b1) * g[i];
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                    double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(b2, step)) + eps;
                    p[i] -= lr / (1 - Math.pow(b1, step)) * m[i] / denom;
                }
            }
            float[] got = be.download(tp);
            for (int i = 0; i < n; i++) {
                assertEquals(p[i], got[i], 1e-5, "param " + i);
            }
        }
    }

    @Test
    void sumOfSquaresIsExactEnoughAndFlagsNonFiniteValues() {
        int n = 100_003;
        float[] x = new float[n];
        double expected = 0;
        for (int i = 0; i < n; i++) {
            x[i] = (float) Math.sin(i) * 3;
            expected += (double) x[i] * x[i];
        }
        try (CpuBackend be = new CpuBackend(2)) {
            Tensor t = be.upload(x);
            assertEquals(expected, be.sumOfSquares(t, n), expected * 1e-6);
            assertEquals(x[0] * x[0] + x[1] * x[1], be.sumOfSquares(t, 2), 1e-6);
            x[77] = Float.NaN;
            assertTrue(Double.isNaN(be.sumOfSquares(be.upload(x), n)));
            x[77] = Float.POSITIVE_INFINITY;
            assertTrue(Double.isInfinite(be.sumOfSquares(be.upload(x), n)));
        }
    }
}
