package org.pairwise.accel.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.pairwise.accel.cpu.MatmulTest.f;
import static org.pairwise.accel.cpu.TestData.assertClose;
import static org.pairwise.accel.cpu.TestData.d;
import static org.pairwise.accel.cpu.TestData.random;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.pairwise.accel.RopeTable;
import org.pairwise.accel.RopeTable.Pairing;
import org.pairwise.accel.Tensor;

class RopeTest {
    private static final CpuBackend cpu = new CpuBackend(3);
    private static final int N = 5, H = 3;
    private static final double THETA = 10000;
    private static final int[] POSITIONS = {0, 1, 7, 30, 63};

    @AfterAll
    static void close() {
        cpu.close();
    }

    @ParameterizedTest(name = "{0} HS={1} rotaryDim={2}")
    @CsvSource({"ADJACENT,8,8", "HALVES,8,8", "ADJACENT,10,6", "HALVES,10,6", "ADJACENT,6,6", "HALVES,6,4"})
    void forwardRotatesPairsOfItsLayout(Pairing pairing, int HS, int rd) {
        Random r = new Random(20);
        float[] x = random(r, N * H * HS, 1);
        RopeTable rope = RopeTable.create(pairing, rd, 64, THETA, null);
        Tensor t = cpu.upload(x);
        cpu.ropeForward(t, POSITIONS, rope, N, H, HS);
        float[] got = cpu.download(t);
        assertClose("x", Reference.rope(d(x), POSITIONS, pairing, rd, THETA, N, H, HS), got, 1e-5);
        // dims past rotaryDim pass through untouched
        for (int i = 0; i < N * H; i++) {
            for (int e = rd; e < HS; e++) {
                assertEquals(x[i * HS + e], got[i * HS + e]);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"ADJACENT", "HALVES"})
    void backwardMatchesFiniteDifferences(Pairing pairing) {
        int HS = 10, rd = 6;
        Random r = new Random(21);
        double[] x = d(random(r, N * H * HS, 1)), g = d(random(r, N * H * HS, 1));
        RopeTable rope = RopeTable.create(pairing, rd, 64, THETA, null);
        Tensor dx = cpu.upload(f(g));
        cpu.ropeBackward(dx, POSITIONS, rope, N, H, HS);
        assertClose("dx", TestData.gradient(
                xx -> TestData.dotLoss(Reference.rope(xx, POSITIONS, pairing, rd, THETA, N, H, HS), g), x),
                cpu.download(dx), 1e-4);
    }

    /**
     * Llama 3.1's published scaling (factor 8, low 1, high 4, original 8192, theta 500000, head dim 128), written as in
     * Meta's reference apply_scaling: the table's angles must be position * the scaled frequency.
     */
    @Test
    void llama3ScalingMatchesMetaFormula() {
        int rd = 128, maxPos = 20000;
        double theta = 500000;
        RopeTable rope = RopeTable.create(Pairing.HALVES, rd, maxPos, theta,
                new RopeTable.Llama3Scaling(8, 1, 4, 8192));
        int kept = 0, slowed = 0, blended = 0;
        for (int i = 0; i < rd / 2; i++) {
            double freq = 1.0 / Math.pow(theta, (double) (2 * i) / rd);
            double wavelen = 2 * Math.PI / freq;
            double scaled;
            if (wavelen < 8192 / 4.0) {
                scaled = freq;
                kept++;
            } else if (wavelen > 8192 / 1.0) {
                scaled = freq / 8;
                slowed++;
            } else {
                double smooth = (8192 / wavelen - 1) / (4 - 1);
                scaled = (1 - smooth) * freq / 8 + smooth * freq;
                blended++;
            }
            for (int p : new int[] {1, 17, 4096, 19999}) {
                assertEquals(Math.cos(p * scaled), rope.cos()[p * rd / 2 + i], 2e-6, "cos p=" + p + " i=" + i);
                assertEquals(Math.sin(p * scaled), rope.sin()[p * rd / 2 + i], 2e-6, "sin p=" + p + " i=" + i);
            }
        }
        assertTrue(kept > 0 && slowed > 0 && blended > 0, "all three bands are exercised");
    }
}
