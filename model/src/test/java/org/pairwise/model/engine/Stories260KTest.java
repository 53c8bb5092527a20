package org.pairwise.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pairwise.accel.Backend;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.SharedModels;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.ModelSource;
import org.pairwise.model.sample.SamplingParams;
import org.pairwise.model.tokenizer.Tokenizer;

/** Karpathy's pretrained stories260K reproduces its reference greedy output (../shared/models/stories260K/SOURCE.md). */
class Stories260KTest {
    static final int[] GREEDY_AFTER_BOS = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426,
            338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261,
            370, 432, 352};
    static final int[] TOP5_IDS = {403, 385, 410, 317, 407};
    static final float[] TOP5_LOGITS = {17.0235f, 15.4062f, 13.1083f, 12.7692f, 12.4181f};

    static Backend be;

    @BeforeAll
    static void open() {
        be = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        be.close();
    }

    static Path modelFile(String name) {
        return SharedModels.require("stories260K/" + name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K.gguf", "stories260K.bin"})
    void greedyIdsAndFirstLogitsMatchTheReference(String file) throws Exception {
        try (Checkpoint ck = ModelSource.open(modelFile(file).toString(), null)) {
            LlamaModel m = LlamaModel.load(ck, be);
            int V = ck.config().vocabSize();
            Activations a = m.newActivations(1);
            m.forward(a, m.newCache(1, 1), new int[] {1}, 1, 1, 0);
            float[] logits = new float[V];
            m.logits(a, new int[] {0}, logits);
            for (int i = 0; i < 5; i++) {
                assertEquals(TOP5_LOGITS[i], logits[TOP5_IDS[i]], 1e-3, "logit of " + TOP5_IDS[i]);
            }
            for (int v = 0; v < V; v++) {
                final int id = v;
                boolean inTop5 = java.util.Arrays.stream(TOP5_IDS).anyMatch(t -> t == id);
                assertTrue(inTop5 || logits[v] < TOP5_LOGITS[4], "token " + v + " outranks the reference top 5");
            }
            Generation g = new Generator(m).generate(new int[] {1}, SamplingParams.greedy(40), null);
            // The pair path (one prefill, shared cache, batched decode) gives the same greedy text twice.
            Generation[] pair = new Generator(m).generatePair(new int[] {1}, SamplingParams.greedy(40), null, null, null);
            assertArrayEquals(GREEDY_AFTER_BOS, pair[0].tokenIds());
            assertArrayEquals(GREEDY_AFTER_BOS, pair[1].tokenIds());
            // Sampled: each row is the single-sequence generation with its own seed (seed, seed + 1).
            SamplingParams sampled = new SamplingParams(30, 0.9, 0.95, 0, 77);
            Generation[] two = new Generator(m).generatePair(new int[] {1, 403}, sampled, null, null, null);
            assertArrayEquals(new Generator(m).generate(new int[] {1, 403}, sampled, null).tokenIds(), two[0].tokenIds());
            assertArrayEquals(new Generator(m).generate(new int[] {1, 403}, new SamplingParams(30, 0.9, 0.95, 0, 78),
                    null).tokenIds(), two[1].tokenIds());
            assertTrue(!java.util.Arrays.equals(two[0].tokenIds(), two[1].tokenIds()), "two different samples");
            assertArrayEquals(GREEDY_AFTER_BOS, g.tokenIds());
            try (Tokenizer tok = Tokenizer.fromJson(ck.tokenizerJson(), ck.tokenizerConfigJson(), 1, 2)) {
                assertTrue(tok.decode(g.tokenIds(), true).startsWith(
                        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park."),
                        tok.decode(g.tokenIds(), true));
            }
        }
    }
}
