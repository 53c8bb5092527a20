package org.pairwise.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.sample.SamplingParams;

class LlamaModelTest {
    static Backend be;

    @BeforeAll
    static void open() {
        be = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        be.close();
    }

    static final int[] TOKENS = {1, 17, 5, 33, 60, 2, 9, 41, 41, 0, 12};

    static float[] prefillLogits(Checkpoint ck, int[] tokens) {
        LlamaModel m = LlamaModel.load(ck, be);
        int T = tokens.length, V = ck.config().vocabSize();
        Activations a = m.newActivations(T);
        m.forward(a, m.newCache(1, T), tokens, 1, T, 0);
        int[] rows = new int[T];
        for (int t = 0; t < T; t++) {
            rows[t] = t;
        }
        float[] out = new float[T * V];
        m.logits(a, rows, out);
        return out;
    }

    static void assertMatchesReference(Checkpoint ck, double tol) {
        double[][] ref = new ReferenceDecoder(ck).logits(TOKENS);
        float[] got = prefillLogits(ck, TOKENS);
        int V = ck.config().vocabSize();
        for (int t = 0; t < TOKENS.length; t++) {
            for (int v = 0; v < V; v++) {
                assertEquals(ref[t][v], got[t * V + v], tol, "logit [" + t + "," + v + "]");
            }
        }
    }

    @Test
    void llamaPrefillMatchesDoublePrecisionReference() {
        try (Checkpoint ck = TestCheckpoints.random(TestCheckpoints.llama(67, false), 1, DType.F32)) {
            assertMatchesReference(ck, 2e-4);
        }
    }

    @Test
    void qwen2WithBiasesAndTiedEmbeddingsMatchesReference() {
        try (Checkpoint ck = TestCheckpoints.random(TestCheckpoints.qwen2(71), 2, DType.F32)) {
            assertMatchesReference(ck, 2e-4);
        }
    }

    @Test
    void bf16WeightsComputeLikeTheSameValuesInF32() {
        try (Checkpoint orig = TestCheckpoints.random(TestCheckpoints.qwen2(71), 3, DType.F32);
             Checkpoint bf16 = TestCheckpoints.build(orig.config(), TestCheckpoints.roundedToBf16(orig),
                     TestCheckpoints.shapes(orig), DType.BF16);
             Checkpoint f32 = TestCheckpoints.build(orig.config(), TestCheckpoints.roundedToBf16(orig),
                     TestCheckpoints.shapes(orig), DType.F32)) {
            assertArrayEquals(prefillLogits(f32, TOKENS), prefillLogits(bf16, TOKENS), 1e-4f);
            assertMatchesReference(bf16, 2e-4);
        }
    }

    @Test
    void ggufAdjacentLayoutWithPermutedRowsEqualsHfHalves() {
        try (Checkpoint hf = TestCheckpoints.random(TestCheckpoints.qwen2(71), 4, DType.F32);
             Checkpoint gguf = TestCheckpoints.toAdjacentLayout(hf)) {
            assertArrayEquals(prefillLogits(hf, TOKENS), prefillLogits(gguf, TOKENS), 1e-4f);
            assertMatchesReference(gguf, 2e-4);
        }
    }

    @Test
    void kvCachedDecodeGivesThePrefillLogitsAtEveryPosition() {
        try (Checkpoint ck = TestCheckpoints.random(TestCheckpoints.llama(67, true), 5, DType.F32)) {
            float[] prefill = prefillLogits(ck, TOKENS);
            LlamaModel m = LlamaModel.load(ck, be);
            int V = ck.config().vocabSize();
            KvCache cache = m.newCache(1, TOKENS.length);
            Activations one = m.newActivations(1);
            float[] logits = new float[V];
            // Prefill the first 4 positions, then decode the rest one at a time.
            Activations first = m.newActivations(4);
            m.forward(first, cache, java.util.Arrays.copyOf(TOKENS, 4), 1, 4, 0);
            m.logits(first, new int[] {3}, logits);
            assertArrayEquals(java.util.Arrays.copyOfRange(prefill, 3 * V, 4 * V), logits, 1e-4f);
            for (int t = 4; t < TOKENS.length; t++) {
                m.forward(one, cache, new int[] {TOKENS[t]}, 1, 1, t);
                m.logits(one, new int[] {0}, logits);
                assertArrayEquals(java.util.Arrays.copyOfRange(prefill, t * V, (t + 1) * V), logits, 1e-4f, "pos " + t);
            }
        }
    }

