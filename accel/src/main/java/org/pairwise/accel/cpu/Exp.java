package org.pairwise.accel.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * exp for float lanes, built only from operations IEEE 754 rounds one way (add, sub, mul, fma, min, max and integer
 * bit moves), so the interpreter, C1 (the Vector API's Java fallback, lane by lane) and C2 (intrinsics) give the same
 * bits. {@code lanewise(EXP)} does not: C2 calls SVML, the fallback {@code Math.exp}, and they differ in the last bit
 * for some inputs, which made a training run depend on how warm the JVM was. The scalar form computes exactly what
 * one lane does, so vector loops' scalar tails agree with their lanes.
 *
 * <p>exp(x) = 2^n exp(r), n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2] (Cody-Waite: ln 2 split in a float
 * and its remainder, each product taken by an fma), exp(r) = 1 + r + r^2 P(r) with P of degree 4 fitted minimax for
 * relative error (Remez, 3.1e-9 before rounding the coefficients to float), 2^n applied as two exact powers of two so
 * results down to the subnormals round once. Inputs are clamped to [-104, 89]: below, exp rounds to 0; above, to +inf;
 * NaN stays NaN. Accuracy against the correctly rounded exp: {@code ExpTest}.
 */
final class Exp {
    private Exp() {}

    static final float LOG2E = 0x1.715476p0f;
    static final float LN2_HI = 0x1.62e430p-1f;
    static final float LN2_LO = -0x1.05c610p-29f;
    /** 1.5 * 2^23: adding it rounds to an integer, which lands in the low mantissa bits. */
    static final float SHIFTER = 0x1.8p23f;
    static final int SHIFTER_BITS = 0x4b400000;
    static final float LO = -104f, HI = 89f;
    static final float C2 = 0x1.fffffcp-2f, C3 = 0x1.555492p-3f, C4 = 0x1.5558f2p-5f, C5 = 0x1.1239d4p-7f,
            C6 = 0x1.6a244cp-10f;

    static FloatVector exp(FloatVector v) {
        FloatVector x = v.max(LO).min(HI);
        FloatVector t = x.fma(LOG2E, SHIFTER);
        FloatVector n = t.sub(SHIFTER);
        FloatVector r = n.fma(bc(-LN2_HI), x);
        r = n.fma(bc(-LN2_LO), r);
        FloatVector p = r.fma(C6, C5).fma(r, bc(C4)).fma(r, bc(C3)).fma(r, bc(C2));
        FloatVector y = r.mul(r).fma(p, r).add(1f);
        IntVector k = t.reinterpretAsInts().sub(SHIFTER_BITS);
        IntVector k1 = k.lanewise(VectorOperators.ASHR, 1);
        IntVector k2 = k.sub(k1);
        return y.mul(k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
    }

    static float exp(float v) {
        float x = Math.min(Math.max(v, LO), HI);
        float t = Math.fma(x, LOG2E, SHIFTER);
        float n = t - SHIFTER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(r, C6, C5), r, C4), r, C3), r, C2);
        float y = Math.fma(r * r, p, r) + 1f;
        int k = Float.floatToRawIntBits(t) - SHIFTER_BITS;
        int k1 = k >> 1, k2 = k - k1;
        return y * Float.intBitsToFloat((k1 + 127) << 23) * Float.intBitsToFloat((k2 + 127) << 23);
    }

    private static FloatVector bc(float c) {
        return FloatVector.broadcast(Vec.F, c);
    }

    /** 1 / (1 + exp(-g)), lane by lane as {@link #sigmoid(float)}. */
    static FloatVector sigmoid(FloatVector g) {
        return bc(1f).div(exp(g.neg()).add(1f));
    }

    static float sigmoid(float g) {
        return 1f / (exp(-g) + 1f);
    }
}
