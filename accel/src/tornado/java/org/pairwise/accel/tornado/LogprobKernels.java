package org.pairwise.accel.tornado;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The fused lm-head log-prob: h (N,C), w (V,C) from wOff, targets[at..at+N) with negative = masked. Logits are never stored: the
 * forward keeps per (row, vocabulary chunk of VC) partials (running max, sum of exp, sum of logits, target logit) in
 * device-only scratch (N,NCH) and a second task merges them (online log-sum-exp); the backward recomputes each logit.
 */
final class LogprobKernels {
    private LogprobKernels() {}

    // pm, ps, psum, ptgt (N,NCH): partials of chunk ch = vocabulary rows [ch*VC, min(V, ch*VC+VC))
    static void forwardChunks(FloatArray pm, FloatArray ps, FloatArray psum, FloatArray ptgt, FloatArray h,
                              FloatArray w, int wOff, IntArray targets, int at, int N, int C, int V, int VC, int NCH) {
        for (@Parallel int n = 0; n < N; n++) {
            for (@Parallel int ch = 0; ch < NCH; ch++) {
                int target = targets.get(at + n);
                float m = -3.4e38f;
                float s = 0f;
                float sum = 0f;
                float tl = 0f;
                if (target >= 0) {
                    int v1 = TornadoMath.min(V, ch * VC + VC);
                    for (int v = ch * VC; v < v1; v++) {
                        float logit = 0f;
                        for (int c = 0; c < C; c++) {
                            logit += h.get(n * C + c) * w.get(wOff + v * C + c);
                        }
                        sum += logit;
                        if (v == target) {
                            tl = logit;
                        }
                        // online softmax denominator: rescale the running sum when the max grows
                        if (logit > m) {
                            s = s * TornadoMath.exp(m - logit) + 1f;
                            m = logit;
                        } else {
                            s += TornadoMath.exp(logit - m);
                        }
                    }
                }
                int i = n * NCH + ch;
                pm.set(i, m);
                ps.set(i, s);
                psum.set(i, sum);
                ptgt.set(i, tl);
            }
        }
    }

    // logp, lse, logitSum (N) from the chunk partials; masked rows get zeros
    static void forwardMerge(FloatArray logp, FloatArray lse, FloatArray logitSum, FloatArray pm, FloatArray ps,
                             FloatArray psum, FloatArray ptgt, IntArray targets, int at, int N, int VC, int NCH) {
        for (@Parallel int n = 0; n < N; n++) {
            int target = targets.get(at + n);
            if (target < 0) {
                logp.set(n, 0f);
                lse.set(n, 0f);
                logitSum.set(n, 0f);
            } else {
                float mx = -3.4e38f;
                for (int ch = 0; ch < NCH; ch++) {
                    mx = TornadoMath.max(mx, pm.get(n * NCH + ch));
                }
                float s = 0f;
                float sum = 0f;
                for (int ch = 0; ch < NCH; ch++) {
                    s += ps.get(n * NCH + ch) * TornadoMath.exp(pm.get(n * NCH + ch) - mx);
                    sum += psum.get(n * NCH + ch);
                }
                float l = mx + TornadoMath.log(s);
                lse.set(n, l);
                logp.set(n, ptgt.get(n * NCH + target / VC) - l);
                logitSum.set(n, sum);
            }
        }
    }

    // dh (N,C) += dlogp[n] * (onehot(target) - softmax(h[n] w^T)) @ w, the softmax recomputed from lse one logit
    // at a time; one work-item per (row, column block of CB) so each owns its dh floats; logits are recomputed per
    // block, which trades C/CB-fold redundant dot products for parallelism on small N
    static void backward(FloatArray dh, FloatArray dlogp, FloatArray h, FloatArray w, int wOff, FloatArray lse,
                         IntArray targets, int at, int N, int C, int V, int CB, int NCB) {
        for (@Parallel int n = 0; n < N; n++) {
            for (@Parallel int cb = 0; cb < NCB; cb++) {
                int target = targets.get(at + n);
                if (target >= 0) {
                    float d = dlogp.get(n);
                    float l = lse.get(n);
                    int c0 = cb * CB;
                    int c1 = TornadoMath.min(C, c0 + CB);
                    for (int v = 0; v < V; v++) {
                        float logit = 0f;
                        for (int c = 0; c < C; c++) {
                            logit += h.get(n * C + c) * w.get(wOff + v * C + c);
                        }
                        float g = -d * TornadoMath.exp(logit - l);
                        if (v == target) {
                            g += d;
                        }
                        for (int c = c0; c < c1; c++) {
                            dh.set(n * C + c, dh.get(n * C + c) + g * w.get(wOff + v * C + c));
                        }
                    }
                }
            }
        }
    }
}
