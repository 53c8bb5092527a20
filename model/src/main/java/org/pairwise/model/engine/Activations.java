package org.pairwise.model.engine;

import org.pairwise.accel.Backend;
import org.pairwise.accel.Tensor;
import org.pairwise.model.ModelConfig;

/** Scratch buffers of one forward pass over up to maxN positions, reused between calls. */
public final class Activations {
    final int maxN;
    final Tensor x;      // (N,C) residual stream
    final Tensor xn;     // (N,C) normed input of the current block; the final normed hidden state after forward
    final Tensor rstd;   // (N)
    final Tensor q;      // (N,NH*HS)
    final Tensor k;      // (N,KV*HS)
    final Tensor v;      // (N,KV*HS)
    final Tensor attOut; // (N,NH*HS)
    final Tensor proj;   // (N,C) output of o_proj and down_proj before the residual add
    final Tensor gate;   // (N,I)
    final Tensor up;     // (N,I)
    final Tensor mlp;    // (N,I)
    final Tensor logp;   // (N)
    final Tensor lse;    // (N)
    final Tensor logitSum; // (N)
    // Rows picked for full logits (R,C) and those logits (R,V); allocated on first use, since scoring never needs them.
    Tensor selectedRows;
    Tensor logits;
    int selectedCapacity;
    // LoRA scratch: (N,r) and (N,widest projection); allocated when an adapter is first applied.
    Tensor loraMid;
    Tensor loraOut;
    int loraRank;

    Activations(Backend be, ModelConfig c, int maxN) {
        this.maxN = maxN;
        long n = maxN;
        x = be.allocate(n * c.hiddenSize());
        xn = be.allocate(n * c.hiddenSize());
        rstd = be.allocate(n);
        q = be.allocate(n * c.qDim());
        k = be.allocate(n * c.kvDim());
        v = be.allocate(n * c.kvDim());
        attOut = be.allocate(n * c.qDim());
        proj = be.allocate(n * c.hiddenSize());
        gate = be.allocate(n * c.intermediateSize());
        up = be.allocate(n * c.intermediateSize());
        mlp = be.allocate(n * c.intermediateSize());
        logp = be.allocate(n);
        lse = be.allocate(n);
        logitSum = be.allocate(n);
    }

    public int maxN() {
        return maxN;
    }
}
