package org.pairwise.accel.cpu;

/**
 * matmul forward/backward. inp (N,C), w (OC,C), out (N,OC). Parallel over output rows (forward, weight gradient)
 * or over token x column blocks (input gradient), so no two tasks write the same float.
 */
final class Matmul {
    private Matmul() {}

    /** Weight rows converted per step: enough to fill the 4-row tiles, few enough to stay in L1/L2. */
    static final int ROW_BLOCK = 16;
    static final int TOKEN_BLOCK = 64;
    static final int K_BLOCK = 1024;

    // out (N,OC) = inp (N,C) @ w (OC,C)^T + bias (OC)
    static void forward(Parallel par, float[] out, float[] inp, CpuWeight w, float[] bias, int N, int C, int OC) {
        checkShape(w, C, OC);
        long work = 2L * N * C * OC;
        if (N < 4) {
            // Decode: one pass over the weights, each row read straight from storage.
            par.forRange(OC, 64, work, (o0, o1) -> {
                for (int o = o0; o < o1; o++) {
                    for (int n = 0; n < N; n++) {
                        out[n * OC + o] = w.dot(o, inp, n * C) + (bias == null ? 0f : bias[o]);
                    }
                }
            });
            return;
        }
        float[] heap = w.heapArrayAt();
        int heapOff = w.heapOffset();
        int blocks = (OC + ROW_BLOCK - 1) / ROW_BLOCK;
        par.forRange(blocks, 1, work, (b0, b1) -> {
            float[] scratch = heap == null ? new float[ROW_BLOCK * C] : null;
            for (int b = b0; b < b1; b++) {
                int o0 = b * ROW_BLOCK;
                int rb = Math.min(ROW_BLOCK, OC - o0);
                float[] wb = heap;
                int wOff = heapOff + o0 * C;
                if (heap == null) {
                    for (int j = 0; j < rb; j++) {
                        w.rowTo(o0 + j, 0, C, scratch, j * C);
                    }
                    wb = scratch;
                    wOff = 0;
                }
                // Blocks of tokens x columns keep the input slab (NB x KB floats) in L2 while the weight rows
                // are swept; at C = 4864 the whole input would not fit.
                for (int n0 = 0; n0 < N; n0 += TOKEN_BLOCK) {
                    int nb = Math.min(TOKEN_BLOCK, N - n0);
                    for (int k0 = 0; k0 < C; k0 += K_BLOCK) {
                        Gemm.dots(inp, n0 * C + k0, C, nb, wb, wOff + k0, C, rb, Math.min(K_BLOCK, C - k0),
                                out, n0 * OC + o0, OC, 1, k0 > 0);
                    }
                }
                if (bias != null) {
                    for (int n = 0; n < N; n++) {
                        for (int j = 0; j < rb; j++) {
                            out[n * OC + o0 + j] += bias[o0 + j];
                        }
                    }
                }
            }
        });
    }

    // dinp (N,C) += dout (N,OC) @ w (OC,C); dbias (OC) += column sums of dout
    static void backward(Parallel par, float[] dinp, float[] dbias, float[] dout, CpuWeight w, int N, int C, int OC) {
        checkShape(w, C, OC);
        if (dbias != null) {
            for (int n = 0; n < N; n++) {
                Vec.axpy(1f, dout, n * OC, dbias, 0, OC);
            }
        }
        if (dinp == null) {
            return;
        }
        // Token blocks give independent output rows; with few tokens, columns are split too (64-aligned, which
        // keeps Q8_0's 32-value blocks whole).
        int tb = 16;
        int tokBlocks = (N + tb - 1) / tb;
        int want = 2 * par.threads;
        int colBlocks = tokBlocks >= want ? 1 : Math.max(1, Math.min((C + 63) / 64, (want + tokBlocks - 1) / tokBlocks));
        int cb = ((C + colBlocks - 1) / colBlocks + 63) / 64 * 64;
        int nColBlocks = (C + cb - 1) / cb;
        float[] heap = w.heapArrayAt();
        int heapOff = w.heapOffset();
        par.forRange(tokBlocks * nColBlocks, 1, 2L * N * C * OC, (t0, t1) -> {
            float[] scratch = heap == null ? new float[ROW_BLOCK * cb] : null;
            for (int t = t0; t < t1; t++) {
                int n0 = t / nColBlocks * tb, nI = Math.min(tb, N - n0);
                int c0 = t % nColBlocks * cb, K = Math.min(cb, C - c0);
                for (int o0 = 0; o0 < OC; o0 += ROW_BLOCK) {
                    int rb = Math.min(ROW_BLOCK, OC - o0);
                    if (heap != null) {
                        Gemm.acc(dout, n0 * OC + o0, OC, 1, nI, heap, heapOff + o0 * C + c0, C, rb, K, dinp, n0 * C + c0,
                                C);
                    } else {
                        for (int j = 0; j < rb; j++) {
                            w.rowTo(o0 + j, c0, K, scratch, j * K);
                        }
                        Gemm.acc(dout, n0 * OC + o0, OC, 1, nI, scratch, 0, K, rb, K, dinp, n0 * C + c0, C);
                    }
                }
            }
        });
    }

    // dw (OC,C) += dout (N,OC)^T @ inp (N,C); dw starts at dwOff (a gradient in a flat buffer)
    static void backwardWeight(Parallel par, float[] dw, int dwOff, float[] dout, float[] inp, int N, int C, int OC) {
        int blocks = (OC + 3) / 4;
        par.forRange(blocks, 4, 2L * N * C * OC, (b0, b1) -> {
            int o0 = b0 * 4, o1 = Math.min(OC, b1 * 4);
            Gemm.acc(dout, o0, 1, OC, o1 - o0, inp, 0, C, N, C, dw, dwOff + o0 * C, C);
        });
    }

    private static void checkShape(CpuWeight w, int C, int OC) {
        if (w.rows != OC || w.cols != C) {
            throw new IllegalArgumentException("weight " + w + " does not match OC=" + OC + ", C=" + C);
        }
    }
}
