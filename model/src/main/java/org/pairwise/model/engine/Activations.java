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
    final Tensor[] q;      // (N,NH*HS) after RoPE
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

    private Activations(Backend be, ModelConfig c, int maxN, int maxB, boolean training, boolean checkpointed) {
        this.maxN = maxN;
        this.training = training;
        this.checkpointed = checkpointed;
        boolean keep = training && !checkpointed;
        int L = c.numLayers();
        long n = maxN, C = c.hiddenSize(), I = c.intermediateSize(), QD = c.qDim();
        xIn = perLayer(be, L, n * C, training);  // kept per layer even when checkpointed
        xn1 = perLayer(be, L, n * C, keep);
        rstd1 = perLayer(be, L, n, keep);
        q = perLayer(be, L, n * QD, keep);
        attOut = perLayer(be, L, n * QD, keep);
        // Training batches are B sequences of T = maxN / B positions; the probabilities are (B,NH,T,T).
        long T = training ? maxN / maxB : 0;
        att = training ? perLayer(be, L, (long) maxB * c.numHeads() * T * T, keep) : new Tensor[L];
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

    /** Shared buffers for scoring and generation: one layer's worth, reused by every layer. */
    static Activations inference(Backend be, ModelConfig c, int maxN) {
        return new Activations(be, c, maxN, 1, false, false);
    }

    /** Buffers for B sequences of T positions that the backward pass can read (or rebuild, when checkpointed). */
    static Activations training(Backend be, ModelConfig c, int B, int T, boolean checkpointed) {
        return new Activations(be, c, B * T, B, true, checkpointed);
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
