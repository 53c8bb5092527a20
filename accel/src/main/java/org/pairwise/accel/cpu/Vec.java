package org.pairwise.accel.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector species and the small loops every kernel shares. Loads from weight segments widen BF16/F16/Q8_0 in
 * registers, so a matrix is never converted as a whole; all of them are little-endian and tolerate misalignment
 * (tensors inside GGUF/safetensors files need not be 4-byte aligned).
 */
final class Vec {
    private Vec() {}

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** Same lane count as {@link #F}, so one load of stored halves widens to one float vector. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(L * 32));
    /** Null below 8 lanes (there is no 32-bit byte vector); Q8_0 then takes its scalar path. */
    static final VectorSpecies<Byte> B = L >= 8 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    // Lane i is added to lane i ^ h for h = L/2 .. 1: a fixed tree, the same in every JIT tier (reduceLanes leaves the
    // order to the implementation, and the interpreter's differs from compiled code's), so a sum never changes
    // between an early call and a later one.
    private static final VectorShuffle<Float> X1 = VectorShuffle.fromOp(F, i -> i ^ 1);
    private static final VectorShuffle<Float> X2 = VectorShuffle.fromOp(F, i -> i ^ 2 & (L - 1));
    private static final VectorShuffle<Float> X4 = VectorShuffle.fromOp(F, i -> i ^ 4 & (L - 1));
    private static final VectorShuffle<Float> X8 = VectorShuffle.fromOp(F, i -> i ^ 8 & (L - 1));

    // An 8 x 8 transposition by swapping off-diagonal blocks of 4, 2, then 1 lanes: for block size d, the lanes with
    // bit d set (mask) and lane k taking lane k - d (up) or k + d (down). Constants, so C2 compiles every blend and
    // rearrange to one instruction.
    private static final VectorMask<Float> M4 = high(4), M2 = high(2), M1 = high(1);
    private static final VectorShuffle<Float> U4 = shift(-4), U2 = shift(-2), U1 = shift(-1);
    private static final VectorShuffle<Float> D4 = shift(4), D2 = shift(2), D1 = shift(1);

    private static VectorMask<Float> high(int d) {
        boolean[] bits = new boolean[L];
        for (int k = 0; k < L; k++) {
            bits[k] = (k & d) != 0;
        }
        return VectorMask.fromArray(F, bits, 0);
    }

    private static VectorShuffle<Float> shift(int by) {
        return VectorShuffle.fromOp(F, k -> (k + by) & (L - 1));
    }

    /** Whether {@link #transpose8} works with this vector width. */
    static final boolean TRANSPOSE8 = L == 8;

    /** dst[dstOff + i*ldd + k] = src[srcOff + k*lds + i] for i, k &lt; 8, in registers (needs 8 lanes). */
    static void transpose8(float[] src, int srcOff, int lds, float[] dst, int dstOff, int ldd) {
        FloatVector r0 = FloatVector.fromArray(F, src, srcOff), r1 = FloatVector.fromArray(F, src, srcOff + lds);
        FloatVector r2 = FloatVector.fromArray(F, src, srcOff + 2 * lds), r3 = FloatVector.fromArray(F, src, srcOff + 3 * lds);
        FloatVector r4 = FloatVector.fromArray(F, src, srcOff + 4 * lds), r5 = FloatVector.fromArray(F, src, srcOff + 5 * lds);
        FloatVector r6 = FloatVector.fromArray(F, src, srcOff + 6 * lds), r7 = FloatVector.fromArray(F, src, srcOff + 7 * lds);
        FloatVector t;
        t = r0.blend(r4.rearrange(U4), M4); r4 = r0.rearrange(D4).blend(r4, M4); r0 = t;
        t = r1.blend(r5.rearrange(U4), M4); r5 = r1.rearrange(D4).blend(r5, M4); r1 = t;
        t = r2.blend(r6.rearrange(U4), M4); r6 = r2.rearrange(D4).blend(r6, M4); r2 = t;
        t = r3.blend(r7.rearrange(U4), M4); r7 = r3.rearrange(D4).blend(r7, M4); r3 = t;
        t = r0.blend(r2.rearrange(U2), M2); r2 = r0.rearrange(D2).blend(r2, M2); r0 = t;
        t = r1.blend(r3.rearrange(U2), M2); r3 = r1.rearrange(D2).blend(r3, M2); r1 = t;
        t = r4.blend(r6.rearrange(U2), M2); r6 = r4.rearrange(D2).blend(r6, M2); r4 = t;
        t = r5.blend(r7.rearrange(U2), M2); r7 = r5.rearrange(D2).blend(r7, M2); r5 = t;
        t = r0.blend(r1.rearrange(U1), M1); r1 = r0.rearrange(D1).blend(r1, M1); r0 = t;
        t = r2.blend(r3.rearrange(U1), M1); r3 = r2.rearrange(D1).blend(r3, M1); r2 = t;
        t = r4.blend(r5.rearrange(U1), M1); r5 = r4.rearrange(D1).blend(r5, M1); r4 = t;
        t = r6.blend(r7.rearrange(U1), M1); r7 = r6.rearrange(D1).blend(r7, M1); r6 = t;
        r0.intoArray(dst, dstOff);
        r1.intoArray(dst, dstOff + ldd);
        r2.intoArray(dst, dstOff + 2 * ldd);
        r3.intoArray(dst, dstOff + 3 * ldd);
        r4.intoArray(dst, dstOff + 4 * ldd);
        r5.intoArray(dst, dstOff + 5 * ldd);
        r6.intoArray(dst, dstOff + 6 * ldd);
        r7.intoArray(dst, dstOff + 7 * ldd);
    }

    /** The sum of v's lanes, in a fixed order. */
    static float sumLanes(FloatVector v) {
        // Spelled out, not one fold taking the operator: lanewise(op) with an operator C2 cannot see as a constant
        // runs the Java fallback (a DPO step was 1.4x slower that way).
        if (L >= 16) {
            v = v.add(v.rearrange(X8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(X4));
        }
        if (L >= 4) {
            v = v.add(v.rearrange(X2));
        }
        if (L >= 2) {
            v = v.add(v.rearrange(X1));
        }
        return v.lane(0);
    }

    /** The largest of v's lanes, in the same fixed order as {@link #sumLanes}. */
    static float maxLanes(FloatVector v) {
        if (L >= 16) {
            v = v.max(v.rearrange(X8));
        }
        if (L >= 8) {
            v = v.max(v.rearrange(X4));
        }
        if (L >= 4) {
            v = v.max(v.rearrange(X2));
        }
        if (L >= 2) {
            v = v.max(v.rearrange(X1));
        }
        return v.lane(0);
    }

    static FloatVector f32(MemorySegment seg, long off) {
        return FloatVector.fromMemorySegment(F, seg, off, LE);
    }

    // bf16 is the top half of an f32: widen each short and shift it into place.
    static FloatVector bf16(MemorySegment seg, long off) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, seg, off, LE).convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    static float bf16(short h) {
        return Float.intBitsToFloat(h << 16);
    }

    // f16 -> f32 exactly (as Float.float16ToFloat): move exponent+mantissa into f32 position and rescale by 2^112,
    // which also renormalises subnormals; inf/NaN keep an all-ones exponent.
    static FloatVector f16(MemorySegment seg, long off) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, seg, off, LE).convertShape(VectorOperators.S2I, I, 0);
        IntVector em = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
        IntVector mag = em.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = h.and(0x7c00).eq(0x7c00);
        IntVector bits = mag.blend(em.or(0x7f800000), special);
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    static FloatVector i8(MemorySegment seg, long off) {
        return (FloatVector) ByteVector.fromMemorySegment(B, seg, off, LE).convertShape(VectorOperators.B2F, F, 0);
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        float s = 0f;
        if (n >= L) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            for (int iEnd = n - 2 * L; i <= iEnd; i += 2 * L) {
                acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
                acc1 = FloatVector.fromArray(F, a, aOff + i + L).fma(FloatVector.fromArray(F, b, bOff + i + L), acc1);
            }
            for (int iEnd = n - L; i <= iEnd; i += L) {
                acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
            }
            s = sumLanes(acc0.add(acc1));
        }
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /** two[0] = a . b, two[1] = c . d over n floats, four accumulators each (the decode kernels' summation order). */
    static void dot2(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, float[] d, int dOff, int n,
                     float[] two) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int i = 0;
        for (int iEnd = n - 4 * L; i <= iEnd; i += 4 * L) {
            a0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), a0);
            b0 = FloatVector.fromArray(F, c, cOff + i).fma(FloatVector.fromArray(F, d, dOff + i), b0);
            a1 = FloatVector.fromArray(F, a, aOff + i + L).fma(FloatVector.fromArray(F, b, bOff + i + L), a1);
            b1 = FloatVector.fromArray(F, c, cOff + i + L).fma(FloatVector.fromArray(F, d, dOff + i + L), b1);
            a2 = FloatVector.fromArray(F, a, aOff + i + 2 * L).fma(FloatVector.fromArray(F, b, bOff + i + 2 * L), a2);
            b2 = FloatVector.fromArray(F, c, cOff + i + 2 * L).fma(FloatVector.fromArray(F, d, dOff + i + 2 * L), b2);
            a3 = FloatVector.fromArray(F, a, aOff + i + 3 * L).fma(FloatVector.fromArray(F, b, bOff + i + 3 * L), a3);
            b3 = FloatVector.fromArray(F, c, cOff + i + 3 * L).fma(FloatVector.fromArray(F, d, dOff + i + 3 * L), b3);
        }
        for (int iEnd = n - L; i <= iEnd; i += L) {
            a0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), a0);
            b0 = FloatVector.fromArray(F, c, cOff + i).fma(FloatVector.fromArray(F, d, dOff + i), b0);
        }
        float sa = sumLanes(a0.add(a1).add(a2.add(a3)));
        float sb = sumLanes(b0.add(b1).add(b2.add(b3)));
        for (; i < n; i++) {
            sa += a[aOff + i] * b[bOff + i];
            sb += c[cOff + i] * d[dOff + i];
        }
        two[0] = sa;
        two[1] = sb;
    }

    // y[yOff..+n) += alpha * x[xOff..+n)
    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(F, alpha);
        for (int iEnd = n - L; i <= iEnd; i += L) {
            va.fma(FloatVector.fromArray(F, x, xOff + i), FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    static float sum(float[] a, int off, int n) {
        int i = 0;
        float s = 0f;
        if (n >= L) {
            FloatVector acc = FloatVector.zero(F);
            for (int iEnd = n - L; i <= iEnd; i += L) {
                acc = acc.add(FloatVector.fromArray(F, a, off + i));
            }
            s = sumLanes(acc);
        }
        for (; i < n; i++) {
            s += a[off + i];
        }
        return s;
    }

    static float max(float[] a, int off, int n) {
        int i = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (n >= L) {
            FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int iEnd = n - L; i <= iEnd; i += L) {
                acc = acc.max(FloatVector.fromArray(F, a, off + i));
            }
            m = maxLanes(acc);
        }
        for (; i < n; i++) {
            m = Math.max(m, a[off + i]);
        }
        return m;
    }

    // a[off..+n) = exp(a - shift); returns their sum
    static float expShifted(float[] a, int off, int n, float shift) {
        int i = 0;
        float s = 0f;
        if (n >= L) {
            FloatVector vs = FloatVector.broadcast(F, shift);
            FloatVector acc = FloatVector.zero(F);
            for (int iEnd = n - L; i <= iEnd; i += L) {
                FloatVector e = FloatVector.fromArray(F, a, off + i).sub(vs);
                e = Exp.exp(e);
                e.intoArray(a, off + i);
                acc = acc.add(e);
            }
            s = sumLanes(acc);
        }
        for (; i < n; i++) {
            float e = Exp.exp(a[off + i] - shift);
            a[off + i] = e;
            s += e;
        }
        return s;
    }

    // a[off..+n) *= s
    static void scale(float[] a, int off, int n, float s) {
        int i = 0;
        for (int iEnd = n - L; i <= iEnd; i += L) {
            FloatVector.fromArray(F, a, off + i).mul(s).intoArray(a, off + i);
        }
        for (; i < n; i++) {
            a[off + i] *= s;
        }
    }
}
