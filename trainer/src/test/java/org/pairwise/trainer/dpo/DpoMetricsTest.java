package org.pairwise.trainer.dpo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** TRL's metric values and names on a hand-made batch, with the expected numbers worked out by hand. */
class DpoMetricsTest {
    private static final double TOL = 1e-12;

    // β = 0.1. Pair 0: x_w = 1, x_l = −2 → r_w = 0.1, r_l = −0.2 (right, margin 0.3).
    // Pair 1: x_w = −2, x_l = 1 → r_w = −0.2, r_l = 0.1 (wrong, margin −0.3).
    // Pair 2: x_w = 0.5, x_l = 0.2 → r_w = 0.05, r_l = 0.02 (right, margin 0.03).
    private static PairBatch batch() {
        return new PairBatch(new double[] {-5, -20, -7}, new double[] {-9, -15, -8.5},
                new double[] {-6, -18, -7.5}, new double[] {-7, -16, -8.7}, new int[] {2, 3, 1}, new int[] {1, 2, 2});
    }

    // Logit sums per sequence over completion-predicting positions, and positions × V (V = 3).
    private static LogitSums logits() {
        return new LogitSums(new double[] {12.0, -3.0, 0.0}, new long[] {6, 9, 3},
                new double[] {4.5, 1.5, -0.6}, new long[] {3, 6, 6});
    }

    @Test
    void oneMicroBatchMatchesHandComputedValues() {
        DpoLoss loss = new DpoLoss(DpoLoss.Params.of(LossType.SIGMOID, 0.1));
        DpoLoss.Output out = new DpoLoss.Output(3);
        loss.forward(batch(), out);
        DpoMetrics m = DpoMetrics.train();
        m.addMicroBatch(batch(), out, logits());
        Map<String, Double> s = m.snapshot();
        assertEquals(out.loss, s.get("loss"), TOL);
        assertEquals((0.1 - 0.2 + 0.05) / 3, s.get("rewards/chosen"), TOL);
        assertEquals((-0.2 + 0.1 + 0.02) / 3, s.get("rewards/rejected"), TOL);
        assertEquals(2.0 / 3, s.get("rewards/accuracies"), TOL);
        assertEquals((0.3 - 0.3 + 0.03) / 3, s.get("rewards/margins"), TOL);
        assertEquals((-5 - 20 - 7) / 3.0, s.get("logps/chosen"), TOL);
        assertEquals((-9 - 15 - 8.5) / 3.0, s.get("logps/rejected"), TOL);
        // All masked logits of the batch: (12 − 3 + 0) / (6 + 9 + 3) and (4.5 + 1.5 − 0.6) / (3 + 6 + 6).
        assertEquals(9.0 / 18, s.get("logits/chosen"), TOL);
        assertEquals(5.4 / 15, s.get("logits/rejected"), TOL);
    }

    @Test
    void windowAveragesMicroBatchValuesAndTiesAreNotCorrect() {
        DpoLoss loss = new DpoLoss(DpoLoss.Params.of(LossType.SIGMOID, 0.1));
        DpoMetrics m = DpoMetrics.train();
        DpoLoss.Output out = new DpoLoss.Output(3);
        loss.forward(batch(), out);
        m.addMicroBatch(batch(), out, logits());
        // A tied pair (both log-ratios 0): accuracy 0, margin 0.
        PairBatch tie = new PairBatch(new double[] {-4}, new double[] {-6}, new double[] {-4}, new double[] {-6},
                new int[] {1}, new int[] {1});
        DpoLoss.Output out1 = new DpoLoss.Output(1);
        loss.forward(tie, out1);
        m.addMicroBatch(tie, out1, new LogitSums(new double[] {3}, new long[] {3}, new double[] {0}, new long[] {0}));
        Map<String, Double> s = m.snapshot();
        assertEquals((2.0 / 3 + 0.0) / 2, s.get("rewards/accuracies"), TOL);
        assertEquals((0.01 + 0.0) / 2, s.get("rewards/margins"), TOL);
        assertEquals((0.5 + 1.0) / 2, s.get("logits/chosen"), TOL);
        assertEquals((0.36 + 0.0) / 2, s.get("logits/rejected"), TOL);  // no masked logits: 0, as TRL
        assertEquals((out.loss + Math.log(2)) / 2, s.get("loss"), TOL);
        assertEquals(2, m.count());
        m.reset();
        assertEquals(0, m.count());
    }

    @Test
    void snapshotIsOrderedWithTrainerValuesAndEvalPrefix() {
        DpoLoss loss = new DpoLoss(DpoLoss.Params.of(LossType.SIGMOID, 0.1));
        DpoLoss.Output out = new DpoLoss.Output(3);
        loss.forward(batch(), out);
        DpoMetrics train = DpoMetrics.train();
        train.addMicroBatch(batch(), out, logits());
        train.add("entropy", 2.5);
        train.setGradNorm(0.7);
        train.setLearningRate(5e-6);
        train.setNumTokens(1234);
        train.setEpoch(0.25);
        assertEquals(List.of("loss", "grad_norm", "learning_rate", "num_tokens", "logits/chosen", "logits/rejected",
                "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen",
                "logps/rejected", "entropy", "epoch"), List.copyOf(train.snapshot().keySet()));
        assertEquals(1234.0, train.snapshot().get("num_tokens"));

        DpoMetrics eval = DpoMetrics.eval();
        eval.addMicroBatch(batch(), out, logits());
        eval.setEpoch(1.0);
        assertEquals(List.of("eval_loss", "eval_logits/chosen", "eval_logits/rejected", "eval_rewards/chosen",
                "eval_rewards/rejected", "eval_rewards/accuracies", "eval_rewards/margins", "eval_logps/chosen",
                "eval_logps/rejected", "epoch"), List.copyOf(eval.snapshot().keySet()));
        assertEquals(2.0 / 3, eval.snapshot().get("eval_rewards/accuracies"), TOL);
    }
}
