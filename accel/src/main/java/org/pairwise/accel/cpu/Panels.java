package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.Vec.F;
import static org.pairwise.accel.cpu.Vec.L;

import jdk.incubator.vector.FloatVector;

/**
 * The prefill product c (N,OC) = x (N,K) @ w (OC,K)^T as outer products: x is packed once per call into k-major
 * panels of {@link #MR} tokens (two vectors), and each k step of the kernel loads those two vectors and broadcasts one
 * weight of each of {@link #NR} rows: 12 independent FMA chains, 15 vector registers (AVX2 has 16), no horizontal
 * sums. Weight rows are read as F32 rows (a converted block), so every storage type shares the kernel.
 */
final class Panels {
    private Panels() {}

    /** Tokens per panel: two vectors. */
    static final int MR = 2 * L;
    /** Weight rows per kernel call. */
    static final int NR = 6;

    /** Columns per K chunk: a panel chunk (MR x KC floats, 16 KiB) stays in L1 beside the weight rows it meets. */
    static final int KC = 4096 / MR;

    /** Weight rows per block: a multiple of NR whose K chunk (rows x KC floats) is about 96 KiB, for L2. */
    static int rowBlock(int C) {
        return Math.max(1, 24576 / Math.min(C, KC) / NR) * NR;
    }

    /**
     * One thread's buffers for a block of weight rows against all packed tokens, borrowed from a {@link Scratch}
     * until {@link #release}: the block's rows one K chunk at a time and the block's results, transposed:
     * ct[j*np + t] = row (o0 + j) . token t.
     */
    static final class Block {
        final int rb;
        final int kc;
        final int np;
        final float[] wb;
        final float[] ct;
        private final Scratch scratch;

        Block(Scratch scratch, int rb, int C, int n) {
            this.scratch = scratch;
            this.rb = rb;
            this.kc = Math.min(C, KC);
            this.np = (n + MR - 1) / MR * MR;
            this.wb = scratch.take((rb + NR) * kc);
            this.ct = scratch.take((rb + NR) * np);
        }

        /** Fills ct for rows o0 .. o0+rows of w (rows &lt;= rb) against the packed tokens xp of C columns. */
        void compute(float[] xp, CpuWeight w, int o0, int rows) {
            int C = w.cols;
            // The kernel reads whole groups of NR rows: those past the weight's end are zeros.
            java.util.Arrays.fill(wb, rows * kc, groups(rows) * kc, 0f);
            for (int k0 = 0; k0 < C; k0 += kc) {
                int K = Math.min(kc, C - k0);
                for (int j = 0; j < rows; j++) {
                    w.rowTo(o0 + j, k0, K, wb, j * kc);
                }
                for (int t0 = 0; t0 < np; t0 += MR) {
                    for (int g = 0; g < rows; g += NR) {
                        kernel(xp, t0 * C + k0 * MR, wb, g * kc, kc, K, ct, g * np + t0, np, k0 > 0);
                    }
                }
            }
        }

        /**
         * As {@link #compute}, from rows already converted: row j at wf[j*C ..], for j below rows rounded up to NR
         * (rows past the end zero). The same sums in the same order, so the same bits.
         */
        void computeFrom(float[] xp, float[] wf, int C, int rows) {
            java.util.Arrays.fill(wf, rows * C, groups(rows) * C, 0f);
            for (int k0 = 0; k0 < C; k0 += kc) {
                int K = Math.min(kc, C - k0);
                for (int t0 = 0; t0 < np; t0 += MR) {
                    for (int g = 0; g < rows; g += NR) {
                        kernel(xp, t0 * C + k0 * MR, wf, g * C + k0, C, K, ct, g * np + t0, np, k0 > 0);
                    }
                }
            }
        }

        void release() {
            scratch.give(wb);
            scratch.give(ct);
        }
    }

    /** rows rounded up to whole groups of NR. */
    static int groups(int rows) {
        return (rows + NR - 1) / NR * NR;
    }

    /** Floats needed to pack n tokens of K columns (whole panels). */
    static int packedSize(int n, int K) {
        return (n + MR - 1) / MR * MR * K;
    }

    /** x (n,K) packed into panels, in parallel over panels, in a buffer from par's scratch (give it back). */
    static float[] pack(Parallel par, float[] x, int n, int K) {
        float[] p = par.scratch.take(packedSize(n, K));
        int panels = (n + MR - 1) / MR;
        par.forRange(panels, 1, (long) n * K * 8, (p0, p1) -> {
            int n0 = p0 * MR, n1 = Math.min(n, p1 * MR);
            pack(x, n0 * K, K, n1 - n0, K, p, p0 * MR * K);
        });
        return p;
    }

