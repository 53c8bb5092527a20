package org.pairwise.model.load;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.pairwise.accel.DType;
import org.pairwise.accel.DTypes;

/**
 * Encoding and decoding of stored tensors. Every file format here is little-endian, and mapped tensors need not be
 * aligned to their element size, hence the unaligned layouts.
 */
public final class Tensors {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Tensors() {}

    /** A heap tensor holding {@code values} stored as {@code dtype} (F32, BF16 or F16; rounding to nearest even). */
    public static TensorData of(String name, DType dtype, long[] shape, float[] values) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != values.length) {
            throw new IllegalArgumentException(name + ": " + values.length + " values for a shape of " + n);
        }
        MemorySegment seg = MemorySegment.ofArray(new byte[Math.toIntExact(dtype.bytesFor(n))]);
        for (int i = 0; i < values.length; i++) {
            switch (dtype) {
                case F32 -> seg.setAtIndex(F32, i, values[i]);
                case BF16 -> seg.setAtIndex(U16, i, DTypes.floatToBf16(values[i]));
                case F16 -> seg.setAtIndex(U16, i, Float.floatToFloat16(values[i]));
                default -> throw new IllegalArgumentException("cannot encode " + dtype);
            }
        }
        return new TensorData(name, dtype, shape.clone(), seg);
    }

    /** All values widened to F32 (Q8_0 dequantized). Copies onto the heap: for tests and small tensors. */
    public static float[] toFloats(TensorData t) {
        int n = Math.toIntExact(t.numel());
        float[] out = new float[n];
        MemorySegment seg = t.data();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(seg, F32, 0, out, 0, n);
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = DTypes.bf16ToFloat(seg.getAtIndex(U16, i));
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.float16ToFloat(seg.getAtIndex(U16, i));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long base = (long) b * DType.Q8_0.blockBytes;
                    float scale = Float.float16ToFloat(seg.get(U16, base));
                    for (int j = 0; j < 32; j++) {
                        out[b * 32 + j] = scale * seg.get(ValueLayout.JAVA_BYTE, base + 2 + j);
                    }
                }
            }
        }
        return out;
    }

    /** Bytes of a tensor of this dtype and shape; for block types the innermost dimension must fill whole blocks. */
    static long byteSize(String name, DType dtype, long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(name + ": negative dimension in " + java.util.Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        if (dtype.blockSize > 1 && shape.length > 0 && shape[shape.length - 1] % dtype.blockSize != 0) {
            throw new IllegalArgumentException(name + ": " + dtype + " rows must be a multiple of " + dtype.blockSize
                    + " values, shape " + java.util.Arrays.toString(shape));
        }
        return dtype.bytesFor(n);
    }
}
