package org.pairwise.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.engine.BatchLayout;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.LoraForwardTest;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.engine.TestCheckpoints;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;
import org.pairwise.model.lora.LoraGradients;
import org.pairwise.trainer.data.Truncation;
import org.pairwise.trainer.dpo.DpoLoss;
import org.pairwise.trainer.dpo.LossType;

/**
 * The DPO step with each pair's prompt computed once (share_prompt) gives what it gives with every sequence computed
 * whole: the loss, the policy and reference log-probs, the logits sums and every entry of every LoRA gradient, to
 * float rounding. Odd shapes: prompts of 6, 3 and 1 tokens (one too short to share), two pairs on one prompt (four
 * sequences reading it), a pair whose two sequences kept different prompts, an empty completion, completions of 1 to
 * 8 tokens; F32 and BF16 weights, with and without gradient checkpointing, on a Llama and a Qwen2 with biases.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SharedPromptStepTest {
    Backend be;

    @BeforeAll
    void open() {
        be = new CpuBackend(2);
    }

    @AfterAll
    void close() {
        be.close();
    }

    static List<Truncation.Pair> pairs() {
        int[] p6 = {1, 17, 5, 33, 60, 2}, p3 = {1, 40, 7}, p1 = {4};
        List<Truncation.Pair> out = new ArrayList<>();
        out.add(pair(1, p6, new int[] {9, 41, 12, 2, 30}, p6, new int[] {8, 2}));
        out.add(pair(2, p3, new int[] {41, 41, 3, 30, 2, 11, 19, 6}, p3, new int[] {50}));
        out.add(pair(3, p6, new int[] {22}, p6, new int[] {23, 24, 25}));
        out.add(pair(4, p1, new int[] {13, 14}, p1, new int[] {15, 16, 17}));
        out.add(pair(5, new int[] {2, 40, 7}, new int[] {3, 3}, p3, new int[] {5, 6, 7}));
        out.add(pair(6, p3, new int[] {}, p3, new int[] {10, 20}));
        return out;
    }

    static Truncation.Pair pair(long id, int[] pc, int[] c, int[] pr, int[] r) {
        return new Truncation.Pair(id, new Truncation.Sequence(pc, c), new Truncation.Sequence(pr, r));
    }

    @ParameterizedTest(name = "{0} {1}, gradient checkpointing {2}")
    @CsvSource({"llama, F32, false", "llama, F32, true", "llama, BF16, false", "llama, BF16, true",
                "qwen2, F32, false", "qwen2, BF16, true"})
    void sharedPromptGivesTheStepOfWholeSequences(String arch, DType dtype, boolean checkpointing) throws Exception {
        ModelConfig c = arch.equals("llama") ? TestCheckpoints.llama(67, false) : TestCheckpoints.qwen2(71);
        LoraConfig lc = new LoraConfig(3, 5, LoraConfig.ALL_TARGETS, 0, false, "test");
        DpoLoss.Params params = new DpoLoss.Params(List.of(LossType.SIGMOID), null, 0.5, 0, 0.05, false);
        Path dir = Files.createTempDirectory("adapter");
        try (Checkpoint base = TestCheckpoints.random(c, 43, dtype)) {
            LoraForwardTest.writeAdapter(dir, c, lc, 14);
            LlamaModel model = LlamaModel.load(base, be);
            LoraAdapter adapter = LoraAdapter.load(dir, c, be);
            List<Truncation.Pair> pairs = pairs();
            BatchLayout lay = BatchLayout.of(DpoStep.sequences(pairs), true);
            assertTrue(lay.shared(), "the batch shares prompts");
            // p6's first 5 tokens are computed once for 4 sequences, p3's first 2 once for 5 (pair 5's chosen prompt
            // differs), p1 has no row to share
            int whole = DpoStep.sequences(pairs).stream().mapToInt(s -> s.ids().length).sum();
            assertEquals(whole - 3 * 5 - 4 * 2, lay.rows(), "rows of the shared layout");

            LoraGradients sharedGrads = new LoraGradients(adapter, c, be);
            LoraGradients wholeGrads = new LoraGradients(adapter, c, be);
            DpoStep.Result shared = step(model, adapter, sharedGrads, params, checkpointing, true).run(pairs, 0.7,
                    true);
            DpoStep.Result plain = step(model, adapter, wholeGrads, params, checkpointing, false).run(pairs, 0.7,
                    true);

            double tol = dtype == DType.F32 ? 2e-5 : 5e-5;
            close(plain.out().loss, shared.out().loss, tol, "loss");
            close(plain.batch().policyChosen(), shared.batch().policyChosen(), tol, "logps/chosen");
            close(plain.batch().policyRejected(), shared.batch().policyRejected(), tol, "logps/rejected");
            close(plain.batch().refChosen(), shared.batch().refChosen(), tol, "reference chosen");
            close(plain.batch().refRejected(), shared.batch().refRejected(), tol, "reference rejected");
            close(plain.logits().chosenSum(), shared.logits().chosenSum(), tol, "logits sum chosen");
            close(plain.logits().rejectedSum(), shared.logits().rejectedSum(), tol, "logits sum rejected");
            assertEquals(plain.tokens(), shared.tokens(), "tokens counted");
            List<float[]> want = new ArrayList<>(), got = new ArrayList<>();
            double norm = 0;
            for (int i = 0; i < wholeGrads.tensors().size(); i++) {
                want.add(be.download(wholeGrads.tensors().get(i)));
                got.add(be.download(sharedGrads.tensors().get(i)));
                for (float w : want.get(i)) {
                    norm = Math.max(norm, Math.abs(w));
                }
            }
            for (int i = 0; i < want.size(); i++) {
                float[] w = want.get(i), g = got.get(i);
                for (int j = 0; j < w.length; j++) {
                    assertEquals(w[j], g[j], tol * norm, "gradient tensor " + i + "[" + j + "]");
                }
            }
            assertTrue(norm > 1e-3, "the gradients are not all zero: " + norm);
        }
    }

    private DpoStep step(LlamaModel model, LoraAdapter adapter, LoraGradients grads, DpoLoss.Params params,
                         boolean checkpointing, boolean share) {
        ReferenceLogps ref = new ReferenceLogps(new SequenceScorer(model, 256, share), null, 100);
        return new DpoStep(model, adapter, grads, new DpoLoss(params), ref, checkpointing, share);
    }

    private static void close(double want, double got, double tol, String what) {
        assertEquals(want, got, tol * (1 + Math.abs(want)), what);
    }

    private static void close(double[] want, double[] got, double tol, String what) {
        for (int i = 0; i < want.length; i++) {
            close(want[i], got[i], tol, what + " of pair " + (i + 1));
        }
    }
}
