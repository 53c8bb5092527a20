package org.pairwise.model.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.DTypes;
import org.pairwise.accel.RopeTable;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;
import org.pairwise.model.lora.LoraGradients;
import org.pairwise.model.sample.SamplingParams;

/**
 * What the model computes on the cpu backend: a training forward with LoRA over F32 weights (every kernel's forward:
 * matmul on packed panels, attention's softmax, SwiGLU's sigmoid, RMSNorm, RoPE), the fused log-probs and the backward
 * into every LoRA gradient; in every storage type a sampled pair (prefill, the decode kernels one and two tokens at a
 * time, the sampler); and the kernels on shapes the tiny model lacks, BF16 weights' backward among them (see
 * {@link #kernels}). Small shapes, so that a JVM held to the interpreter finishes in seconds. See {@link JitTiersTest}.
 */
public final class ForwardProbe {
    private ForwardProbe() {}

    /** PairDecodingTest's Qwen2 (attention biases, halves of C and OC not whole panels) with one layer. */
    static final ModelConfig CFG = new ModelConfig("Qwen2ForCausalLM", 64, 1, 4, 2, 16, 96, 101, 128, 1e-6f,
            10000.0, null, RopeTable.Pairing.HALVES, false, true, -1, new int[] {2});

    public static void main(String[] args) throws Exception {
        JitTiers.main(args, ForwardProbe::run);
    }

    static Map<String, float[]> run(Path dir) throws Exception {
        Map<String, float[]> out = new LinkedHashMap<>();
        LoraConfig lc = new LoraConfig(2, 3, LoraConfig.ALL_TARGETS, 0, false, "test");
        try (Backend be = new CpuBackend(2)) {
            kernels(out, be);
            for (DType dtype : DType.values()) {
                Path ad = Files.createDirectories(dir.resolve(dtype.name()));
                LoraForwardTest.writeAdapter(ad, CFG, lc, 8);
                try (Checkpoint ck = TestCheckpoints.random(CFG, 3, dtype)) {
                    LlamaModel model = LlamaModel.load(ck, be);
                    LoraAdapter adapter = LoraAdapter.load(ad, CFG, be);
                    if (dtype == DType.F32) {
                        training(out, dtype + " ", model, adapter, be);
                    }
                    Generation[] pair = new Generator(model).generatePair(new int[] {1, 17, 33, 5, 90},
                            new SamplingParams(3, 1.0, 0.95, 0, 901), adapter, null, null);
                    for (int i = 0; i < 2; i++) {
                        out.put(dtype + " sample " + i + " logprobs", pair[i].logprobs());
                        out.put(dtype + " sample " + i + " tokens", floats(pair[i].tokenIds()));
                    }
                }
            }
        }
        return out;
    }

    // Two right-padded sequences (B 2, T 6: N 12 is not a whole panel of tokens), prompt positions and pads masked,
    // random d(loss)/d(log-prob).
    private static void training(Map<String, float[]> out, String at, LlamaModel model, LoraAdapter adapter,
                                 Backend be) {
        int B = 2, T = 6, N = B * T, V = model.config().vocabSize();
        SplittableRandom rng = new SplittableRandom(5);
        int[] tokens = new int[N], targets = new int[N];
        float[] g = new float[N];
        for (int n = 0; n < N; n++) {
            tokens[n] = rng.nextInt(V);
        }
        for (int n = 0; n < N; n++) {
            int t = n % T, len = n < T ? T : 4;
            boolean scored = t >= 2 && t + 1 < len;
            targets[n] = scored ? tokens[n + 1] : -1;
            g[n] = scored ? (float) (rng.nextDouble() * 2 - 1) : 0f;
        }
        Activations a = model.newTrainingActivations(B, T, false);
        KvCache cache = model.newCache(B, T);
        model.forward(a, cache, tokens, B, T, 0, adapter);
        float[] logp = new float[N], logitSum = new float[N];
        model.tokenLogprobs(a, targets, N, logp, logitSum);
        out.put(at + "logprobs", logp);
        out.put(at + "logit sums", logitSum);
        LoraGradients grads = new LoraGradients(adapter, model.config(), be);
        new LlamaBackward(model, N).backward(a, cache, targets, be.upload(g), B, T, adapter, grads);
        List<Tensor> ts = grads.tensors();
        for (int i = 0; i < ts.size(); i++) {
            out.put(at + "gradient " + i, be.download(ts.get(i)));
        }
    }

