package org.pairwise.accel.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.TensorView;

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

    /** An adapter's parameters in one flat buffer update exactly as they would one tensor at a time. */
    @Test
    void oneUpdateOverAFlatBufferIsBitForBitTheUpdateOfItsTensorsOneByOne() {
        long[] sizes = {5, 37, 16, 1, 1000, 3};
        int n = 0;
        for (long s : sizes) {
            n += (int) s;
        }
        SplittableRandom rng = new SplittableRandom(6);
        float[] p0 = new float[n];
        for (int i = 0; i < n; i++) {
            p0[i] = (float) rng.nextDouble(-1, 1);
        }
        try (CpuBackend be = new CpuBackend(2)) {
            Tensor p = be.upload(p0), g = be.allocate(n), m = be.allocate(n), v = be.allocate(n);
            List<Tensor> ps = TensorView.tile(be, be.upload(p0), sizes), gs = TensorView.tile(be, be.allocate(n), sizes),
                    ms = TensorView.tile(be, be.allocate(n), sizes), vs = TensorView.tile(be, be.allocate(n), sizes);
            for (int step = 1; step <= 3; step++) {
                float[] gv = new float[n];
                for (int i = 0; i < n; i++) {
                    gv[i] = (float) rng.nextDouble(-2, 2);
                }
                be.upload(g, 0, gv, 0, n);
                be.upload(TensorView.tiled(gs), 0, gv, 0, n);
                be.adamwUpdate(p, g, m, v, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, step);
                for (int t = 0; t < sizes.length; t++) {
                    be.adamwUpdate(ps.get(t), gs.get(t), ms.get(t), vs.get(t), sizes[t], 1e-2f, 0.9f, 0.999f, 1e-8f,
                            0.01f, step);
                }
            }
            assertArrayEquals(be.download(p), be.download(TensorView.tiled(ps)));
            assertArrayEquals(be.download(v), be.download(TensorView.tiled(vs)));
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
            assertEquals(x[7] * x[7] + x[8] * x[8], be.sumOfSquares(be.view(t, 7, 2), 2), 1e-6, "a view from its offset");
            x[77] = Float.NaN;
            assertTrue(Double.isNaN(be.sumOfSquares(be.upload(x), n)));
            x[77] = Float.POSITIVE_INFINITY;
            assertTrue(Double.isInfinite(be.sumOfSquares(be.upload(x), n)));
        }
    }
}
