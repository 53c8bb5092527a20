package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.MatmulTest.f;
import static org.pairwise.accel.cpu.TestData.assertClose;
import static org.pairwise.accel.cpu.TestData.d;
import static org.pairwise.accel.cpu.TestData.random;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.Tensor;

class RmsNormTest {
    private static final CpuBackend cpu = new CpuBackend(3);
    private static final int N = 5, C = 67;
    private static final float EPS = 1e-5f;

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Test
    void forwardMatchesDoubleReferenceAndCachesRstd() {
        Random r = new Random(10);
        float[] x = random(r, N * C, 2), w = random(r, C, 1);
        Tensor out = cpu.allocate(N * C), rstd = cpu.allocate(N);
        cpu.rmsnormForward(out, rstd, cpu.upload(x), cpu.upload(w), EPS, N, C);
        double[] rs = new double[N];
        assertClose("out", Reference.rmsnorm(d(x), d(w), EPS, N, C, rs), cpu.download(out), 1e-5);
        assertClose("rstd", rs, cpu.download(rstd), 1e-5);
    }

    @Test
    void backwardMatchesFiniteDifferencesForInputAndWeight() {
        Random r = new Random(11);
        double[] x = d(random(r, N * C, 2)), w = d(random(r, C, 1)), g = d(random(r, N * C, 1));
        Tensor out = cpu.allocate(N * C), rstd = cpu.allocate(N);
        Tensor xt = cpu.upload(f(x)), wt = cpu.upload(f(w));
        cpu.rmsnormForward(out, rstd, xt, wt, EPS, N, C);
        Tensor dinp = cpu.allocate(N * C), dw = cpu.allocate(C);
        cpu.rmsnormBackward(dinp, dw, cpu.upload(f(g)), xt, rstd, wt, N, C);
        assertClose("dinp", TestData.gradient(xx -> TestData.dotLoss(Reference.rmsnorm(xx, w, EPS, N, C, null), g), x),
                cpu.download(dinp), 1e-4);
        assertClose("dw", TestData.gradient(ww -> TestData.dotLoss(Reference.rmsnorm(x, ww, EPS, N, C, null), g), w),
                cpu.download(dw), 1e-4);
    }
}
