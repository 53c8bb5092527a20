package org.pairwise.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.engine.SequenceScorer.Score;
import org.pairwise.model.engine.SequenceScorer.Sequence;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;
import org.pairwise.model.lora.LoraGradients;

/**
 * A shared-prompt layout computes each shared prompt once and gives the forward and the backward of the padded batch:
 * three completions of one prompt (three copies of its rows in attention's view) beside a sequence of its own.
 */
class BatchLayoutTest {
    static final int[] PROMPT = {1, 17, 5, 33};
    static final List<Sequence> SEQS = List.of(seq(PROMPT, 60, 2, 9), seq(new int[] {3, 8}, 11, 12, 13),
            seq(PROMPT, 41), seq(PROMPT, 41, 3, 30, 2, 7));

    static Sequence seq(int[] prompt, int... completion) {
        int[] ids = java.util.Arrays.copyOf(prompt, prompt.length + completion.length);
        System.arraycopy(completion, 0, ids, prompt.length, completion.length);
        return new Sequence(ids, prompt.length);
    }

    @Test
    void rowsOfASharedPromptAreLaidOutOnce() {
        BatchLayout lay = BatchLayout.of(SEQS, true);
        assertTrue(lay.shared());
        assertEquals(4, lay.sequences());
        assertEquals(9, lay.length());
        // the prompt's first 3 tokens once, then each sequence's own rows (the prompt's last token included)
        assertEquals(3 + 4 + 5 + 2 + 6, lay.rows());
        assertArrayEquals(new int[] {1, 17, 5, 33, 60, 2, 9, 3, 8, 11, 12, 13, 33, 41, 33, 41, 3, 30, 2, 7},
                lay.tokens());
        for (int b : new int[] {0, 2, 3}) {
            for (int t = 0; t < 3; t++) {
                assertEquals(t, lay.row(b, t), "shared row of sequence " + b);
            }
        }
        assertEquals(12, lay.row(2, 3));
        assertEquals(7, lay.row(1, 0));
        assertFalse(BatchLayout.of(SEQS, false).shared());
        assertFalse(BatchLayout.of(List.of(SEQS.get(0), SEQS.get(1)), true).shared(), "nothing to share: padded");
        assertEquals(2 * 7, BatchLayout.of(List.of(SEQS.get(0), SEQS.get(1)), true).rows());
    }

    @ParameterizedTest(name = "gradient checkpointing {0}")
    @ValueSource(booleans = {false, true})
    void sharedForwardAndBackwardEqualThePaddedBatch(boolean checkpointing, @TempDir Path dir) throws Exception {
        ModelConfig c = TestCheckpoints.qwen2(71);
        LoraConfig lc = new LoraConfig(2, 3, LoraConfig.ALL_TARGETS, 0, false, "test");
        try (Backend be = new CpuBackend(2); Checkpoint base = TestCheckpoints.random(c, 29, DType.F32)) {
            LoraForwardTest.writeAdapter(dir, c, lc, 5);
            LlamaModel model = LlamaModel.load(base, be);
            LoraAdapter adapter = LoraAdapter.load(dir, c, be);
            List<Score> sharedScores = new SequenceScorer(model, 1 << 12, true).score(SEQS, adapter);
            List<Score> paddedScores = new SequenceScorer(model, 1 << 12, false).score(SEQS, adapter);
            for (int b = 0; b < SEQS.size(); b++) {
                assertEquals(paddedScores.get(b).logprob(), sharedScores.get(b).logprob(), 1e-5, "score " + b);
                assertEquals(paddedScores.get(b).tokens(), sharedScores.get(b).tokens());
                assertEquals(paddedScores.get(b).logitsSum(), sharedScores.get(b).logitsSum(), 1e-3, "logits " + b);
            }
            float[][] got = gradients(be, model, adapter, c, BatchLayout.of(SEQS, true), checkpointing);
            float[][] want = gradients(be, model, adapter, c, BatchLayout.of(SEQS, false), checkpointing);
            double norm = 0;
            for (float[] w : want) {
                for (float x : w) {
                    norm = Math.max(norm, Math.abs(x));
                }
            }
            assertTrue(norm > 1e-3, "gradients are not all zero");
            for (int i = 0; i < want.length; i++) {
                for (int j = 0; j < want[i].length; j++) {
                    assertEquals(want[i][j], got[i][j], 2e-5 * norm, "gradient tensor " + i + "[" + j + "]");
                }
            }
        }
    }

    // The LoRA gradients of sum over scored positions (b,t) of g(b,t) log p, g the same pseudo-random numbers for
    // either layout.
    static float[][] gradients(Backend be, LlamaModel model, LoraAdapter adapter, ModelConfig c, BatchLayout lay,
                               boolean checkpointing) {
        int N = lay.rows(), B = lay.sequences(), T = lay.length();
        Activations a = model.newTrainingActivations(N, B, T, checkpointing);
        KvCache cache = model.newCache(B, T);
        model.forward(a, cache, lay, adapter);
        int[] targets = SequenceScorer.targets(SEQS, lay);
        float[] logp = new float[N];
        model.tokenLogprobs(a, targets, N, logp, null);
        float[] g = new float[N];
        SplittableRandom rng = new SplittableRandom(9);
        for (int b = 0; b < B; b++) {
            Sequence s = SEQS.get(b);
            for (int t = s.promptLength() - 1; t + 1 < s.ids().length; t++) {
                g[lay.row(b, t)] = (float) (rng.nextDouble() * 2 - 1);
            }
        }
        LoraGradients grads = new LoraGradients(adapter, c, be);
        new LlamaBackward(model, N).backward(a, cache, lay, targets, be.upload(g), adapter, grads);
        return grads.tensors().stream().map(be::download).toArray(float[][]::new);
    }
}
