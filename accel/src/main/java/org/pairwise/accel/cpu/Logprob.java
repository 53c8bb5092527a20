package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.Vec.F;
import static org.pairwise.accel.cpu.Vec.L;

import jdk.incubator.vector.FloatVector;

/**
 * The fused lm-head log-prob: h (N,C), w (V,C). Logits exist only one vocabulary chunk at a time (rows x VC floats),
 * combined by an online log-sum-exp, so the (N,V) matrix is never materialised. Rows with a negative target are
 * dropped up front; the remaining M rows are packed.
 */
final class Logprob {
    private Logprob() {}

    // logp, lse, logitSum (N); parallel over vocabulary ranges, each with its own partial (max, sumexp, sum, target)
    static void forward(Parallel par, float[] logp, float[] lse, float[] logitSum, float[] h, CpuWeight w,
                        int[] targets, int N, int C, int V) {
        check(w, C, V);
        int[] rows = valid(targets, N, V);
        int M = rows.length;
        for (int n = 0; n < N; n++) {
            logp[n] = 0f;
            lse[n] = 0f;
            logitSum[n] = 0f;
        }
        if (M == 0) {
            return;
        }
        float[] xp = Panels.pack(par, pack(h, rows, C), M, C);
        int vc = Panels.rowBlock(C);
        int chunks = (V + vc - 1) / vc;
        int parts = Math.min(chunks, par.threads * 4);
        int perPart = (chunks + parts - 1) / parts;
        parts = (chunks + perPart - 1) / perPart;
        // Partial state per part and row: running max, sum of exp(l - max), sum of logits, target logit.
        double[][] pm = new double[parts][M], ps = new double[parts][M], psum = new double[parts][M];
        float[] tgt = new float[M];
        try {
            par.forRange(parts, 1, 2L * M * C * V, (p0, p1) -> {
                Panels.Block blk = new Panels.Block(par.scratch, vc, C, M);
                try {
                    for (int p = p0; p < p1; p++) {
                        int ch0 = p * perPart, ch1 = Math.min(chunks, (p + 1) * perPart);
                        partial(blk, xp, w, rows, targets, V, ch0, ch1, tgt, pm[p], ps[p], psum[p]);
                    }
                } finally {
                    blk.release();
                }
            });
        } finally {
            par.scratch.give(xp);
        }
        for (int r = 0; r < M; r++) {
            double mx = Double.NEGATIVE_INFINITY;
            for (int p = 0; p < parts; p++) {
                mx = Math.max(mx, pm[p][r]);
            }
            double s = 0, sum = 0;
            for (int p = 0; p < parts; p++) {
                s += ps[p][r] * Math.exp(pm[p][r] - mx);
                sum += psum[p][r];
            }
            int n = rows[r];
            double l = mx + Math.log(s);
            lse[n] = (float) l;
            logp[n] = (float) (tgt[r] - l);
            logitSum[n] = (float) sum;
        }
    }

    // One part's running max m, sum of exp(l - m) s, and sum of logits, per row, over vocabulary chunks ch0..ch1; the
    // target logit goes to tgt for the rows whose target falls in them.
    private static void partial(Panels.Block blk, float[] xp, CpuWeight w, int[] rows, int[] targets, int V, int ch0,
                                int ch1, float[] tgt, double[] m, double[] s, double[] sum) {
        int M = rows.length, vc = blk.rb, np = blk.np;
        float[] cmax = new float[np], csum = new float[np], cexp = new float[np];
        java.util.Arrays.fill(m, Double.NEGATIVE_INFINITY);
        for (int ch = ch0; ch < ch1; ch++) {
            int v0 = ch * vc, nv = Math.min(vc, V - v0);
            blk.compute(xp, w, v0, nv);
            float[] ct = blk.ct;
            for (int r = 0; r < M; r++) {
                int t = targets[rows[r]] - v0;
                if (t >= 0 && t < nv) {
                    tgt[r] = ct[t * np + r];
                }
            }
            columnMaxAndSum(ct, np, nv, cmax, csum);
            for (int r = 0; r < M; r++) {
                sum[r] += csum[r];
                double nm = Math.max(m[r], cmax[r]);
                s[r] *= Math.exp(m[r] - nm);
                m[r] = nm;
                cmax[r] = (float) nm;
            }
            columnExpSum(ct, np, nv, cmax, cexp);
            for (int r = 0; r < M; r++) {
                s[r] += cexp[r];
            }
        }
    }

