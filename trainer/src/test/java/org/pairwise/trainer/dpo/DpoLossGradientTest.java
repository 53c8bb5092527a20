package org.pairwise.trainer.dpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The analytic gradient of the batch loss with respect to every policy log-prob matches central finite differences of
 * the forward, for every loss type, on three pairs with varied log-ratios and lengths.
 *
 * <p>The points avoid non-differentiable spots: with β = 0.8 the hinge arguments u = βz are 1.2, 1.6 and −1.36, away
 * from the kink at u = 1; sppo_hard and ipo are squares, smooth everywhere; the aot sort keys (2.8, −1.5, 1.5 and the
 * reference 1.3, −3.5, 3.2; x_w 0.6, 0.8, −0.8; x_l −0.9, −1.2, 0.9) are far apart, so no perturbation reorders them.
 */
class DpoLossGradientTest {
    private static final double H = 1e-5;

    static PairBatch batch() {
        return new PairBatch(
                new double[] {-12.3, -30.2, -8.4},
                new double[] {-15.1, -28.7, -9.9},
                new double[] {-12.9, -31.0, -7.6},
                new double[] {-14.2, -27.5, -10.8},
                new int[] {7, 15, 4},
                new int[] {9, 11, 6});
    }

    @ParameterizedTest
    @EnumSource(LossType.class)
    void gradientMatchesFiniteDifferences(LossType type) {
        DpoLoss.Params p = new DpoLoss.Params(List.of(type), null, 0.8, 0.1, 0.05, false);
        checkGradient(p, 0.0);
    }

    @Test
    void discopopGradientMatchesWhereItsModulationIsNotSaturated() {
        // With β = 0.8, |u|/τ > 20 above, so σ(u/τ) is flat there; small β and a larger τ make its slope count.
        checkGradient(new DpoLoss.Params(List.of(LossType.DISCOPOP), null, 0.05, 0.0, 0.05, false), 0.0);
        checkGradient(new DpoLoss.Params(List.of(LossType.DISCOPOP), null, 0.8, 0.0, 0.5, false), 0.0);
    }

    @Test
    void gradientOfWeightedCombinationMatches() {
        // MPO's combination, with the TRL 0.x BCO shift held at a fixed δ.
        DpoLoss.Params p = new DpoLoss.Params(List.of(LossType.SIGMOID, LossType.BCO_PAIR, LossType.SFT),
                List.of(0.8, 0.2, 1.0), 0.3, 0.0, 0.05, true);
        checkGradient(p, 0.37);
    }

    @Test
    void gradientWithoutLabelSmoothingMatches() {
        checkGradient(new DpoLoss.Params(List.of(LossType.SIGMOID, LossType.ROBUST, LossType.AOT), null, 0.25, 0.0,
                0.05, false), 0.0);
    }

    /**
     * Per-pair weights (0.5, 1.7, 0.2) on every loss type, and, for the types that read ε, per-pair label smoothing
     * on two of the three pairs (the third takes the configuration's 0.1). aot and aot_unpaired take neither.
     */
    @ParameterizedTest
    @EnumSource(LossType.class)
    void gradientWithPerPairWeightsAndLabelSmoothingMatchesFiniteDifferences(LossType type) {
        DpoLoss.Params p = new DpoLoss.Params(List.of(type), null, 0.8, 0.1, 0.05, false);
        PairBatch b = withPerPair(batch(), new double[] {0.5, 1.7, 0.2},
                type.usesLabelSmoothing() ? new double[] {0.3, Double.NaN, 0.02} : new double[] {Double.NaN,
                        Double.NaN, Double.NaN});
        if (type.couplesPairs()) {
            String msg = assertThrows(IllegalArgumentException.class,
                    () -> new DpoLoss(p).forward(b, new DpoLoss.Output(3))).getMessage();
            assertTrue(msg.contains("per-pair"), msg);
            return;
        }
        checkGradient(p, 0.0, b);
    }

    @Test
    void gradientOfWeightedCombinationWithPerPairValuesMatches() {
        // sft's weighted token mean beside cDPO and robust with their per-pair ε, and the fixed BCO shift.
        DpoLoss.Params p = new DpoLoss.Params(List.of(LossType.SIGMOID, LossType.ROBUST, LossType.SFT,
                LossType.BCO_PAIR), List.of(0.8, 0.3, 1.0, 0.2), 0.3, 0.05, 0.05, true);
        checkGradient(p, 0.37, withPerPair(batch(), new double[] {1.3, 0.0, 0.6},
                new double[] {Double.NaN, 0.45, 0.2}));
    }

    static PairBatch withPerPair(PairBatch b, double[] weights, double[] labelSmoothing) {
        return new PairBatch(b.policyChosen(), b.policyRejected(), b.refChosen(), b.refRejected(), b.chosenTokens(),
                b.rejectedTokens(), weights, labelSmoothing);
    }

    private static void checkGradient(DpoLoss.Params p, double delta) {
        checkGradient(p, delta, batch());
    }

    private static void checkGradient(DpoLoss.Params p, double delta, PairBatch b) {
        DpoLoss loss = new DpoLoss(p);
        DpoLoss.Output out = new DpoLoss.Output(b.size());
        loss.forwardAt(b, delta, out);
        loss.backward(b, out, 1.0);
        for (int i = 0; i < b.size(); i++) {
            int k = i;
            double fdChosen = central(v -> {
                double[] pc = b.policyChosen().clone();
                pc[k] = v;
                return loss.forwardAt(new PairBatch(pc, b.policyRejected(), b.refChosen(), b.refRejected(),
                        b.chosenTokens(), b.rejectedTokens(), b.weights(), b.labelSmoothing()), delta,
                        new DpoLoss.Output(b.size()));
            }, b.policyChosen()[i]);
            double fdRejected = central(v -> {
                double[] pr = b.policyRejected().clone();
                pr[k] = v;
                return loss.forwardAt(new PairBatch(b.policyChosen(), pr, b.refChosen(), b.refRejected(),
                        b.chosenTokens(), b.rejectedTokens(), b.weights(), b.labelSmoothing()), delta,
                        new DpoLoss.Output(b.size()));
            }, b.policyRejected()[i]);
            String where = p.types() + " pair " + i;
            assertEquals(fdChosen, out.dChosen[i], 1e-7 + 1e-6 * Math.abs(fdChosen), where + " chosen");
            assertEquals(fdRejected, out.dRejected[i], 1e-7 + 1e-6 * Math.abs(fdRejected), where + " rejected");
        }
        double norm = 0;
        for (int i = 0; i < b.size(); i++) {
            norm += Math.abs(out.dChosen[i]) + Math.abs(out.dRejected[i]);
        }
        assertTrue(norm > 1e-6, "a gradient of zero everywhere would pass vacuously: " + p.types());
    }

    private static double central(DoubleUnaryOperator f, double x) {
        return (f.applyAsDouble(x + H) - f.applyAsDouble(x - H)) / (2 * H);
    }

    @Test
    void backwardScalesWithUpstreamGradient() {
        DpoLoss loss = new DpoLoss(DpoLoss.Params.of(LossType.SIGMOID, 0.1));
        PairBatch b = batch();
        DpoLoss.Output out = new DpoLoss.Output(b.size());
        loss.forward(b, out);
        loss.backward(b, out, 1.0);
        double full = out.dChosen[1];
        loss.backward(b, out, 0.25);  // e.g. 1 / gradient_accumulation_steps
        assertEquals(full * 0.25, out.dChosen[1], 1e-15);
    }
}
