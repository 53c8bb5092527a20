package org.pairwise.model.engine;

import org.pairwise.accel.Backend;
import org.pairwise.accel.RopeTable;
import org.pairwise.accel.Tensor;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.lora.LoraAdapter;

/**
 * The Llama-family decoder forward: batched prefill over whole sequences and KV-cached decode share one code path
 * ({@link #forward}); scoring reads log-probs through the fused lm-head kernel, generation reads last-row logits.
 * Letters: B sequences, T new positions each, N rows (B*T, or fewer where prompts are shared: {@link BatchLayout}),
 * C hidden, V vocabulary.
 */
public final class LlamaModel {
    private final ModelConfig cfg;
    private final Backend be;
    private final LlamaWeights w;
    private final RopeTable rope;
    private volatile LoraAdapter adapter;

    public LlamaModel(ModelConfig cfg, LlamaWeights weights, Backend be) {
        this.cfg = cfg;
        this.be = be;
        this.w = weights;
        this.rope = RopeTable.create(cfg.ropePairing(), cfg.headDim(), cfg.maxPositionEmbeddings(), cfg.ropeTheta(),
                cfg.ropeScaling());
    }

    public static LlamaModel load(Checkpoint ck, Backend be) {
        return new LlamaModel(ck.config(), LlamaWeights.load(ck, be), be);
    }

    public ModelConfig config() {
        return cfg;
    }

    public Backend backend() {
        return be;
    }

    /** Adapts the projections with LoRA from now on (null removes the adapter). */
    public void setAdapter(LoraAdapter adapter) {
        this.adapter = adapter;
    }

    public LoraAdapter adapter() {
        return adapter;
    }

    public KvCache newCache(int batch, int maxT) {
        if (maxT > cfg.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("context of " + maxT + " positions exceeds the model's "
                    + cfg.maxPositionEmbeddings());
        }
        return new KvCache(be, cfg.numLayers(), batch, maxT, cfg.kvDim());
    }

    /** Copies positions [0, len) of row srcRow of one cache into row dstRow of another (same model, same maxT). */
    public void copyCacheRow(KvCache src, int srcRow, KvCache dst, int dstRow, int len) {
        long kvd = cfg.kvDim();
        for (int l = 0; l < cfg.numLayers(); l++) {
            be.copy(dst.k[l], dstRow * dst.maxT * kvd, src.k[l], srcRow * src.maxT * kvd, len * kvd);
            be.copy(dst.v[l], dstRow * dst.maxT * kvd, src.v[l], srcRow * src.maxT * kvd, len * kvd);
        }
    }

    /** Buffers for scoring and generation over up to maxN positions (layers share them). */
    public Activations newActivations(int maxN) {
        return Activations.inference(be, cfg, maxN);
    }

    /**
     * Buffers for {@link LlamaBackward} over B sequences of up to T positions: every layer's activations, or, with
     * gradient checkpointing, only each layer's input (the rest is recomputed one layer at a time in backward).
     */
    public Activations newTrainingActivations(int B, int T, boolean gradientCheckpointing) {
        return newTrainingActivations(B * T, B, T, gradientCheckpointing);
    }

    /** As {@link #newTrainingActivations(int, int, boolean)} for layouts of up to maxN rows ({@link BatchLayout}). */
    public Activations newTrainingActivations(int maxN, int B, int T, boolean gradientCheckpointing) {
        return Activations.training(be, cfg, maxN, B, T, gradientCheckpointing);
    }

    LlamaWeights weights() {
        return w;
    }

    RopeTable rope() {
        return rope;
    }

    /**
     * Runs the decoder over tokens (B,T) at positions pos0..pos0+T-1 of every sequence, writing their keys and values
     * into the cache; leaves the final-normed hidden states (N,C) in the activations. Right padding is harmless:
     * causal attention never lets a real position see a later pad.
     */
    public void forward(Activations a, KvCache cache, int[] tokens, int B, int T, int pos0) {
        forward(a, cache, tokens, B, T, pos0, adapter);
    }

    /**
     * As {@link #forward(Activations, KvCache, int[], int, int, int)} with an explicit adapter (null: the base model,
     * DPO's reference, with no second copy of the weights), so callers on several threads can run different policy
     * versions, or the reference, without sharing state.
     */
    public void forward(Activations a, KvCache cache, int[] tokens, int B, int T, int pos0, LoraAdapter adapter) {
        if ((long) B * T > tokens.length) {
            throw new IllegalArgumentException(B + " x " + T + " positions but " + tokens.length + " tokens");
        }
        forward(a, cache, BatchLayout.padded(tokens, B, T, pos0), adapter);
    }

