package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.MatmulTest.f;
import static org.pairwise.accel.cpu.TestData.assertClose;
import static org.pairwise.accel.cpu.TestData.d;
import static org.pairwise.accel.cpu.TestData.random;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.Tensor;

class ElementwiseTest {
    private static final CpuBackend cpu = new CpuBackend(3);
    private static final int N = 5, C = 67;

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Test
    void swigluForwardMatchesReference() {
        Random r = new Random(40);
        float[] gate = random(r, N * C, 6), up = random(r, N * C, 2);
        Tensor out = cpu.allocate(N * C);
        cpu.swigluForward(out, cpu.upload(gate), cpu.upload(up), N, C);
        assertClose("out", Reference.swiglu(d(gate), d(up)), cpu.download(out), 1e-5);
    }

    @Test
    void swigluBackwardMatchesFiniteDifferences() {
        Random r = new Random(41);
        double[] gate = d(random(r, N * C, 6)), up = d(random(r, N * C, 2)), g = d(random(r, N * C, 1));
        Tensor dgate = cpu.allocate(N * C), dup = cpu.allocate(N * C);
        cpu.swigluBackward(dgate, dup, cpu.upload(f(g)), cpu.upload(f(gate)), cpu.upload(f(up)), N, C);
        assertClose("dgate", TestData.gradient(x -> TestData.dotLoss(Reference.swiglu(x, up), g), gate),
                cpu.download(dgate), 1e-4);
        assertClose("dup", TestData.gradient(x -> TestData.dotLoss(Reference.swiglu(gate, x), g), up),
                cpu.download(dup), 1e-4);
    }

    @Test
    void addAccumulatesAndScaleMultipliesInPlace() {
        Random r = new Random(42);
        float[] a = random(r, N * C, 1), b = random(r, N * C, 1);
        Tensor t = cpu.upload(a);
        cpu.add(t, cpu.upload(b), N * C);
        cpu.scale(t, -0.5f, N * C - 3);
        double[] expected = new double[N * C];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = ((double) a[i] + b[i]) * (i < N * C - 3 ? -0.5 : 1);
        }
        assertClose("out", expected, cpu.download(t), 1e-6);
    }
}
