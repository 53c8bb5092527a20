package org.pairwise.accel.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.function.ToDoubleFunction;
import org.pairwise.accel.DType;

/** Random inputs, quantised test weights, finite differences and tolerant comparisons. */
final class TestData {
    private TestData() {}

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static float[] random(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    static double[] d(float[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    /** A stored weight and the values it decodes to (what the reference multiplies by). */
    record StoredWeight(MemorySegment seg, DType dtype, int rows, int cols, double[] values) {}

    /**
     * Quantises {@code src} to {@code dtype} in a segment that starts one byte past an allocation, so every F32,
     * F16 and BF16 value is misaligned as it may be inside a GGUF or safetensors file.
     */
    static StoredWeight store(float[] src, DType dtype, int rows, int cols) {
        long bytes = dtype.bytesFor((long) rows * cols);
        MemorySegment seg = Arena.ofAuto().allocate(bytes + 1, 8).asSlice(1, bytes);
        double[] values = new double[src.length];
        switch (dtype) {
            case F32 -> {
                for (int i = 0; i < src.length; i++) {
                    seg.set(F32, 4L * i, src[i]);
                    values[i] = src[i];
                }
            }
            case F16 -> {
                for (int i = 0; i < src.length; i++) {
                    short h = Float.floatToFloat16(src[i]);
                    seg.set(I16, 2L * i, h);
                    values[i] = Float.float16ToFloat(h);
                }
            }
            case BF16 -> {
                for (int i = 0; i < src.length; i++) {
                    int bits = Float.floatToRawIntBits(src[i]);
                    short h = (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
                    seg.set(I16, 2L * i, h);
                    values[i] = Float.intBitsToFloat(h << 16);
                }
            }
            case Q8_0 -> {
                // As llama.cpp's quantize_row_q8_0: d = amax/127, q = round(x/d); decoding uses the f16-rounded d.
                for (int blk = 0; blk < src.length / 32; blk++) {
                    double amax = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(src[blk * 32 + j]));
                    }
                    float dd = (float) (amax / 127);
                    float id = dd != 0 ? 1f / dd : 0f;
                    short d16 = Float.floatToFloat16(dd);
                    long off = 34L * blk;
                    seg.set(I16, off, d16);
                    for (int j = 0; j < 32; j++) {
                        int q = Math.round(src[blk * 32 + j] * id);
                        q = Math.max(-128, Math.min(127, q));
                        seg.set(ValueLayout.JAVA_BYTE, off + 2 + j, (byte) q);
                        values[blk * 32 + j] = Float.float16ToFloat(d16) * q;
                    }
                }
            }
        }
        return new StoredWeight(seg, dtype, rows, cols, values);
    }

    /** Central differences of a double-valued loss with respect to every element of x. */
    static double[] gradient(ToDoubleFunction<double[]> loss, double[] x) {
        double[] g = new double[x.length];
        double eps = 1e-4;
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + eps;
            double up = loss.applyAsDouble(x);
            x[i] = keep - eps;
            double down = loss.applyAsDouble(x);
            x[i] = keep;
            g[i] = (up - down) / (2 * eps);
        }
        return g;
    }

    static double dotLoss(double[] out, double[] g) {
        double s = 0;
        for (int i = 0; i < out.length; i++) {
            s += out[i] * g[i];
        }
        return s;
    }

    /** |actual - expected| <= tol * (1 + |expected|) everywhere, naming the first element that is not. */
    static void assertClose(String what, double[] expected, float[] actual, double tol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i]));
            if (!(err <= tol)) {
                fail(what + "[" + i + "]: got " + actual[i] + ", expected " + expected[i] + " (tolerance " + tol + ")");
            }
        }
    }

    static void assertClose(String what, float[] expected, float[] actual, double tol) {
        assertClose(what, d(expected), actual, tol);
    }
}
