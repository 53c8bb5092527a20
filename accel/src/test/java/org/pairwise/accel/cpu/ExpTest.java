package org.pairwise.accel.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.pairwise.accel.cpu.Vec.F;
import static org.pairwise.accel.cpu.Vec.L;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * {@link Exp} against the correctly rounded exp (StrictMath.exp in double, rounded to float), and its scalar form
 * against each lane of its vector form, bit for bit. Measured: at most 1 ulp over every 7th float of [-104, 89]
 * (320 million inputs, subnormal results included; 0.8% of them 1 ulp off, the rest correctly rounded); the test
 * sweeps every 29th (77 million) to stay quick.
 */
class ExpTest {
    /** The largest error measured, in units in the last place of the reference. */
    static final int MAX_ULP = 1;

    @Test
    void withinOneUlpOfTheCorrectlyRoundedExpAndEveryLaneEqualsTheScalarForm() {
        float[] x = new float[L], y = new float[L];
        int worst = 0, n = 0, off = 0, fill = 0;
        float worstAt = Float.NaN;
        // Every 29th bit pattern of the negative floats down to -104, then of the positive ones up to 89.
        for (int sign = 0; sign < 2; sign++) {
            int end = Float.floatToRawIntBits(sign == 0 ? -Exp.LO : Exp.HI);
            for (int bits = 0; bits <= end; bits += 29) {
                x[fill++] = sign == 0 ? -Float.intBitsToFloat(bits) : Float.intBitsToFloat(bits);
                if (fill < L) {
                    continue;
                }
                fill = 0;
                Exp.exp(FloatVector.fromArray(F, x, 0)).intoArray(y, 0);
                for (int l = 0; l < L; l++) {
                    int e = ulps(y[l], reference(x[l]));
                    off += e == 0 ? 0 : 1;
                    if (e > worst) {
                        worst = e;
                        worstAt = x[l];
                    }
                    if (Float.floatToRawIntBits(Exp.exp(x[l])) != Float.floatToRawIntBits(y[l])) {
                        assertBits(y[l], Exp.exp(x[l]), x[l]);
                    }
                    n++;
                }
            }
        }
        System.out.printf("Exp.exp: %d inputs, %d not correctly rounded, max error %d ulp (at %s)%n", n, off, worst,
                worstAt);
        assertTrue(n > 75_000_000, "the sweep covered " + n + " inputs");
        assertTrue(worst <= MAX_ULP, "max error " + worst + " ulp at " + worstAt + " against the bound " + MAX_ULP);
    }

    @Test
    void edgeCasesRoundAsTheCorrectlyRoundedExpDoes() {
        float[] cases = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-30f, -1e-30f, 1e-8f, -1e-8f, 1f, -1f,
                // results near and below the smallest normal, and the smallest subnormals
                -87.3f, -87.33655f, -88f, -95f, -100f, -103f, -103.2789f, -103.9f, -103.97f, -104f,
                // the largest finite results, then overflow
                88f, 88.72f, 88.7228f, 88.72284f, 88.7229f, 89f};
        for (float c : cases) {
            float got = Exp.exp(c), want = reference(c);
            assertTrue(ulps(got, want) <= MAX_ULP, "exp(" + c + ") = " + got + " against " + want);
            assertBits(lanes(c), got, c);
        }
        assertBits(1f, Exp.exp(0f), 0f);
        assertBits(1f, Exp.exp(-0f), -0f);
        assertBits(0f, Exp.exp(-104.5f), -104.5f);
        assertBits(0f, Exp.exp(-1e30f), -1e30f);
        assertBits(0f, Exp.exp(Float.NEGATIVE_INFINITY), Float.NEGATIVE_INFINITY);
        assertBits(Float.POSITIVE_INFINITY, Exp.exp(89f), 89f);
        assertBits(Float.POSITIVE_INFINITY, Exp.exp(1e30f), 1e30f);
        assertBits(Float.POSITIVE_INFINITY, Exp.exp(Float.POSITIVE_INFINITY), Float.POSITIVE_INFINITY);
        assertTrue(Float.isNaN(Exp.exp(Float.NaN)), "exp(NaN) is NaN");
        assertTrue(Float.isNaN(lanes(Float.NaN)), "exp(NaN) is NaN in every lane");
        for (float c : new float[] {Float.NEGATIVE_INFINITY, -1e30f, 1e30f, Float.POSITIVE_INFINITY}) {
            assertBits(Exp.exp(c), lanes(c), c);
        }
        // a subnormal result is one rounding of the true value: exp(-100) = 3.72e-44, 26.6 times the smallest
        float sub = Exp.exp(-100f);
        assertTrue(sub > 0 && sub < Float.MIN_NORMAL, "exp(-100) is subnormal: " + sub);
        assertBits(reference(-100f), sub, -100f);
    }

    @Test
    void sigmoidLanesEqualItsScalarForm() {
        float[] g = new float[L], s = new float[L];
        for (int k = -2000; k < 2000; k += L) {
            for (int l = 0; l < L; l++) {
                g[l] = (k + l) * 0.0517f;
            }
            Exp.sigmoid(FloatVector.fromArray(F, g, 0)).intoArray(s, 0);
            for (int l = 0; l < L; l++) {
                assertBits(s[l], Exp.sigmoid(g[l]), g[l]);
                assertEquals(1 / (1 + StrictMath.exp(-g[l])), s[l], 3e-7, "sigmoid(" + g[l] + ")");
            }
        }
    }

    private static float reference(float x) {
        return (float) StrictMath.exp(x);
    }

    /** Every lane of the vector form given x in every lane, which must agree; returns that value. */
    private static float lanes(float x) {
        float[] y = new float[L];
        Exp.exp(FloatVector.broadcast(F, x)).intoArray(y, 0);
        for (int l = 1; l < L; l++) {
            assertBits(y[0], y[l], x);
        }
        return y[0];
    }

    // distance in representable floats between two non-negative values (both infinite counts as 0)
    private static int ulps(float a, float b) {
        return Math.abs(Float.floatToRawIntBits(a) - Float.floatToRawIntBits(b));
    }

    private static void assertBits(float want, float got, float x) {
        assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got),
                () -> "exp at " + x + ": " + got + " against " + want);
    }
}
