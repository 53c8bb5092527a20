package org.pairwise.accel;

/**
 * Every kernel of the decoder, as forward/backward pairs (llm.c style). Shapes use these letters:
 * N rows (B*T positions), B sequences, T positions per sequence, C in-features, OC out-features, V vocabulary,
 * NH query heads, KV key/value heads, HS head size. Tensors are row-major. Backward kernels accumulate (+=)
 * into gradients; the caller zeroes them ({@link Backend#zero}).
 */
public interface Kernels {

    // out (N,OC) = inp (N,C) @ w (OC,C)^T + bias (OC); bias may be null
    void matmulForward(Tensor out, Tensor inp, Weight w, Tensor bias, int N, int C, int OC);

    // dinp (N,C) += dout (N,OC) @ w (OC,C); dbias (OC) += sum over n of dout; dbias may be null
    void matmulBackward(Tensor dinp, Tensor dbias, Tensor dout, Weight w, int N, int C, int OC);

    // dw (OC,C) += dout (N,OC)^T @ inp (N,C), for trainable (LoRA) matrices
    void matmulBackwardWeight(Tensor dw, Tensor dout, Tensor inp, int N, int C, int OC);

    // out (N,C) = inp * rstd * w; rstd (N) = 1/sqrt(mean(inp^2) + eps) is cached for backward
    void rmsnormForward(Tensor out, Tensor rstd, Tensor inp, Tensor w, float eps, int N, int C);

    // dinp (N,C) += d(out)/d(inp)^T dout; dw (C) += sum over n of dout * inp * rstd; dw may be null (frozen)
    void rmsnormBackward(Tensor dinp, Tensor dw, Tensor dout, Tensor inp, Tensor rstd, Tensor w, int N, int C);

    // x (N,H,HS) rotated in place; row n is at position positions[n]; the first rope.rotaryDim() dims of each head rotate
    void ropeForward(Tensor x, int[] positions, RopeTable rope, int N, int H, int HS);

    // dx (N,H,HS) rotated back in place (the transpose of the forward rotation)
    void ropeBackward(Tensor dx, int[] positions, RopeTable rope, int N, int H, int HS);

    // Causal GQA attention of T new positions per sequence, at positions pos0..pos0+T-1, over a cache:
    // q (B,T,NH,HS); kCache, vCache (B,maxT,KV,HS) hold positions [0, pos0+T); out (B,T,NH,HS);
    // att (B,NH,T,maxT) keeps the softmax probabilities for backward (null in inference). Scale 1/sqrt(HS).
    void attentionForward(Tensor out, Tensor att, Tensor q, Tensor kCache, Tensor vCache,
                          int B, int T, int pos0, int maxT, int NH, int KV, int HS);

    // Backward of attentionForward with pos0 = 0 and maxT = T (training sees whole sequences):
    // dq (B,T,NH,HS), dk, dv (B,T,KV,HS) += ...; dout (B,T,NH,HS); att (B,NH,T,T) from the forward
    void attentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor att, Tensor q, Tensor k, Tensor v,
                           int B, int T, int NH, int KV, int HS);

    // out (N,C) = silu(gate) * up, with silu(x) = x * sigmoid(x)
    void swigluForward(Tensor out, Tensor gate, Tensor up, int N, int C);

    // dgate, dup (N,C) += ...; dout (N,C)
    void swigluBackward(Tensor dgate, Tensor dup, Tensor dout, Tensor gate, Tensor up, int N, int C);

    // out (n) += inp (n): the residual add forward, and every gradient sum in backward
    void add(Tensor out, Tensor inp, long n);

    // x (n) *= s
    void scale(Tensor x, float s, long n);

    // out (N,C) = table (V,C)[tokens[n]]
    void embeddingForward(Tensor out, int[] tokens, Weight table, int N, int C);

    // Fused lm-head log-prob without the (N,V) logits: logp[n] = log softmax(h[n] @ w^T)[targets[n]], computed over
    // vocabulary chunks with an online log-sum-exp. h (N,C), w (V,C); lse (N) is cached for backward; logitSum (N) is
    // the sum of all V logits of row n (TRL's logits metric); rows with targets[n] < 0 are skipped (all three = 0).
    void logprobForward(Tensor logp, Tensor lse, Tensor logitSum, Tensor h, Weight w, int[] targets, int N, int C, int V);

    // dh (N,C) += dlogp[n] * (onehot(targets[n]) - softmax(h[n] @ w^T)) @ w, recomputing the chunks; skips targets < 0
    void logprobBackward(Tensor dh, Tensor dlogp, Tensor h, Weight w, Tensor lse, int[] targets, int N, int C, int V);

    // AdamW as torch.optim.AdamW (decoupled decay): p *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
    // p -= lr/(1-b1^step) * m / (sqrt(v)/sqrt(1-b2^step) + eps). param, grad, m, v (n); step counts from 1
    void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1, float beta2,
                     float eps, float weightDecay, int step);

    // sum of t[i]^2 over i < n, in double (the global gradient norm over one flat gradient buffer; NaN or infinity
    // when a value is not finite)
    double sumOfSquares(Tensor t, long n);
}