    /**
     * The decoder over a batch laid out by {@link BatchLayout} (shared prompts computed once), writing every
     * sequence's keys and values into the cache; leaves the final-normed hidden states (N,C) of its rows in the
     * activations.
     */
    public void forward(Activations a, KvCache cache, BatchLayout lay, LoraAdapter adapter) {
        int N = lay.rows, B = lay.sequences, T = lay.length, pos0 = lay.pos0;
        int C = cfg.hiddenSize();
        if (!a.fits(lay, cfg.numHeads())) {
            throw new IllegalArgumentException(N + " rows of " + B + " x " + T + " positions exceed the activations' "
                    + a.maxN + " rows" + (a.training ? " or (B,NH,T,T) attention probabilities" : ""));
        }
        if (B > cache.batch || pos0 + T > cache.maxT) {
            throw new IllegalArgumentException("positions " + pos0 + ".." + (pos0 + T) + " of " + B
                    + " sequences exceed the cache (" + cache.batch + " x " + cache.maxT + ")");
        }
        checkTokens(lay.tokens, N);
        if (a.training && (pos0 != 0 || cache.maxT != T)) {
            throw new IllegalArgumentException("a training forward runs whole sequences: pos0 0 and a cache of "
                    + "exactly T positions");
        }
        if (lay.shared && (pos0 != 0 || cache.maxT != T)) {
            throw new IllegalArgumentException("a shared layout runs whole sequences: pos0 0 and a cache of exactly "
                    + "T positions");
        }
        be.embeddingForward(a.xIn[0], lay.tokens, w.embed(), N, C);
        for (int l = 0; l < w.layers().length; l++) {
            layerForward(a, cache, l, lay, adapter, true);
        }
        be.rmsnormForward(a.xn, a.rstdOut, a.xOut, w.finalNorm(), cfg.rmsNormEps(), N, C);
    }

    /**
     * Layer l over the layout's N rows: reads a.xIn[l], keeps its state in a's layer-l buffers and the cache, and,
     * when writeNext, writes the residual stream after the layer into a.xIn[l+1] (or a.xOut). Gradient checkpointing
     * calls it again in backward with writeNext false, to rebuild a layer's state from its kept input.
     */
    void layerForward(Activations a, KvCache cache, int l, BatchLayout lay, LoraAdapter adapter, boolean writeNext) {
        int N = lay.rows, B = lay.sequences, T = lay.length;
        int C = cfg.hiddenSize(), QD = cfg.qDim(), KVD = cfg.kvDim(), I = cfg.intermediateSize();
        int NH = cfg.numHeads(), KV = cfg.numKvHeads(), HS = cfg.headDim();
        long NC = (long) N * C;
        LlamaWeights.Layer L = w.layers()[l];
        Tensor x = a.xIn[l];
        if (lay.shared) {
            a.ensureViewScratch(QD);
        }
        // q is computed in rows and, for a shared layout, copied into attention's view (B,T,QD) afterwards.
        Tensor q = lay.shared ? a.qRows : a.q[l];
        Tensor attOut = lay.shared ? a.attOutView : a.attOut[l];
        be.rmsnormForward(a.xn1[l], a.rstd1[l], x, L.attnNorm(), cfg.rmsNormEps(), N, C);
        be.matmulForward(q, a.xn1[l], L.wq(), L.bq(), N, C, QD);
        lora(adapter, a, l, "q_proj", q, a.xn1[l], N);
        be.matmulForward(a.k, a.xn1[l], L.wk(), L.bk(), N, C, KVD);
        lora(adapter, a, l, "k_proj", a.k, a.xn1[l], N);
        be.matmulForward(a.v, a.xn1[l], L.wv(), L.bv(), N, C, KVD);
        lora(adapter, a, l, "v_proj", a.v, a.xn1[l], N);
        be.ropeForward(q, lay.positions, rope, N, NH, HS);
        be.ropeForward(a.k, lay.positions, rope, N, KV, HS);
        lay.scatter(be, cache.k[l], cache.maxT, a.k, KVD, true);
        lay.scatter(be, cache.v[l], cache.maxT, a.v, KVD, true);
        if (lay.shared) {
            lay.scatter(be, a.q[l], T, q, QD, true);
        }
        be.attentionForward(attOut, a.att[l], a.q[l], cache.k[l], cache.v[l], B, T, lay.pos0, cache.maxT, NH, KV,
                HS);
        if (lay.shared) {
            lay.gather(be, a.attOut[l], attOut, QD);
        }
        be.matmulForward(a.proj, a.attOut[l], L.wo(), null, N, QD, C);
        lora(adapter, a, l, "o_proj", a.proj, a.attOut[l], N);
        Tensor mid = a.xMid[l];
        if (mid != x) {
            be.copy(mid, 0, x, 0, NC);
        }
        be.add(mid, a.proj, NC);
        be.rmsnormForward(a.xn2[l], a.rstd2[l], mid, L.mlpNorm(), cfg.rmsNormEps(), N, C);
        be.matmulForward(a.gate[l], a.xn2[l], L.wGate(), null, N, C, I);
        lora(adapter, a, l, "gate_proj", a.gate[l], a.xn2[l], N);
        be.matmulForward(a.up[l], a.xn2[l], L.wUp(), null, N, C, I);
        lora(adapter, a, l, "up_proj", a.up[l], a.xn2[l], N);
        be.swigluForward(a.mlp[l], a.gate[l], a.up[l], N, I);
        if (!writeNext) {
            return;
        }
        be.matmulForward(a.proj, a.mlp[l], L.wDown(), null, N, I, C);
        lora(adapter, a, l, "down_proj", a.proj, a.mlp[l], N);
        Tensor next = l + 1 < w.layers().length ? a.xIn[l + 1] : a.xOut;
        if (next != mid) {
            be.copy(next, 0, mid, 0, NC);
        }
        be.add(next, a.proj, NC);
    }

