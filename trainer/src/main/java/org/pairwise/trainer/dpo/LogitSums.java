package org.pairwise.trainer.dpo;

/**
 * Per sequence of one micro-batch (B pairs): the sum of all V vocabulary logits over the positions that predict a
 * completion token, and the number of logits summed (those positions × V). Sums and counts rather than means, so that
 * {@link DpoMetrics} recovers TRL's {@code logits[mask].mean()} over the whole micro-batch exactly, whatever the
 * sequence lengths. The fused log-prob kernel accumulates these as it goes.
 */
public record LogitSums(double[] chosenSum, long[] chosenCount, double[] rejectedSum, long[] rejectedCount) {
    public LogitSums {
        int b = chosenSum.length;
        if (chosenCount.length != b || rejectedSum.length != b || rejectedCount.length != b) {
            throw new IllegalArgumentException("every array of LogitSums must have one entry per pair (" + b + ")");
        }
    }
}
