package org.pairwise.accel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Host-side dtype conversions (little-endian, unaligned: tensors sit at arbitrary offsets inside model files). */
public final class DTypes {
    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private DTypes() {}

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Round to nearest even, as torch does when casting to bfloat16. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) 0x7fc0;
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** Value {@code i} of a tensor stored as {@code dtype} in {@code seg}. */
    public static float get(MemorySegment seg, DType dtype, long i) {
        return switch (dtype) {
            case F32 -> seg.getAtIndex(F32, i);
            case F16 -> Float.float16ToFloat(seg.getAtIndex(I16, i));
            case BF16 -> bf16ToFloat(seg.getAtIndex(I16, i));
            case Q8_0 -> {
                long block = i / 32;
                long base = block * DType.Q8_0.blockBytes;
                float d = Float.float16ToFloat(seg.get(I16, base));
                yield d * seg.get(ValueLayout.JAVA_BYTE, base + 2 + (i % 32));
            }
        };
    }

    /** The first {@code n} values as F32 (for small tensors: norms, biases). */
    public static float[] toFloats(MemorySegment seg, DType dtype, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = get(seg, dtype, i);
        }
        return out;
    }
}
