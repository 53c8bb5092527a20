package org.pairwise.trainer.dpo;

/**
 * One micro-batch of B preference pairs as the loss sees it: sequence log-probs (sums of next-token log-probs over the
 * completion tokens only) under the policy and the reference, and each completion's token count after truncation.
 * Arrays are indexed by pair and all have length B. The loss only reads them.
 */
public record PairBatch(double[] policyChosen, double[] policyRejected, double[] refChosen, double[] refRejected,
                        int[] chosenTokens, int[] rejectedTokens) {

    public PairBatch {
        int b = policyChosen.length;
        if (b == 0) {
            throw new IllegalArgumentException("a batch needs at least one pair");
        }
        if (policyRejected.length != b || refChosen.length != b || refRejected.length != b
                || chosenTokens.length != b || rejectedTokens.length != b) {
            throw new IllegalArgumentException("every array of a PairBatch must have one entry per pair (" + b + ")");
        }
        for (int i = 0; i < b; i++) {
            if (chosenTokens[i] < 0 || rejectedTokens[i] < 0) {
                throw new IllegalArgumentException("token counts must be >= 0 (pair " + i + ")");
            }
        }
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
