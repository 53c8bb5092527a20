package org.pairwise.model.engine;

import org.pairwise.accel.Backend;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraGradients;

/**
 * The decoder's backward pass into LoRA gradients, from d(loss)/d(log-prob) at every position back through the fused
 * lm head, the final norm and each layer in reverse (llm.c order). Base weights are frozen: only activation gradients
 * flow through them. Reads what {@link LlamaModel#forward} kept in training {@link Activations} and the KV cache.
 */
public final class LlamaBackward {
    private final LlamaModel model;
    private final Backend be;
    private final int maxN;
    private final Tensor dx;      // (N,C) gradient of the residual stream
    private final Tensor dxn;     // (N,C) gradient of a norm's output
    private final Tensor dq;      // (N,NH*HS)
    private final Tensor dk;      // (N,KV*HS)
    private final Tensor dv;      // (N,KV*HS)
    private final Tensor dattOut; // (N,NH*HS)
    private final Tensor dgate;   // (N,I)
    private final Tensor dup;     // (N,I)
    private final Tensor dmlp;    // (N,I)
    private Tensor loraMid;       // (N,r) scaling * A x, recomputed
    private Tensor dLoraMid;      // (N,r)
    // Shared layouts: attention's gradients in its own view (B,T,...), and one copy's dk or dv in rows (N,KV*HS)
    private Tensor dattOutView, dqView, dkView, dvView, dkvCopy;
    private long viewRows;

    public LlamaBackward(LlamaModel model, int maxN) {
        this.model = model;
        this.be = model.backend();
        this.maxN = maxN;
        ModelConfig c = model.config();
        long n = maxN;
        dx = be.allocate(n * c.hiddenSize());
        dxn = be.allocate(n * c.hiddenSize());
        dq = be.allocate(n * c.qDim());
        dk = be.allocate(n * c.kvDim());
        dv = be.allocate(n * c.kvDim());
        dattOut = be.allocate(n * c.qDim());
        dgate = be.allocate(n * c.intermediateSize());
        dup = be.allocate(n * c.intermediateSize());
        dmlp = be.allocate(n * c.intermediateSize());
    }

    /**
     * Accumulates into grads the gradient of the loss whose derivative with respect to each position's log-prob is
     * dlogp (N): the last {@link LlamaModel#forward} over (B,T) tokens with these targets and this adapter, in
     * training activations.
     */
    public void backward(Activations a, KvCache cache, int[] targets, Tensor dlogp, int B, int T, LoraAdapter ad,
                         LoraGradients grads) {
        backward(a, cache, BatchLayout.padded(new int[B * T], B, T, 0), targets, dlogp, ad, grads);
    }

    /**
     * As above for the last forward over a {@link BatchLayout}: targets and dlogp are per row (N). A shared row's
     * gradient is the sum over the sequences that read it, through their attention to its keys and values.
     */
    public void backward(Activations a, KvCache cache, BatchLayout lay, int[] targets, Tensor dlogp, LoraAdapter ad,
                         LoraGradients grads) {
        if (!a.training) {
            throw new IllegalArgumentException("backward needs training activations (the forward kept no layer state)");
        }
        ModelConfig c = model.config();
        LlamaWeights w = model.weights();
        int N = lay.rows, B = lay.sequences, T = lay.length;
        int C = c.hiddenSize(), QD = c.qDim(), KVD = c.kvDim(), I = c.intermediateSize();
        int NH = c.numHeads(), KV = c.numKvHeads(), HS = c.headDim();
        if (N > maxN) {
            throw new IllegalArgumentException(N + " positions exceed the backward buffers' " + maxN);
        }
        if (lay.shared) {
            ensureViewBuffers((long) B * T, c);
        }
        be.zero(dxn);
        be.logprobBackward(dxn, dlogp, a.xn, w.lmHead(), a.lse, targets, N, C, c.vocabSize());
        be.zero(dx);
        be.rmsnormBackward(dx, null, dxn, a.xOut, a.rstdOut, w.finalNorm(), N, C);
        for (int l = c.numLayers() - 1; l >= 0; l--) {
            LlamaWeights.Layer L = w.layers()[l];
            if (a.checkpointed) {
                model.layerForward(a, cache, l, lay, ad, false);
            }
            // MLP block: x_out = x_mid + down(silu(gate(xn2)) * up(xn2)); dx holds d x_out = d down's output.
            be.zero(dmlp);
            be.matmulBackward(dmlp, null, dx, L.wDown(), N, I, C);
            lora(ad, grads, l, "down_proj", dx, a.mlp[l], dmlp, N);
            be.zero(dgate);
            be.zero(dup);
            be.swigluBackward(dgate, dup, dmlp, a.gate[l], a.up[l], N, I);
            be.zero(dxn);
            be.matmulBackward(dxn, null, dgate, L.wGate(), N, C, I);
            lora(ad, grads, l, "gate_proj", dgate, a.xn2[l], dxn, N);
            be.matmulBackward(dxn, null, dup, L.wUp(), N, C, I);
            lora(ad, grads, l, "up_proj", dup, a.xn2[l], dxn, N);
            be.rmsnormBackward(dx, null, dxn, a.xMid[l], a.rstd2[l], L.mlpNorm(), N, C);
            // Attention block: x_mid = x_in + o(attention(rope(q(xn1)), rope(k(xn1)), v(xn1))); dx is d x_mid.
            be.zero(dattOut);
            be.matmulBackward(dattOut, null, dx, L.wo(), N, QD, C);
            lora(ad, grads, l, "o_proj", dx, a.attOut[l], dattOut, N);
            attentionBackward(a, cache, lay, l, c);
            be.ropeBackward(dq, lay.positions, model.rope(), N, NH, HS);
            be.ropeBackward(dk, lay.positions, model.rope(), N, KV, HS);
            be.zero(dxn);
            be.matmulBackward(dxn, null, dq, L.wq(), N, C, QD);
            lora(ad, grads, l, "q_proj", dq, a.xn1[l], dxn, N);
            be.matmulBackward(dxn, null, dk, L.wk(), N, C, KVD);
            lora(ad, grads, l, "k_proj", dk, a.xn1[l], dxn, N);
            be.matmulBackward(dxn, null, dv, L.wv(), N, C, KVD);
            lora(ad, grads, l, "v_proj", dv, a.xn1[l], dxn, N);
            be.rmsnormBackward(dx, null, dxn, a.xIn[l], a.rstd1[l], L.attnNorm(), N, C);
        }
    }