    /**
     * out[n*ldo + o0 + j] = ct[j*ldct + n] + bias[o0 + j] (no bias when null), for n &lt; N, j &lt; rows: a block of
     * results back to (tokens, rows).
     */
    static void untranspose(float[] ct, int ldct, int rows, int N, float[] out, int o0, int ldo, float[] bias) {
        // Whole 8 x 8 squares in registers where vectors have 8 lanes; the rest (and other widths) lane by lane.
        int jv = Vec.TRANSPOSE8 ? rows / 8 * 8 : 0, nv = Vec.TRANSPOSE8 ? N / 8 * 8 : 0;
        for (int j0 = 0; j0 < jv; j0 += 8) {
            for (int n0 = 0; n0 < nv; n0 += 8) {
                Vec.transpose8(ct, j0 * ldct + n0, ldct, out, n0 * ldo + o0 + j0, ldo);
            }
        }
        if (bias != null) {
            for (int n = 0; n < nv; n++) {
                Vec.axpy(1f, bias, o0, out, n * ldo + o0, jv);
            }
        }
        // The edges: rows past the last whole vector, tokens past the last whole vector.
        for (int n = 0; n < N; n++) {
            int dst = n * ldo + o0;
            for (int j = n < nv ? jv : 0; j < rows; j++) {
                out[dst + j] = ct[j * ldct + n] + (bias == null ? 0f : bias[o0 + j]);
            }
        }
    }

    /**
     * p[panel][k][t] = x[xOff + (panel*MR + t)*ldx + k] for tokens t of each panel, k < K; tokens past n are zero.
     * Panel i starts at pOff + i*MR*K.
     */
    static void pack(float[] x, int xOff, int ldx, int n, int K, float[] p, int pOff) {
        int panels = (n + MR - 1) / MR;
        for (int pi = 0; pi < panels; pi++) {
            int base = pOff + pi * MR * K;
            int nt = Math.min(MR, n - pi * MR);
            for (int t = 0; t < nt; t++) {
                int src = xOff + (pi * MR + t) * ldx;
                for (int k = 0, d = base + t; k < K; k++, d += MR) {
                    p[d] = x[src + k];
                }
            }
            for (int t = nt; t < MR; t++) {
                for (int k = 0, d = base + t; k < K; k++, d += MR) {
                    p[d] = 0f;
                }
            }
        }
    }

    /**
     * ct[ctOff + j*ldct + t] (+)= sum over k &lt; K of p[pOff + k*MR + t] * w[wOff + j*ldw + k], for the MR tokens t of
     * a panel and j &lt; NR rows: the result is stored transposed (row-major by weight row), as whole vectors.
     */
    static void kernel(float[] p, int pOff, float[] w, int wOff, int ldw, int K, float[] ct, int ctOff, int ldct,
                       boolean accumulate) {
        // Sums run over KS columns in registers, then add into ct: short float chains keep the rounding error near
        // that of a lane-split dot product (one chain over all of K would be several times worse).
        for (int k0 = 0; k0 < K; k0 += KS) {
            sub(p, pOff + k0 * MR, w, wOff + k0, ldw, Math.min(KS, K - k0), ct, ctOff, ldct, accumulate || k0 > 0);
        }
    }

    /** Columns summed in registers before they are added to the results. */
    static final int KS = 64;

    private static void sub(float[] p, int pOff, float[] w, int wOff, int ldw, int K, float[] ct, int ctOff, int ldct,
                            boolean accumulate) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z;
        FloatVector b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z;
        int w1 = wOff + ldw, w2 = w1 + ldw, w3 = w2 + ldw, w4 = w3 + ldw, w5 = w4 + ldw;
        for (int k = 0; k < K; k++) {
            int pk = pOff + k * MR;
            FloatVector x0 = FloatVector.fromArray(F, p, pk);
            FloatVector x1 = FloatVector.fromArray(F, p, pk + L);
            FloatVector s = FloatVector.broadcast(F, w[wOff + k]);
            a0 = x0.fma(s, a0);
            b0 = x1.fma(s, b0);
            s = FloatVector.broadcast(F, w[w1 + k]);
            a1 = x0.fma(s, a1);
            b1 = x1.fma(s, b1);
            s = FloatVector.broadcast(F, w[w2 + k]);
            a2 = x0.fma(s, a2);
            b2 = x1.fma(s, b2);
            s = FloatVector.broadcast(F, w[w3 + k]);
            a3 = x0.fma(s, a3);
            b3 = x1.fma(s, b3);
            s = FloatVector.broadcast(F, w[w4 + k]);
            a4 = x0.fma(s, a4);
            b4 = x1.fma(s, b4);
            s = FloatVector.broadcast(F, w[w5 + k]);
            a5 = x0.fma(s, a5);
            b5 = x1.fma(s, b5);
        }
        store(ct, ctOff, a0, b0, accumulate);
        store(ct, ctOff + ldct, a1, b1, accumulate);
        store(ct, ctOff + 2 * ldct, a2, b2, accumulate);
        store(ct, ctOff + 3 * ldct, a3, b3, accumulate);
        store(ct, ctOff + 4 * ldct, a4, b4, accumulate);
        store(ct, ctOff + 5 * ldct, a5, b5, accumulate);
    }

    private static void store(float[] ct, int off, FloatVector a, FloatVector b, boolean accumulate) {
        if (accumulate) {
            a = a.add(FloatVector.fromArray(F, ct, off));
            b = b.add(FloatVector.fromArray(F, ct, off + L));
        }
        a.intoArray(ct, off);
        b.intoArray(ct, off + L);
    }
}
