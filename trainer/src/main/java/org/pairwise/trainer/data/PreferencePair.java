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
 * @param weight         a per-pair factor on the pair's loss; 1 means none. Reserved for NS-DPO-style decay: the loss
 *                       does not apply it yet, so the step refuses any other value
 * @param labelSmoothing a per-pair cDPO ε in place of the configuration's label_smoothing; NaN means none. Reserved
 *                       for soft labels from aggregated annotations: the step refuses any other value for now
 */
public record PreferencePair(long id, String source, int[] promptIds, int[] chosenIds, int[] rejectedIds,
                             int policyVersion, double weight, double labelSmoothing) {
    /** No per-pair weight: the pair counts as much as any other. */
    public static final double NO_WEIGHT = 1.0;
    /** No per-pair label smoothing: the configuration's label_smoothing applies. */
    public static final double NO_LABEL_SMOOTHING = Double.NaN;

    /** A pair with no per-pair weight or label smoothing. */
    public static PreferencePair of(long id, String source, int[] promptIds, int[] chosenIds, int[] rejectedIds,
                                    int policyVersion) {
        return new PreferencePair(id, source, promptIds, chosenIds, rejectedIds, policyVersion, NO_WEIGHT,
                NO_LABEL_SMOOTHING);
    }

    /** Whether the pair sets a per-pair weight or label smoothing (which the loss does not apply yet). */
    public boolean hasPerPairLoss() {
        return weight != NO_WEIGHT || !Double.isNaN(labelSmoothing);
    }
}