    // out (N,OUT) += scaling * (inp (N,IN) @ A^T) @ B^T, when this projection is adapted
    private void lora(LoraAdapter ad, Activations a, int layer, String projection, Tensor out, Tensor inp, int N) {
        if (ad == null) {
            return;
        }
        LoraAdapter.Pair p = ad.pair(layer, projection);
        if (p == null) {
            return;
        }
        int r = ad.rank();
        if (a.loraMid == null || a.loraRank < r) {
            int widest = Math.max(Math.max(cfg.qDim(), cfg.hiddenSize()), cfg.intermediateSize());
            a.loraRank = r;
            a.loraMid = be.allocate((long) a.maxN * r);
            a.loraOut = be.allocate((long) a.maxN * widest);
        }
        be.matmulForward(a.loraMid, inp, p.aWeight(), null, N, p.in(), r);
        be.matmulForward(a.loraOut, a.loraMid, p.bWeight(), null, N, r, p.out());
        be.scale(a.loraOut, ad.scaling(), (long) N * p.out());
        be.add(out, a.loraOut, (long) N * p.out());
    }

    /** Full-vocabulary logits (R,V) of the given rows of the last forward's hidden states, into out (R*V). */
    public void logits(Activations a, int[] rows, float[] out) {
        int C = cfg.hiddenSize(), V = cfg.vocabSize();
        if (a.selectedRows == null || a.selectedCapacity < rows.length) {
            a.selectedCapacity = rows.length;
            a.selectedRows = be.allocate((long) rows.length * C);
            a.logits = be.allocate((long) rows.length * V);
        }
        for (int r = 0; r < rows.length; r++) {
            be.copy(a.selectedRows, (long) r * C, a.xn, (long) rows[r] * C, C);
        }
        be.matmulForward(a.logits, a.selectedRows, w.lmHead(), null, rows.length, C, V);
        be.download(a.logits, 0, out, 0, rows.length * V);
    }

    /**
     * Next-token log-probs of the last forward's N positions: out[n] = log p(targets[n] | position n), 0 where
     * targets[n] &lt; 0 (masked). logitSums, if not null, receives each row's sum of all V logits.
     */
    public void tokenLogprobs(Activations a, int[] targets, int N, float[] out, float[] logitSums) {
        be.logprobForward(a.logp, a.lse, a.logitSum, a.xn, w.lmHead(), targets, N, cfg.hiddenSize(), cfg.vocabSize());
        be.download(a.logp, 0, out, 0, N);
        if (logitSums != null) {
            be.download(a.logitSum, 0, logitSums, 0, N);
        }
    }

    private void checkTokens(int[] tokens, int n) {
        for (int i = 0; i < n; i++) {
            if (tokens[i] < 0 || tokens[i] >= cfg.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " is out of range [0, " + cfg.vocabSize() + ")");
            }
        }
    }
}
