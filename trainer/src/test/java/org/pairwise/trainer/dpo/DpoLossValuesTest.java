package org.pairwise.trainer.dpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Loss values against numbers worked out from the published formulas (the expected values were computed separately,
 * not with this code), plus the properties the issue names: ln 2 at zero log-ratio, cDPO, IPO's length averaging.
 */
class DpoLossValuesTest {
    private static final double TOL = 1e-12;

    // One pair: log π_θ(y_w) = −10, log π_θ(y_l) = −12, log π_ref(y_w) = −10.5, log π_ref(y_l) = −11, n_w = 5, n_l = 4.
    // So x_w = 0.5, x_l = −1, z = 1.5; with β = 0.5: u = 0.75, βx_w = 0.25, βx_l = −0.5; ε = 0.1, τ = 0.05.
    private static PairBatch onePair() {
        return new PairBatch(new double[] {-10.0}, new double[] {-12.0}, new double[] {-10.5}, new double[] {-11.0},
                new int[] {5}, new int[] {4});
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        // −0.9 log σ(0.75) − 0.1 log σ(−0.75)
        "sigmoid, 0.46187100611489995",
        // max(0, 1 − 0.75)
        "hinge, 0.25",
        // (0.5/5 − (−1)/4 − 1/(2·0.5))² = (0.35 − 1)²
        "ipo, 0.42250000000000004",
        // σ(u)(log σ(u) − log 0.9) + σ(−u)(log σ(−u) − log 0.1)
        "exo_pair, 0.1827899810292743",
        // −log σ(0.25) − ½ log σ(−0.25) − ½ log σ(0.5)
        "nca_pair, 1.2259476219083187",
        // (−0.9 log σ(u) + 0.1 log σ(−u)) / 0.8
        "robust, 0.2931210061148999",
        // −log σ(0.25) − log σ(0.5)
        "bco_pair, 1.0500164040589501",
        // (0.5 − 1)² + (−1 + 1)²
        "sppo_hard, 0.25",
        // one pair: sorting is the identity and d = z, so aot is the cDPO value
        "aot, 0.46187100611489995",
        "aot_unpaired, 0.46187100611489995",
        // 1 − σ(0.25) + σ(−0.5)
        "apo_zero, 0.8153641679123473",
        // σ(0.25) + 1 − σ(0.75)
        "apo_down, 0.8829978017104052",
        // m = σ(0.75/0.05): (1 − m)(−log σ(0.75)) + m e^(−0.75)
        "discopop, 0.4723665265877366",
        // −(−10) / 5 tokens
        "sft, 2.0",
        // −log σ(0.5 · (0.5/5 + 1/4))
        "sigmoid_norm, 0.6094704306630468",
    })
    void lossOfOnePairMatchesFormula(String name, double expected) {
        DpoLoss loss = new DpoLoss(new DpoLoss.Params(List.of(LossType.fromName(name)), null, 0.5, 0.1, 0.05, false));
        DpoLoss.Output out = new DpoLoss.Output(1);
        assertEquals(expected, loss.forward(onePair(), out), TOL);
        assertEquals(expected, out.losses[0], TOL);
        assertEquals(0.25, out.chosenRewards[0], TOL);  // β x_w, for every loss type
        assertEquals(-0.5, out.rejectedRewards[0], TOL);
    }

    @Test
    void sigmoidAtZeroLogRatioIsLn2() {
        PairBatch b = new PairBatch(new double[] {-7, -20}, new double[] {-9, -3}, new double[] {-7, -20},
                new double[] {-9, -3}, new int[] {3, 8}, new int[] {2, 1});
        DpoLoss loss = new DpoLoss(DpoLoss.Params.of(LossType.SIGMOID, 0.1));
        DpoLoss.Output out = new DpoLoss.Output(2);
        assertEquals(Math.log(2), loss.forward(b, out), TOL);
        loss.backward(b, out, 1.0);
        // dℓ/du = −σ(0) = −½; ∂u/∂logπ(y_w) = β; the batch mean divides by 2 pairs.
        assertEquals(-0.5 * 0.1 / 2, out.dChosen[0], TOL);
        assertEquals(0.5 * 0.1 / 2, out.dRejected[1], TOL);
    }

    @Test
    void conservativeDpoMixesBothDirections() {
        // x_w = 1, x_l = −1, β = 0.5 → u = 1; ε = 0.2: −0.8 log σ(1) − 0.2 log σ(−1)
        PairBatch b = new PairBatch(new double[] {-10}, new double[] {-12}, new double[] {-11}, new double[] {-11},
                new int[] {1}, new int[] {1});
        DpoLoss loss = new DpoLoss(new DpoLoss.Params(List.of(LossType.SIGMOID), null, 0.5, 0.2, 0.05, false));
        assertEquals(0.5132616875182229, loss.forward(b, new DpoLoss.Output(1)), TOL);
    }

    @Test
    void ipoAveragesLogRatiosOverCompletionTokens() {
        // x_w = 3 over 6 tokens, x_l = −2 over 4: averaged margin 0.5 + 0.5 = 1; 1/(2β) = 2 → (1 − 2)² = 1.
        // Unaveraged it would be (5 − 2)² = 9.
        PairBatch b = new PairBatch(new double[] {-7}, new double[] {-12}, new double[] {-10}, new double[] {-10},
                new int[] {6}, new int[] {4});
        DpoLoss loss = new DpoLoss(DpoLoss.Params.of(LossType.IPO, 0.25));
        DpoLoss.Output out = new DpoLoss.Output(1);
        assertEquals(1.0, loss.forward(b, out), TOL);
        loss.backward(b, out, 1.0);
        assertEquals(2 * (1 - 2) / 6.0, out.dChosen[0], TOL);
        assertEquals(-2 * (1 - 2) / 4.0, out.dRejected[0], TOL);
        assertEquals(0.75, out.chosenRewards[0], TOL);  // rewards stay summed: β · 3
    }

    @Test
    void sftIsTheTokenMeanOverTheWholeBatch() {
        // −(−6 − 20) / (2 + 10) = 26/12, not the mean of per-sequence means (6/2 + 20/10)/2 = 2.5.
        PairBatch b = new PairBatch(new double[] {-6, -20}, new double[] {-1, -1}, new double[] {0, 0},
                new double[] {0, 0}, new int[] {2, 10}, new int[] {1, 1});
        DpoLoss loss = new DpoLoss(DpoLoss.Params.of(LossType.SFT, 0.1));
        DpoLoss.Output out = new DpoLoss.Output(2);
        assertEquals(26.0 / 12.0, loss.forward(b, out), TOL);
        loss.backward(b, out, 1.0);
        assertEquals(-1.0 / 12.0, out.dChosen[1], TOL);
        assertEquals(0.0, out.dRejected[0], TOL);
    }

    @Test
    void weightedLossTypesAdd() {
        DpoLoss both = new DpoLoss(new DpoLoss.Params(List.of(LossType.SIGMOID, LossType.SFT), List.of(0.5, 2.0),
                0.5, 0.1, 0.05, false));
        // 0.5 · cDPO(0.75) + 2 · 2.0
        assertEquals(0.5 * 0.46187100611489995 + 4.0, both.forward(onePair(), new DpoLoss.Output(1)), TOL);
    }

    @Test
    void bcoShiftFollowsTheRunningMeanOfBatchRewardsWhenEnabled() {
        DpoLoss shifted = new DpoLoss(new DpoLoss.Params(List.of(LossType.BCO_PAIR), null, 0.5, 0, 0.05, true));
        DpoLoss.Output out = new DpoLoss.Output(1);
        // First batch: rewards 0.25 and −0.5, mean −0.125 becomes δ (TRL's moments start at count 1e-24).
        // −log σ(0.25 − δ) − log σ(−(−0.5 − δ)) = −2 log σ(0.375)
        assertEquals(1.04624652827968, shifted.forward(onePair(), out), TOL);
        assertEquals(-0.125, out.delta, TOL);
        assertEquals(-0.125, shifted.moments().mean(), TOL);
        // Second identical batch: the running mean of (−0.125, −0.125) is unchanged.
        shifted.forward(onePair(), out);
        assertEquals(-0.125, shifted.moments().mean(), 1e-15);

        DpoLoss current = new DpoLoss(new DpoLoss.Params(List.of(LossType.BCO_PAIR), null, 0.5, 0, 0.05, false));
        assertEquals(1.0500164040589501, current.forward(onePair(), out), TOL);  // TRL 1.x: no shift
        assertEquals(0.0, current.moments().mean());
    }

    @Test
    void runningMomentsStateRestores() {
        RunningMoments m = new RunningMoments();
        m.update(new double[] {1, 3});
        m.update(new double[] {5});
        // Merging {1, 3} then {5} equals the moments of {1, 3, 5} (plus TRL's 1e-24 prior, negligible).
        assertEquals(3.0, m.mean(), 1e-12);
        RunningMoments.State s = m.state();
        RunningMoments copy = new RunningMoments();
        copy.restore(s);
        assertEquals(m.update(new double[] {7}), copy.update(new double[] {7}));
        assertEquals(m.state(), copy.state());
        assertEquals(4.0, copy.mean(), 1e-12);
        assertEquals(Math.sqrt(20.0 / 3.0), copy.std(), 1e-9);  // unbiased std of {1, 3, 5, 7}
    }

    @Test
    void invalidParametersNameTheirField() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new DpoLoss.Params(List.of(LossType.EXO_PAIR), null, 0.1, 0, 0.05, false))
                .getMessage().startsWith("label_smoothing"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new DpoLoss.Params(List.of(LossType.ROBUST), null, 0.1, 0.5, 0.05, false))
                .getMessage().startsWith("label_smoothing"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> DpoLoss.Params.of(LossType.SIGMOID, 0)).getMessage().startsWith("beta"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new DpoLoss.Params(List.of(LossType.SIGMOID), List.of(1.0, 2.0), 0.1, 0, 0.05, false))
                .getMessage().startsWith("loss_weights"));
    }

    /**
     * A pair with its own ε has exactly the loss and gradient that a configuration with label_smoothing = ε gives it
     * alone, for every loss type that reads ε, while the other pair keeps the configuration's ε: the batch loss is the
     * mean of the two single-pair losses, each computed by a loss of its own.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"sigmoid", "robust", "exo_pair"})
    void aPairsOwnLabelSmoothingEqualsThatConfigurationOnThePairAlone(String name) {
        LossType t = LossType.fromName(name);
        PairBatch two = new PairBatch(new double[] {-10, -7}, new double[] {-12, -6.5}, new double[] {-10.5, -7.2},
                new double[] {-11, -6}, new int[] {5, 3}, new int[] {4, 2}, new double[] {1, 1},
                new double[] {0.3, Double.NaN});
        DpoLoss batchLoss = new DpoLoss(new DpoLoss.Params(List.of(t), null, 0.5, 0.1, 0.05, false));
        DpoLoss.Output out = new DpoLoss.Output(2);
        double got = batchLoss.forward(two, out);
        batchLoss.backward(two, out, 1.0);

        DpoLoss.Output one = new DpoLoss.Output(1);
        DpoLoss eps03 = new DpoLoss(new DpoLoss.Params(List.of(t), null, 0.5, 0.3, 0.05, false));
        PairBatch first = single(two, 0);
        double l0 = eps03.forward(first, one);
        eps03.backward(first, one, 1.0);
        double dc0 = one.dChosen[0], dr0 = one.dRejected[0];
        DpoLoss eps01 = new DpoLoss(new DpoLoss.Params(List.of(t), null, 0.5, 0.1, 0.05, false));
        PairBatch second = single(two, 1);
        double l1 = eps01.forward(second, one);
        eps01.backward(second, one, 1.0);
        assertEquals((l0 + l1) / 2, got, TOL);
        assertEquals(dc0 / 2, out.dChosen[0], TOL);
        assertEquals(dr0 / 2, out.dRejected[0], TOL);
        assertEquals(one.dChosen[0] / 2, out.dChosen[1], TOL);
        // And it differs from the configuration's ε on that pair: the per-pair value is really used.
        assertTrue(Math.abs(l0 - eps01.forward(first, new DpoLoss.Output(1))) > 1e-3);
    }

    private static PairBatch single(PairBatch b, int i) {
        return new PairBatch(new double[] {b.policyChosen()[i]}, new double[] {b.policyRejected()[i]},
                new double[] {b.refChosen()[i]}, new double[] {b.refRejected()[i]}, new int[] {b.chosenTokens()[i]},
                new int[] {b.rejectedTokens()[i]});
    }

    @Test
    void pairWeightsMultiplyTheirTermsAndTheMeanDividesByTheNumberOfPairs() {
        // Three copies of onePair() (cDPO value v, worked out above) with weights 2, 0 and 0.5: (2v + 0 + 0.5v) / 3
        // pairs. Dividing by the sum of the weights instead would give v.
        double v = 0.46187100611489995;
        PairBatch b = new PairBatch(new double[] {-10, -10, -10}, new double[] {-12, -12, -12},
                new double[] {-10.5, -10.5, -10.5}, new double[] {-11, -11, -11}, new int[] {5, 5, 5},
                new int[] {4, 4, 4}, new double[] {2, 0, 0.5}, new double[] {Double.NaN, Double.NaN, Double.NaN});
        DpoLoss loss = new DpoLoss(new DpoLoss.Params(List.of(LossType.SIGMOID), null, 0.5, 0.1, 0.05, false));
        DpoLoss.Output out = new DpoLoss.Output(3);
        assertEquals(2.5 * v / 3, loss.forward(b, out), TOL);  // by Σw = 2.5 it would be v
        assertEquals(2 * v, out.losses[0], TOL);
        assertEquals(0.0, out.losses[1], TOL);
        assertEquals(0.25, out.chosenRewards[1], TOL);  // rewards stay unweighted
        // sft: −Σ w_i log π_θ(y_w,i) / Σ n_w,i = −(2 · −10 + 0 + 0.5 · −10) / 15 tokens
        DpoLoss sft = new DpoLoss(DpoLoss.Params.of(LossType.SFT, 0.5));
        assertEquals(25.0 / 15, sft.forward(b, new DpoLoss.Output(3)), TOL);
    }

    @Test
    void allDefaultPerPairValuesGiveTheUnweightedLoss() {
        PairBatch plain = DpoLossGradientTest.batch();
        PairBatch explicit = DpoLossGradientTest.withPerPair(plain, new double[] {1, 1, 1},
                new double[] {Double.NaN, Double.NaN, Double.NaN});
        for (LossType t : LossType.values()) {
            DpoLoss loss = new DpoLoss(new DpoLoss.Params(List.of(t), null, 0.8, 0.1, 0.05, false));
            assertEquals(loss.forward(plain, new DpoLoss.Output(3)), loss.forward(explicit, new DpoLoss.Output(3)),
                    0.0, t.trlName());
        }
    }

    @Test
    void perPairValuesTheLossTypesCannotTakeAreRefused() {
        DpoLoss.Params ipo = DpoLoss.Params.of(LossType.IPO, 0.1);
        assertTrue(ipo.perPairProblem(1, 0.2).contains("ignores label smoothing"));
        assertEquals(null, ipo.perPairProblem(0.3, Double.NaN), "ipo takes weights");
        DpoLoss.Params aot = DpoLoss.Params.of(LossType.AOT, 0.1);
        assertTrue(aot.perPairProblem(0.5, Double.NaN).contains("sorted positions"));
        assertEquals(null, aot.perPairProblem(1, Double.NaN), "a default pair is fine");
        DpoLoss.Params robust = DpoLoss.Params.of(LossType.ROBUST, 0.1);
        assertTrue(robust.perPairProblem(1, 0.5).contains("below 0.5"));
        DpoLoss.Params exo = new DpoLoss.Params(List.of(LossType.EXO_PAIR), null, 0.1, 1e-3, 0.05, false);
        assertTrue(exo.perPairProblem(1, 0.0).contains("> 0"));
        DpoLoss.Params mixed = new DpoLoss.Params(List.of(LossType.IPO, LossType.SIGMOID), null, 0.1, 0, 0.05, false);
        assertEquals(null, mixed.perPairProblem(1, 0.2), "sigmoid reads ε");
        assertTrue(DpoLoss.Params.of(LossType.SIGMOID, 0.1).perPairProblem(-1, Double.NaN).contains("weight"));
        PairBatch smoothed = DpoLossGradientTest.withPerPair(DpoLossGradientTest.batch(), new double[] {1, 1, 1},
                new double[] {Double.NaN, 0.2, Double.NaN});
        String msg = assertThrows(IllegalArgumentException.class,
                () -> new DpoLoss(ipo).forward(smoothed, new DpoLoss.Output(3))).getMessage();
        assertTrue(msg.startsWith("pair 1 of the batch: "), msg);
    }

    @Test
    void unknownLossTypeListsTheValidNames() {
        String msg = assertThrows(IllegalArgumentException.class, () -> LossType.fromName("dpo")).getMessage();
        assertTrue(msg.contains("'dpo'") && msg.contains("sigmoid") && msg.contains("discopop")
                && msg.contains("sft"), msg);
    }
}