    // dh (N,C) += dlogp[n] * (onehot(target) - softmax(h w^T)) @ w; parallel over blocks of rows, each converting
    // every vocabulary chunk once and using it twice: the chunk's logits from the forward's panel kernel (the same
    // bits), their gradient g in place beside them (transposed: g[j*np + i]), then g @ chunk into the block's dh rows.
    static void backward(Parallel par, float[] dh, float[] dlogp, float[] h, CpuWeight w, float[] lse, int[] targets,
                         int N, int C, int V) {
        check(w, C, V);
        int[] rows = valid(targets, N, V);
        int M = rows.length;
        if (M == 0) {
            return;
        }
        float[] hp = pack(h, rows, C);
        int vc = Panels.rowBlock(C);
        // Each block reads the whole lm head, so as few blocks as keep every thread busy, of at most 256 rows (whole
        // panels), whose logits chunk stays in L2. A row's sums do not depend on its block.
        int perThread = (M + par.threads - 1) / par.threads;
        int tb = Math.min(256, (perThread + Panels.MR - 1) / Panels.MR * Panels.MR);
        int blocks = (M + tb - 1) / tb;
        par.forRange(blocks, 1, 4L * M * C * V, (b0, b1) -> {
            Panels.Block blk = new Panels.Block(par.scratch, vc, C, tb);
            float[] wf = par.scratch.take(Panels.groups(vc) * C);
            float[] xp = par.scratch.take(Panels.packedSize(tb, C));
            float[] acc = par.scratch.take(tb * C);
            float[] shift = new float[blk.np], scale = new float[blk.np];
            try {
                for (int b = b0; b < b1; b++) {
                    int i0 = b * tb, nI = Math.min(tb, M - i0);
                    Panels.pack(hp, i0 * C, C, nI, C, xp, 0);
                    java.util.Arrays.fill(acc, 0, nI * C, 0f);
                    // Padding tokens get shift 0 and scale 0: their gradient is exactly 0.
                    java.util.Arrays.fill(shift, 0f);
                    java.util.Arrays.fill(scale, 0f);
                    for (int i = 0; i < nI; i++) {
                        shift[i] = lse[rows[i0 + i]];
                        scale[i] = -dlogp[rows[i0 + i]];
                    }
                    for (int v0 = 0; v0 < V; v0 += vc) {
                        int nv = Math.min(vc, V - v0);
                        for (int j = 0; j < nv; j++) {
                            w.rowTo(v0 + j, 0, C, wf, j * C);
                        }
                        blk.computeFrom(xp, wf, C, nv);
                        float[] g = blk.ct;
                        int np = blk.np;
                        // g = -d * softmax; the target's +d is added below, once per row
                        for (int j = 0; j < nv; j++) {
                            expScaled(g, j * np, np, shift, scale);
                        }
                        for (int i = 0; i < nI; i++) {
                            int n = rows[i0 + i], t = targets[n] - v0;
                            if (t >= 0 && t < nv) {
                                g[t * np + i] += dlogp[n];
                            }
                        }
                        Gemm.acc(g, 0, 1, np, nI, wf, 0, C, nv, C, acc, 0, C);
                    }
                    for (int i = 0; i < nI; i++) {
                        Vec.axpy(1f, acc, i * C, dh, rows[i0 + i] * C, C);
                    }
                }
            } finally {
                blk.release();
                par.scratch.give(wf);
                par.scratch.give(xp);
                par.scratch.give(acc);
            }
        });
    }

    // max[t], sum[t] over rows j < n of a[j*ld + t], for every t < ld (ld a multiple of the vector length)
    private static void columnMaxAndSum(float[] a, int ld, int n, float[] max, float[] sum) {
        for (int t = 0; t < ld; t += L) {
            FloatVector mx = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY), sm = FloatVector.zero(F);
            for (int j = 0, i = t; j < n; j++, i += ld) {
                FloatVector v = FloatVector.fromArray(F, a, i);
                mx = mx.max(v);
                sm = sm.add(v);
            }
            mx.intoArray(max, t);
            sm.intoArray(sum, t);
        }
    }

    // out[t] = sum over rows j < n of exp(a[j*ld + t] - shift[t])
    private static void columnExpSum(float[] a, int ld, int n, float[] shift, float[] out) {
        for (int t = 0; t < ld; t += L) {
            FloatVector sh = FloatVector.fromArray(F, shift, t), acc = FloatVector.zero(F);
            for (int j = 0, i = t; j < n; j++, i += ld) {
                acc = acc.add(Exp.exp(FloatVector.fromArray(F, a, i).sub(sh)));
            }
            acc.intoArray(out, t);
        }
    }

    // a[off + t] = scale[t] * exp(a[off + t] - shift[t]) for t < n, a multiple of the vector length
    private static void expScaled(float[] a, int off, int n, float[] shift, float[] scale) {
        for (int t = 0, tEnd = n - L; t <= tEnd; t += L) {
            FloatVector x = FloatVector.fromArray(F, a, off + t).sub(FloatVector.fromArray(F, shift, t));
            Exp.exp(x).mul(FloatVector.fromArray(F, scale, t)).intoArray(a, off + t);
        }
    }

    private static int[] valid(int[] targets, int N, int V) {
        int M = 0;
        for (int n = 0; n < N; n++) {
            if (targets[n] >= V) {
                throw new IllegalArgumentException("target " + targets[n] + " at row " + n + " outside the vocabulary [0, " + V + ")");
            }
            if (targets[n] >= 0) {
                M++;
            }
        }
        int[] rows = new int[M];
        for (int n = 0, r = 0; n < N; n++) {
            if (targets[n] >= 0) {
                rows[r++] = n;
            }
        }
        return rows;
    }

    private static float[] pack(float[] h, int[] rows, int C) {
        float[] hp = new float[rows.length * C];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(h, rows[r] * C, hp, r * C, C);
        }
        return hp;
    }

    private static void check(CpuWeight w, int C, int V) {
        if (w.rows != V || w.cols != C) {
            throw new IllegalArgumentException("lm head " + w + " does not match V=" + V + ", C=" + C);
        }
    }
}
