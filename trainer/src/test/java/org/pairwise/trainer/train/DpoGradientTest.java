package org.pairwise.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.LoraForwardTest;
import org.pairwise.model.engine.ReferenceDecoder;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.engine.TestCheckpoints;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;
import org.pairwise.model.lora.LoraGradients;
import org.pairwise.trainer.data.Truncation;
import org.pairwise.trainer.dpo.DpoLoss;
import org.pairwise.trainer.dpo.LossType;
import org.pairwise.trainer.dpo.PairBatch;

/**
 * The whole DPO gradient, loss through the model into every LoRA tensor, against central finite differences of the
 * same loss computed in double precision: policy log-probs from the independent reference decoder with the adapter,
 * reference log-probs from it without, and the loss formula in double. For every loss type, on a tiny Llama and a
 * tiny Qwen2 with q/k/v biases, with a non-zero adapter on all seven projections. The step runs on the backend
 * {@link #openBackend()} gives (cpu here; the tornado test tree runs the same check on the tornadovm backend), over
 * the cases {@link #cases()} lists; the reference side is the same double-precision decoder for every backend.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public class DpoGradientTest {
    protected Backend be;

    /** The backend the DPO step and its backward run on; one per test class, so kernels built per shape are reused. */
    protected Backend openBackend() {
        return new CpuBackend(2);
    }

    @BeforeAll
    void open() {
        be = openBackend();
    }

    @AfterAll
    void close() {
        be.close();
    }

    /** Every loss type on both architectures. */
    protected Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String arch : List.of("llama", "qwen2")) {
            for (LossType t : LossType.values()) {
                out.add(Arguments.of(arch, t));
            }
        }
        return out.stream();
    }

    static final int[][] PROMPTS = {{1, 17, 5}, {1, 40}};
    static final int[][] CHOSEN = {{33, 60, 2}, {9, 41, 12, 2}};
    static final int[][] REJECTED = {{8, 2}, {41, 41, 3, 30, 2}};

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    public void everyLoraGradientMatchesFiniteDifferencesOfTheLoss(String arch, LossType type) throws Exception {
        ModelConfig c = arch.equals("llama") ? TestCheckpoints.llama(67, false) : TestCheckpoints.qwen2(71);
        LoraConfig lc = new LoraConfig(2, 3, LoraConfig.ALL_TARGETS, 0, false, "test");
        double labelSmoothing = type == LossType.EXO_PAIR ? 1e-3 : 0;
        DpoLoss.Params params = new DpoLoss.Params(List.of(type), null, 0.5, labelSmoothing, 0.05, false);
        Path dir = Files.createTempDirectory("adapter");
        try (Checkpoint base = TestCheckpoints.random(c, 41, DType.F32)) {
            Map<String, float[]> ab = LoraForwardTest.writeAdapter(dir, c, lc, 12);
            LlamaModel model = LlamaModel.load(base, be);
            LoraAdapter adapter = LoraAdapter.load(dir, c, be);
            LoraGradients grads = new LoraGradients(adapter, c, be);
            ReferenceLogps ref = new ReferenceLogps(new SequenceScorer(model, 256), null, 100);
            List<Truncation.Pair> pairs = new ArrayList<>();
            for (int i = 0; i < PROMPTS.length; i++) {
                pairs.add(new Truncation.Pair(i + 1, new Truncation.Sequence(PROMPTS[i], CHOSEN[i]),
                        new Truncation.Sequence(PROMPTS[i], REJECTED[i])));
            }
            DpoStep step = new DpoStep(model, adapter, grads, new DpoLoss(params), ref, false);
            DpoStep.Result r = step.run(pairs, 1.0, true);

            Map<String, double[]> lora = ReferenceDecoder.widen(ab);
            ReferenceDecoder policy = new ReferenceDecoder(base, lora, lc.scaling(), lc.r());
            ReferenceDecoder reference = new ReferenceDecoder(base);
            double[] refC = new double[2], refR = new double[2];
            for (int i = 0; i < 2; i++) {
                refC[i] = reference.completionLogp(PROMPTS[i], CHOSEN[i]);
                refR[i] = reference.completionLogp(PROMPTS[i], REJECTED[i]);
            }
            DpoLoss loss = new DpoLoss(params);
            assertEquals(loss(loss, policy, refC, refR), r.out().loss, 1e-4 * (1 + Math.abs(r.out().loss)),
                    "the loss itself");
            assertLoraGradients(c, lc, grads, lora, new SplittableRandom(3), 2, () -> loss(loss, policy, refC, refR),
                    type);
        }
    }

    // At `trials` random entries of every LoRA tensor: central differences of f, the loss as a function of the
    // double-precision adapter values in lora, against the gradients the step accumulated.
    void assertLoraGradients(ModelConfig c, LoraConfig lc, LoraGradients grads, Map<String, double[]> lora,
                             SplittableRandom rng, int trials, DoubleSupplier f, Object label) {
        for (int l = 0; l < c.numLayers(); l++) {
            for (String p : lc.targetModules()) {
                LoraGradients.Pair g = grads.pair(l, p);
                for (String which : List.of("A", "B")) {
                    double[] param = lora.get(LoraConfig.key(l, p, which));
                    float[] got = be.download(which.equals("A") ? g.dA() : g.dB());
                    for (int trial = 0; trial < trials; trial++) {
                        int i = rng.nextInt(param.length);
                        double fd = ReferenceDecoder.centralDifference(param, i, 1e-5, f);
                        assertEquals(fd, got[i], 2e-4 + 3e-2 * Math.abs(fd),
                                label + " layer " + l + " " + p + " " + which + "[" + i + "]");
                    }
                }
            }
        }
    }

    /**
     * The same check with per-pair weights and label smoothing (pair 1 weighted 1.9 with ε = 0.3 where the type reads
     * ε, pair 2 weighted 0.6 with the configuration's ε) against a reference that TR-DPO has moved off the base model:
     * the reference adapter R0 synced once towards the policy P with α = 0.6 on the backend, and the double-precision
     * decoder using 0.6 P + 0.4 R0 computed here from the adapters' own values.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("perPairCases")
    public void gradientsMatchWithPerPairValuesAndASyncedReference(LossType type) throws Exception {
        ModelConfig c = TestCheckpoints.llama(67, false);
        LoraConfig lc = new LoraConfig(2, 3, LoraConfig.ALL_TARGETS, 0, false, "test");
        double configEps = type == LossType.EXO_PAIR ? 1e-3 : 0.05;
        DpoLoss.Params params = new DpoLoss.Params(List.of(type), null, 0.5, configEps, 0.05, false);
        double[] weights = {1.9, 0.6};
        double[] eps = {type.usesLabelSmoothing() ? 0.3 : Double.NaN, Double.NaN};
        double alpha = 0.6;
        Path dir = Files.createTempDirectory("adapter"), refDir = Files.createTempDirectory("reference");
        try (Checkpoint base = TestCheckpoints.random(c, 41, DType.F32)) {
            Map<String, float[]> ab = LoraForwardTest.writeAdapter(dir, c, lc, 12);
            Map<String, float[]> r0 = LoraForwardTest.writeAdapter(refDir, c, lc, 13);
            LlamaModel model = LlamaModel.load(base, be);
            LoraAdapter adapter = LoraAdapter.load(dir, c, be);
            LoraGradients grads = new LoraGradients(adapter, c, be);
            ReferenceLogps ref = new ReferenceLogps(new SequenceScorer(model, 256), LoraAdapter.load(refDir, c, be),
                    100);
            new ReferenceSync(be, alpha, 1).update(adapter, ref);
            List<Truncation.Pair> pairs = new ArrayList<>();
            for (int i = 0; i < PROMPTS.length; i++) {
                pairs.add(new Truncation.Pair(i + 1, new Truncation.Sequence(PROMPTS[i], CHOSEN[i]),
                        new Truncation.Sequence(PROMPTS[i], REJECTED[i]), weights[i], eps[i]));
            }
            DpoStep step = new DpoStep(model, adapter, grads, new DpoLoss(params), ref, false);
            DpoStep.Result r = step.run(pairs, 1.0, true);

            Map<String, double[]> lora = ReferenceDecoder.widen(ab);
            Map<String, double[]> mixed = new java.util.LinkedHashMap<>();
            ReferenceDecoder.widen(r0).forEach((k, v) -> {
                double[] m = new double[v.length];
                for (int i = 0; i < m.length; i++) {
                    m[i] = alpha * lora.get(k)[i] + (1 - alpha) * v[i];
                }
                mixed.put(k, m);
            });
            ReferenceDecoder policy = new ReferenceDecoder(base, lora, lc.scaling(), lc.r());
            ReferenceDecoder reference = new ReferenceDecoder(base, mixed, lc.scaling(), lc.r());
            ReferenceDecoder baseOnly = new ReferenceDecoder(base);
            double[] refC = new double[2], refR = new double[2];
            for (int i = 0; i < 2; i++) {
                refC[i] = reference.completionLogp(PROMPTS[i], CHOSEN[i]);
                refR[i] = reference.completionLogp(PROMPTS[i], REJECTED[i]);
                assertEquals(refC[i], r.batch().refChosen()[i], 1e-4 * (1 + Math.abs(refC[i])), "synced reference");
                assertTrue(Math.abs(refC[i] - baseOnly.completionLogp(PROMPTS[i], CHOSEN[i])) > 1e-3,
                        "the synced reference is not the base model");
            }
            DpoLoss loss = new DpoLoss(params);
            DoubleSupplier f = () -> {
                double[] pc = new double[2], pr = new double[2];
                for (int i = 0; i < 2; i++) {
                    pc[i] = policy.completionLogp(PROMPTS[i], CHOSEN[i]);
                    pr[i] = policy.completionLogp(PROMPTS[i], REJECTED[i]);
                }
                return loss.forwardAt(new PairBatch(pc, pr, refC, refR, new int[] {CHOSEN[0].length, CHOSEN[1].length},
                        new int[] {REJECTED[0].length, REJECTED[1].length}, weights,
                        eps), 0, new DpoLoss.Output(2));
            };
            assertEquals(f.getAsDouble(), r.out().loss, 1e-4 * (1 + Math.abs(r.out().loss)), "the loss itself");
            assertLoraGradients(c, lc, grads, lora, new SplittableRandom(5), 1, f, type + " synced");
        }
    }

    /** The loss types that take per-pair values (aot and aot_unpaired refuse them). */
    static Stream<Arguments> perPairCases() {
        return java.util.Arrays.stream(LossType.values()).filter(t -> !t.couplesPairs()).map(Arguments::of);
    }

    static double loss(DpoLoss loss, ReferenceDecoder policy, double[] refC, double[] refR) {
        double[] pc = new double[2], pr = new double[2];
        int[] nc = new int[2], nr = new int[2];
        for (int i = 0; i < 2; i++) {
            pc[i] = policy.completionLogp(PROMPTS[i], CHOSEN[i]);
            pr[i] = policy.completionLogp(PROMPTS[i], REJECTED[i]);
            nc[i] = CHOSEN[i].length;
            nr[i] = REJECTED[i].length;
        }
        return loss.forwardAt(new PairBatch(pc, pr, refC, refR, nc, nr), 0, new DpoLoss.Output(2));
    }
}
