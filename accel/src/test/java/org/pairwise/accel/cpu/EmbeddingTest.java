package org.pairwise.accel.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.pairwise.accel.cpu.TestData.assertClose;
import static org.pairwise.accel.cpu.TestData.random;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.pairwise.accel.DType;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.cpu.TestData.StoredWeight;

class EmbeddingTest {
    private static final CpuBackend cpu = new CpuBackend(3);
    private static final int[] TOKENS = {3, 0, 40, 3, 12};

    @AfterAll
    static void close() {
        cpu.close();
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void forwardCopiesDecodedRows(DType dtype) {
        int V = 41, C = MatmulTest.cFor(dtype), N = TOKENS.length;
        StoredWeight sw = TestData.store(random(new Random(50), V * C, 1), dtype, V, C);
        Tensor out = cpu.allocate(N * C);
        cpu.embeddingForward(out, TOKENS, cpu.weight(sw.seg(), dtype, V, C), N, C);
        double[] expected = new double[N * C];
        for (int n = 0; n < N; n++) {
            System.arraycopy(sw.values(), TOKENS[n] * C, expected, n * C, C);
        }
        assertClose("out", expected, cpu.download(out), 0);
    }

    @Test
    void outOfRangeTokenIsRejected() {
        StoredWeight sw = TestData.store(new float[4 * 8], DType.F32, 4, 8);
        assertThrows(IllegalArgumentException.class,
                () -> cpu.embeddingForward(cpu.allocate(8), new int[] {4}, cpu.weight(sw.seg(), DType.F32, 4, 8), 1, 8));
    }

    /**
     * Every one of the 65536 half-precision bit patterns (infinities, subnormals, zeros) decodes bit for bit as
     * Float.float16ToFloat; NaNs stay NaN (whether a signalling NaN is quieted differs between the JDK's interpreted
     * and intrinsic conversions, so their payload bits are not compared).
     */
    @Test
    void f16DecodingIsExactForAllBitPatterns() {
        int C = 64, V = 65536 / C;
        StoredWeight sw = TestData.store(new float[V * C], DType.F16, V, C);
        for (int i = 0; i < 65536; i++) {
            sw.seg().set(TestData.I16, 2L * i, (short) i);
        }
        int[] all = new int[V];
        for (int i = 0; i < V; i++) {
            all[i] = i;
        }
        Tensor out = cpu.allocate(V * C);
        cpu.embeddingForward(out, all, cpu.weight(sw.seg(), DType.F16, V, C), V, C);
        float[] got = cpu.download(out);
        for (int i = 0; i < 65536; i++) {
            if (Float.isNaN(Float.float16ToFloat((short) i))) {
                assertTrue(Float.isNaN(got[i]), "half bits 0x" + Integer.toHexString(i) + " is NaN");
                continue;
            }
            assertEquals(Float.floatToRawIntBits(Float.float16ToFloat((short) i)), Float.floatToRawIntBits(got[i]),
                    "half bits 0x" + Integer.toHexString(i));
        }
    }
}
