package org.pairwise.trainer.dpo;

/**
 * One micro-batch of B preference pairs as the loss sees it: sequence log-probs (sums of next-token log-probs over the
 * completion tokens only) under the policy and the reference, each completion's token count after truncation, and
 * each pair's weight (1: none) and label smoothing ε (NaN: the configuration's); see {@link DpoLoss} for how they
 * enter the loss. Arrays are indexed by pair and all have length B. The loss only reads them.
 */
public record PairBatch(double[] policyChosen, double[] policyRejected, double[] refChosen, double[] refRejected,
                        int[] chosenTokens, int[] rejectedTokens, double[] weights, double[] labelSmoothing) {

    public PairBatch {
        int b = policyChosen.length;
        if (b == 0) {
            throw new IllegalArgumentException("a batch needs at least one pair");
        }
        if (policyRejected.length != b || refChosen.length != b || refRejected.length != b
                || chosenTokens.length != b || rejectedTokens.length != b || weights.length != b
                || labelSmoothing.length != b) {
            throw new IllegalArgumentException("every array of a PairBatch must have one entry per pair (" + b + ")");
        }
        for (int i = 0; i < b; i++) {
            if (chosenTokens[i] < 0 || rejectedTokens[i] < 0) {
                throw new IllegalArgumentException("token counts must be >= 0 (pair " + i + ")");
            }
            if (!(weights[i] >= 0) || Double.isInfinite(weights[i])) {
                throw new IllegalArgumentException("weights must be finite and >= 0 (pair " + i + ": " + weights[i]
                        + ")");
            }
            if (!Double.isNaN(labelSmoothing[i]) && !(labelSmoothing[i] >= 0 && labelSmoothing[i] < 1)) {
                throw new IllegalArgumentException("label smoothing must be NaN or in [0, 1) (pair " + i + ": "
                        + labelSmoothing[i] + ")");
            }
        }
    }

    /** A batch of pairs with no per-pair weight or label smoothing. */
    public PairBatch(double[] policyChosen, double[] policyRejected, double[] refChosen, double[] refRejected,
                     int[] chosenTokens, int[] rejectedTokens) {
        this(policyChosen, policyRejected, refChosen, refRejected, chosenTokens, rejectedTokens,
                filled(policyChosen.length, 1.0), filled(policyChosen.length, Double.NaN));
    }

    /** Whether any pair sets a weight other than 1 or its own label smoothing. */
    public boolean hasPerPairLoss() {
        for (int i = 0; i < size(); i++) {
            if (weights[i] != 1.0 || !Double.isNaN(labelSmoothing[i])) {
                return true;
            }
        }
        return false;
    }

    private static double[] filled(int n, double v) {
        double[] out = new double[n];
        java.util.Arrays.fill(out, v);
        return out;
    }

    /** B, the number of pairs. */
    public int size() {
        return policyChosen.length;
    }

    /** log π_θ(y_w|x) − log π_ref(y_w|x) of pair i. */
    public double chosenLogRatio(int i) {
        return policyChosen[i] - refChosen[i];
    }

    /** log π_θ(y_l|x) − log π_ref(y_l|x) of pair i. */
    public double rejectedLogRatio(int i) {
        return policyRejected[i] - refRejected[i];
    }
}
