package org.pairwise.model.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;
import org.pairwise.model.lora.LoraGradients;
import org.pairwise.model.sample.SamplingParams;

/**
 * What the model computes on the cpu backend: a training forward with LoRA (every kernel's forward: matmul on packed
 * panels, attention's softmax, SwiGLU's sigmoid, RMSNorm, RoPE), the fused log-probs and the backward into every LoRA
 * gradient, over F32 and BF16 weights; and in every storage type a sampled pair (prefill, the decode kernels one and
 * two tokens at a time, the sampler). Small shapes, so that a JVM held to the interpreter finishes in seconds. See {@link JitTiersTest}.
 */
public final class ForwardProbe {
    private ForwardProbe() {}

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("forward-probe");
        JitTiers.write(run(dir), Path.of(args[0]));
    }

    static Map<String, float[]> run(Path dir) throws Exception {
        Map<String, float[]> out = new LinkedHashMap<>();
        LoraConfig lc = new LoraConfig(2, 3, LoraConfig.ALL_TARGETS, 0, false, "test");
        try (Backend be = new CpuBackend(2)) {
            for (DType dtype : DType.values()) {
                Path ad = Files.createDirectories(dir.resolve(dtype.name()));
                LoraForwardTest.writeAdapter(ad, PairDecodingTest.CFG, lc, 8);
                try (Checkpoint ck = TestCheckpoints.random(PairDecodingTest.CFG, 3, dtype)) {
                    LlamaModel model = LlamaModel.load(ck, be);
                    LoraAdapter adapter = LoraAdapter.load(ad, PairDecodingTest.CFG, be);
                    if (dtype == DType.F32 || dtype == DType.BF16) {
                        training(out, dtype + " ", model, adapter, be);
                    }
                    Generation[] pair = new Generator(model).generatePair(new int[] {1, 17, 33, 5, 90, 64, 7},
                            new SamplingParams(5, 1.0, 0.95, 0, 901), adapter, null, null);
                    for (int i = 0; i < 2; i++) {
                        out.put(dtype + " sample " + i + " logprobs", pair[i].logprobs());
                        out.put(dtype + " sample " + i + " tokens", floats(pair[i].tokenIds()));
                    }
                }
            }
        }
        return out;
    }

    // Two right-padded sequences (B 2, T 8), prompt positions and pads masked, random d(loss)/d(log-prob).
    private static void training(Map<String, float[]> out, String at, LlamaModel model, LoraAdapter adapter,
                                 Backend be) {
        int B = 2, T = 8, N = B * T, V = model.config().vocabSize();
        SplittableRandom rng = new SplittableRandom(5);
        int[] tokens = new int[N], targets = new int[N];
        float[] g = new float[N];
        for (int n = 0; n < N; n++) {
            tokens[n] = rng.nextInt(V);
        }
        for (int n = 0; n < N; n++) {
            int t = n % T, len = n < T ? T : 5;
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

    private static float[] floats(int[] ids) {
        float[] f = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            f[i] = ids[i];
        }
        return f;
    }
}