    // What the model's shapes leave out: a matmul deeper than one K chunk (C 300 > Panels.KC, not a whole number of
    // lanes) forward and backward over F32 and BF16 weights, a BF16 lm head of several vocabulary chunks each way
    // (V 797 at C 32: 768-row forward blocks, 256-row backward chunks, each with a tail), AdamW and the sum of squares
    // over a length with a tail, attention over rows longer than a vector.
    private static void kernels(Map<String, float[]> out, Backend be) {
        SplittableRandom rng = new SplittableRandom(9);
        int N = 5, C = 300, OC = 13;
        for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            Weight w = weight(be, dtype, OC, C, rng);
            Tensor x = be.upload(random(rng, N * C)), y = be.allocate(N * OC), dy = be.upload(random(rng, N * OC));
            Tensor dx = be.allocate(N * C);
            be.matmulForward(y, x, w, be.upload(random(rng, OC)), N, C, OC);
            be.matmulBackward(dx, null, dy, w, N, C, OC);
            out.put(dtype + " matmul C 300", be.download(y));
            out.put(dtype + " matmul backward C 300", be.download(dx));
        }
        Tensor dw = be.allocate(OC * C);
        be.matmulBackwardWeight(dw, be.upload(random(rng, N * OC)), be.upload(random(rng, N * C)), N, C, OC);
        out.put("matmul weight gradient C 300", be.download(dw));
        int M = 3, H = 32, V = 797;
        int[] targets = {796, -1, 385};
        Weight head = weight(be, DType.BF16, V, H, rng);
        Tensor h = be.upload(random(rng, M * H)), logp = be.allocate(M), lse = be.allocate(M);
        Tensor sum = be.allocate(M), dh = be.allocate(M * H);
        be.logprobForward(logp, lse, sum, h, head, targets, M, H, V);
        be.logprobBackward(dh, be.upload(new float[] {0.7f, 0f, -1.3f}), h, head, lse, targets, M, H, V);
        out.put("lm head log-probs", be.download(logp));
        out.put("lm head logit sums", be.download(sum));
        out.put("lm head gradient", be.download(dh));
        // rows of attention probabilities longer than a vector (the model's sequences are at most 8 long)
        int T = 21, NH = 2, HS = 12;
        Tensor q = be.upload(random(rng, T * NH * HS)), k = be.upload(random(rng, T * HS));
        Tensor v = be.upload(random(rng, T * HS)), att = be.allocate(NH * T * T), o = be.allocate(T * NH * HS);
        Tensor dq = be.allocate(T * NH * HS), dk = be.allocate(T * HS), dv = be.allocate(T * HS);
        be.attentionForward(o, att, q, k, v, 1, T, 0, T, NH, 1, HS);
        be.attentionBackward(dq, dk, dv, be.upload(random(rng, T * NH * HS)), att, q, k, v, 1, T, NH, 1, HS);
        out.put("attention T 21", be.download(o));
        for (Tensor t : List.of(dq, dk, dv)) {
            out.put("attention gradient " + out.size(), be.download(t));
        }
        int n = 1037;
        Tensor p = be.upload(random(rng, n)), m = be.allocate(n), second = be.allocate(n), g = be.allocate(n);
        for (int step = 1; step <= 2; step++) {
            be.upload(g, 0, random(rng, n), 0, n);
            be.adamwUpdate(p, g, m, second, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, step);
        }
        out.put("adamw", be.download(p));
        out.put("sum of squares", new float[] {(float) be.sumOfSquares(g, n)});
    }

    private static Weight weight(Backend be, DType dtype, int rows, int cols, SplittableRandom rng) {
        float[] v = random(rng, rows * cols);
        if (dtype == DType.F32) {
            return be.weightOf(be.upload(v), rows, cols);
        }
        MemorySegment seg = Arena.ofAuto().allocate(2L * v.length);
        for (int i = 0; i < v.length; i++) {
            seg.setAtIndex(DTypes.I16, i, DTypes.floatToBf16(v[i]));
        }
        return be.weight(seg, DType.BF16, rows, cols);
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return v;
    }

    private static float[] floats(int[] ids) {
        float[] f = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            f[i] = ids[i];
        }
        return f;
    }
}
