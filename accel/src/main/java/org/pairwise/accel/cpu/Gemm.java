package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.Vec.F;
import static org.pairwise.accel.cpu.Vec.L;

import jdk.incubator.vector.FloatVector;

/**
 * The register-tiled F32 accumulation behind matmul's gradients and the fused log-prob's backward. It reads row-major
 * heap arrays; weights in other dtypes are converted a few rows at a time into a scratch reused by every token.
 */
final class Gemm {
    private Gemm() {}

    /**
     * c_i[0..K) += sum over j < nJ of g(i,j) * b_j[0..K), with g(i,j) = g[gOff + i*gsI + j*gsJ], b_j at bOff + j*ldb,
     * c_i at cOff + i*ldc. Holds 4 rows x 2 vectors of c in registers across the whole j loop.
     */
    static void acc(float[] g, int gOff, int gsI, int gsJ, int nI, float[] b, int bOff, int ldb, int nJ, int K,
                    float[] c, int cOff, int ldc) {
        int i = 0;
        for (; i + 4 <= nI; i += 4) {
            acc4(g, gOff + i * gsI, gsI, gsJ, b, bOff, ldb, nJ, K, c, cOff + i * ldc, ldc);
        }
        for (; i < nI; i++) {
            acc1(g, gOff + i * gsI, gsJ, b, bOff, ldb, nJ, K, c, cOff + i * ldc);
        }
    }

    private static void acc4(float[] g, int g0, int gsI, int gsJ, float[] b, int bOff, int ldb, int nJ, int K,
                             float[] c, int c0, int ldc) {
        int c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        int g1 = g0 + gsI, g2 = g1 + gsI, g3 = g2 + gsI;
        int k = 0;
        for (int kEnd = K - 2 * L; k <= kEnd; k += 2 * L) {
            FloatVector r00 = FloatVector.fromArray(F, c, c0 + k), r01 = FloatVector.fromArray(F, c, c0 + k + L);
            FloatVector r10 = FloatVector.fromArray(F, c, c1 + k), r11 = FloatVector.fromArray(F, c, c1 + k + L);
            FloatVector r20 = FloatVector.fromArray(F, c, c2 + k), r21 = FloatVector.fromArray(F, c, c2 + k + L);
            FloatVector r30 = FloatVector.fromArray(F, c, c3 + k), r31 = FloatVector.fromArray(F, c, c3 + k + L);
            for (int j = 0, bj = bOff + k, gj = 0; j < nJ; j++, bj += ldb, gj += gsJ) {
                FloatVector v0 = FloatVector.fromArray(F, b, bj), v1 = FloatVector.fromArray(F, b, bj + L);
                FloatVector x = FloatVector.broadcast(F, g[g0 + gj]);
                r00 = v0.fma(x, r00); r01 = v1.fma(x, r01);
                x = FloatVector.broadcast(F, g[g1 + gj]);
                r10 = v0.fma(x, r10); r11 = v1.fma(x, r11);
                x = FloatVector.broadcast(F, g[g2 + gj]);
                r20 = v0.fma(x, r20); r21 = v1.fma(x, r21);
                x = FloatVector.broadcast(F, g[g3 + gj]);
                r30 = v0.fma(x, r30); r31 = v1.fma(x, r31);
            }
            r00.intoArray(c, c0 + k); r01.intoArray(c, c0 + k + L);
            r10.intoArray(c, c1 + k); r11.intoArray(c, c1 + k + L);
            r20.intoArray(c, c2 + k); r21.intoArray(c, c2 + k + L);
            r30.intoArray(c, c3 + k); r31.intoArray(c, c3 + k + L);
        }
        for (int kEnd = K - L; k <= kEnd; k += L) {
            FloatVector r0 = FloatVector.fromArray(F, c, c0 + k), r1 = FloatVector.fromArray(F, c, c1 + k);
            FloatVector r2 = FloatVector.fromArray(F, c, c2 + k), r3 = FloatVector.fromArray(F, c, c3 + k);
            for (int j = 0, bj = bOff + k, gj = 0; j < nJ; j++, bj += ldb, gj += gsJ) {
                FloatVector v = FloatVector.fromArray(F, b, bj);
                r0 = v.fma(FloatVector.broadcast(F, g[g0 + gj]), r0);
                r1 = v.fma(FloatVector.broadcast(F, g[g1 + gj]), r1);
                r2 = v.fma(FloatVector.broadcast(F, g[g2 + gj]), r2);
                r3 = v.fma(FloatVector.broadcast(F, g[g3 + gj]), r3);
            }
            r0.intoArray(c, c0 + k);
            r1.intoArray(c, c1 + k);
            r2.intoArray(c, c2 + k);
            r3.intoArray(c, c3 + k);
        }
        for (; k < K; k++) {
            float s0 = c[c0 + k], s1 = c[c1 + k], s2 = c[c2 + k], s3 = c[c3 + k];
            for (int j = 0, bj = bOff + k, gj = 0; j < nJ; j++, bj += ldb, gj += gsJ) {
                float v = b[bj];
                s0 += g[g0 + gj] * v;
                s1 += g[g1 + gj] * v;
                s2 += g[g2 + gj] * v;
                s3 += g[g3 + gj] * v;
            }
            c[c0 + k] = s0;
            c[c1 + k] = s1;
            c[c2 + k] = s2;
            c[c3 + k] = s3;
        }
    }

    private static void acc1(float[] g, int g0, int gsJ, float[] b, int bOff, int ldb, int nJ, int K,
                             float[] c, int c0) {
        int k = 0;
        for (int kEnd = K - L; k <= kEnd; k += L) {
            FloatVector r = FloatVector.fromArray(F, c, c0 + k);
            for (int j = 0, bj = bOff + k, gj = g0; j < nJ; j++, bj += ldb, gj += gsJ) {
                r = FloatVector.fromArray(F, b, bj).fma(FloatVector.broadcast(F, g[gj]), r);
            }
            r.intoArray(c, c0 + k);
        }
        for (; k < K; k++) {
            float s = c[c0 + k];
            for (int j = 0, bj = bOff + k, gj = g0; j < nJ; j++, bj += ldb, gj += gsJ) {
                s += g[gj] * b[bj];
            }
            c[c0 + k] = s;
        }
    }
}