    // dq (N,QD), dk, dv (N,KVD) = attention's gradients from dattOut (N,QD). A shared layout runs the kernel on its
    // view: each row's output gradient goes to the copy whose output the row read (the other copies' outputs were
    // not read: zero), and each row's dq, dk, dv is the sum over its copies.
    private void attentionBackward(Activations a, KvCache cache, BatchLayout lay, int l, ModelConfig c) {
        int B = lay.sequences, T = lay.length, NH = c.numHeads(), KV = c.numKvHeads(), HS = c.headDim();
        int QD = c.qDim(), KVD = c.kvDim();
        if (!lay.shared) {
            be.zero(dq);
            be.zero(dk);
            be.zero(dv);
            be.attentionBackward(dq, dk, dv, dattOut, a.att[l], a.q[l], cache.k[l], cache.v[l], B, T, NH, KV, HS);
            return;
        }
        be.zero(dattOutView);
        lay.scatter(be, dattOutView, T, dattOut, QD, false);
        be.zero(dqView);
        be.zero(dkView);
        be.zero(dvView);
        be.attentionBackward(dqView, dkView, dvView, dattOutView, a.att[l], a.q[l], cache.k[l], cache.v[l], B, T, NH,
                KV, HS);
        lay.gatherSum(be, dq, dqView, dattOut, QD);
        lay.gatherSum(be, dk, dkView, dkvCopy, KVD);
        lay.gatherSum(be, dv, dvView, dkvCopy, KVD);
    }

    private void ensureViewBuffers(long rows, ModelConfig c) {
        if (dqView == null || viewRows < rows) {
            viewRows = rows;
            dattOutView = be.allocate(rows * c.qDim());
            dqView = be.allocate(rows * c.qDim());
            dkView = be.allocate(rows * c.kvDim());
            dvView = be.allocate(rows * c.kvDim());
            dkvCopy = be.allocate((long) maxN * c.kvDim());
        }
    }

    // y = W x + s B (A x): dB += dy^T (s A x); d(Ax) = s dy B; dA += d(Ax)^T x; dx += d(Ax) A
    private void lora(LoraAdapter ad, LoraGradients grads, int layer, String projection, Tensor dy, Tensor x,
                      Tensor dxOut, int N) {
        if (ad == null || grads == null) {
            return;
        }
        LoraAdapter.Pair p = ad.pair(layer, projection);
        if (p == null) {
            return;
        }
        int r = ad.rank();
        if (loraMid == null || loraMid.size() < (long) maxN * r) {
            loraMid = be.allocate((long) maxN * r);
            dLoraMid = be.allocate((long) maxN * r);
        }
        LoraGradients.Pair g = grads.pair(layer, projection);
        be.matmulForward(loraMid, x, p.aWeight(), null, N, p.in(), r);
        be.scale(loraMid, ad.scaling(), (long) N * r);
        be.matmulBackwardWeight(g.dB(), dy, loraMid, N, r, p.out());
        be.zero(dLoraMid);
        be.matmulBackward(dLoraMid, null, dy, p.bWeight(), N, r, p.out());
        be.scale(dLoraMid, ad.scaling(), (long) N * r);
        be.matmulBackwardWeight(g.dA(), dLoraMid, x, N, p.in(), r);
        be.matmulBackward(dxOut, null, dLoraMid, p.aWeight(), N, p.in(), r);
    }
}
