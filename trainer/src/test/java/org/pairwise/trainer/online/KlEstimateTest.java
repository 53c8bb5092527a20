package org.pairwise.trainer.online;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.engine.Generation;
import org.pairwise.model.engine.Generator;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.LoraForwardTest;
import org.pairwise.model.engine.ReferenceDecoder;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.engine.TestCheckpoints;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;
import org.pairwise.model.sample.SamplingParams;

/** The Monte-Carlo KL estimate against the exact KL, where the expectation can be enumerated. */
class KlEstimateTest {

    /**
     * Sequences of 3 tokens over a vocabulary of 3 from two Markov chains (policy π and reference ρ): the exact KL
     * and the exact variance of the per-sequence log-ratio by enumerating all 27 sequences, against the estimate
     * over 20000 sequences sampled from π: the mean within 4 standard errors, the standard error within 5% of
     * sqrt(Var/n).
     */
    @Test
    void theEstimateAndItsStandardErrorMatchAnEnumeratedMarkovChain() {
        double[] p0 = {0.5, 0.3, 0.2}, q0 = {0.2, 0.5, 0.3};
        double[][] p = {{0.7, 0.2, 0.1}, {0.1, 0.6, 0.3}, {0.3, 0.3, 0.4}};
        double[][] q = {{0.4, 0.4, 0.2}, {0.3, 0.3, 0.4}, {0.1, 0.2, 0.7}};
        double kl = 0, second = 0;
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                for (int c = 0; c < 3; c++) {
                    double pi = p0[a] * p[a][b] * p[b][c];
                    double k = Math.log(pi / (q0[a] * q[a][b] * q[b][c]));
                    kl += pi * k;
                    second += pi * k * k;
                }
            }
        }
        int n = 20000;
        SplittableRandom rng = new SplittableRandom(5);
        double[] policy = new double[n], reference = new double[n];
        for (int j = 0; j < n; j++) {
            int a = draw(p0, rng), b = draw(p[a], rng), c = draw(p[b], rng);
            // per-token log-probs, as the generator records them, summed in float as KlEstimate.of(samples) does
            float[] tokens = {(float) Math.log(p0[a]), (float) Math.log(p[a][b]), (float) Math.log(p[b][c])};
            for (float t : tokens) {
                policy[j] += t;
            }
            reference[j] = Math.log(q0[a]) + Math.log(q[a][b]) + Math.log(q[b][c]);
        }
        KlEstimate e = KlEstimate.of(policy, reference);
        assertEquals(n, e.count());
        assertEquals(kl, e.mean(), 4 * e.standardError(), "exact KL " + kl);
        assertEquals(Math.sqrt((second - kl * kl) / n), e.standardError(), 0.05 * e.standardError());
        assertTrue(kl > 20 * e.standardError(), "the KL is far from 0 at this sample size");
    }

    private static int draw(double[] dist, SplittableRandom rng) {
        double u = rng.nextDouble();
        for (int i = 0; i < dist.length - 1; i++) {
            u -= dist[i];
            if (u < 0) {
                return i;
            }
        }
        return dist.length - 1;
    }

    /**
     * A tiny Llama (vocabulary 67, EOS 2) whose policy is the base model with a random LoRA adapter and whose
     * reference is the base model: two-token responses sampled by the generator at temperature 1, their recorded
     * log-probs against the reference's scores through SequenceScorer, against the exact KL of the two-token (or
     * EOS-terminated) response distribution enumerated with the double-precision reference decoder.
     */
    @Test
    void theEstimateFromGeneratorSamplesMatchesTheEnumeratedKlOfATinyModel() throws Exception {
        ModelConfig c = TestCheckpoints.llama(67, false);
        LoraConfig lc = new LoraConfig(2, 3, LoraConfig.ALL_TARGETS, 0, false, "test");
        int[] prompt = {1, 17, 5};
        Path dir = Files.createTempDirectory("policy");
        try (Backend be = new CpuBackend(2); Checkpoint base = TestCheckpoints.random(c, 47, DType.F32)) {
            var lora = ReferenceDecoder.widen(LoraForwardTest.writeAdapter(dir, c, lc, 21));
            ReferenceDecoder pi = new ReferenceDecoder(base, lora, lc.scaling(), lc.r());
            ReferenceDecoder rho = new ReferenceDecoder(base);
            double kl = exactKl(pi, rho, prompt, c);

            LlamaModel model = LlamaModel.load(base, be);
            model.setAdapter(LoraAdapter.load(dir, c, be));
            Generator generator = new Generator(model);
            List<Generation> samples = new ArrayList<>();
            for (int j = 0; j < 1500; j++) {
                samples.add(generator.generate(prompt, new SamplingParams(2, 1.0, 1.0, 0, j), null));
            }
            var reference = new SequenceScorer(model, 4096).score(KlEstimate.sequences(samples), null);
            KlEstimate e = KlEstimate.of(samples, reference);
            assertEquals(kl, e.mean(), 4 * e.standardError(), "exact KL " + kl);
            assertTrue(kl > 10 * e.standardError(), "a KL far from 0: " + kl + " vs " + e.standardError());
            // Each response's estimate is its exact log-ratio under the two models.
            Generation g = samples.get(0);
            double exact = pi.completionLogp(prompt, g.tokenIds()) - rho.completionLogp(prompt, g.tokenIds());
            assertEquals(exact, e.perResponse()[0], 1e-4);

            Generation cut = new Generation(prompt, g.tokenIds(), new float[0], "length");
            String msg = assertThrows(IllegalArgumentException.class,
                    () -> KlEstimate.of(List.of(cut), reference.subList(0, 1))).getMessage();
            assertTrue(msg.contains("tokens"), msg);
        }
    }

    // Σ_y1 π(y1)[log π(y1)/ρ(y1) + (y1 not EOS) Σ_y2 π(y2|y1) log π(y2|y1)/ρ(y2|y1)]
    private static double exactKl(ReferenceDecoder pi, ReferenceDecoder rho, int[] prompt, ModelConfig c) {
        int V = c.vocabSize(), P = prompt.length;
        double[] first = softmax(pi.logits(prompt)[P - 1]), firstRef = softmax(rho.logits(prompt)[P - 1]);
        double kl = 0;
        int[] ids = java.util.Arrays.copyOf(prompt, P + 1);
        for (int y1 = 0; y1 < V; y1++) {
            double term = Math.log(first[y1] / firstRef[y1]);
            if (!c.isEos(y1)) {
                ids[P] = y1;
                double[] second = softmax(pi.logits(ids)[P]), secondRef = softmax(rho.logits(ids)[P]);
                for (int y2 = 0; y2 < V; y2++) {
                    term += second[y2] * Math.log(second[y2] / secondRef[y2]);
                }
            }
            kl += first[y1] * term;
        }
        return kl;
    }

    private static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double v : logits) {
            max = Math.max(max, v);
        }
        double[] out = new double[logits.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.exp(logits[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < out.length; i++) {
            out[i] /= sum;
        }
        return out;
    }
}
