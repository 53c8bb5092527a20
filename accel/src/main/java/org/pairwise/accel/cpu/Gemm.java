package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.Vec.F;
import static org.pairwise.accel.cpu.Vec.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The two register-tiled F32 products behind matmul and the fused log-prob. Both read row-major heap arrays;
 * weights in other dtypes are converted a few rows at a time into a scratch that is then reused by every token.
 */
final class Gemm {
    private Gemm() {}

    /**
     * c[cOff + i*ldcI + j*ldcJ] = a_i . b_j over K, for i < nI, j < nJ; a_i starts at aOff + i*lda, b_j at
     * bOff + j*ldb. Tiles of 4 a-rows x 4 b-rows keep 16 accumulators in registers so each loaded vector is used 4 times.
     */
    static void dots(float[] a, int aOff, int lda, int nI, float[] b, int bOff, int ldb, int nJ, int K,
                     float[] c, int cOff, int ldcI, int ldcJ) {
        dots(a, aOff, lda, nI, b, bOff, ldb, nJ, K, c, cOff, ldcI, ldcJ, false);
    }

    /** As above; with {@code accumulate} the products are added to c (one K-block of a longer product). */
    static void dots(float[] a, int aOff, int lda, int nI, float[] b, int bOff, int ldb, int nJ, int K,
                     float[] c, int cOff, int ldcI, int ldcJ, boolean accumulate) {
        int j = 0;
        for (; j + 4 <= nJ; j += 4) {
            int i = 0;
            for (; i + 4 <= nI; i += 4) {
                tile4x4(a, aOff + i * lda, lda, b, bOff + j * ldb, ldb, K,
                        c, cOff + i * ldcI + j * ldcJ, ldcI, ldcJ, accumulate);
            }
            for (; i < nI; i++) {
                tile1x4(a, aOff + i * lda, b, bOff + j * ldb, ldb, K, c, cOff + i * ldcI + j * ldcJ, ldcJ,
                        accumulate);
            }
        }
        for (; j < nJ; j++) {
            for (int i = 0; i < nI; i++) {
                float v = Vec.dot(a, aOff + i * lda, b, bOff + j * ldb, K);
                c[cOff + i * ldcI + j * ldcJ] = accumulate ? c[cOff + i * ldcI + j * ldcJ] + v : v;
            }
        }
    }

    private static void tile4x4(float[] a, int a0, int lda, float[] b, int b0, int ldb, int K,
                                float[] c, int c0, int ldcI, int ldcJ, boolean acc) {
        int a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
        int b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
        FloatVector s20 = z, s21 = z, s22 = z, s23 = z, s30 = z, s31 = z, s32 = z, s33 = z;
        int k = 0;
        for (int kEnd = K - L; k <= kEnd; k += L) {
            FloatVector w0 = FloatVector.fromArray(F, b, b0 + k);
            FloatVector w1 = FloatVector.fromArray(F, b, b1 + k);
            FloatVector w2 = FloatVector.fromArray(F, b, b2 + k);
            FloatVector w3 = FloatVector.fromArray(F, b, b3 + k);
            FloatVector x = FloatVector.fromArray(F, a, a0 + k);
            s00 = x.fma(w0, s00); s01 = x.fma(w1, s01); s02 = x.fma(w2, s02); s03 = x.fma(w3, s03);
            x = FloatVector.fromArray(F, a, a1 + k);
            s10 = x.fma(w0, s10); s11 = x.fma(w1, s11); s12 = x.fma(w2, s12); s13 = x.fma(w3, s13);
            x = FloatVector.fromArray(F, a, a2 + k);
            s20 = x.fma(w0, s20); s21 = x.fma(w1, s21); s22 = x.fma(w2, s22); s23 = x.fma(w3, s23);
            x = FloatVector.fromArray(F, a, a3 + k);
            s30 = x.fma(w0, s30); s31 = x.fma(w1, s31); s32 = x.fma(w2, s32); s33 = x.fma(w3, s33);
        }
        put(c, c0, s00, a, a0, b, b0, k, K, acc); put(c, c0 + ldcJ, s01, a, a0, b, b1, k, K, acc);
        put(c, c0 + 2 * ldcJ, s02, a, a0, b, b2, k, K, acc); put(c, c0 + 3 * ldcJ, s03, a, a0, b, b3, k, K, acc);
        c0 += ldcI;
        put(c, c0, s10, a, a1, b, b0, k, K, acc); put(c, c0 + ldcJ, s11, a, a1, b, b1, k, K, acc);
        put(c, c0 + 2 * ldcJ, s12, a, a1, b, b2, k, K, acc); put(c, c0 + 3 * ldcJ, s13, a, a1, b, b3, k, K, acc);
        c0 += ldcI;
        put(c, c0, s20, a, a2, b, b0, k, K, acc); put(c, c0 + ldcJ, s21, a, a2, b, b1, k, K, acc);
        put(c, c0 + 2 * ldcJ, s22, a, a2, b, b2, k, K, acc); put(c, c0 + 3 * ldcJ, s23, a, a2, b, b3, k, K, acc);
        c0 += ldcI;
        put(c, c0, s30, a, a3, b, b0, k, K, acc); put(c, c0 + ldcJ, s31, a, a3, b, b1, k, K, acc);
        put(c, c0 + 2 * ldcJ, s32, a, a3, b, b2, k, K, acc); put(c, c0 + 3 * ldcJ, s33, a, a3, b, b3, k, K, acc);
    }

    private static void tile1x4(float[] a, int a0, float[] b, int b0, int ldb, int K, float[] c, int c0, int ldcJ,
                                boolean acc) {
        int b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int k = 0;
        for (int kEnd = K - L; k <= kEnd; k += L) {
            FloatVector x = FloatVector.fromArray(F, a, a0 + k);
            s0 = x.fma(FloatVector.fromArray(F, b, b0 + k), s0);
            s1 = x.fma(FloatVector.fromArray(F, b, b1 + k), s1);
            s2 = x.fma(FloatVector.fromArray(F, b, b2 + k), s2);
            s3 = x.fma(FloatVector.fromArray(F, b, b3 + k), s3);
        }
        put(c, c0, s0, a, a0, b, b0, k, K, acc); put(c, c0 + ldcJ, s1, a, a0, b, b1, k, K, acc);
        put(c, c0 + 2 * ldcJ, s2, a, a0, b, b2, k, K, acc); put(c, c0 + 3 * ldcJ, s3, a, a0, b, b3, k, K, acc);
    }

    // Reduces the lanes and adds the scalar tail k..K that did not fill a vector.
    private static void put(float[] c, int ci, FloatVector s, float[] a, int ai, float[] b, int bi, int k, int K,
                            boolean acc) {
        float v = Vec.sumLanes(s);
        for (; k < K; k++) {
            v += a[ai + k] * b[bi + k];
        }
        c[ci] = acc ? c[ci] + v : v;
    }

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
