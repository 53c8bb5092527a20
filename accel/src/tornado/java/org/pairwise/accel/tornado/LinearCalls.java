package org.pairwise.accel.tornado;

import java.util.Arrays;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The calls of {@link LinearKernels} and {@link LogprobKernels} as {@link Op}s: each checks its arguments when it is
 * made, names the floats it reads and writes, and adds its tasks; null where there is nothing to do. A weight may be a
 * live view of a flat buffer: its kernel takes where it starts in its slot ({@link Op.Args#at}).
 */
final class LinearCalls {
    /** Vocabulary rows per log-prob chunk (one work-item per row and chunk). */
    static final int LOGPROB_CHUNK = 128;

    private LinearCalls() {}

    static Op matmulForward(Tensor out, Tensor inp, Weight w, Tensor bias, int N, int C, int OC) {
        TornadoWeight tw = TornadoWeight.of(w).shaped("weight", OC, C);
        if (N == 0 || OC == 0) {
            return null;
        }
        boolean hasBias = bias != null;
        Op o = new Op("matmulForward", N, C, OC, hasBias).read(inp, (long) N * C).weight(tw);
        if (hasBias) {
            o.read(bias, OC);
        }
        return o.write(out, (long) N * OC).tasks(1, (g, id, a) -> g.task(id, LinearKernels::matmulForward, a.of(out),
                a.of(inp), a.of(tw), a.at(tw), hasBias ? a.of(bias) : a.scratch(1), hasBias ? 1 : 0, N, C, OC));
    }

    static Op matmulBackward(Tensor dinp, Tensor dbias, Tensor dout, Weight w, int N, int C, int OC) {
        TornadoWeight tw = TornadoWeight.of(w).shaped("weight", OC, C);
        if ((dinp == null && dbias == null) || N == 0) {
            return null;
        }
        boolean wantInp = dinp != null, wantBias = dbias != null;
        Op o = new Op("matmulBackward", N, C, OC, wantInp, wantBias).read(dout, (long) N * OC);
        if (wantInp) {
            o.weight(tw).update(dinp, (long) N * C);
        }
        if (wantBias) {
            o.update(dbias, OC);
        }
        return o.tasks((wantInp ? 1 : 0) + (wantBias ? 1 : 0), (g, id, a) -> {
            if (wantInp) {
                g.task(id + "i", LinearKernels::matmulBackwardInput, a.of(dinp), a.of(dout), a.of(tw), a.at(tw), N, C,
                        OC);
            }
            if (wantBias) {
                g.task(id + "b", LinearKernels::matmulBackwardBias, a.of(dbias), a.of(dout), N, OC);
            }
        });
    }

    /** dw may be a view (a LoRA gradient in the gradients' flat buffer). */
    static Op matmulBackwardWeight(Tensor dw, Tensor dout, Tensor inp, int N, int C, int OC) {
        if (OC == 0 || C == 0) {
            return null;
        }
        return new Op("matmulBackwardWeight", N, C, OC).read(dout, (long) N * OC).read(inp, (long) N * C)
                .updateView(dw, 0, (long) OC * C).tasks(1, (g, id, a) -> g.task(id, LinearKernels::matmulBackwardWeight,
                        a.of(dw), a.at(dw), a.of(dout), a.of(inp), N, C, OC));
    }

    static Op rmsnormForward(Tensor out, Tensor rstd, Tensor inp, Tensor w, float eps, int N, int C) {
        if (N == 0) {
            return null;
        }
        return new Op("rmsnormForward", N, C, eps).read(inp, (long) N * C).read(w, C).write(out, (long) N * C)
                .write(rstd, N).tasks(1, (g, id, a) -> g.task(id, LinearKernels::rmsnormForward, a.of(out), a.of(rstd),
                        a.of(inp), a.of(w), eps, N, C));
    }

    static Op rmsnormBackward(Tensor dinp, Tensor dw, Tensor dout, Tensor inp, Tensor rstd, Tensor w, int N, int C) {
        if ((dinp == null && dw == null) || N == 0) {
            return null;
        }
        boolean wantInp = dinp != null, wantW = dw != null;
        Op o = new Op("rmsnormBackward", N, C, wantInp, wantW).read(dout, (long) N * C).read(inp, (long) N * C)
                .read(rstd, N);
        if (wantInp) {
            o.read(w, C).update(dinp, (long) N * C);
        }
        if (wantW) {
            o.update(dw, C);
        }
        return o.tasks((wantInp ? 1 : 0) + (wantW ? 1 : 0), (g, id, a) -> {
            if (wantInp) {
                g.task(id + "i", LinearKernels::rmsnormBackwardInput, a.of(dinp), a.of(dout), a.of(inp), a.of(rstd),
                        a.of(w), N, C);
            }
            if (wantW) {
                g.task(id + "w", LinearKernels::rmsnormBackwardWeight, a.of(dw), a.of(dout), a.of(inp), a.of(rstd), N,
                        C);
            }
        });
    }

    static Op embeddingForward(Tensor out, int[] tokens, Weight table, int N, int C) {
        TornadoWeight tw = TornadoWeight.of(table);
        tw.shaped("embedding table", tw.rows(), C);
        for (int n = 0; n < N; n++) {
            if (tokens[n] < 0 || tokens[n] >= tw.rows()) {
                throw new IllegalArgumentException("token id " + tokens[n] + " outside the vocabulary [0, " + tw.rows()
                        + ")");
            }
        }
        if (N == 0 || C == 0) {
            return null;
        }
        return new Op("embeddingForward", N, C).weight(tw).write(out, (long) N * C).ints(Arrays.copyOf(tokens, N))
                .tasks(1, (g, id, a) -> g.task(id, LinearKernels::embeddingForward, a.of(out), a.ints(), a.intsAt(),
                        a.of(tw), a.at(tw), N, C));
    }

    static Op logprobForward(Tensor logp, Tensor lse, Tensor logitSum, Tensor h, Weight w, int[] targets, int N, int C,
                             int V) {
        TornadoWeight tw = lmHead(w, targets, N, C, V);
        if (N == 0) {
            return null;
        }
        int nch = (V + LOGPROB_CHUNK - 1) / LOGPROB_CHUNK;
        return new Op("logprobForward", N, C, V).read(h, (long) N * C).weight(tw).write(logp, N).write(lse, N)
                .write(logitSum, N).ints(Arrays.copyOf(targets, N)).tasks(2, (g, id, a) -> {
                    // per-chunk partial maxima, sums, logit sums and target logits: device-only scratch
                    FloatArray pm = a.scratch((long) N * nch), ps = a.scratch((long) N * nch),
                            psum = a.scratch((long) N * nch), ptgt = a.scratch((long) N * nch);
                    g.task(id + "c", LogprobKernels::forwardChunks, pm, ps, psum, ptgt, a.of(h), a.of(tw), a.at(tw),
                                    a.ints(), a.intsAt(), N, C, V, LOGPROB_CHUNK, nch)
                            .task(id + "m", LogprobKernels::forwardMerge, a.of(logp), a.of(lse), a.of(logitSum), pm, ps,
                                    psum, ptgt, a.ints(), a.intsAt(), N, LOGPROB_CHUNK, nch);
                });
    }

    static Op logprobBackward(Tensor dh, Tensor dlogp, Tensor h, Weight w, Tensor lse, int[] targets, int N, int C,
                              int V) {
        TornadoWeight tw = lmHead(w, targets, N, C, V);
        if (N == 0 || C == 0) {
            return null;
        }
        // Enough (row, column block) work-items to occupy a device even for a handful of rows.
        int ncb = Math.max(1, Math.min((C + 31) / 32, (64 + N - 1) / N));
        int cb = (C + ncb - 1) / ncb;
        int blocks = (C + cb - 1) / cb;
        return new Op("logprobBackward", N, C, V).read(dlogp, N).read(h, (long) N * C).read(lse, N).weight(tw)
                .update(dh, (long) N * C).ints(Arrays.copyOf(targets, N)).tasks(1, (g, id, a) ->
                        g.task(id, LogprobKernels::backward, a.of(dh), a.of(dlogp), a.of(h), a.of(tw), a.at(tw),
                                a.of(lse), a.ints(), a.intsAt(), N, C, V, cb, blocks));
    }

    private static TornadoWeight lmHead(Weight w, int[] targets, int N, int C, int V) {
        TornadoWeight tw = TornadoWeight.of(w).shaped("lm head", V, C);
        for (int n = 0; n < N; n++) {
            if (targets[n] >= V) {
                throw new IllegalArgumentException("target " + targets[n] + " at row " + n
                        + " outside the vocabulary [0, " + V + ")");
            }
        }
        return tw;
    }
}