    @Test
    void rightPaddedBatchScoresEqualOneAtATimeAndTheReference() {
        try (Checkpoint ck = TestCheckpoints.random(TestCheckpoints.qwen2(71), 6, DType.F32)) {
            LlamaModel m = LlamaModel.load(ck, be);
            List<SequenceScorer.Sequence> seqs = List.of(
                    new SequenceScorer.Sequence(new int[] {1, 5, 9, 12, 40, 3}, 2),
                    new SequenceScorer.Sequence(new int[] {7, 8, 9}, 1),
                    new SequenceScorer.Sequence(new int[] {4, 4, 4, 4, 4, 4, 4, 4, 70}, 5));
            List<SequenceScorer.Score> batched = new SequenceScorer(m, 1 << 20).score(seqs);
            List<SequenceScorer.Score> single = new ArrayList<>();
            for (SequenceScorer.Sequence s : seqs) {
                single.addAll(new SequenceScorer(m, 1).score(List.of(s)));
            }
            for (int i = 0; i < seqs.size(); i++) {
                int[] ids = seqs.get(i).ids();
                double[][] ref = new ReferenceDecoder(ck).logits(ids);
                double expected = 0;
                for (int t = seqs.get(i).promptLength() - 1; t + 1 < ids.length; t++) {
                    expected += ReferenceDecoder.logSoftmax(ref[t], ids[t + 1]);
                }
                assertEquals(expected, batched.get(i).logprob(), 1e-3, "batched " + i);
                assertEquals(expected, single.get(i).logprob(), 1e-3, "single " + i);
                assertEquals(ids.length - seqs.get(i).promptLength(), batched.get(i).tokens());
            }
        }
    }

    @Test
    void greedyGenerationFollowsTheArgmaxOfTheReference() {
        try (Checkpoint ck = TestCheckpoints.random(TestCheckpoints.llama(67, false), 7, DType.F32)) {
            Generation g = new Generator(LlamaModel.load(ck, be)).generate(new int[] {1, 30}, SamplingParams.greedy(6),
                    null);
            int[] seq = {1, 30};
            for (int i = 0; i < g.tokenIds().length; i++) {
                double[] last = new ReferenceDecoder(ck).logits(seq)[seq.length - 1];
                int best = 0;
                for (int v = 1; v < last.length; v++) {
                    best = last[v] > last[best] ? v : best;
                }
                assertEquals(best, g.tokenIds()[i], "token " + i);
                assertEquals(ReferenceDecoder.logSoftmax(last, best), g.logprobs()[i], 1e-4);
                seq = java.util.Arrays.copyOf(seq, seq.length + 1);
                seq[seq.length - 1] = best;
                if (best == 2) {
                    assertEquals("eos", g.finishReason());
                    return;
                }
            }
            assertEquals("length", g.finishReason());
        }
    }

    @Test
    void seededSamplingIsReproducibleAndTopKOneIsGreedy() {
        try (Checkpoint ck = TestCheckpoints.random(TestCheckpoints.llama(67, false), 8, DType.F32)) {
            Generator gen = new Generator(LlamaModel.load(ck, be));
            int[] prompt = {1, 30};
            SamplingParams p = new SamplingParams(12, 1.0, 0.9, 0, 123);
            assertArrayEquals(gen.generate(prompt, p, null).tokenIds(), gen.generate(prompt, p, null).tokenIds());
            int[] topK1 = gen.generate(prompt, new SamplingParams(12, 1.5, 1, 1, 9), null).tokenIds();
            assertArrayEquals(gen.generate(prompt, SamplingParams.greedy(12), null).tokenIds(), topK1);
        }
    }

    @Test
    void outOfRangeTokensAndOverlongPromptsAreRejected() {
        ModelConfig c = TestCheckpoints.llama(67, false);
        try (Checkpoint ck = TestCheckpoints.random(c, 9, DType.F32)) {
            LlamaModel m = LlamaModel.load(ck, be);
            Generator gen = new Generator(m);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> gen.generate(new int[] {1, 67}, SamplingParams.greedy(2), null));
            assertTrue(e.getMessage().contains("out of range"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> gen.generate(new int[c.maxPositionEmbeddings()], SamplingParams.greedy(2), null));
            assertTrue(e.getMessage().contains("context"), e.getMessage());
        }
    }
}
