package org.pairwise.trainer.data;

/**
 * One tokenized preference pair: the unit of DPO training data, from the JSONL reader (offline) or the preference
 * store's queue (online) to the DPO step. Completions come after the prompt; TRL's truncation is applied by the step.
 *
 * @param id             the vote id of a stored vote (the continual trainer resumes after the last one trained); the
 *                       1-based line of a JSONL record, or its position in a JSON array
 * @param source         where the pair came from, for messages: {@code FILE:LINE}, {@code FILE: record N} or
 *                       {@code vote ID}
 * @param policyVersion  the policy version that sampled the responses (0, the starting policy, for offline data)
 * @param weight         a factor (finite, >= 0) on the pair's term of the loss; 1 means none. The trainer multiplies
 *                       it by vote_decay_gamma^age (NS-DPO) before the loss; {@code DpoLoss} says how weights enter
 * @param labelSmoothing the pair's own ε in place of the configuration's label_smoothing (a soft label from
 *                       aggregated votes, e.g. 1/3 for a 2-1 split), in [0, 1); NaN means none
 */
public record PreferencePair(long id, String source, int[] promptIds, int[] chosenIds, int[] rejectedIds,
                             int policyVersion, double weight, double labelSmoothing) {
    /** No per-pair weight: the pair counts as much as any other. */
    public static final double NO_WEIGHT = 1.0;
    /** No per-pair label smoothing: the configuration's label_smoothing applies. */
    public static final double NO_LABEL_SMOOTHING = Double.NaN;

    public PreferencePair {
        if (!(weight >= 0) || Double.isInfinite(weight)) {
            throw new IllegalArgumentException(source + ": a pair's weight must be finite and >= 0, got " + weight);
        }
        if (!Double.isNaN(labelSmoothing) && !(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new IllegalArgumentException(source + ": a pair's label smoothing must be in [0, 1) or unset, got "
                    + labelSmoothing);
        }
    }

    /** A pair with no per-pair weight or label smoothing. */
    public static PreferencePair of(long id, String source, int[] promptIds, int[] chosenIds, int[] rejectedIds,
                                    int policyVersion) {
        return new PreferencePair(id, source, promptIds, chosenIds, rejectedIds, policyVersion, NO_WEIGHT,
                NO_LABEL_SMOOTHING);
    }

    /** Whether the pair sets a weight other than 1 or its own label smoothing. */
    public boolean hasPerPairLoss() {
        return weight != NO_WEIGHT || !Double.isNaN(labelSmoothing);
    }

    /** This pair with another weight. */
    public PreferencePair withWeight(double w) {
        return new PreferencePair(id, source, promptIds, chosenIds, rejectedIds, policyVersion, w, labelSmoothing);
    }
}
