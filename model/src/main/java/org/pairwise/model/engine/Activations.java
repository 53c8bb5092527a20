package org.pairwise.model.engine;

import org.pairwise.accel.Backend;
import org.pairwise.accel.Tensor;
import org.pairwise.model.ModelConfig;

/**
 * Buffers of one forward pass over up to maxN positions, indexed by layer. For inference every layer shares one set
 * (and the residual stream is updated in place); for training each layer keeps its own, which is exactly what the
 * backward pass reads (llm.c's "activations the backward needs").
 */
public final class Activations {
    final int maxN;
    final boolean training;
    final boolean checkpointed; // only xIn is per layer; backward recomputes the rest layer by layer
    final Tensor[] xIn;    // (N,C) residual stream entering layer l
    final Tensor[] xn1;    // (N,C) input_layernorm(xIn)
    final Tensor[] rstd1;  // (N)
    final Tensor[] q;      // (B,T,NH*HS) after RoPE, in attention's view of the batch (BatchLayout)
    final Tensor[] attOut; // (N,NH*HS) attention output before o_proj
    final Tensor[] att;    // (B,NH,T,T) attention probabilities (training only; null in inference)
    final Tensor[] xMid;   // (N,C) residual stream after attention
    final Tensor[] xn2;    // (N,C) post_attention_layernorm(xMid)
    final Tensor[] rstd2;  // (N)
    final Tensor[] gate;   // (N,I)
    final Tensor[] up;     // (N,I)
    final Tensor[] mlp;    // (N,I) silu(gate) * up
    final Tensor xOut;     // (N,C) residual stream after the last layer
    final Tensor xn;       // (N,C) final norm output: the hidden states the lm head reads
    final Tensor rstdOut;  // (N)
    final Tensor k;        // (N,KV*HS) scratch before the cache copy
    final Tensor v;        // (N,KV*HS)
    final Tensor proj;     // (N,C) o_proj / down_proj output before the residual add
    final Tensor logp;     // (N)
    final Tensor lse;      // (N)
    final Tensor logitSum; // (N)
    // Rows picked for full logits (R,C) and those logits (R,V); allocated on first use, since scoring never needs them.
    Tensor selectedRows;
    Tensor logits;
    int selectedCapacity;
    // LoRA scratch: (N,r) and (N,widest projection); allocated when an adapter is first applied.
    Tensor loraMid;
    Tensor loraOut;
    int loraRank;
    // Shared-prompt scratch: q (N,NH*HS) before it is copied into attention's view, and attention's output (B,T,NH*HS)
    // before it is gathered into rows; allocated when a shared layout first runs.
    Tensor qRows;
    Tensor attOutView;
    private final Backend be;
    private final long viewRows;

    // maxN rows for the row-wise layers; attention's view of up to maxB sequences of maxT positions
    private Activations(Backend be, ModelConfig c, int maxN, int maxB, int maxT, boolean training,
                        boolean checkpointed) {
        this.be = be;
        this.maxN = maxN;
        this.viewRows = (long) maxB * maxT;
        this.training = training;
        this.checkpointed = checkpointed;
        boolean keep = training && !checkpointed;
        int L = c.numLayers();
        long n = maxN, C = c.hiddenSize(), I = c.intermediateSize(), QD = c.qDim();
        xIn = perLayer(be, L, n * C, training);  // kept per layer even when checkpointed
        xn1 = perLayer(be, L, n * C, keep);
        rstd1 = perLayer(be, L, n, keep);
        q = perLayer(be, L, viewRows * QD, keep);
        attOut = perLayer(be, L, n * QD, keep);
        att = training ? perLayer(be, L, (long) maxB * c.numHeads() * maxT * maxT, keep) : new Tensor[L];
        xMid = training ? perLayer(be, L, n * C, keep) : xIn;
        xn2 = perLayer(be, L, n * C, keep);
        rstd2 = perLayer(be, L, n, keep);
        gate = perLayer(be, L, n * I, keep);
        up = perLayer(be, L, n * I, keep);
        mlp = perLayer(be, L, n * I, keep);
        xOut = training ? be.allocate(n * C) : xIn[0];
        xn = be.allocate(n * C);
        rstdOut = be.allocate(n);
        k = be.allocate(n * c.kvDim());
        v = be.allocate(n * c.kvDim());
        proj = be.allocate(n * C);
        logp = be.allocate(n);
        lse = be.allocate(n);
        logitSum = be.allocate(n);
    }

    /** Shared buffers for scoring and generation: one layer's worth, reused by every layer; B*T at most maxN. */
    static Activations inference(Backend be, ModelConfig c, int maxN) {
        return new Activations(be, c, maxN, 1, maxN, false, false);
    }

    /**
     * Buffers for up to maxN rows of B sequences of T positions that the backward pass can read (or rebuild, when
     * checkpointed).
     */
    static Activations training(Backend be, ModelConfig c, int maxN, int B, int T, boolean checkpointed) {
        return new Activations(be, c, maxN, B, T, true, checkpointed);
    }

    /** Whether a layout fits: its rows, and its attention view's positions (and probabilities, in training). */
    boolean fits(BatchLayout lay, int numHeads) {
        long view = (long) lay.sequences * lay.length;
        return lay.rows <= maxN && view <= viewRows
                && (!training || view * numHeads * lay.length <= att[0].size());
    }

    // The shared-prompt scratch, allocated on first use.
    void ensureViewScratch(int qDim) {
        if (qRows == null) {
            qRows = be.allocate((long) maxN * qDim);
            attOutView = be.allocate(viewRows * qDim);
        }
    }

    private static Tensor[] perLayer(Backend be, int layers, long size, boolean distinct) {
        Tensor[] out = new Tensor[layers];
        for (int l = 0; l < layers; l++) {
            out[l] = distinct || l == 0 ? be.allocate(size) : out[0];
        }
        return out;
    }

    public int maxN() {
        return maxN;
    }
}
