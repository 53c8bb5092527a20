package org.pairwise.trainer.online;

import java.util.ArrayList;
import java.util.List;
import org.pairwise.model.engine.Generation;
import org.pairwise.model.engine.SequenceScorer.Score;
import org.pairwise.model.engine.SequenceScorer.Sequence;

/**
 * A Monte-Carlo estimate of KL(π_θ || π_ref) = E_{y ~ π_θ(·|x)} [log π_θ(y|x) − log π_ref(y|x)] from responses the
 * policy sampled, for the KL guard: per response the sequence log-ratio k_j = Σ_t log π_θ(y_t | x, y_&lt;t) −
 * log π_ref(y|x) (the generator records each token's policy log-prob; the reference scores the same tokens through
 * {@link org.pairwise.model.engine.SequenceScorer} or the trainer's {@code ReferenceLogps}), then their mean and its
 * standard error s/√n (s the sample standard deviation, n − 1 in the denominator). Over prompts, the mean estimates
 * the prompt-averaged KL of the sampled prompts.
 *
 * <p>Each k_j is an unbiased estimate of its prompt's KL, but only for samples drawn from π_θ itself: temperature 1,
 * no top-k or top-p truncation (the generator records the untempered log-prob). Other sampling estimates
 * E_{y ~ q}[log π_θ(y) − log π_ref(y)] under the sampling distribution q instead, still a drift measure but not the
 * KL. A single k_j may be negative; the mean converges to the KL, which is not.
 *
 * @param perResponse k_j for each response, in order
 * @param mean        (1/n) Σ_j k_j
 * @param standardError the standard error of the mean, NaN for a single response
 */
public record KlEstimate(double[] perResponse, double mean, double standardError) {

    /** The estimate from each response's sequence log-probs under the policy and the reference (same order). */
    public static KlEstimate of(double[] policyLogps, double[] referenceLogps) {
        int n = policyLogps.length;
        if (n == 0 || referenceLogps.length != n) {
            throw new IllegalArgumentException("a KL estimate needs at least one response, scored by both models ("
                    + n + " policy, " + referenceLogps.length + " reference)");
        }
        double[] k = new double[n];
        double mean = 0;
        for (int j = 0; j < n; j++) {
            k[j] = policyLogps[j] - referenceLogps[j];
            mean += k[j];
        }
        mean /= n;
        double ss = 0;
        for (double v : k) {
            ss += (v - mean) * (v - mean);
        }
        double se = n > 1 ? Math.sqrt(ss / (n - 1) / n) : Double.NaN;
        return new KlEstimate(k, mean, se);
    }

    /**
     * The estimate from the generator's samples and the reference's scores of {@link #sequences} of them: each
     * sample's recorded token log-probs summed against its reference score, which must cover the same tokens.
     */
    public static KlEstimate of(List<Generation> samples, List<Score> reference) {
        if (reference.size() != samples.size()) {
            throw new IllegalArgumentException(samples.size() + " samples, " + reference.size() + " reference scores");
        }
        double[] pol = new double[samples.size()], ref = new double[samples.size()];
        for (int j = 0; j < pol.length; j++) {
            Generation g = samples.get(j);
            if (reference.get(j).tokens() != g.logprobs().length) {
                throw new IllegalArgumentException("sample " + j + ": the reference scored " + reference.get(j).tokens()
                        + " tokens, the policy sampled " + g.logprobs().length);
            }
            for (float lp : g.logprobs()) {
                pol[j] += lp;
            }
            ref[j] = reference.get(j).logprob();
        }
        return of(pol, ref);
    }

    /** What the reference must score: each sample's prompt ++ response, the response's tokens scored. */
    public static List<Sequence> sequences(List<Generation> samples) {
        List<Sequence> out = new ArrayList<>(samples.size());
        for (Generation g : samples) {
            int[] ids = new int[g.promptIds().length + g.tokenIds().length];
            System.arraycopy(g.promptIds(), 0, ids, 0, g.promptIds().length);
            System.arraycopy(g.tokenIds(), 0, ids, g.promptIds().length, g.tokenIds().length);
            out.add(new Sequence(ids, g.promptIds().length));
        }
        return out;
    }

    /** Responses the estimate is over. */
    public int count() {
        return perResponse.length;
    }
}
