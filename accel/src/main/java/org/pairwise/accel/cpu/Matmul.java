package org.pairwise.accel.cpu;

/**
 * matmul forward/backward. inp (N,C), w (OC,C), out (N,OC). Parallel over output rows (forward, weight gradient)
 * or over token x column blocks (input gradient), so no two tasks write the same float.
 */
final class Matmul {
    private Matmul() {}

    /** Weight rows converted per step of the input gradient: enough to fill the 4-row tiles, few enough for L1/L2. */
    static final int ROW_BLOCK = 16;

    // out (N,OC) = inp (N,C) @ w (OC,C)^T + bias (OC)
    static void forward(Parallel par, float[] out, float[] inp, CpuWeight w, float[] bias, int N, int C, int OC) {
        checkShape(w, C, OC);
        long work = 2L * N * C * OC;
        if (N < 4) {
            // Decode: one pass over the weights, each row read straight from storage.
            par.forRange(OC, 64, work, (o0, o1) -> {
                w.decode(o0, o1, inp, N, out, OC, new float[CpuWeight.DECODE_SCRATCH * C]);
                if (bias != null) {
                    for (int n = 0; n < N; n++) {
                        for (int o = o0; o < o1; o++) {
                            out[n * OC + o] += bias[o];
                        }
                    }
                }
            });
            return;
        }
        float[] xp = Panels.pack(par, inp, N, C);
        int rb = Panels.rowBlock(C);
        try {
            par.forRange((OC + rb - 1) / rb, 1, work, (b0, b1) -> {
                Panels.Block blk = new Panels.Block(par.scratch, rb, C, N);
                try {
                    for (int b = b0; b < b1; b++) {
                        int o0 = b * rb, rows = Math.min(rb, OC - o0);
                        blk.compute(xp, w, o0, rows);
                        Panels.untranspose(blk.ct, blk.np, rows, N, out, o0, OC, bias);
                    }
                } finally {
                    blk.release();
                }
            });
        } finally {
            par.scratch.give(xp);
        }
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
