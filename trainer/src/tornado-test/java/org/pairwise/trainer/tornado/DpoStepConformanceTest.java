package org.pairwise.trainer.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Backends;
import org.pairwise.accel.DType;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.accel.tornado.TornadoBackend;
import org.pairwise.accel.tornado.Transfers;
import org.pairwise.model.ModelConfig;
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
import org.pairwise.trainer.dpo.DpoMetrics;
import org.pairwise.trainer.dpo.LossType;
import org.pairwise.trainer.optim.AdamW;
import org.pairwise.trainer.train.DpoStep;
import org.pairwise.trainer.train.ReferenceLogps;

/**
 * One whole DPO optimizer step, run with identical inputs on the cpu backend and on the tornadovm backend (PoCL's CPU
 * device here): two micro-batches of different shapes (gradient accumulation 2) through {@link DpoStep} — policy
 * forward with a non-zero LoRA adapter on all seven projections, reference log-probs with the adapter disabled, the
 * fused log-prob kernel, a sigmoid + SFT loss mix, the backward into every LoRA tensor — then {@link AdamW} with
 * global-norm clipping (which this step triggers) and weight decay. Compared: each micro-batch's loss, TRL's metrics
 * for the step ({@link DpoMetrics#snapshot()}, grad_norm included), every accumulated LoRA gradient, and every adapter
 * tensor after the update. On a tiny Llama and a tiny Qwen2 (q/k/v biases, tied embeddings), the Qwen2 one with
 * gradient checkpointing.
 *
 * <p>Tolerances (observed worst on PoCL: loss 2.2e-7 relative, gradients 2.8e-6 of the tensor's largest
 * element, adapter 6e-7 at an element whose gradient is near zero, else below 1e-7). Both backends compute in float32
 * with different summation orders (Vector API lanes vs OpenCL work-items); sequence log-probs here are sums of a few
 * log-softmaxes over a vocabulary of ~70, magnitudes 10-30, so float32 rounding is ~1e-6 relative. Loss and metrics:
 * |a - b| <= 1e-4 * (1 + |a|), far above that rounding yet far below any real error (one wrong token or a dropped LoRA
 * term moves them by more than 1e-2). Gradients: |a - b| <= 1e-5 + 1e-3 * max|g| per tensor. Adapter after the step:
 * AdamW's first update is lr * g / (|g| + eps), essentially lr * sign(g), so an element may differ by what a gradient
 * difference of the stated size could move it: 1e-7 (float32 rounding of values ~0.2) where |g| > 1e-3 * max|g|, else
 * lr (the sign of a near-zero gradient is not determined by float32).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DpoStepConformanceTest {
    static final double LR = 1e-3, MAX_GRAD_NORM = 0.05;
    static final int[][] PROMPTS = {{1, 17, 5}, {1, 40}, {1, 3, 22, 9, 14}};
    static final int[][] CHOSEN = {{33, 60, 2}, {9, 41, 12, 2}, {50, 2}};
    static final int[][] REJECTED = {{8, 2}, {41, 41, 3, 30, 2}, {61, 7, 7, 2}};

    Backend cpu;
    TornadoBackend tornado;

    @BeforeAll
    void open() {
        cpu = new CpuBackend(2);
        tornado = (TornadoBackend) Backends.open("tornadovm", 2);
        System.out.println("DPO step conformance: cpu vs tornadovm on " + tornado.device());
    }

    @AfterAll
    void close() {
        cpu.close();
        tornado.close();
    }

    /** What one optimizer step produced on one backend. */
    record Outcome(List<Double> losses, Map<String, Double> metrics, Map<String, float[]> grads,
                   Map<String, float[]> adapter, double gradNorm, boolean applied) {}

    @ParameterizedTest(name = "{0}, gradient checkpointing {1}")
    @CsvSource({"llama, false", "qwen2, true"})
    void oneDpoStepMatchesTheCpuBackend(String arch, boolean checkpointing) throws Exception {
        ModelConfig c = arch.equals("llama") ? TestCheckpoints.llama(67, false) : TestCheckpoints.qwen2(71);
        LoraConfig lc = new LoraConfig(4, 8, LoraConfig.ALL_TARGETS, 0, false, "test");
        Path dir = Files.createTempDirectory("adapter");
        LoraForwardTest.writeAdapter(dir, c, lc, 12);
        Outcome want = step(cpu, c, dir, checkpointing);
        Transfers.Snapshot t0 = tornado.transfers();
        Outcome got = step(tornado, c, dir, checkpointing);
        Transfers.Snapshot t = tornado.transfers().minus(t0);
        System.out.printf("%s: one DPO step (2 micro-batches, 5 pairs, reference scoring, AdamW) on tornadovm made "
                        + "%d copies to the device (%d bytes), %d to the host (%d bytes) in %d graph executions%n",
                arch, t.toDevice(), t.bytesToDevice(), t.toHost(), t.bytesToHost(), t.executions());

        assertTrue(want.applied() && got.applied(), "the step is applied on both");
        assertTrue(want.gradNorm() > MAX_GRAD_NORM, "the step exercises clipping: grad norm " + want.gradNorm());
        for (int i = 0; i < want.losses().size(); i++) {
            close(want.losses().get(i), got.losses().get(i), "loss of micro-batch " + i);
        }
        assertEquals(want.metrics().keySet(), got.metrics().keySet(), "the same metrics are logged");
        want.metrics().forEach((k, v) -> close(v, got.metrics().get(k), k));
        double worstGrad = 0, worstParam = 0;
        for (String k : want.grads().keySet()) {
            float[] a = want.grads().get(k), b = got.grads().get(k);
            double max = maxAbs(a);
            assertTrue(max > 0, k + " has a gradient");
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 1e-5 + 1e-3 * max, "gradient " + k + "[" + i + "]");
                worstGrad = Math.max(worstGrad, Math.abs(a[i] - b[i]) / max);
            }
            float[] pa = want.adapter().get(k), pb = got.adapter().get(k);
            for (int i = 0; i < pa.length; i++) {
                double tol = Math.abs(a[i]) > 1e-3 * max ? 1e-7 : LR;
                assertEquals(pa[i], pb[i], tol, "adapter " + k + "[" + i + "] after the step (gradient " + a[i] + ")");
                worstParam = Math.max(worstParam, Math.abs(pa[i] - pb[i]));
            }
        }
        System.out.printf("%s: loss %s vs %s; worst gradient difference %.2e of the tensor's max; worst adapter "
                + "difference %.2e%n", arch, want.losses(), got.losses(), worstGrad, worstParam);
    }

    static void close(double want, double got, String what) {
        assertEquals(want, got, 1e-4 * (1 + Math.abs(want)), what);
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    static Outcome step(Backend be, ModelConfig c, Path adapterDir, boolean checkpointing) throws Exception {
        try (Checkpoint base = TestCheckpoints.random(c, 41, DType.F32)) {
            LlamaModel model = LlamaModel.load(base, be);
            LoraAdapter adapter = LoraAdapter.load(adapterDir, c, be);
            LoraGradients grads = new LoraGradients(adapter, c, be);
            DpoLoss loss = new DpoLoss(new DpoLoss.Params(List.of(LossType.SIGMOID, LossType.SFT), List.of(1.0, 0.5),
                    0.1, 0, 0.05, false));
            ReferenceLogps ref = new ReferenceLogps(new SequenceScorer(model, 256), null, 100);
            DpoStep step = new DpoStep(model, adapter, grads, loss, ref, checkpointing);
            AdamW opt = new AdamW(be, adapter.parameters(), grads.tensors(), 0.9, 0.999, 1e-8, 0.01, MAX_GRAD_NORM);
            List<Truncation.Pair> pairs = new ArrayList<>();
            for (int i = 0; i < PROMPTS.length; i++) {
                pairs.add(new Truncation.Pair(i + 1, new Truncation.Sequence(PROMPTS[i], CHOSEN[i]),
                        new Truncation.Sequence(PROMPTS[i], REJECTED[i])));
            }
            DpoMetrics metrics = DpoMetrics.train();
            List<Double> losses = new ArrayList<>();
            for (List<Truncation.Pair> mb : List.of(pairs.subList(0, 2), pairs.subList(2, 3))) {
                DpoStep.Result r = step.run(mb, 0.5, true);
                losses.add(r.out().loss);
                metrics.addMicroBatch(r.batch(), r.out(), r.logits());
            }
            Map<String, float[]> g = new LinkedHashMap<>();
            for (int l = 0; l < c.numLayers(); l++) {
                for (String p : lc(adapter)) {
                    g.put(LoraConfig.key(l, p, "A"), be.download(grads.pair(l, p).dA()));
                    g.put(LoraConfig.key(l, p, "B"), be.download(grads.pair(l, p).dB()));
                }
            }
            AdamW.StepResult applied = opt.step(LR);
            metrics.setGradNorm(applied.gradNorm());
            metrics.setLearningRate(LR);
            Map<String, float[]> after = new LinkedHashMap<>();
            for (int l = 0; l < c.numLayers(); l++) {
                for (String p : lc(adapter)) {
                    after.put(LoraConfig.key(l, p, "A"), be.download(adapter.pair(l, p).a()));
                    after.put(LoraConfig.key(l, p, "B"), be.download(adapter.pair(l, p).b()));
                }
            }
            return new Outcome(losses, metrics.snapshot(), g, after, applied.gradNorm(), applied.applied());
        }
    }

    static List<String> lc(LoraAdapter adapter) {
        return adapter.config().targetModules();
    }
}
