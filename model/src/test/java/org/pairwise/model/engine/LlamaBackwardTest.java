package org.pairwise.model.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;
import org.pairwise.model.lora.LoraGradients;

/**
 * Every LoRA gradient of the backward pass matches central finite differences of the same loss computed in double
 * precision by the independent reference decoder: L = sum over masked positions of g_n * log p(target_n).
 */
class LlamaBackwardTest {
    static Backend be;

    @TempDir
    Path dir;

    @BeforeAll
    static void open() {
        be = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        be.close();
    }

    // Two right-padded sequences (B=2, T=7): prompt positions and pads are masked (target -1).
    static final int[][] SEQS = {{1, 17, 5, 33, 60, 2, 9}, {1, 41, 41, 12, 0, 0, 0}};
    static final int[] PROMPT = {2, 1};
    static final int[] LENGTH = {7, 4};

    @ParameterizedTest(name = "{0}, gradient checkpointing {1}")
    @CsvSource({"llama, false", "qwen2, false", "qwen2, true"})
    void loraGradientsMatchFiniteDifferencesOfTheReference(String arch, boolean checkpointing) throws Exception {
        ModelConfig c = arch.equals("llama") ? TestCheckpoints.llama(67, false) : TestCheckpoints.qwen2(71);
        LoraConfig lc = new LoraConfig(2, 3, LoraConfig.ALL_TARGETS, 0, false, "test");
        try (Checkpoint base = TestCheckpoints.random(c, 31, DType.F32)) {
            Map<String, float[]> ab = LoraForwardTest.writeAdapter(dir, c, lc, 8);
            LlamaModel model = LlamaModel.load(base, be);
            LoraAdapter adapter = LoraAdapter.load(dir, c, be);
            model.setAdapter(adapter);
            int B = SEQS.length, T = SEQS[0].length, N = B * T;
            int[] tokens = new int[N], targets = new int[N];
            float[] g = new float[N];
            SplittableRandom rng = new SplittableRandom(4);
            for (int b = 0; b < B; b++) {
                for (int t = 0; t < T; t++) {
                    tokens[b * T + t] = SEQS[b][t];
                    boolean scored = t >= PROMPT[b] - 1 && t + 1 < LENGTH[b];
                    targets[b * T + t] = scored ? SEQS[b][t + 1] : -1;
                    g[b * T + t] = scored ? (float) (rng.nextDouble() * 2 - 1) : 0f;
                }
            }
            Activations a = model.newTrainingActivations(B, T, checkpointing);
            KvCache cache = model.newCache(B, T);
            model.forward(a, cache, tokens, B, T, 0);
            float[] logp = new float[N];
            model.tokenLogprobs(a, targets, N, logp, null);
            LoraGradients grads = new LoraGradients(adapter, c, be);
            Tensor dlogp = be.upload(g);
            new LlamaBackward(model, N).backward(a, cache, targets, dlogp, B, T, adapter, grads);

            Map<String, double[]> ref = ReferenceDecoder.widen(ab);
            ReferenceDecoder dec = new ReferenceDecoder(base, ref, lc.scaling(), lc.r());
            assertEquals(loss(dec, targets, g, B, T), dot(logp, g), 1e-3, "forward loss");
            int checked = 0;
            double worst = 0;
            for (int l = 0; l < c.numLayers(); l++) {
                for (String p : lc.targetModules()) {
                    LoraGradients.Pair gp = grads.pair(l, p);
                    for (String which : List.of("A", "B")) {
                        double[] param = ref.get(LoraConfig.key(l, p, which));
                        float[] got = be.download(which.equals("A") ? gp.dA() : gp.dB());
                        for (int trial = 0; trial < 4; trial++) {
                            int i = rng.nextInt(param.length);
                            double fd = ReferenceDecoder.centralDifference(param, i, 1e-4,
                                    () -> loss(dec, targets, g, B, T));
                            double err = Math.abs(fd - got[i]);
                            worst = Math.max(worst, err / (1e-3 + Math.abs(fd)));
                            assertEquals(fd, got[i], 2e-3 + 2e-2 * Math.abs(fd),
                                    "layer " + l + " " + p + " " + which + "[" + i + "]");
                            checked++;
                        }
                    }
                }
            }
            assertTrue(checked == c.numLayers() * 7 * 2 * 4, "checked " + checked);
            assertTrue(worst < 0.05, "worst relative error " + worst);
        }
    }

    static double loss(ReferenceDecoder dec, int[] targets, float[] g, int B, int T) {
        double total = 0;
        for (int b = 0; b < B; b++) {
            double[][] logits = dec.logits(java.util.Arrays.copyOf(SEQS[b], LENGTH[b]));
            for (int t = 0; t < LENGTH[b]; t++) {
                int target = targets[b * T + t];
                if (target >= 0) {
                    total += g[b * T + t] * ReferenceDecoder.logSoftmax(logits[t], target);
                }
            }
        }
        return total;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }
}
